// raster_test_grid.hpp — what the friction-grid tests (raster_search_test, terrain_test, raster_tiles_test)
// share: the engine's 16 move directions, the FrictionGrid view of a test's buffers, a move's centre
// distance and the two cells a knight's move passes between (the documented r.cost rule, written out
// independently of core/src), and a plain binary-heap Dijkstra over those moves as the oracle.
#pragma once

#include <cmath>
#include <cstdlib>
#include <functional>
#include <queue>
#include <utility>
#include <vector>

#include "careshed/raster_search.hpp"

namespace careshed_test {

// The directions in the engine's order: 4 rook, 4 diagonal, then the 8 knight's moves (r.cost -k).
inline constexpr int kDr[16] = {0, 0, -1, 1, -1, -1, 1, 1, -2, -2, 2, 2, -1, -1, 1, 1};
inline constexpr int kDc[16] = {-1, 1, 0, 0, -1, 1, -1, 1, -1, 1, -1, 1, -2, 2, -2, 2};

/// The FrictionGrid over a test's buffers: exactly one of f64 / f32 non-null; row_dx empty for a constant dx.
inline careshed::FrictionGrid friction_view(int rows, int cols, const double* f64, const float* f32, double dx,
                                            double dy, const std::vector<double>& row_dx) {
  careshed::FrictionGrid g;
  g.friction_f64 = f64;
  g.friction_f32 = f32;
  g.rows = rows;
  g.cols = cols;
  g.dx_m = dx;
  g.dy_m = dy;
  g.row_dx_m = row_dx.empty() ? nullptr : row_dx.data();
  return g;
}

/// Centre-to-centre metres of the move from row r in direction k: the mean of the two rows' widths when the
/// width varies by row (lon/lat grids), else dx.
inline double move_length(int r, int k, double dx, double dy, const std::vector<double>& row_dx) {
  const double dxm = row_dx.empty() ? dx : (row_dx[r] + row_dx[r + kDr[k]]) / 2.0;
  return std::hypot(kDc[k] * dxm, kDr[k] * dy);
}

/// The two cells (ar, ac) and (br, bc) a knight's move k >= 8 from (r, c) passes between.
inline void knight_mid_cells(int r, int c, int k, int* ar, int* ac, int* br, int* bc) {
  if (std::abs(kDr[k]) == 2) {
    *ar = r + kDr[k] / 2, *ac = c, *br = r + kDr[k] / 2, *bc = c + kDc[k];
  } else {
    *ar = r, *ac = c + kDc[k] / 2, *br = r + kDr[k], *bc = c + kDc[k] / 2;
  }
}

/// Plain Dijkstra (binary heap) from cell (sr, sc) at time `start` over K directions, keeping times <= cut.
/// edge(r, c, k, &w) gives the cost of the expansion from (r, c) in direction k (false: no such move; the
/// target is inside the grid). T: an integer or exact floating type; `none` marks unreached cells. A
/// source with source_ok false, or starting after the cut, reaches nothing.
template <class T>
std::vector<T> dijkstra_oracle(int rows, int cols, int K, int sr, int sc, T start, T cut, T none, bool source_ok,
                               const std::function<bool(int, int, int, T*)>& edge) {
  std::vector<T> d(static_cast<std::size_t>(rows) * cols, none);
  if (!source_ok || start > cut) return d;
  using Item = std::pair<T, std::size_t>;
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> pq;
  const std::size_t s = static_cast<std::size_t>(sr) * cols + sc;
  d[s] = start;
  pq.push({start, s});
  while (!pq.empty()) {
    const auto [du, u] = pq.top();
    pq.pop();
    if (du != d[u]) continue;  // stale
    const int r = static_cast<int>(u / cols), c = static_cast<int>(u % cols);
    for (int k = 0; k < K; ++k) {
      const int rv = r + kDr[k], cv = c + kDc[k];
      if (rv < 0 || rv >= rows || cv < 0 || cv >= cols) continue;
      T w;
      if (!edge(r, c, k, &w)) continue;
      const T nd = du + w;  // exact: ticks are integers well below 2^53 in these tests
      const std::size_t v = static_cast<std::size_t>(rv) * cols + cv;
      if (nd <= cut && nd < d[v]) {
        d[v] = nd;
        pq.push({nd, v});
      }
    }
  }
  return d;
}

}  // namespace careshed_test
