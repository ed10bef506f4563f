// The inclusive cut-off contract (DESIGN.md: "a cell at exactly T is covered"), checked on every engine
// that takes a cut-off, in the hard case: cut-offs exactly equal to times the engine itself returns.
//
// Contract: with cut-off c, a cell/node is reached exactly when the time the same search returns for it
// without the cut-off (the value in the output array, float32 or double, compared exactly with c as a
// double) is <= c; its time and nearest source are then the uncut ones. For the raster engines "the same
// search" means the same integer tick (RasterSearchStats::tick_seconds): the tick depends on the largest
// time that can occur, so the tests keep grids small enough that a cut and an uncut run share it (the
// tests assert that), or, for the per-source reach lists (32-bit labels), compare only runs that do.
//
// Random grids/graphs with a logged seed (CARESHED_TEST_SEED replays), plus the named case that showed
// the bug: a 7.2 s step with max_seconds = 7.2 came back unreachable (7.2 has no exact binary value; the
// cut-off was rounded down to ticks while the cell's ticks were rounded to nearest).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "careshed/graph_search.hpp"
#include "careshed/multimodal.hpp"
#include "careshed/raster_search.hpp"
#include "careshed/raster_tiles.hpp"
#include "careshed/terrain.hpp"
#include "cutoff_ticks.hpp"
#include "test_seed.hpp"

namespace {

using careshed::CellLabel;
using careshed::FrictionGrid;
using careshed::RasterSearchOptions;
constexpr double kInf = std::numeric_limits<double>::infinity();

// A random friction grid with holes, zero-friction cells and values without an exact binary form.
struct RandomGrid {
  std::int64_t rows = 0, cols = 0;
  double dx = 1, dy = 1;
  std::vector<double> f;
  std::vector<std::int64_t> sources;  // (row, col) pairs
  std::vector<double> offsets;
  FrictionGrid view() const {
    FrictionGrid g;
    g.friction_f64 = f.data();
    g.rows = rows;
    g.cols = cols;
    g.dx_m = dx;
    g.dy_m = dy;
    return g;
  }
};

RandomGrid random_grid(std::mt19937_64& rng) {
  RandomGrid g;
  g.rows = std::uniform_int_distribution<int>(1, 12)(rng);
  g.cols = std::uniform_int_distribution<int>(2, 12)(rng);
  const double cell[] = {1.0, 0.3, 7.0, 25.0, 0.1};
  g.dx = cell[rng() % 5];
  g.dy = rng() % 2 ? g.dx : cell[rng() % 5];
  const double values[] = {7.2, 0.1, 0.3, 1.0 / 3.0, 0.7, 1.1, 2.9, 0.0, 9.0, 0.05};
  g.f.resize(static_cast<std::size_t>(g.rows * g.cols));
  for (double& v : g.f) {
    const int pick = static_cast<int>(rng() % 14);
    v = pick < 10 ? values[pick] : pick < 12 ? std::uniform_real_distribution<double>(0.0, 3.0)(rng)
                                             : std::numeric_limits<double>::quiet_NaN();
  }
  const int n_sources = std::uniform_int_distribution<int>(1, 4)(rng);
  for (int s = 0; s < n_sources; ++s) {
    g.sources.push_back(static_cast<std::int64_t>(rng() % g.rows));
    g.sources.push_back(static_cast<std::int64_t>(rng() % g.cols));
    g.offsets.push_back(rng() % 3 ? 0.0 : std::uniform_real_distribution<double>(0.0, 5.0)(rng));
  }
  return g;
}

// Cut-offs for one run: returned times picked at random (the hard case), the float just below one,
// and a value between times.
template <class T>
std::vector<double> cutoffs_from(const std::vector<T>& times, std::mt19937_64& rng) {
  std::vector<double> finite;
  for (const T t : times)
    if (std::isfinite(static_cast<double>(t))) finite.push_back(static_cast<double>(t));
  std::vector<double> cuts;
  if (finite.empty()) return cuts;
  for (int i = 0; i < 4; ++i) cuts.push_back(finite[rng() % finite.size()]);
  const double t = finite[rng() % finite.size()];
  if (t > 0) cuts.push_back(std::nextafter(t, 0.0));
  cuts.push_back(finite[rng() % finite.size()] * 0.999);
  return cuts;
}

std::vector<float> seconds_of(const std::vector<CellLabel>& out) {
  std::vector<float> s;
  for (const CellLabel& c : out) s.push_back(c.seconds);
  return s;
}

// The contract on label arrays (nearest or k-nearest slots): cut[i] == uncut[i] where uncut[i] <= c,
// unreached elsewhere.
void expect_contract(const std::vector<CellLabel>& uncut, const std::vector<CellLabel>& cut, double c) {
  ASSERT_EQ(uncut.size(), cut.size());
  for (std::size_t i = 0; i < uncut.size(); ++i) {
    if (static_cast<double>(uncut[i].seconds) <= c) {
      EXPECT_EQ(cut[i].seconds, uncut[i].seconds) << "slot " << i << ", cut-off " << c;
      EXPECT_EQ(cut[i].nearest, uncut[i].nearest) << "slot " << i << ", cut-off " << c;
    } else {
      EXPECT_EQ(cut[i].seconds, std::numeric_limits<float>::infinity()) << "slot " << i << ", cut-off " << c;
      EXPECT_EQ(cut[i].nearest, -1) << "slot " << i << ", cut-off " << c;
    }
  }
}

// ---- the named case ------------------------------------------------------------------------------

// The two output types round differently, and each engine's cut-off follows its own output: a 7.20000001 s step
// is float32 7.19999981 s (<= 7.2: reached by the raster engines) but stays 7.20000001 s in the multimodal search's
// double output (> 7.2: beyond the cut-off there).
TEST(CutoffContract, EachEngineCutsAtTheSecondsItReturns) {
  const double step = 7.20000001, cut = 7.2;
  const std::vector<double> f = {step, step};
  FrictionGrid g;
  g.friction_f64 = f.data();
  g.rows = 1;
  g.cols = 2;
  g.dx_m = g.dy_m = 1.0;
  const std::int64_t src[2] = {0, 0};
  RasterSearchOptions o;
  o.max_seconds = cut;
  std::vector<CellLabel> out(2);
  careshed::raster_travel_time(g, src, 1, o, out.data());
  ASSERT_LE(static_cast<double>(static_cast<float>(step)), cut);
  EXPECT_EQ(out[1].nearest, 0);
  EXPECT_EQ(out[1].seconds, static_cast<float>(step));
  std::vector<double> secs(2);
  std::vector<std::int32_t> near(2);
  careshed::MultimodalNetwork net;
  net.walk = g;
  careshed::MultimodalOptions mo;
  careshed::multimodal_travel_time(net, src, 1, mo, secs.data(), near.data(), nullptr);
  ASSERT_GT(secs[1], cut);  // the uncut double time
  mo.max_seconds = cut;
  careshed::multimodal_travel_time(net, src, 1, mo, secs.data(), near.data(), nullptr);
  EXPECT_EQ(near[1], -1);
  EXPECT_EQ(secs[1], kInf);
}

TEST(CutoffContract, SevenPointTwoSecondCellIsReachedWithCutoffSevenPointTwo) {
  for (const double step : {7.2, 9.0, 0.1, 0.3, 1.0 / 3.0}) {
    SCOPED_TRACE(step);
    const std::vector<double> f = {step, step};  // dx = 1: the step costs 1 * (f + f) / 2 = step
    FrictionGrid g;
    g.friction_f64 = f.data();
    g.rows = 1;
    g.cols = 2;
    g.dx_m = g.dy_m = 1.0;
    const std::int64_t src[2] = {0, 0};
    RasterSearchOptions o;
    o.max_seconds = step;
    // The raster engines return float32: the cell is reached exactly when float32(step) <= step, which
    // holds for 7.2 (7.19999981 s) and 9.0 but not for 0.1, 0.3 or 1/3 (their float32 lies above them).
    const bool in = static_cast<double>(static_cast<float>(step)) <= step;
    if (step == 7.2 || step == 9.0) EXPECT_TRUE(in);
    std::vector<CellLabel> out(2), k(2);
    careshed::raster_travel_time(g, src, 1, o, out.data());
    EXPECT_EQ(out[1].nearest, in ? 0 : -1);
    EXPECT_EQ(out[1].seconds, in ? static_cast<float>(step) : std::numeric_limits<float>::infinity());
    careshed::raster_k_nearest(g, src, 1, 1, o, k.data());
    EXPECT_EQ(k[1].nearest, in ? 0 : -1);
    const careshed::ReachLists lists = careshed::raster_reach_lists(g, src, 1, o);
    EXPECT_EQ(lists.cells.size(), in ? 2u : 1u);
    const std::vector<float> z = {0.0f, 0.0f};  // flat ground: terrain costs what friction costs
    careshed::TerrainModel tm;
    tm.elevation_m = z.data();
    careshed::raster_travel_time_terrain(g, tm, src, 1, o, out.data());
    EXPECT_EQ(out[1].nearest, in ? 0 : -1);

    // The multimodal search returns double seconds, ticks * 2^-q: reached exactly when that (uncut) time is <= the
    // step. The graph search adds doubles: the step itself, reached.
    std::vector<double> secs(2);
    std::vector<std::int32_t> near(2);
    careshed::MultimodalNetwork net;
    net.walk = g;
    careshed::MultimodalOptions mo;
    careshed::multimodal_travel_time(net, src, 1, mo, secs.data(), near.data(), nullptr);
    const bool mm_in = secs[1] <= step;
    if (step == 9.0) EXPECT_TRUE(mm_in);
    mo.max_seconds = step;
    careshed::multimodal_travel_time(net, src, 1, mo, secs.data(), near.data(), nullptr);
    EXPECT_EQ(near[1], mm_in ? 0 : -1);

    const std::int64_t tails[1] = {0}, heads[1] = {1};
    const double costs[1] = {step};
    const careshed::CsrGraph graph = careshed::CsrGraph::from_edges(2, tails, heads, costs, 1);
    careshed::GraphSearchOptions go;
    go.max_seconds = step;
    const careshed::NearestSources ns = careshed::nearest_source_search(graph, {0u}, go);
    EXPECT_EQ(ns.nearest[1], 0);
  }
}

// ---- raster engines ------------------------------------------------------------------------------

TEST(CutoffContract, RasterNearestAndKNearestRandom) {
  const std::uint64_t seed = careshed_test::fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  int checked = 0;
  for (int trial = 0; trial < 200; ++trial) {
    const RandomGrid rg = random_grid(rng);
    const FrictionGrid g = rg.view();
    const std::size_t n_src = rg.offsets.size(), n = static_cast<std::size_t>(rg.rows * rg.cols);
    RasterSearchOptions o;
    o.neighbours = rng() % 2 ? 8 : 16;
    o.source_offsets_s = rg.offsets.data();
    o.threads = 1;
    std::vector<CellLabel> uncut(n);
    const auto su = careshed::raster_travel_time(g, rg.sources.data(), n_src, o, uncut.data());
    const int k = 1 + static_cast<int>(rng() % 3);
    std::vector<CellLabel> kuncut(n * k);
    const auto sku = careshed::raster_k_nearest(g, rg.sources.data(), n_src, k, o, kuncut.data());
    for (const double c : cutoffs_from(seconds_of(uncut), rng)) {
      SCOPED_TRACE("trial " + std::to_string(trial) + ", cut-off " + std::to_string(c));
      RasterSearchOptions oc = o;
      oc.max_seconds = c;
      std::vector<CellLabel> cut(n), kcut(n * k);
      const auto sc = careshed::raster_travel_time(g, rg.sources.data(), n_src, oc, cut.data());
      ASSERT_EQ(sc.tick_seconds, su.tick_seconds) << "the test needs runs that share the tick";
      expect_contract(uncut, cut, c);
      const auto skc = careshed::raster_k_nearest(g, rg.sources.data(), n_src, k, oc, kcut.data());
      ASSERT_EQ(skc.tick_seconds, sku.tick_seconds);
      expect_contract(kuncut, kcut, c);
      // The multi-threaded search agrees (now and then: two threads on tiny grids wait on each other).
      if (trial % 50 == 0) {
        oc.threads = 2;
        std::vector<CellLabel> cut2(n);
        careshed::raster_travel_time(g, rg.sources.data(), n_src, oc, cut2.data());
        expect_contract(uncut, cut2, c);
      }
      ++checked;
      if (::testing::Test::HasFailure()) return;
    }
  }
  EXPECT_GT(checked, 500);
}

TEST(CutoffContract, TerrainRandom) {
  const std::uint64_t seed = careshed_test::fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  int checked = 0;
  for (int trial = 0; trial < 150; ++trial) {
    const RandomGrid rg = random_grid(rng);
    const FrictionGrid g = rg.view();
    const std::size_t n_src = rg.offsets.size(), n = static_cast<std::size_t>(rg.rows * rg.cols);
    std::vector<float> z(n);
    // Slopes up to about 1:2, so that the steepest step keeps the tick of the flat grid.
    const double relief = 0.5 * std::min(rg.dx, rg.dy);
    for (float& v : z) v = static_cast<float>(std::uniform_real_distribution<double>(0.0, relief)(rng));
    careshed::TerrainModel tm;
    tm.elevation_m = z.data();
    tm.slope_model = rng() % 2 ? careshed::SlopeModel::Tobler : careshed::SlopeModel::RWalk;
    tm.direction = rng() % 2 ? careshed::TravelDirection::TowardSources : careshed::TravelDirection::FromSources;
    RasterSearchOptions o;
    o.neighbours = rng() % 2 ? 8 : 16;
    o.source_offsets_s = rg.offsets.data();
    std::vector<CellLabel> uncut(n);
    const auto su = careshed::raster_travel_time_terrain(g, tm, rg.sources.data(), n_src, o, uncut.data());
    for (const double c : cutoffs_from(seconds_of(uncut), rng)) {
      SCOPED_TRACE("trial " + std::to_string(trial) + ", cut-off " + std::to_string(c));
      RasterSearchOptions oc = o;
      oc.max_seconds = c;
      std::vector<CellLabel> cut(n);
      const auto sc = careshed::raster_travel_time_terrain(g, tm, rg.sources.data(), n_src, oc, cut.data());
      ASSERT_EQ(sc.tick_seconds, su.tick_seconds) << "the test needs runs that share the tick";
      expect_contract(uncut, cut, c);
      ++checked;
      if (::testing::Test::HasFailure()) return;
    }
  }
  EXPECT_GT(checked, 300);
}

// The reach lists use 32-bit labels, so their tick follows the cut-off: a list with cut-off c is checked
// against the list with a larger cut-off C when both runs got the same tick.
TEST(CutoffContract, RasterReachListsRandom) {
  const std::uint64_t seed = careshed_test::fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  int checked = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const RandomGrid rg = random_grid(rng);
    const FrictionGrid g = rg.view();
    const std::size_t n_src = rg.offsets.size();
    RasterSearchOptions o;
    o.neighbours = rng() % 2 ? 8 : 16;
    o.source_offsets_s = rg.offsets.data();
    o.max_seconds = 1000.0;
    careshed::RasterSearchStats su;
    careshed::ReachLists wide = careshed::raster_reach_lists(g, rg.sources.data(), n_src, o, &su);
    if (wide.seconds.empty()) continue;
    // Again with the largest time as the cut-off (same lists, finer tick), and cut-offs from the upper
    // half of the times, which mostly share that tick.
    o.max_seconds = *std::max_element(wide.seconds.begin(), wide.seconds.end());
    wide = careshed::raster_reach_lists(g, rg.sources.data(), n_src, o, &su);
    std::vector<float> upper;
    for (const float t : wide.seconds)
      if (t >= 0.5 * o.max_seconds) upper.push_back(t);
    for (const double c : cutoffs_from(upper, rng)) {
      SCOPED_TRACE("trial " + std::to_string(trial) + ", cut-off " + std::to_string(c));
      RasterSearchOptions oc = o;
      oc.max_seconds = c;
      careshed::RasterSearchStats sc;
      const careshed::ReachLists cut = careshed::raster_reach_lists(g, rg.sources.data(), n_src, oc, &sc);
      for (const float t : cut.seconds) EXPECT_LE(static_cast<double>(t), c);  // holds for any tick
      if (sc.tick_seconds != su.tick_seconds) continue;
      for (std::size_t s = 0; s < n_src; ++s) {
        std::vector<std::uint32_t> want_cells;
        std::vector<float> want_secs;
        for (std::int64_t i = wide.offsets[s]; i < wide.offsets[s + 1]; ++i)
          if (static_cast<double>(wide.seconds[i]) <= c) {
            want_cells.push_back(wide.cells[i]);
            want_secs.push_back(wide.seconds[i]);
          }
        const std::vector<std::uint32_t> got_cells(cut.cells.begin() + cut.offsets[s],
                                                   cut.cells.begin() + cut.offsets[s + 1]);
        const std::vector<float> got_secs(cut.seconds.begin() + cut.offsets[s],
                                          cut.seconds.begin() + cut.offsets[s + 1]);
        EXPECT_EQ(got_cells, want_cells) << "source " << s;
        EXPECT_EQ(got_secs, want_secs) << "source " << s;
      }
      ++checked;
      if (::testing::Test::HasFailure()) return;
    }
  }
  EXPECT_GT(checked, 200);
}

// The tiled search shares raster_travel_time's arithmetic through its TickScale: the cut-off in ticks
// must be the largest tick count whose float32 seconds are <= the cut-off.
TEST(CutoffContract, TiledScaleCutTicksRandom) {
  const std::uint64_t seed = careshed_test::fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 300; ++trial) {
    const RandomGrid rg = random_grid(rng);
    const FrictionGrid g = rg.view();
    RasterSearchOptions o;
    o.neighbours = rng() % 2 ? 8 : 16;
    std::vector<CellLabel> uncut(static_cast<std::size_t>(rg.rows * rg.cols));
    careshed::raster_travel_time(g, rg.sources.data(), rg.offsets.size(), o, uncut.data());
    std::vector<double> cuts = cutoffs_from(seconds_of(uncut), rng);
    cuts.push_back(7.2);
    cuts.push_back(std::uniform_real_distribution<double>(0.0, 1e5)(rng));
    for (const double c : cuts) {
      SCOPED_TRACE("cut-off " + std::to_string(c));
      o.max_seconds = c;
      const careshed::TickScale sc =
          careshed::raster_tiled_scale(g, careshed::raster_friction_summary(g), rg.offsets.size(), 0.0, o);
      const auto secs = [&](std::uint64_t t) {
        return static_cast<double>(static_cast<float>(static_cast<double>(t) * sc.tick_seconds));
      };
      EXPECT_LE(secs(sc.cut_ticks), c);
      EXPECT_GT(secs(sc.cut_ticks + 1), c);
      if (sc.cut_ticks < (std::uint64_t{1} << 53))  // tick counts a double holds exactly
        EXPECT_EQ(static_cast<double>(sc.cut_ticks), careshed_test::cutoff_ticks(c, sc.tick_seconds));
    }
  }
}

// ---- multimodal (walk + ride) ----------------------------------------------------------------------

TEST(CutoffContract, MultimodalRandom) {
  const std::uint64_t seed = careshed_test::fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  int checked = 0;
  for (int trial = 0; trial < 150; ++trial) {
    const RandomGrid rg = random_grid(rng);
    const std::int64_t n = rg.rows * rg.cols;
    const int n_nodes = static_cast<int>(rng() % 6);
    std::vector<std::int64_t> node_cell(n_nodes), tails, heads;
    std::vector<double> secs;
    for (auto& c : node_cell) c = rng() % 4 ? static_cast<std::int64_t>(rng() % n) : -1;
    for (int e = 0; n_nodes > 1 && e < 2 * n_nodes; ++e) {
      tails.push_back(rng() % n_nodes);
      heads.push_back(rng() % n_nodes);
      secs.push_back(rng() % 2 ? 0.1 * static_cast<double>(rng() % 50) : 7.2);
    }
    const careshed::CsrGraph ride = careshed::CsrGraph::from_edges(
        n_nodes, tails.data(), heads.data(), secs.data(), static_cast<std::int64_t>(tails.size()));
    careshed::MultimodalNetwork net;
    net.walk = rg.view();
    net.ride = n_nodes ? &ride : nullptr;
    net.node_cell = node_cell.data();
    net.modes = {careshed::RideMode{rng() % 2 ? 0.3 : 0.0, rng() % 2 ? 0.7 : 0.0}};
    careshed::MultimodalOptions o;
    o.neighbours = rng() % 2 ? 8 : 16;
    o.source_offsets_s = rg.offsets.data();
    o.direction = rng() % 2 ? careshed::TravelDirection::TowardSources : careshed::TravelDirection::FromSources;
    const std::size_t n_src = rg.offsets.size();
    std::vector<double> t_uncut(n), t_cut(n);
    std::vector<std::int32_t> i_uncut(n), i_cut(n);
    careshed::multimodal_travel_time(net, rg.sources.data(), n_src, o, t_uncut.data(), i_uncut.data(), nullptr);
    for (const double c : cutoffs_from(t_uncut, rng)) {
      SCOPED_TRACE("trial " + std::to_string(trial) + ", cut-off " + std::to_string(c));
      careshed::MultimodalOptions oc = o;
      oc.max_seconds = c;
      careshed::multimodal_travel_time(net, rg.sources.data(), n_src, oc, t_cut.data(), i_cut.data(), nullptr);
      for (std::int64_t i = 0; i < n; ++i) {
        if (t_uncut[i] <= c) {
          EXPECT_EQ(t_cut[i], t_uncut[i]) << "cell " << i;
          EXPECT_EQ(i_cut[i], i_uncut[i]) << "cell " << i;
        } else {
          EXPECT_EQ(t_cut[i], kInf) << "cell " << i;
          EXPECT_EQ(i_cut[i], -1) << "cell " << i;
        }
      }
      ++checked;
      if (::testing::Test::HasFailure()) return;
    }
  }
  EXPECT_GT(checked, 300);
}

// ---- road graphs -----------------------------------------------------------------------------------

TEST(CutoffContract, GraphSearchesRandom) {
  const std::uint64_t seed = careshed_test::fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  int checked = 0;
  for (int trial = 0; trial < 200; ++trial) {
    const int n = 2 + static_cast<int>(rng() % 30);
    std::vector<std::int64_t> tails, heads;
    std::vector<double> secs;
    const double values[] = {7.2, 0.1, 0.2, 0.3, 1.0 / 3.0, 0.0, 9.0};
    for (int e = 0; e < 3 * n; ++e) {
      tails.push_back(rng() % n);
      heads.push_back(rng() % n);
      secs.push_back(rng() % 3 ? values[rng() % 7] : std::uniform_real_distribution<double>(0.0, 10.0)(rng));
    }
    const careshed::CsrGraph g = careshed::CsrGraph::from_edges(n, tails.data(), heads.data(), secs.data(),
                                                                static_cast<std::int64_t>(secs.size()));
    std::vector<std::uint32_t> src;
    std::vector<double> off;
    for (int s = 0, ns = 1 + static_cast<int>(rng() % 3); s < ns; ++s) {
      src.push_back(static_cast<std::uint32_t>(rng() % n));
      off.push_back(rng() % 2 ? 0.0 : 0.1 * static_cast<double>(rng() % 30));
    }
    careshed::GraphSearchOptions o;
    o.source_offsets = off.data();
    const careshed::NearestSources uncut = careshed::nearest_source_search(g, src, o);
    const int k = 2;
    std::vector<double> ku(static_cast<std::size_t>(n) * k), kc(ku.size());
    std::vector<std::int32_t> kiu(ku.size()), kic(ku.size());
    careshed::k_nearest_source_search(g, src.data(), src.size(), k, o, ku.data(), kiu.data());
    careshed::GraphSearchOptions wide_o = o;
    wide_o.max_seconds = 1e9;
    const careshed::SourceReach wide = trial % 5 ? careshed::SourceReach{}
                                                 : careshed::bounded_search_per_source(g, src.data(), src.size(), wide_o);
    for (const double c : cutoffs_from(uncut.seconds, rng)) {
      SCOPED_TRACE("trial " + std::to_string(trial) + ", cut-off " + std::to_string(c));
      careshed::GraphSearchOptions oc = o;
      oc.max_seconds = c;
      const careshed::NearestSources cut = careshed::nearest_source_search(g, src, oc);
      careshed::k_nearest_source_search(g, src.data(), src.size(), k, oc, kc.data(), kic.data());
      for (int v = 0; v < n; ++v) {
        const bool in = uncut.seconds[v] <= c;
        EXPECT_EQ(cut.seconds[v], in ? uncut.seconds[v] : kInf) << "node " << v;
        EXPECT_EQ(cut.nearest[v], in ? uncut.nearest[v] : -1) << "node " << v;
      }
      for (std::size_t i = 0; i < ku.size(); ++i) {
        const bool in = ku[i] <= c;
        EXPECT_EQ(kc[i], in ? ku[i] : kInf) << "slot " << i;
        EXPECT_EQ(kic[i], in ? kiu[i] : -1) << "slot " << i;
      }
      ++checked;
      if (::testing::Test::HasFailure()) return;
      // The per-source search always starts its OpenMP threads, which on a busy machine costs more than
      // these tiny searches: every fifth trial.
      if (trial % 5) continue;
      const careshed::SourceReach r = careshed::bounded_search_per_source(g, src.data(), src.size(), oc);
      for (std::size_t s = 0; s < src.size(); ++s) {
        std::vector<std::uint32_t> want_nodes, got_nodes;
        std::vector<double> want_secs, got_secs;
        for (std::uint64_t i = wide.list_first[s]; i < wide.list_first[s + 1]; ++i)
          if (wide.seconds[i] <= c) {
            want_nodes.push_back(wide.nodes[i]);
            want_secs.push_back(wide.seconds[i]);
          }
        for (std::uint64_t i = r.list_first[s]; i < r.list_first[s + 1]; ++i) {
          got_nodes.push_back(r.nodes[i]);
          got_secs.push_back(r.seconds[i]);
        }
        EXPECT_EQ(got_nodes, want_nodes) << "source " << s;
        EXPECT_EQ(got_secs, want_secs) << "source " << s;
      }
      if (::testing::Test::HasFailure()) return;
    }
  }
  EXPECT_GT(checked, 500);
}

}  // namespace
