// careshed/catchment.hpp — nearest-facility catchments on the travel-time field.
//
// A catchment is the set of cells whose nearest facility (by TRAVEL TIME, not straight-line distance) is a
// given facility: exactly the `nearest` grid of careshed::raster_travel_time (or raster_k_nearest's first slot),
// with its rules — ties in time go to the lowest facility index, unreachable cells are -1 / +inf and belong to
// no catchment. This module only reads that field; it never searches.
//
// Per facility f (definitions; all population-weighted numbers use the cell's population, NaN = 0 people):
//  * population       Σ population of the cells with nearest == f.
//  * cells, area_km2  number of those cells and their area: Σ over rows of cells(row) × row_cell_area_km2[row]
//                     (on lon/lat grids the cell area changes with the row; see catchment_row_areas_km2).
//  * mean_seconds     Σ pop·seconds / Σ pop over the catchment; NaN when the catchment has no people.
//  * p90_seconds      EXACTLY the 90th-percentile definition of careshed::coverage_by_zone (coverage.hpp): the
//                     upper edge k·b of the first histogram bin ((k−1)·b, k·b] at which the cumulative population
//                     reaches 90 % (never below the exact weighted percentile, less than b above it;
//                     b = bin_seconds, 1 s unless the histogram memory cap makes it coarser). It is computed by
//                     coverage_by_zone itself, with the nearest grid as the zone grid, so the two modules cannot
//                     drift apart. NaN when the catchment has no people.
//  * resources_per_1000  resource[f][r] / population × 1000 (e.g. beds per 1000 residents of the catchment);
//                     NaN when the catchment has no people (not 0 and not +inf: there is nobody to serve).
// Region totals: total population (all cells), reached population (Σ over catchments) and unreached population
// (cells with nearest -1); reached + unreached == total up to rounding.
//
// Polygons (display only, people are counted on the grid): catchment_polygons dissolves the nearest grid per
// facility through careshed::label_polygons (GDALPolygonize + GEOS make-valid + dissolve; see isochrones.hpp),
// so the outlines are exactly the unions of the cells, valid, holes kept.
//
// Ownership: inputs are caller-owned and only read during the call. Thread-safety: re-entrant.
// Errors: careshed::InputError naming the argument (and the cell or facility) and what to do.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "careshed/crs.hpp"  // careshed::Wkb
#include "careshed/grid.hpp"

namespace careshed {

class RunControl;  // careshed/progress.hpp

/// Per-cell inputs on one grid (row-major, rows x cols). Exactly one of population_f32 / population_f64 is set.
struct CatchmentInputs {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  const float* seconds = nullptr;          ///< travel time, s; +inf unreachable (>= 0, not NaN)
  const std::int32_t* nearest = nullptr;   ///< facility index 0..n_facilities-1, -1 exactly where seconds is +inf
  std::int32_t n_facilities = 0;           ///< >= 1
  const float* population_f32 = nullptr;   ///< people per cell; NaN = 0 people; negative → InputError
  const double* population_f64 = nullptr;
  /// Area of one cell of each row in km² (rows entries, > 0, finite). nullptr: areas are not computed (NaN).
  const double* row_cell_area_km2 = nullptr;
  /// Optional resources per facility, row-major n_facilities x n_resources (e.g. beds, doctors); finite, >= 0.
  const double* resources = nullptr;
  std::int32_t n_resources = 0;
};

struct CatchmentOptions {
  /// Memory cap of the p90 histograms (sets × facilities × bins × 16 bytes, passed to coverage_by_zone): with
  /// many facilities and long times the bin grows from 1 s to fit (CatchmentResult::bin_seconds says which).
  std::size_t max_histogram_bytes = std::size_t(64) << 20;
};

struct CatchmentResult {
  std::vector<double> population;           ///< n_facilities
  std::vector<std::int64_t> cells;          ///< n_facilities
  std::vector<double> area_km2;             ///< n_facilities (NaN without row_cell_area_km2)
  std::vector<double> mean_seconds;         ///< n_facilities (NaN for empty catchments)
  std::vector<double> p90_seconds;          ///< n_facilities (NaN for empty catchments)
  std::vector<double> resources_per_1000;   ///< n_facilities x n_resources, row-major
  double total_population = 0.0;            ///< all cells
  double reached_population = 0.0;          ///< Σ population over catchments
  double unreached_population = 0.0;        ///< cells with nearest -1
  double bin_seconds = 1.0;                 ///< p90 resolution (see coverage.hpp)
};

/// Catchment statistics (see the header comment). Cost: two passes over the grid (one here, one in
/// coverage_by_zone); memory O(n_facilities × bins) for the p90 histograms (capped).
/// Throws InputError for missing arrays, n_facilities < 1, NaN/negative seconds, nearest out of range or
/// inconsistent with seconds, negative population, bad areas or resources.
/// control (optional, careshed/progress.hpp): polled per row; throws careshed::Cancelled after request_cancel().
CatchmentResult catchment_stats(const CatchmentInputs& inputs, const CatchmentOptions& options = {},
                                RunControl* control = nullptr);

/// Area of one cell in km² for each row of `grid`: row_cell_widths_m × row_cell_heights_m / 1e6 (on the
/// ellipsoid for lon/lat grids, the constant cell area for projected grids in metres).
std::vector<double> catchment_row_areas_km2(const GridSpec& grid);

/// One display polygon per facility.
struct CatchmentPolygon {
  std::int32_t facility = 0;
  std::int64_t cells = 0;  ///< cells in the catchment
  double area = 0.0;       ///< polygon area in CRS units² (m² on a metric grid)
  Wkb wkb;                 ///< MultiPolygon in the grid CRS; empty MultiPolygon for an empty catchment
};

/// Dissolves `nearest` (grid.size() int32 values; < 0 = no catchment) per facility 0..n_facilities-1 with the
/// shared label polygonizer, careshed::label_polygons (one polygonize pass for all facilities).
/// eight_connected/simplify as in LabelPolygonOptions.
/// Throws InputError for a nearest value >= n_facilities or a bad grid; Error/DataIOError when GDAL/GEOS fail.
std::vector<CatchmentPolygon> catchment_polygons(const std::int32_t* nearest, const GridSpec& grid,
                                                 std::int32_t n_facilities, bool eight_connected = false,
                                                 bool simplify = false, RunControl* control = nullptr);

}  // namespace careshed
