// careshed/capacity.hpp — capacity-aware coverage (the WHO AccessMod "geographic coverage" analysis).
//
// Question: with each facility able to serve only so many people (beds × patients per bed, or a capacity
// field), how many people are actually covered within a maximum travel time, and who is left over?
//
// Algorithm (sequential by definition: the order of facilities changes the answer):
//  1. Facilities are processed in a processing order: facility index order, an explicit order (e.g. sorted by a
//     priority field — the Python wrapper sorts a field descending, ties to the lowest index), or descending
//     population within order_max_seconds of each facility (initial population, each facility alone, ties to
//     the lowest index).
//  2. Each facility alone has its travel times to every cell within max_seconds (a bounded per-facility search,
//     careshed::raster_reach_lists: exact r.cost rule, its start offset included). max_seconds is INCLUSIVE: a cell
//     at exactly max_seconds is coverable ("max 60 minutes" includes a cell at 60 min 0 s; AccessMod users met
//     "59 instead of 60 minutes" — not here).
//  3. The facility absorbs the REMAINING (not yet covered) population of those cells band by band, in order of
//     time, until its capacity is used up or the cells within max_seconds are exhausted:
//       * band_seconds = b > 0 (default 60 s, one-minute bands): band k holds the cells with time t in
//         ((k−1)·b, k·b] (band 0: t = 0), i.e. k = ceil(t / b); cells are compared by their float32 seconds in
//         double. The last band is cut at max_seconds (a cell at t <= max_seconds in band k is in it even if
//         k·b > max_seconds).
//       * band_seconds = 0: every distinct time is its own band (whole cells in order of time; cells with equal
//         times form one band, so ties never depend on cell ids).
//     A band whose remaining population R fits in the remaining capacity C (R <= C) is taken whole (its cells'
//     remaining population becomes 0, C −= R). Otherwise the band is taken FRACTIONALLY: every cell of the band
//     gives the same fraction C / R of its remaining population, exactly C is covered, and the facility stops.
//  4. Reported per facility: population covered, capacity used/remaining, whether capacity ran out and the time
//     it ran out — the upper edge of the band in which it ran out, min(k·b, max_seconds) (the band's time itself
//     when b = 0; 0 for a zero capacity) — or max_seconds when capacity remains.
//  Per cell: the population left uncovered (population NaN stays NaN: no data, counted as 0 people).
//  Per zone (optional ZoneCells, the arrays of careshed::ZoneRaster; split cells by area fraction through
//  careshed::zonal_sum): population, covered = population − uncovered, covered share (NaN for an empty zone).
// Arithmetic: double; remaining populations are clamped at >= 0 after a fractional take, so rounding never makes
// covered exceed a cell's population; covered per facility never exceeds its capacity (fractional take = exactly
// the remaining capacity). Per cell covered + uncovered == population up to double rounding.
//
// Cost: the reach lists of all facilities are computed first (parallel over facilities, memory 8 bytes per
// reachable (facility, cell) pair — bounded by the pairs, never a dense matrix), then the facilities are processed
// one after the other: O(pairs · log(pairs per facility)) for the sorts by band. capacity_coverage_lists runs the
// same step 3–4 on reach lists the caller already has (from a raster or a road graph).
// Ownership: inputs caller-owned and only read during the call; `uncovered` is a caller-owned output buffer of
// rows × cols doubles. Thread-safety: re-entrant (OpenMP inside the search).
// Errors: careshed::InputError naming the argument (and the facility or cell) and what to do.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "careshed/coverage.hpp"       // careshed::ZoneCells
#include "careshed/raster_search.hpp"  // careshed::FrictionGrid, ReachLists

namespace careshed {

enum class CapacityOrder {
  Index,       ///< facility 0, 1, 2, ...
  Given,       ///< CapacityOptions::order: a permutation of 0..n-1
  Population,  ///< descending population within order_max_seconds (initial population), ties lowest index
};

struct CapacityOptions {
  double max_seconds = 3600.0;  ///< inclusive; finite, >= 0
  double band_seconds = 60.0;   ///< band width b > 0, or 0 = one band per distinct time; finite
  CapacityOrder order_by = CapacityOrder::Index;
  std::vector<std::int32_t> order;  ///< processing order when order_by == Given (a permutation of 0..n-1)
  /// Population order: population counted within this time (inclusive) of each facility; NaN = max_seconds.
  double order_max_seconds = std::numeric_limits<double>::quiet_NaN();
  int neighbours = 8;                        ///< raster search: 8 or 16
  const double* source_offsets_s = nullptr;  ///< optional start offset per facility, seconds (>= 0)
};

/// Per-cell and per-facility inputs. Exactly one of population_f32 / population_f64 is set (rows × cols of the
/// friction grid; NaN = no data = 0 people; negative → InputError).
struct CapacityInputs {
  FrictionGrid friction;                       ///< seconds per metre, see raster_search.hpp
  const std::int64_t* sources_rc = nullptr;    ///< n_facilities (row, col) pairs
  std::int32_t n_facilities = 0;               ///< >= 1
  const float* population_f32 = nullptr;
  const double* population_f64 = nullptr;
  const double* capacity = nullptr;            ///< n_facilities people each can serve: >= 0, finite or +inf
  ZoneCells zones;                             ///< optional (zones.zone == nullptr: no zone table)
};

struct CapacityResult {
  /// Per facility, indexed by FACILITY index (not processing position):
  std::vector<std::int32_t> rank;                ///< position in the processing order (0 = first)
  std::vector<double> reachable_population;      ///< initial population within max_seconds (facility alone)
  std::vector<double> order_population;          ///< initial population within order_max_seconds (Population order)
  std::vector<double> covered;                   ///< people covered by this facility
  std::vector<double> capacity_used;             ///< == covered
  std::vector<double> capacity_remaining;        ///< capacity − covered (+inf stays +inf)
  std::vector<std::uint8_t> exhausted;           ///< 1 when the capacity ran out within max_seconds
  std::vector<double> exhausted_seconds;         ///< when it ran out (band upper edge), else max_seconds
  std::vector<std::int64_t> cells_reached;       ///< cells within max_seconds
  std::vector<std::int32_t> processing_order;    ///< facility indices in the order they were processed
  /// Per zone (empty without zones): population, covered, covered share (NaN when the zone is empty).
  std::vector<double> zone_population, zone_covered, zone_covered_share;
  double total_population = 0.0;                 ///< all cells (NaN = 0)
  double total_covered = 0.0;
  std::uint64_t pairs = 0;                       ///< (facility, cell) pairs searched (memory: 8 B each)
};

/// Full analysis: bounded per-facility raster searches (raster_reach_lists, cutoff max(max_seconds,
/// order_max_seconds)), then steps 1–4 of the header comment. `uncovered` receives rows × cols doubles.
/// Throws InputError for bad friction/sources (see raster_search.hpp), capacities, population, options, zones.
/// control (optional, careshed/progress.hpp): polled per source during the searches and per facility in
/// the allocation; phases "reach lists" then "allocation"; throws careshed::Cancelled after request_cancel().
CapacityResult capacity_coverage(const CapacityInputs& inputs, const CapacityOptions& options, double* uncovered,
                                 RunControl* control = nullptr);

/// Steps 1–4 on caller-supplied reach lists (reach.offsets has n_facilities + 1 entries; cells are flat ids of a
/// grid of n_cells cells; times in seconds, any order within a facility). inputs.friction and sources_rc are
/// not used; inputs.n_facilities, population, capacity, zones are. Pairs with time > the cutoffs are ignored.
CapacityResult capacity_coverage_lists(const ReachLists& reach, std::int64_t n_cells, const CapacityInputs& inputs,
                                       const CapacityOptions& options, double* uncovered,
                                       RunControl* control = nullptr);

}  // namespace careshed
