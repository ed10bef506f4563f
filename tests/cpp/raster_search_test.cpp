// Tests of careshed/raster_search.hpp against (1) hand-worked r.cost-convention cases and (2) oracles:
// a plain binary-heap Dijkstra per source written here, on random grids with NaN holes (seed logged).
// The exact oracle reproduces the documented integer-tick arithmetic (tick from the reported stats) and
// must match bit for bit, including tie-breaking; a real-valued (double) oracle checks the quantisation.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <cstdlib>
#include <random>
#include <vector>

#include "careshed/error.hpp"
#include "careshed/progress.hpp"
#include "careshed/raster_search.hpp"
#include "cutoff_ticks.hpp"
#include "raster_test_grid.hpp"
#include "run_control_checks.hpp"
#include "test_seed.hpp"

using careshed_test::fresh_or_replayed_seed;

namespace {

using careshed::CellLabel;
using careshed::FrictionGrid;
using careshed::RasterSearchOptions;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr float kInfF = std::numeric_limits<float>::infinity();
constexpr std::uint64_t kNone = std::numeric_limits<std::uint64_t>::max();

using careshed_test::kDc;
using careshed_test::kDr;

struct Grid {
  Grid() = default;
  Grid(int r, int c, std::vector<double> fr, double x, double y) : rows(r), cols(c), f(std::move(fr)), dx(x), dy(y) {}
  int rows = 0, cols = 0;
  std::vector<double> f;
  double dx = 1, dy = 1;
  std::vector<double> row_dx;  // empty: constant dx
  FrictionGrid view() const { return careshed_test::friction_view(rows, cols, f.data(), nullptr, dx, dy, row_dx); }
  bool passable(int r, int c) const { return std::isfinite(f[r * cols + c]); }
};

// Step between (r, c) and (r + dr, c + dc) per the documented rule; returns false if blocked.
// scale > 0: integer ticks (exact arithmetic of the implementation); scale == 0: real seconds.
bool step_cost(const Grid& g, int r, int c, int k, double scale, double* cost) {
  const int r2 = r + kDr[k], c2 = c + kDc[k];
  if (r2 < 0 || r2 >= g.rows || c2 < 0 || c2 >= g.cols) return false;
  if (!g.passable(r, c) || !g.passable(r2, c2)) return false;
  const double L = careshed_test::move_length(r, k, g.dx, g.dy, g.row_dx);
  double fsum = g.f[r * g.cols + c] + g.f[r2 * g.cols + c2];
  double factor = 0.5;
  if (k >= 8) {
    int ar, ac, br, bc;
    careshed_test::knight_mid_cells(r, c, k, &ar, &ac, &br, &bc);
    if (!g.passable(ar, ac) || !g.passable(br, bc)) return false;
    fsum = fsum + (g.f[ar * g.cols + ac] + g.f[br * g.cols + bc]);
    factor = 0.25;
  }
  if (scale > 0)
    *cost = std::floor(fsum * (factor * L * scale) + 0.5);
  else
    *cost = fsum * factor * L;
  return true;
}

// Plain Dijkstra (binary heap) from one source; times in ticks (scale > 0) or seconds (scale == 0).
std::vector<double> dijkstra(const Grid& g, int sr, int sc, double start, int K, double scale, double cut) {
  return careshed_test::dijkstra_oracle<double>(
      g.rows, g.cols, K, sr, sc, start, cut, kInf, g.passable(sr, sc),
      [&](int r, int c, int k, double* w) { return step_cost(g, r, c, k, scale, w); });
}

struct SearchRun {
  std::vector<CellLabel> out;
  careshed::RasterSearchStats stats;
};

SearchRun travel(const Grid& g, const std::vector<std::int64_t>& src, RasterSearchOptions o = {}) {
  SearchRun r;
  r.out.resize(g.f.size());
  r.stats = careshed::raster_travel_time(g.view(), src.data(), src.size() / 2, o, r.out.data());
  return r;
}

// ---- hand-worked r.cost cases ----------------------------------------------------------------------

TEST(RasterSearchHand, RowOfThreeCellsMeanFriction) {
  Grid g{1, 3, {1, 2, 3}, 10, 10};
  SearchRun r = travel(g, {0, 0});
  EXPECT_FLOAT_EQ(r.out[0].seconds, 0.0f);
  EXPECT_FLOAT_EQ(r.out[1].seconds, 15.0f);  // 10 m * (1 + 2) / 2
  EXPECT_FLOAT_EQ(r.out[2].seconds, 40.0f);  // + 10 m * (2 + 3) / 2
  for (auto& c : r.out) EXPECT_EQ(c.nearest, 0);
}

TEST(RasterSearchHand, RectangularCellsDiagonal) {
  Grid g{2, 2, {1, 1, 1, 1}, 3, 4};
  SearchRun r = travel(g, {0, 0});
  EXPECT_FLOAT_EQ(r.out[1].seconds, 3.0f);
  EXPECT_FLOAT_EQ(r.out[2].seconds, 4.0f);
  EXPECT_FLOAT_EQ(r.out[3].seconds, 5.0f);  // hypot(3, 4)
}

TEST(RasterSearchHand, PerRowCellWidthLonLat) {
  Grid g{2, 2, {1, 1, 1, 1}, 0, 4};
  g.row_dx = {3, 5};
  SearchRun r = travel(g, {0, 0});
  EXPECT_FLOAT_EQ(r.out[1].seconds, 3.0f);                             // row 0 width
  EXPECT_FLOAT_EQ(r.out[2].seconds, 4.0f);                             // dy
  EXPECT_FLOAT_EQ(r.out[3].seconds, static_cast<float>(std::hypot(4.0, 4.0)));  // mean width of rows 0, 1
}

TEST(RasterSearchHand, KnightMoveUsesFourCellMeanAndIsBlockedByBarrier) {
  // 3 rows x 2 cols; (0,1) and (2,0) expensive so the knight (0,0)->(2,1) is the best path.
  Grid g{3, 2, {1, 9, 1, 1, 9, 1}, 1, 1};
  RasterSearchOptions o;
  o.neighbours = 16;
  SearchRun r = travel(g, {0, 0}, o);
  EXPECT_FLOAT_EQ(r.out[5].seconds, static_cast<float>(std::sqrt(5.0)));  // (1+1+1+1)/4 * sqrt(5)
  SearchRun r8 = travel(g, {0, 0});
  EXPECT_FLOAT_EQ(r8.out[5].seconds, static_cast<float>(1.0 + std::sqrt(2.0)));  // rook + diagonal
  g.f[3] = 3;  // (1,1) is one of the two cells the knight passes between
  r = travel(g, {0, 0}, o);
  EXPECT_FLOAT_EQ(r.out[5].seconds, static_cast<float>(1.0 + std::sqrt(2.0)));  // 1.5*sqrt5 > 2.414
  g.f[3] = std::nan("");
  g.f[2] = 1;
  g.f[1] = 1;
  // (1,1) impassable: the knight is blocked although both end cells are open.
  r = travel(g, {0, 0}, o);
  EXPECT_FLOAT_EQ(r.out[5].seconds, static_cast<float>(1.0 + std::sqrt(2.0)));  // via (1,0)
  EXPECT_EQ(r.out[3].nearest, -1);
  EXPECT_EQ(r.out[3].seconds, kInfF);
}

TEST(RasterSearchHand, BarrierLeavesUnreachablePocket) {
  const double N = std::nan("");
  Grid g{3, 4, {1, 1, N, 1, 1, 1, N, 1, 1, 1, N, 1}, 1, 1};
  SearchRun r = travel(g, {1, 0});
  for (int row = 0; row < 3; ++row) {
    EXPECT_EQ(r.out[row * 4 + 3].nearest, -1);
    EXPECT_EQ(r.out[row * 4 + 3].seconds, kInfF);
    EXPECT_EQ(r.out[row * 4 + 2].nearest, -1);  // impassable cells themselves are unreachable
    EXPECT_EQ(r.out[row * 4 + 1].nearest, 0);
  }
  EXPECT_EQ(r.stats.cells_reached, 6u);
}

TEST(RasterSearchHand, ZeroFrictionTiesGoToLowestIndex) {
  Grid g{3, 3, std::vector<double>(9, 0.0), 1, 1};
  SearchRun r = travel(g, {2, 2, 0, 0});  // source 0 at (2,2), source 1 at (0,0): all times 0
  for (auto& c : r.out) {
    EXPECT_EQ(c.seconds, 0.0f);
    EXPECT_EQ(c.nearest, 0);
  }
}

TEST(RasterSearchHand, ExactTieMidwayGoesToLowestIndex) {
  Grid g{1, 5, std::vector<double>(5, 1.0), 10, 10};
  SearchRun a = travel(g, {0, 0, 0, 4});
  EXPECT_EQ(a.out[2].nearest, 0);
  EXPECT_FLOAT_EQ(a.out[2].seconds, 20.0f);
  SearchRun b = travel(g, {0, 4, 0, 0});
  EXPECT_EQ(b.out[2].nearest, 0);  // source 0 is now the one at column 4
  EXPECT_EQ(b.out[1].nearest, 1);
}

TEST(RasterSearchHand, DuplicateSourcesAndOffsets) {
  Grid g{2, 2, std::vector<double>(4, 1.0), 1, 1};
  SearchRun a = travel(g, {1, 1, 1, 1});
  for (auto& c : a.out) EXPECT_EQ(c.nearest, 0);
  double offsets[2] = {5.0, 0.0};
  RasterSearchOptions o;
  o.source_offsets_s = offsets;
  SearchRun b = travel(g, {1, 1, 1, 1}, o);
  for (auto& c : b.out) EXPECT_EQ(c.nearest, 1);
  EXPECT_FLOAT_EQ(b.out[3].seconds, 0.0f);
  offsets[1] = 5.0;  // equal offsets: the lower index again
  SearchRun c = travel(g, {1, 1, 1, 1}, o);
  for (auto& x : c.out) EXPECT_EQ(x.nearest, 0);
  EXPECT_FLOAT_EQ(c.out[0].seconds, static_cast<float>(5.0 + std::sqrt(2.0)));
}

TEST(RasterSearchHand, OffsetsShiftTheBoundary) {
  Grid g{1, 5, std::vector<double>(5, 1.0), 10, 10};
  double offsets[2] = {25.0, 0.0};
  RasterSearchOptions o;
  o.source_offsets_s = offsets;
  SearchRun r = travel(g, {0, 0, 0, 4}, o);
  EXPECT_FLOAT_EQ(r.out[0].seconds, 25.0f);
  EXPECT_EQ(r.out[0].nearest, 0);
  EXPECT_FLOAT_EQ(r.out[1].seconds, 30.0f);
  EXPECT_EQ(r.out[1].nearest, 1);
}

TEST(RasterSearchHand, SourceOnImpassableCellIsInert) {
  Grid g{1, 3, {std::nan(""), 1, 1}, 1, 1};
  SearchRun r = travel(g, {0, 0, 0, 2});
  EXPECT_EQ(r.out[0].nearest, -1);
  EXPECT_EQ(r.out[0].seconds, kInfF);
  EXPECT_EQ(r.out[1].nearest, 1);
  g.f[0] = kInf;  // +inf friction is impassable too
  r = travel(g, {0, 0});
  for (auto& c : r.out) EXPECT_EQ(c.nearest, -1);
}

TEST(RasterSearchHand, CutoffIsInclusive) {
  Grid g{1, 4, std::vector<double>(4, 1.0), 10, 10};
  RasterSearchOptions o;
  o.max_seconds = 20.0;
  SearchRun r = travel(g, {0, 0}, o);
  EXPECT_FLOAT_EQ(r.out[2].seconds, 20.0f);
  EXPECT_EQ(r.out[2].nearest, 0);
  EXPECT_EQ(r.out[3].seconds, kInfF);
  EXPECT_EQ(r.out[3].nearest, -1);
  double offsets[1] = {21.0};  // a source starting beyond the cutoff reaches nothing
  o.source_offsets_s = offsets;
  r = travel(g, {0, 0}, o);
  EXPECT_EQ(r.out[0].nearest, -1);
}

TEST(RasterSearchHand, Float32FrictionAccepted) {
  std::vector<float> f = {1, 2, 3};
  FrictionGrid g;
  g.friction_f32 = f.data();
  g.rows = 1;
  g.cols = 3;
  g.dx_m = g.dy_m = 10;
  std::vector<CellLabel> out(3);
  std::int64_t src[2] = {0, 0};
  careshed::raster_travel_time(g, src, 1, {}, out.data());
  EXPECT_FLOAT_EQ(out[2].seconds, 40.0f);
}

TEST(RasterSearchErrors, BadInputsNameTheArgument) {
  Grid g{2, 2, {1, -1, 1, 1}, 1, 1};
  std::vector<CellLabel> out(4);
  std::vector<std::int64_t> src = {0, 0};
  auto call = [&](const Grid& gg, const std::vector<std::int64_t>& s, RasterSearchOptions o) {
    careshed::raster_travel_time(gg.view(), s.data(), s.size() / 2, o, out.data());
  };
  try {
    call(g, src, {});
    FAIL();
  } catch (const careshed::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("friction[0, 1]"), std::string::npos) << e.what();
  }
  g.f[1] = 1;
  try {
    call(g, {0, 0, 2, 0}, {});
    FAIL();
  } catch (const careshed::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("sources[1]"), std::string::npos) << e.what();
  }
  RasterSearchOptions o;
  o.neighbours = 4;
  EXPECT_THROW(call(g, src, o), careshed::InputError);
  o = {};
  o.max_seconds = std::nan("");
  EXPECT_THROW(call(g, src, o), careshed::InputError);
  double bad_offset[1] = {-1};
  o = {};
  o.source_offsets_s = bad_offset;
  EXPECT_THROW(call(g, src, o), careshed::InputError);
  Grid z = g;
  z.dx = 0;
  EXPECT_THROW(call(z, src, {}), careshed::InputError);
  o = {};
  EXPECT_THROW(careshed::raster_reach_lists(g.view(), src.data(), 1, o), careshed::InputError);  // no cutoff
  EXPECT_THROW(careshed::raster_k_nearest(g.view(), src.data(), 1, 0, o, out.data()), careshed::InputError);
}

// ---- random oracle tests ---------------------------------------------------------------------------

struct Case {
  Grid g;
  std::vector<std::int64_t> src;
  std::vector<double> offsets;
  RasterSearchOptions o;
};

Case random_case(std::mt19937_64& rng) {
  Case cs;
  std::uniform_int_distribution<int> dim(1, 24);
  std::uniform_real_distribution<double> u(0, 1);
  Grid& g = cs.g;
  g.rows = dim(rng);
  g.cols = dim(rng);
  g.dx = 5 + 100 * u(rng);
  g.dy = u(rng) < 0.5 ? g.dx : 5 + 100 * u(rng);
  if (u(rng) < 0.25) {
    g.row_dx.resize(g.rows);
    for (auto& d : g.row_dx) d = 20 + 80 * u(rng);
  }
  g.f.resize(static_cast<std::size_t>(g.rows) * g.cols);
  const double hole = 0.25 * u(rng), zero = u(rng) < 0.3 ? 0.1 : 0.0;
  for (auto& f : g.f) {
    const double x = u(rng);
    f = x < hole ? std::nan("") : (x < hole + zero ? 0.0 : (u(rng) < 0.2 ? 0.02 + 0.05 * u(rng) : 0.5 + 1.5 * u(rng)));
  }
  const int ns = std::uniform_int_distribution<int>(1, 6)(rng);
  for (int s = 0; s < ns; ++s) {
    if (s > 0 && u(rng) < 0.15) {  // duplicate of an earlier source
      const int t = std::uniform_int_distribution<int>(0, s - 1)(rng);
      cs.src.push_back(cs.src[2 * t]);
      cs.src.push_back(cs.src[2 * t + 1]);
    } else {
      cs.src.push_back(std::uniform_int_distribution<int>(0, g.rows - 1)(rng));
      cs.src.push_back(std::uniform_int_distribution<int>(0, g.cols - 1)(rng));
    }
  }
  cs.o.neighbours = u(rng) < 0.5 ? 8 : 16;
  if (u(rng) < 0.4) {
    cs.offsets.resize(ns);
    for (auto& x : cs.offsets) x = u(rng) < 0.3 ? 0.0 : std::floor(600 * u(rng));
    cs.o.source_offsets_s = cs.offsets.data();
  }
  if (u(rng) < 0.4) cs.o.max_seconds = 1500 * u(rng);
  return cs;
}

// Per-source oracle times (ticks at the given scale, or seconds with scale 0).
std::vector<std::vector<double>> oracle_all(const Case& cs, double scale, double cut) {
  std::vector<std::vector<double>> d;
  for (std::size_t s = 0; s < cs.src.size() / 2; ++s) {
    const double off = cs.offsets.empty() ? 0.0 : cs.offsets[s];
    const double start = scale > 0 ? std::floor(off * scale + 0.5) : off;
    d.push_back(dijkstra(cs.g, static_cast<int>(cs.src[2 * s]), static_cast<int>(cs.src[2 * s + 1]), start,
                         cs.o.neighbours, scale, cut));
  }
  return d;
}

/// The nearest source of cell i by the per-source oracle times d: (time in ticks, lowest index), or (inf, -1).
std::pair<double, int> oracle_nearest(const std::vector<std::vector<double>>& d, std::size_t i) {
  double best = kInf;
  int arg = -1;
  for (std::size_t s = 0; s < d.size(); ++s) {
    if (d[s][i] < best) best = d[s][i], arg = static_cast<int>(s);
  }
  return {best, arg};
}

/// Every source's reach list equals the cells its own oracle search reaches, in cell order, with its times.
void expect_reach_lists_match_oracle(const careshed::ReachLists& rl, const std::vector<std::vector<double>>& d,
                                     double scale) {
  ASSERT_EQ(rl.offsets.size(), d.size() + 1);
  for (std::size_t s = 0; s < d.size(); ++s) {
    std::vector<std::uint32_t> cells;
    std::vector<float> secs;
    for (std::size_t i = 0; i < d[s].size(); ++i) {
      if (d[s][i] < kInf) {
        cells.push_back(static_cast<std::uint32_t>(i));
        secs.push_back(static_cast<float>(d[s][i] / scale));
      }
    }
    ASSERT_EQ(std::vector<std::uint32_t>(rl.cells.begin() + rl.offsets[s], rl.cells.begin() + rl.offsets[s + 1]), cells)
        << "source " << s;
    ASSERT_EQ(std::vector<float>(rl.seconds.begin() + rl.offsets[s], rl.seconds.begin() + rl.offsets[s + 1]), secs)
        << "source " << s;
  }
}

TEST(RasterSearchOracle, NearestMatchesPerSourceDijkstraExactly) {
  const std::uint64_t seed = fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int it = 0; it < 300; ++it) {
    SCOPED_TRACE("case " + std::to_string(it));
    Case cs = random_case(rng);
    SearchRun r = travel(cs.g, cs.src, cs.o);
    // The threaded search (checkerboard of tiles, CAS on labels) must give the very same bytes.
    // So must the hand-over between all threads and one thread (ThreadPolicy::alternate does it at
    // every round; adaptive does it when the machine is busy).
    if (it % 10 == 0) {  // (barrier-heavy on tiny grids: a subset keeps the test fast)
      for (const careshed::ThreadPolicy policy :
           {careshed::ThreadPolicy::adaptive, careshed::ThreadPolicy::fixed, careshed::ThreadPolicy::alternate}) {
        RasterSearchOptions o2 = cs.o;
        o2.threads = 2;
        o2.thread_policy = policy;
        SearchRun r2 = travel(cs.g, cs.src, o2);
        for (std::size_t i = 0; i < cs.g.f.size(); ++i) {
          ASSERT_EQ(r2.out[i].nearest, r.out[i].nearest) << "cell " << i << " policy " << static_cast<int>(policy);
          ASSERT_EQ(r2.out[i].seconds, r.out[i].seconds) << "cell " << i << " policy " << static_cast<int>(policy);
        }
      }
    }
    const double scale = 1.0 / r.stats.tick_seconds;
    const double cut = careshed_test::cutoff_ticks(cs.o.max_seconds, 1.0 / scale);
    auto d = oracle_all(cs, scale, cut);
    auto dr = oracle_all(cs, 0.0, cs.o.max_seconds);
    for (std::size_t i = 0; i < cs.g.f.size(); ++i) {
      const auto [best, arg] = oracle_nearest(d, i);
      double best_real = kInf;
      for (const auto& ds : dr) best_real = std::min(best_real, ds[i]);
      ASSERT_EQ(r.out[i].nearest, arg) << "cell " << i;
      if (arg < 0) {
        ASSERT_EQ(r.out[i].seconds, kInfF);
      } else {
        ASSERT_EQ(r.out[i].seconds, static_cast<float>(best / scale)) << "cell " << i;
        // Quantisation is tiny: within 1e-6 relative of the real-valued Dijkstra (when both reach it).
        if (best_real < kInf) {
          ASSERT_NEAR(r.out[i].seconds, best_real, 1e-5 * (1 + best_real)) << "cell " << i;
        }
      }
    }
  }
}

TEST(RasterSearchOracle, KNearestMatchesBruteForce) {
  const std::uint64_t seed = fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int it = 0; it < 200; ++it) {
    SCOPED_TRACE("case " + std::to_string(it));
    Case cs = random_case(rng);
    const int k = std::uniform_int_distribution<int>(1, 3)(rng);
    std::vector<CellLabel> out(cs.g.f.size() * k);
    auto st = careshed::raster_k_nearest(cs.g.view(), cs.src.data(), cs.src.size() / 2, k, cs.o, out.data());
    const double scale = 1.0 / st.tick_seconds;
    const double cut = careshed_test::cutoff_ticks(cs.o.max_seconds, 1.0 / scale);
    auto d = oracle_all(cs, scale, cut);
    for (std::size_t i = 0; i < cs.g.f.size(); ++i) {
      std::vector<std::pair<double, int>> all;
      for (std::size_t s = 0; s < d.size(); ++s)
        if (d[s][i] < kInf) all.push_back({d[s][i], static_cast<int>(s)});
      std::sort(all.begin(), all.end());
      for (int j = 0; j < k; ++j) {
        const CellLabel& c = out[i * k + j];
        if (j < static_cast<int>(all.size())) {
          ASSERT_EQ(c.nearest, all[j].second) << "cell " << i << " slot " << j;
          ASSERT_EQ(c.seconds, static_cast<float>(all[j].first / scale));
        } else {
          ASSERT_EQ(c.nearest, -1);
          ASSERT_EQ(c.seconds, kInfF);
        }
      }
    }
  }
}

TEST(RasterSearchOracle, ReachListsMatchPerSourceDijkstra) {
  const std::uint64_t seed = fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int it = 0; it < 200; ++it) {
    SCOPED_TRACE("case " + std::to_string(it));
    Case cs = random_case(rng);
    if (!(cs.o.max_seconds < kInf)) cs.o.max_seconds = 800;
    careshed::RasterSearchStats st;
    auto rl = careshed::raster_reach_lists(cs.g.view(), cs.src.data(), cs.src.size() / 2, cs.o, &st);
    const double scale = 1.0 / st.tick_seconds;
    auto d = oracle_all(cs, scale, careshed_test::cutoff_ticks(cs.o.max_seconds, 1.0 / scale));
    expect_reach_lists_match_oracle(rl, d, scale);
    for (float x : rl.seconds) ASSERT_LE(x, cs.o.max_seconds);
  }
}

// A larger grid so that the bucket queue wraps around many times and the interior fast path dominates.
TEST(RasterSearchOracle, LargerGridWithFastLines) {
  const std::uint64_t seed = fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  Case cs;
  cs.g.rows = 120;
  cs.g.cols = 150;
  cs.g.dx = cs.g.dy = 30;
  cs.g.f.resize(cs.g.rows * cs.g.cols);
  for (int r = 0; r < cs.g.rows; ++r)
    for (int c = 0; c < cs.g.cols; ++c)
      cs.g.f[r * cs.g.cols + c] = (r % 37 == 5 || c % 41 == 7) ? 0.03 : (u(rng) < 0.05 ? std::nan("") : 0.5 + u(rng));
  for (int s = 0; s < 7; ++s)
    cs.src.push_back(std::uniform_int_distribution<int>(0, cs.g.rows - 1)(rng)),
        cs.src.push_back(std::uniform_int_distribution<int>(0, cs.g.cols - 1)(rng));
  using careshed::ThreadPolicy;
  for (const int K : {8, 16}) {
    for (const int threads : {1, 2, 3}) {
      for (const ThreadPolicy policy : {ThreadPolicy::adaptive, ThreadPolicy::fixed, ThreadPolicy::alternate}) {
        if (threads == 1 && policy != ThreadPolicy::adaptive) continue;  // one thread has no policy
        SCOPED_TRACE("K " + std::to_string(K) + " threads " + std::to_string(threads) + " policy " +
                     std::to_string(static_cast<int>(policy)));
        cs.o.neighbours = K;
        cs.o.threads = threads;
        cs.o.thread_policy = policy;
        SearchRun r = travel(cs.g, cs.src, cs.o);
        if (policy == ThreadPolicy::alternate) {  // the hand-over ran, to one thread and back again
          EXPECT_GE(r.stats.handovers_to_one_thread, 2u);
        }
        if (threads == 1 || policy == ThreadPolicy::fixed) {
          EXPECT_EQ(r.stats.handovers_to_one_thread, 0u);
        }
        const double scale = 1.0 / r.stats.tick_seconds;
        auto d = oracle_all(cs, scale, kInf);
        for (std::size_t i = 0; i < cs.g.f.size(); ++i) {
          const auto [best, arg] = oracle_nearest(d, i);
          ASSERT_EQ(r.out[i].nearest, arg) << "cell " << i << " K " << K;
          if (arg >= 0) {
            ASSERT_EQ(r.out[i].seconds, static_cast<float>(best / scale));
          }
        }
      }
    }
  }
}

// Enough sources x cells that raster_reach_lists runs its sources on several threads (each with its
// own scratch reset through the touched list); every list must still match its own oracle search.
TEST(RasterSearchOracle, ReachListsInParallelMatchOracle) {
  const std::uint64_t seed = fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  Case cs;
  cs.g.rows = 120;
  cs.g.cols = 150;
  cs.g.dx = cs.g.dy = 50;
  cs.g.f.resize(cs.g.rows * cs.g.cols);
  for (auto& f : cs.g.f) f = u(rng) < 0.05 ? std::nan("") : (u(rng) < 0.1 ? 0.03 : 0.5 + u(rng));
  for (int s = 0; s < 64; ++s) {
    cs.src.push_back(std::uniform_int_distribution<int>(0, cs.g.rows - 1)(rng));
    cs.src.push_back(std::uniform_int_distribution<int>(0, cs.g.cols - 1)(rng));
  }
  cs.o.max_seconds = 900;
  careshed::RasterSearchStats st;
  auto rl = careshed::raster_reach_lists(cs.g.view(), cs.src.data(), cs.src.size() / 2, cs.o, &st);
  const double scale = 1.0 / st.tick_seconds;
  auto d = oracle_all(cs, scale, careshed_test::cutoff_ticks(cs.o.max_seconds, 1.0 / scale));
  expect_reach_lists_match_oracle(rl, d, scale);
}

// ---- cancellation and progress (careshed/progress.hpp) ------------------------------------------------

// A random friction grid with holes and a few fast lines, and random sources (seeded).
Case control_case(std::mt19937_64& rng, int rows, int cols, int n_sources) {
  std::uniform_real_distribution<double> u(0, 1);
  Case cs;
  cs.g.rows = rows;
  cs.g.cols = cols;
  cs.g.dx = cs.g.dy = 100;
  cs.g.f.resize(static_cast<std::size_t>(rows) * cols);
  for (auto& f : cs.g.f) f = u(rng) < 0.03 ? std::nan("") : (u(rng) < 0.1 ? 0.03 : 0.2 + u(rng));
  for (int s = 0; s < n_sources; ++s) {
    cs.src.push_back(std::uniform_int_distribution<int>(0, rows - 1)(rng));
    cs.src.push_back(std::uniform_int_distribution<int>(0, cols - 1)(rng));
  }
  return cs;
}

bool same_labels(const std::vector<CellLabel>& a, const std::vector<CellLabel>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(CellLabel)) == 0;
}

TEST(RasterSearchControl, SameResultsWithAControlAndProgressReachesOne) {
  const std::uint64_t seed = fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  Case cs = control_case(rng, 300, 260, 12);
  const std::size_t n = static_cast<std::size_t>(cs.g.rows) * cs.g.cols, ns = cs.src.size() / 2;
  for (int threads : {1, 2}) {
    for (double cut : {kInf, 3000.0}) {
      cs.o.threads = threads;
      cs.o.max_seconds = cut;
      std::vector<CellLabel> plain(n), watched(n);
      careshed::raster_travel_time(cs.g.view(), cs.src.data(), ns, cs.o, plain.data());
      careshed_test::watch_progress(
          [&](careshed::RunControl* c) {
            careshed::raster_travel_time(cs.g.view(), cs.src.data(), ns, cs.o, watched.data(), c);
          },
          "raster_travel_time");
      EXPECT_TRUE(same_labels(plain, watched)) << "threads " << threads << ", cutoff " << cut;
    }
  }
  cs.o.threads = 0;
  cs.o.max_seconds = kInf;
  std::vector<CellLabel> plain(n * 3), watched(n * 3);
  careshed::raster_k_nearest(cs.g.view(), cs.src.data(), ns, 3, cs.o, plain.data());
  careshed_test::watch_progress(
      [&](careshed::RunControl* c) {
        careshed::raster_k_nearest(cs.g.view(), cs.src.data(), ns, 3, cs.o, watched.data(), c);
      },
      "raster_k_nearest");
  EXPECT_TRUE(same_labels(plain, watched));
  cs.o.max_seconds = 2000;
  const careshed::ReachLists a = careshed::raster_reach_lists(cs.g.view(), cs.src.data(), ns, cs.o);
  careshed::ReachLists b;
  careshed_test::watch_progress(
      [&](careshed::RunControl* c) { b = careshed::raster_reach_lists(cs.g.view(), cs.src.data(), ns, cs.o, nullptr, c); },
      "raster_reach_lists");
  EXPECT_EQ(a.offsets, b.offsets);
  EXPECT_EQ(a.cells, b.cells);
  EXPECT_EQ(a.seconds, b.seconds);
}

TEST(RasterSearchControl, CancelledBeforeTheCallStopsEverySearch) {
  std::mt19937_64 rng(7);
  Case cs = control_case(rng, 50, 40, 3);
  const std::size_t n = static_cast<std::size_t>(cs.g.rows) * cs.g.cols, ns = cs.src.size() / 2;
  std::vector<CellLabel> out(n * 2);
  careshed_test::expect_stops_when_cancelled_before(
      [&](careshed::RunControl* c) { careshed::raster_travel_time(cs.g.view(), cs.src.data(), ns, cs.o, out.data(), c); },
      "raster_travel_time");
  careshed_test::expect_stops_when_cancelled_before(
      [&](careshed::RunControl* c) {
        careshed::raster_k_nearest(cs.g.view(), cs.src.data(), ns, 2, cs.o, out.data(), c);
      },
      "raster_k_nearest");
  cs.o.max_seconds = 500;
  careshed_test::expect_stops_when_cancelled_before(
      [&](careshed::RunControl* c) { careshed::raster_reach_lists(cs.g.view(), cs.src.data(), ns, cs.o, nullptr, c); },
      "raster_reach_lists");
}

// Large enough (9 M cells) that the search is still running when the other thread cancels it; on two
// threads it exercises the per-round agreement of the threaded search (all threads leave together).
TEST(RasterSearchControl, CancelMidwayStopsTheThreadedSearch) {
  const int side = 3000;
  std::vector<float> f(static_cast<std::size_t>(side) * side, 0.5f);
  FrictionGrid g;
  g.friction_f32 = f.data();
  g.rows = g.cols = side;
  g.dx_m = g.dy_m = 100;
  const std::int64_t src[] = {side / 2, side / 2};
  std::vector<CellLabel> out(f.size());
  for (int threads : {1, 2}) {
    RasterSearchOptions o;
    o.threads = threads;
    careshed_test::expect_stops_when_cancelled_midway(
        [&](careshed::RunControl* c) { careshed::raster_travel_time(g, src, 1, o, out.data(), c); },
        threads == 1 ? "raster_travel_time, 1 thread" : "raster_travel_time, 2 threads");
  }
  {  // cancelled while the threads hand the search back and forth (one-thread and all-thread phases)
    RasterSearchOptions o;
    o.threads = 2;
    o.thread_policy = careshed::ThreadPolicy::alternate;
    careshed_test::expect_stops_when_cancelled_midway(
        [&](careshed::RunControl* c) { careshed::raster_travel_time(g, src, 1, o, out.data(), c); },
        "raster_travel_time, 2 threads alternating with 1");
  }
  RasterSearchOptions o;
  o.max_seconds = 1e9;
  careshed_test::expect_stops_when_cancelled_midway(
      [&](careshed::RunControl* c) { careshed::raster_k_nearest(g, src, 1, 1, o, out.data(), c); }, "raster_k_nearest");
  std::vector<std::int64_t> many;
  for (int i = 0; i < 64; ++i) many.insert(many.end(), {(i * 97) % side, (i * 389) % side});
  o.max_seconds = 20000;
  careshed_test::expect_stops_when_cancelled_midway(
      [&](careshed::RunControl* c) { careshed::raster_reach_lists(g, many.data(), 64, o, nullptr, c); },
      "raster_reach_lists");
}

}  // namespace
