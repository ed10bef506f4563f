// terrain_cost.hpp — the move-cost policies of the grid search (private to core/src).
//
// The search engine (raster_search.cpp) is templated on a cost policy. IsoCost is the r.cost rule and
// adds nothing to the isotropic path (the engine keeps its own inline step). ToblerCost and RWalkCost are
// the directed costs of careshed/terrain.hpp; the formulas and the tick arithmetic are documented there.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace careshed {
namespace detail {

struct IsoCost {
  static constexpr bool kIsotropic = true;
  static constexpr bool kLowerBound = false;
};

// The part shared by the terrain policies: elevations, 1 / L per direction (per row for lon/lat grids) and
// which way a search move is costed.
struct TerrainCostBase {
  static constexpr bool kIsotropic = false;
  const float* z = nullptr;
  std::vector<double> inv_len;  // (rows or 1) x K
  bool per_row = false;
  int K = 8;
  bool toward_sources = true;
  double scale = 1.0;  // 2^q

  // Slope of the traveller's move for the search move from u (labelled) to v (offered): toward the
  // sources the traveller goes v -> u. NaN when either elevation is missing (the move is then blocked).
  inline double rise(std::uint32_t u, std::uint32_t v) const {
    const double zu = static_cast<double>(z[u]), zv = static_cast<double>(z[v]);
    return toward_sources ? zu - zv : zv - zu;
  }
  inline double inv_length(std::int64_t row, int k) const {
    return inv_len[static_cast<std::size_t>(per_row ? row : 0) * static_cast<std::size_t>(K) + k];
  }
};

struct ToblerCost : TerrainCostBase {
  // Every factor is >= exp(3.5 * -0.05) computed the same way (|x| >= 0, exp and * monotone), so
  // fsum_h * min_factor bounds a move's ticks from below: the engine skips the exp for a neighbour whose
  // label that bound already cannot beat (most relaxations reach an already settled cell). Exact pruning.
  static constexpr bool kLowerBound = true;
  double min_factor = std::exp(3.5 * (0.0 - 0.05));

  // fsum_h = (sum of frictions) * h (see terrain.hpp). Writes the move's cost in ticks (unrounded) to *w;
  // false when the move is blocked.
  inline bool ticks(std::uint32_t u, std::uint32_t v, std::int64_t row, int k, double fsum_h, double* w) const {
    const double dz = rise(u, v);
    if (!(dz == dz)) return false;
    const double s = dz * inv_length(row, k);
    *w = fsum_h * std::exp(3.5 * (std::fabs(s + 0.05) - 0.05));
    return true;
  }
};

struct RWalkCost : TerrainCostBase {
  static constexpr bool kLowerBound = false;
  double min_factor = 0.0;  // unused
  double a = 0.72, b = 6.0, c = 1.9998, d = -1.9998, slope_factor = -0.2125, lambda = 1.0;
  std::vector<double> len;  // (rows or 1) x K, metres

  inline bool ticks(std::uint32_t u, std::uint32_t v, std::int64_t row, int k, double fsum_h, double* w) const {
    const double dz = rise(u, v);
    if (!(dz == dz)) return false;
    const double L = len[static_cast<std::size_t>(per_row ? row : 0) * static_cast<std::size_t>(K) + k];
    double walk;
    if (dz > 0.0)
      walk = a * L + b * dz;
    else if (dz * inv_length(row, k) < slope_factor)
      walk = a * L + d * dz;
    else
      walk = a * L + c * dz;
    *w = walk * scale + lambda * fsum_h;
    return true;
  }
};

}  // namespace detail
}  // namespace careshed
