// careshed/access.hpp — floating catchment accessibility (the 2SFCA family and a gravity model).
//
// Inputs are a SPARSE cost table of (demand index i, supply index j, cost d_ij) pairs — never a dense
// matrix — with a demand amount P_i per demand point (population) and a supply amount S_j per supply
// point (beds, doctors). Formulas, with W_ij the distance-decay weight of pair (i, j), d0 = max_cost:
//
//   2SFCA (Luo & Wang 2003), W = 1 inside the catchment:
//       R_j = S_j / Σ_{i: d_ij ≤ d0} P_i W_ij,     A_i = Σ_{j: d_ij ≤ d0} R_j W_ij
//   E2SFCA (Luo & Qi 2009): the same with step weights (default three equal zones of the catchment,
//       weights 1.00 / 0.68 / 0.22 — with d0 = 30 min exactly Luo & Qi's 0–10/10–20/20–30 min).
//   G2SFCA (Dai 2010): Gaussian weight that reaches 0 at the catchment size,
//       W(d) = (e^{-½(d/d0)²} − e^{-½}) / (1 − e^{-½})  for d ≤ d0.
//   3SFCA (Wan, Zou & Sternberg 2012): selection weights G_ij = W_ij / Σ_{k: d_ik ≤ d0} W_ik,
//       R_j = S_j / Σ_i G_ij P_i W_ij,     A_i = Σ_j G_ij R_j W_ij      (default W: Luo & Qi steps).
//   Gravity with competition (Joseph & Bantock 1982, Weibull 1976): W(d) = max(d, min_cost)^(−β),
//       A_i = Σ_j S_j W_ij / V_j,  V_j = Σ_k P_k W_kj — algebraically the weighted 2SFCA above with
//       power weights. Zero distances are clamped to min_cost (a demand point on top of a facility
//       would otherwise get an infinite weight).
//
// Rules (tested, documented in docs/access.md):
//  * The catchment is inclusive: a pair with d_ij == max_cost is in it. A pair with d_ij = +inf is
//    unreachable and never in a catchment (also with max_cost = +inf). Step bounds are inclusive upper
//    bounds ({10: 1, 20: 0.68}: d = 10 → 1, d = 10.000001 → 0.68); beyond the last bound the weight is 0.
//    (pysal/access uses cost < max_cost; careshed follows the project-wide inclusive rule.)
//  * Empty catchment: a demand point with no pair inside the catchment gets score NaN, not 0 — "no care
//    within reach" is not the same as "a share of zero". A demand point with pairs in the catchment
//    whose weights are all 0, or whose only supplies have no demand, gets 0.
//  * Zero-demand catchment: a supply point whose weighted demand Σ P_i W_ij (3SFCA: Σ G_ij P_i W_ij) is
//    0 has R_j = NaN and contributes nothing; it is counted in FcaResult::zero_demand_supplies and its
//    supply is excluded from the conservation target.
//  * Conservation (all methods, including 3SFCA): Σ_i P_i A_i = Σ_{j with demand} S_j up to rounding;
//    FcaResult reports both sides and the relative error.
//  * Normalisation (optional): scores divided by the population-weighted mean score
//    Σ P_i A_i / Σ P_i over demand points with a finite score (for 2SFCA, mean = ΣS / ΣP reached).
//  * Determinism: every sum runs in a fixed order (per supply over demand indices ascending, per demand
//    point over supply indices ascending; the mean score and zone means over fixed blocks of demand points,
//    added in block order), so results do not depend on the number of threads.
//
// Units: costs are in the caller's unit (table API) or seconds (grid API); weights are dimensionless;
// scores are supply per unit of demand (e.g. beds per resident — multiply by 1000 for beds per 1000).
// Ownership: input pointers are borrowed for the call only; results are returned by value.
// Thread-safety: functions are re-entrant; they use OpenMP threads internally.
// Errors: careshed::InputError naming the argument (and row / index) and the fix.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "careshed/raster_search.hpp"

namespace careshed {

/// The distance-decay weight W(d) of one pair, for costs within the catchment (d ≤ max_cost).
struct DecayWeights {
  enum class Kind {
    Binary,    ///< W = 1 (plain 2SFCA)
    Steps,     ///< W = step_weight[k] for the first k with d ≤ step_upper[k]; 0 beyond the last bound
    Gaussian,  ///< Dai 2010 with d0 = gaussian_size (0 → the catchment size max_cost)
    Power,     ///< W = max(d, power_min_cost)^(−power_beta)
  };
  Kind kind = Kind::Binary;
  std::vector<double> step_upper;   ///< strictly ascending inclusive upper bounds, cost units
  std::vector<double> step_weight;  ///< one finite weight >= 0 per bound
  double gaussian_size = 0.0;       ///< d0 in cost units, > 0 (0 = use max_cost)
  double power_beta = 1.0;          ///< β >= 0
  double power_min_cost = 1.0;      ///< clamp for zero / tiny costs, cost units, > 0

  static DecayWeights binary();
  /// Step weights; bounds and weights are validated (InputError) by fca()/grid_fca().
  static DecayWeights steps(std::vector<double> upper_bounds, std::vector<double> weights);
  /// Luo & Qi (2009): bounds max_cost/3, 2·max_cost/3, max_cost → 1.00, 0.68, 0.22 (max_cost finite).
  static DecayWeights luo_qi(double max_cost);
  static DecayWeights gaussian(double size = 0.0);
  static DecayWeights power(double beta, double min_cost);

  /// W(d) for a cost d within the catchment. `max_cost` resolves gaussian_size == 0.
  double operator()(double cost, double max_cost) const;
};

enum class FcaMethod {
  TwoStep,    ///< 2SFCA / E2SFCA / G2SFCA / gravity (chosen by the weights)
  ThreeStep,  ///< 3SFCA (selection weights G from the same W)
};

struct FcaOptions {
  FcaMethod method = FcaMethod::TwoStep;
  /// Inclusive catchment size in cost units; pairs with a larger cost are ignored. +inf allowed (all
  /// pairs; not with Gaussian weights of size 0). Must not be NaN or negative.
  double max_cost = std::numeric_limits<double>::infinity();
  DecayWeights weights;
  /// Optional per-pair weights, aligned with the input pairs (overrides `weights`; finite, >= 0). This
  /// is how a Python callable reaches the core: evaluated once on the cost array.
  const double* pair_weights = nullptr;
  /// Divide scores by the population-weighted mean score (InputError if that mean is not > 0).
  bool normalize = false;
};

/// Result of one accessibility computation.
struct FcaResult {
  std::vector<double> score;                 ///< A_i per demand point (NaN: empty catchment)
  std::vector<double> supply_ratio;          ///< R_j per supply point (NaN: no demand in its catchment)
  std::vector<double> weighted_demand;       ///< Σ P_i W_ij (3SFCA: Σ G_ij P_i W_ij) per supply point
  std::uint64_t pairs_in_catchment = 0;      ///< pairs with cost ≤ max_cost
  std::uint64_t empty_catchments = 0;        ///< demand points with no pair in the catchment (NaN)
  std::uint64_t zero_demand_supplies = 0;    ///< supply points with zero weighted demand
  double supply_total = 0.0;                 ///< Σ_j S_j
  double supply_with_demand = 0.0;           ///< Σ S_j over supplies with weighted demand > 0
  double demand_times_score = 0.0;           ///< Σ_i P_i A_i (before normalisation, NaN scores skipped)
  double conservation_relative_error = 0.0;  ///< |ΣPA − ΣS_with_demand| / ΣS_with_demand (0 if both 0)
  double mean_score = 0.0;  ///< population-weighted mean score (before normalisation); NaN if no demand
  bool normalized = false;
};

/// Every function here takes an optional trailing RunControl (careshed/progress.hpp): polled per chunk of
/// each pass over the pairs (and per facility in grid_fca's searches); throws careshed::Cancelled after
/// request_cancel().
/// Accessibility from a sparse cost table. demand: n_demand amounts (finite, >= 0); supply: n_supply
/// amounts (finite, >= 0); origin/dest/cost: n_pairs parallel entries (demand index in [0, n_demand),
/// supply index in [0, n_supply), cost finite or +inf, >= 0). A (demand, supply) pair listed twice is
/// refused (it would be counted twice). Pairs may come in any order.
/// Memory: about 24 bytes per pair for a sorted copy, plus the outputs. n_demand < 2^32.
FcaResult fca(const double* demand, std::size_t n_demand, const double* supply, std::size_t n_supply,
              const std::int64_t* origin, const std::int64_t* dest, const double* cost, std::size_t n_pairs,
              const FcaOptions& options, RunControl* control = nullptr);

/// Accessibility on a grid. Demand points are the cells with population > 0 (NaN/0/negative:
/// no demand, score NaN); supply points are facilities on cells. Costs come from bounded per-facility
/// searches (raster_reach_lists with max_seconds = the catchment), kept as sparse lists — memory is
/// bounded by the reachable (facility, cell) pairs, 8 bytes each, never a dense matrix.
struct GridFcaInput {
  FrictionGrid grid;                            ///< friction (s/m), see raster_search.hpp
  const double* population = nullptr;           ///< rows * cols, residents per cell
  const std::int64_t* facilities_rc = nullptr;  ///< n_facilities (row, col) pairs
  std::size_t n_facilities = 0;
  const double* supply = nullptr;              ///< n_facilities amounts, finite, >= 0
  int neighbours = 8;                          ///< 8 or 16
  const double* facility_offsets_s = nullptr;  ///< optional start offsets, seconds
  /// Optional zone index per cell (rows * cols, -1 = no zone, otherwise in [0, n_zones)).
  const std::int32_t* zones = nullptr;
  std::int32_t n_zones = 0;
};

/// options.max_cost is the catchment in SECONDS (finite); step bounds / Gaussian size / power clamp
/// in seconds. options.pair_weights must be null (use grid_fca_reach + fca_reach for per-pair weights).
struct GridFcaResult {
  FcaResult fca;                   ///< score is per cell (rows * cols), NaN where no population or no supply in reach
  std::vector<double> zone_score;  ///< population-weighted mean score per zone (NaN: none)
  std::vector<double> zone_population;            ///< population of the zone's cells
  std::vector<double> zone_population_no_access;  ///< population with NaN score (no supply in reach)
  std::uint64_t pairs = 0;                        ///< reachable (facility, cell) pairs held in memory
  std::uint64_t reach_bytes = 0;                  ///< bytes of the sparse reach lists
  double search_seconds = 0.0;                    ///< wall time of the bounded searches
  double model_seconds = 0.0;                     ///< wall time of the FCA passes
};
GridFcaResult grid_fca(const GridFcaInput& input, const FcaOptions& options, RunControl* control = nullptr);

/// grid_fca on reach lists made elsewhere (tile by tile on Dask: careshed.tiled.access) instead of its own
/// searches: first (n_facilities + 1 offsets), cells (flat ids, ascending within a facility) and seconds must be
/// what raster_reach_lists returns for input's facilities with max_seconds = options.max_cost; the result is then
/// grid_fca's, bit for bit. input.grid gives only rows and cols (friction and facilities_rc are not read).
/// search_seconds is 0. Throws InputError on malformed lists (offsets, cells out of the grid or not ascending).
GridFcaResult grid_fca_on_reach(const GridFcaInput& input, const std::int64_t* first, const std::uint32_t* cells,
                                const float* seconds, const FcaOptions& options, RunControl* control = nullptr);

/// The FCA kernel on supply-major sparse lists (the ReachLists layout): the pairs of supply j are
/// entries [first[j], first[j+1]) of demand_index (ascending, no repeats within a supply) / cost.
/// pair_weights (optional) is aligned with those entries. Used by grid_fca and by the Python binding
/// when a callable weight function was evaluated on the reach lists.
FcaResult fca_reach(const double* demand, std::size_t n_demand, const double* supply, std::size_t n_supply,
                    const std::int64_t* first, const std::uint32_t* demand_index, const float* cost,
                    const FcaOptions& options, RunControl* control = nullptr);

/// Population-weighted mean of `score` per zone (cells with population > 0 and finite score), the
/// zone population and the population with a NaN score. zones: -1 = none. Sizes n_cells / n_zones.
void zone_weighted_mean(const double* score, const double* population, const std::int32_t* zones, std::size_t n_cells,
                        std::int32_t n_zones, std::vector<double>& zone_score, std::vector<double>& zone_population,
                        std::vector<double>& zone_population_no_access);

}  // namespace careshed
