// careshed/coverage.hpp — who is covered, per zone and for the region, in one pass over the grid.
//
// Inputs are per-cell arrays on one analysis grid (row-major, rows x cols, flat id = row * cols + col):
//  * seconds  — response time in seconds (float32): what careshed::raster_travel_time writes with the stations'
//               dispatch + turnout seconds given as source offsets. +inf = unreachable. NaN, negative or finite
//               above 1e9 s (a units mistake; ~31 years) → InputError.
//  * nearest  — index of the station the time is from (int32), -1 exactly where seconds is +inf. Optional
//               (nullptr: no station table). A finite time with nearest -1, or nearest outside 0..n_stations-1 for
//               a reached cell, is an InputError (the two arrays do not come from the same search).
//  * population — people per cell (float32 or float64); NaN = no data, counted as 0 people; negative or infinite →
//               InputError.
//  * cell_class — class index per cell (uint8, e.g. 0 = urban, 1 = rural); 255 = "no class" and counts as class 0;
//               nullptr = every cell is class 0. The threshold of a cell is thresholds_s[its class].
//  * zones    — ZoneCells: the zone of each cell, with area fractions for cells cut by zone boundaries
//               (the arrays of careshed::ZoneRaster, zonal.hpp).
//
// Definitions (every number is population-weighted; a split cell contributes population × fraction to each of
// its zones; cells in no zone (zone -1) are ignored everywhere, also in the station table):
//  * covered:      time <= threshold of the cell's class (thresholds are INCLUSIVE: a cell at exactly T is covered).
//  * uncovered:    population − covered = reachable beyond the threshold + unreachable.
//  * unreachable:  time = +inf.
//  * mean_seconds: Σ pop·time / Σ pop over REACHED population only (unreachable people do not enter the mean;
//                  see unreachable for them). NaN when nobody in the zone is reached.
//  * p90_seconds:  the weighted 90th percentile, counting unreachable people at +inf: the smallest t such that
//                  population(time <= t) >= 0.9 × population. Computed from a histogram of bin_seconds-wide bins
//                  (bin k holds times in ((k-1)·b, k·b], bin 0 holds t = 0), the value returned is the upper edge
//                  k·b of the first bin where the cumulative population reaches 90 %: it is never below the exact
//                  percentile and less than one bin (b seconds) above it. +inf when more than 10 % of the zone's
//                  population is unreachable; NaN when the zone has no population.
//  * curve:        covered share at every whole minute m = 0..curve_max_minutes: population(time <= 60·m s) /
//                  population (exact: bin edges fall on whole minutes). NaN when the zone has no population.
//  * shares:       covered / population (per class: covered in class / population in class); NaN when 0/0.
//  * per station s: population whose nearest station is s (reached cells in zones), and the part of it within
//                  its cell's threshold. Σ station population == region population − region unreachable.
//  The region row is the sum over zones (population, covered, ...) and its statistics are computed from the summed
//  histograms — the same as treating the union of the zones as one zone.
//
// Arithmetic: every sum is exact — 128-bit fixed point with a scale set by the largest population (resolution
// about 2^-126 of the largest possible total, i.e. far below 1e-15 relative), converted to the nearest double at
// the end. The pass is parallel over rows (OpenMP) with one accumulator set per thread; integer sums do not
// depend on how the rows are split, so results are bit-for-bit the same with any number of threads and on any
// machine (the bin width does not depend on the threads either).
//
// Cost: O(cells) time; memory O(sets × zones × bins) × 16 bytes for the histograms, bins = max finite time /
// bin_seconds, sets = the threads used (at most max_histogram_bytes / one set's size). bin_seconds is 1 s unless
// four sets of 1 s bins would take more than CoverageOptions::max_histogram_bytes, then the smallest of
// 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60, 120, 180, ... s that fits (always a divisor or multiple of 60, so the
// minute curve stays exact); reported in CoverageResult::bin_seconds.
// Ownership: inputs are caller-owned and only read during the call. Thread-safety: re-entrant.
// Errors: careshed::InputError naming the argument (and the cell or class) and what to do.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace careshed {

/// Zone membership of each cell, as views of caller-owned arrays (the arrays of careshed::ZoneRaster).
struct ZoneCells {
  const std::int32_t* zone = nullptr;  ///< rows*cols: zone index 0..n_zones-1, -1 = no zone, -2 = split cell
  std::int32_t n_zones = 0;            ///< >= 1
  /// Split cells (zone == -2): entry i gives fraction split_fraction[i] of cell split_cell[i]'s area in zone
  /// split_zone[i]. Sorted by (cell, zone); each listed cell must be -2 in `zone`; fractions in [0, 1]. A split
  /// cell's fractions need not sum to 1 (the rest lies outside every zone).
  const std::int64_t* split_cell = nullptr;
  const std::int32_t* split_zone = nullptr;
  const double* split_fraction = nullptr;
  std::size_t n_splits = 0;
};

/// The per-cell inputs (see the header comment). Exactly one of population_f32 / population_f64 is set.
struct CoverageInputs {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  const float* seconds = nullptr;
  const std::int32_t* nearest = nullptr;  ///< optional (nullptr: no station table)
  std::int32_t n_stations = 0;            ///< station table size (>= max nearest + 1); 0 when nearest is null
  const float* population_f32 = nullptr;
  const double* population_f64 = nullptr;
  const std::uint8_t* cell_class = nullptr;  ///< optional; 255 = no class → class 0
  ZoneCells zones;
};

struct CoverageOptions {
  /// Threshold in seconds for each class index (class c uses thresholds_s[c]); > 0 and finite. A populated
  /// cell whose class has no entry → InputError naming the class.
  std::vector<double> thresholds_s;
  int curve_max_minutes = 60;  ///< the curve has curve_max_minutes + 1 points (0..curve_max_minutes), 0..10080
  /// Memory cap for all histograms together (sets × zones × bins × 16 bytes); the bin width grows until four
  /// sets fit, and the pass uses as many threads (sets) as fit, at least one.
  std::size_t max_histogram_bytes = std::size_t(256) << 20;
};

/// Coverage of one zone (or of the region).
struct ZoneCoverage {
  double population = 0.0;                 ///< people in the zone (split cells weighted by area fraction)
  std::vector<double> population_by_class; ///< per class index (size = thresholds_s.size())
  double covered = 0.0;                    ///< time <= the cell's class threshold
  std::vector<double> covered_by_class;
  double uncovered = 0.0;                  ///< population − covered
  double unreachable = 0.0;                ///< time = +inf
  double covered_share = 0.0;              ///< covered / population (NaN if population = 0)
  std::vector<double> covered_share_by_class;
  double mean_seconds = 0.0;               ///< over reached people only; NaN if none reached
  double p90_seconds = 0.0;                ///< see header: bin upper edge; +inf if > 10 % unreachable
  std::vector<double> curve;               ///< covered share at minute 0..curve_max_minutes
};

struct CoverageResult {
  std::vector<ZoneCoverage> zones;  ///< n_zones entries
  ZoneCoverage region;              ///< all zones together
  std::vector<double> station_population;          ///< n_stations: people whose nearest station it is
  std::vector<double> station_covered_population;  ///< ... and within their cell's threshold
  double bin_seconds = 1.0;         ///< histogram bin width used for p90 (its accuracy)
};

class RunControl;  // careshed/progress.hpp

/// One pass over the grid; see the header comment for every definition.
/// control (optional, careshed/progress.hpp): polled once per row by every thread; progress = rows done;
/// throws careshed::Cancelled after request_cancel().
/// Throws InputError for inconsistent sizes/pointers, NaN/negative seconds, negative population, bad zone
/// indices or splits, missing or non-positive thresholds, nearest inconsistent with seconds.
CoverageResult coverage_by_zone(const CoverageInputs& inputs, const CoverageOptions& options,
                                RunControl* control = nullptr);

struct ZoneRaster;  // careshed/zonal.hpp

/// The same with the zones of a careshed::ZoneRaster (inputs.zones is ignored and replaced by views of `zones`;
/// its split list is copied once into flat arrays — only boundary cells, so small). InputError when the
/// ZoneRaster's rows/cols differ from inputs.rows/cols.
CoverageResult coverage_by_zone(const CoverageInputs& inputs, const ZoneRaster& zones, const CoverageOptions& options,
                                RunControl* control = nullptr);

/// One ambulance per `residents_per_vehicle` people (default 30,000, the plan's standard).
struct VehicleCheck {
  double population = 0.0;
  double vehicles = 0.0;
  std::int64_t needed = 0;     ///< ceil(population / residents_per_vehicle); 0 for no people
  std::int64_t shortfall = 0;  ///< max(0, needed − vehicles), vehicles rounded down to whole vehicles
};

/// Per zone: vehicles needed vs vehicles there. population and vehicles have one entry per zone (>= 0, finite);
/// InputError otherwise or when residents_per_vehicle <= 0.
std::vector<VehicleCheck> ambulance_check(const std::vector<double>& population, const std::vector<double>& vehicles,
                                          double residents_per_vehicle = 30000.0);

}  // namespace careshed
