// Tests of careshed/multimodal.hpp: hand-worked walk-then-ride cases, walking alone against the grid engine,
// directions, errors. (The random oracle — networkx's Dijkstra on the explicit multimodal graph — is in
// tests/python/test_arrays_multimodal.py.)
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <limits>
#include <vector>

#include "careshed/error.hpp"
#include "careshed/multimodal.hpp"
#include "careshed/progress.hpp"

namespace {

using careshed::CsrGraph;
using careshed::MultimodalNetwork;
using careshed::MultimodalOptions;

struct Strip {
  std::vector<double> f = std::vector<double>(40, 0.72);  // 1 x 40 cells of 100 m: 72 s per step
  MultimodalNetwork net() const {
    MultimodalNetwork n;
    n.walk.friction_f64 = f.data();
    n.walk.rows = 1;
    n.walk.cols = 40;
    n.walk.dx_m = n.walk.dy_m = 100.0;
    return n;
  }
};

// The strip with a one-way road from cell 39 to cell 0 taking 60 s (nodes 1 -> 0).
struct StripWithRoad : Strip {
  static constexpr std::int32_t tails[1] = {1}, heads[1] = {0};
  static constexpr double secs[1] = {60.0};
  static constexpr std::int64_t cells[2] = {0, 39};
  CsrGraph road = CsrGraph::from_edges(2, tails, heads, secs, 1);
  MultimodalNetwork net() const {
    MultimodalNetwork n = Strip::net();
    n.ride = &road;
    n.node_cell = cells;
    return n;
  }
};

TEST(Multimodal, RoadBeatsWalkingBeyondTheBreakEvenAndTheSplitSaysSo) {
  StripWithRoad s;
  MultimodalNetwork n = s.net();
  n.modes = {careshed::RideMode{330.0, 0.0}};
  const std::int64_t src[] = {0, 0};
  std::vector<double> t(40);
  std::vector<std::int32_t> near(40);
  std::vector<std::uint8_t> rides(40);
  const auto st = careshed::multimodal_travel_time(n, src, 1, {}, t.data(), near.data(), rides.data());
  for (int c = 0; c < 40; ++c) {
    const double walk = 72.0 * c, ride = 390.0 + 72.0 * (39 - c);
    EXPECT_EQ(t[c], std::min(walk, ride)) << c;  // integer seconds: exact in ticks
    EXPECT_EQ(rides[c], ride < walk ? 1 : 0) << c;
    EXPECT_EQ(near[c], 0);
  }
  EXPECT_EQ(st.cells_riding, 17u);  // cells 23..39
  // Away from the source the road (39 -> 0) is useless: walking only.
  MultimodalOptions away;
  away.direction = careshed::TravelDirection::FromSources;
  careshed::multimodal_travel_time(n, src, 1, away, t.data(), near.data(), rides.data());
  for (int c = 0; c < 40; ++c) EXPECT_EQ(t[c], 72.0 * c) << c;
}

// A short strip (1 x 10 cells of 100 m at 2 s/m: 200 s per step) with a road from cell 9 to cell 6 (60 s),
// boarded after waits of several lengths: the trip from cell c rides when 200 (9 - c) + wait + 60 + 1200 beats
// walking, 200 c. The grid is small, so the ticks are fine and the end of the grid engine's queue window lies
// beyond 2^64 ticks once the search is past its first bucket (where the road is): it must saturate, not wrap
// around (a wrapped limit held the alighting back for ever and the search never ended).
TEST(Multimodal, BoardingWaitsOfAnyLengthGiveTheHandWorkedTimes) {
  const std::vector<double> f(10, 2.0);
  static constexpr std::int32_t tails[1] = {1}, heads[1] = {0};
  static constexpr double secs[1] = {60.0};
  static constexpr std::int64_t cells[2] = {6, 9};
  const CsrGraph road = CsrGraph::from_edges(2, tails, heads, secs, 1);
  MultimodalNetwork n;
  n.walk.friction_f64 = f.data();
  n.walk.rows = 1;
  n.walk.cols = 10;
  n.walk.dx_m = n.walk.dy_m = 100.0;
  n.ride = &road;
  n.node_cell = cells;
  const std::int64_t src[] = {0, 0};
  std::vector<double> t(10);
  std::vector<std::int32_t> near(10);
  std::vector<std::uint8_t> rides(10);
  for (const double wait : {0.0, 150.0, 300.0, 500.0, 600.0, 1000.0}) {
    n.modes = {careshed::RideMode{wait, 0.0}};
    careshed::multimodal_travel_time(n, src, 1, {}, t.data(), near.data(), rides.data());
    for (int c = 0; c < 10; ++c) {
      const double walk = 200.0 * c, ride = 200.0 * (9 - c) + wait + 60.0 + 1200.0;
      EXPECT_EQ(t[c], std::min(walk, ride)) << wait << " " << c;
      EXPECT_EQ(rides[c], ride < walk ? 1 : 0) << wait << " " << c;
    }
  }
}

// The grid engine's bucket queue spans a window of buckets; an alighting far beyond it (here a 10^9 s wait)
// is held by the ride network until the window reaches it. Cells 21..39 lie behind a wall (cell 20) and are
// reached only by that ride.
TEST(Multimodal, AnAlightingBeyondTheBucketQueuesWindowStillArrives) {
  StripWithRoad s;
  s.f[20] = std::numeric_limits<double>::quiet_NaN();
  MultimodalNetwork n = s.net();
  n.modes = {careshed::RideMode{1e9, 0.0}};
  const std::int64_t src[] = {0, 0};
  std::vector<double> t(40);
  std::vector<std::int32_t> near(40);
  std::vector<std::uint8_t> rides(40);
  const auto st = careshed::multimodal_travel_time(n, src, 1, {}, t.data(), near.data(), rides.data());
  for (int c = 0; c < 40; ++c) {
    if (c < 20) {
      EXPECT_EQ(t[c], 72.0 * c) << c;
      EXPECT_EQ(rides[c], 0) << c;
    } else if (c == 20) {
      EXPECT_EQ(t[c], std::numeric_limits<double>::infinity());
      EXPECT_EQ(near[c], -1);
    } else {
      EXPECT_EQ(t[c], 1e9 + 60.0 + 72.0 * (39 - c)) << c;
      EXPECT_EQ(rides[c], 1) << c;
      EXPECT_EQ(near[c], 0) << c;
    }
  }
  EXPECT_EQ(st.cells_riding, 19u);
}

TEST(Multimodal, ErrorsNameTheArgument) {
  Strip s;
  MultimodalNetwork n = s.net();
  const std::int32_t tails[] = {0}, heads[] = {0};
  const double secs[] = {1.0};
  const CsrGraph g = CsrGraph::from_edges(1, tails, heads, secs, 1);
  const std::int64_t bad_cell[] = {40};
  n.ride = &g;
  n.node_cell = bad_cell;
  const std::int64_t src[] = {0, 0};
  std::vector<double> t(40);
  std::vector<std::int32_t> near(40);
  try {
    careshed::multimodal_travel_time(n, src, 1, {}, t.data(), near.data(), nullptr);
    FAIL();
  } catch (const careshed::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("node_cell[0] = 40"), std::string::npos) << e.what();
  }
  const std::int64_t good_cell[] = {0};
  const std::uint8_t bad_mode[] = {1};
  n.node_cell = good_cell;
  n.node_mode = bad_mode;
  try {
    careshed::multimodal_travel_time(n, src, 1, {}, t.data(), near.data(), nullptr);
    FAIL();
  } catch (const careshed::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("node_mode[0] = 1"), std::string::npos) << e.what();
  }
  n.ride = nullptr;
  n.modes = {careshed::RideMode{-1.0, 0.0}};
  EXPECT_THROW(careshed::multimodal_travel_time(n, src, 1, {}, t.data(), near.data(), nullptr), careshed::InputError);
}

TEST(Multimodal, ACancelledRunThrowsAndAFinishedRunReportsCompletion) {
  StripWithRoad s;
  const MultimodalNetwork n = s.net();
  const std::int64_t src[] = {0, 0};
  std::vector<double> t(40);
  std::vector<std::int32_t> near(40);
  careshed::RunControl cancelled;
  cancelled.request_cancel();
  EXPECT_THROW(careshed::multimodal_travel_time(n, src, 1, {}, t.data(), near.data(), nullptr, &cancelled),
               careshed::Cancelled);
  careshed::RunControl fine;
  const auto st = careshed::multimodal_travel_time(n, src, 1, {}, t.data(), near.data(), nullptr, &fine);
  EXPECT_EQ(fine.fraction(), 1.0);
  EXPECT_EQ(st.grid_rounds, 1);  // one search: the ride nodes are labels in the grid engine's queue
  EXPECT_GE(st.nodes_settled, 2u);
  EXPECT_EQ(t[39], 60.0);        // board 0 + ride 60 + alight 0
}

TEST(Multimodal, OneAndTwoThreadsGiveTheSameBits) {
  // 1100 x 1000 cells (past the grid engine's 2^20-cell threshold for threads) of seeded friction with lakes, a
  // ride lattice every 10 cells in two modes (rows: mode 0, columns: mode 1) and 30 sources.
  const std::int64_t rows = 1100, cols = 1000;
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0.3, 2.0);
  std::vector<float> f(static_cast<std::size_t>(rows * cols));
  for (auto& v : f) v = static_cast<float>(u(rng));
  for (std::int64_t i = 0; i < rows * cols; i += 97) f[static_cast<std::size_t>(i)] = std::nanf("");
  std::vector<std::int64_t> cell;
  std::vector<std::uint8_t> mode;
  std::vector<std::int64_t> tails, heads;
  std::vector<double> secs;
  for (std::int64_t r = 5; r < rows; r += 10)
    for (std::int64_t c = 5; c < cols; c += 10) {
      const auto id = static_cast<std::int64_t>(cell.size());
      cell.push_back(r * cols + c);
      mode.push_back(static_cast<std::uint8_t>((r / 10) % 2));
      if (c + 10 < cols) {  // right neighbour: id + 1
        tails.insert(tails.end(), {id, id + 1});
        heads.insert(heads.end(), {id + 1, id});
        secs.insert(secs.end(), {90.0, 90.0});
      }
    }
  const std::int64_t per_row = (cols - 5 + 9) / 10;
  for (std::int64_t id = 0; id + per_row < static_cast<std::int64_t>(cell.size()); ++id) {
    tails.insert(tails.end(), {id, id + per_row});
    heads.insert(heads.end(), {id + per_row, id});
    secs.insert(secs.end(), {120.0, 120.0});
  }
  const CsrGraph g = CsrGraph::from_edges(static_cast<std::int64_t>(cell.size()), tails.data(), heads.data(),
                                          secs.data(), tails.size());
  MultimodalNetwork n;
  n.walk.friction_f32 = f.data();
  n.walk.rows = rows;
  n.walk.cols = cols;
  n.walk.dx_m = n.walk.dy_m = 100.0;
  n.ride = &g;
  n.node_cell = cell.data();
  n.node_mode = mode.data();
  n.modes = {careshed::RideMode{120.0, 30.0}, careshed::RideMode{600.0, 0.0}};
  std::vector<std::int64_t> src;
  std::uniform_int_distribution<std::int64_t> pick(0, rows * cols - 1);
  for (int s = 0; s < 30; ++s) {
    const std::int64_t c = pick(rng);
    src.insert(src.end(), {c / cols, c % cols});
  }
  std::vector<double> t1(f.size()), t2(f.size());
  std::vector<std::int32_t> n1(f.size()), n2(f.size());
  std::vector<std::uint8_t> m1(f.size()), m2(f.size());
  MultimodalOptions o;
  o.threads = 1;
  const auto s1 = careshed::multimodal_travel_time(n, src.data(), 30, o, t1.data(), n1.data(), m1.data());
  o.threads = 2;
  const auto s2 = careshed::multimodal_travel_time(n, src.data(), 30, o, t2.data(), n2.data(), m2.data());
  EXPECT_EQ(std::memcmp(t1.data(), t2.data(), t1.size() * sizeof(double)), 0);
  EXPECT_EQ(n1, n2);
  EXPECT_EQ(m1, m2);
  EXPECT_EQ(s1.cells_reached, s2.cells_reached);
  EXPECT_GT(s1.cells_riding, 0u);
  EXPECT_EQ(s1.grid_rounds, 1);
  EXPECT_GT(s1.nodes_settled, 0u);
}

}  // namespace
