// Tests of careshed/multimodal.hpp: hand-worked walk-then-ride cases, walking alone against the grid engine,
// directions, errors. (The random oracle — networkx's Dijkstra on the explicit multimodal graph — is in
// tests/python/test_arrays_multimodal.py.)
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
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

TEST(Multimodal, RoadBeatsWalkingBeyondTheBreakEvenAndTheSplitSaysSo) {
  Strip s;
  MultimodalNetwork n = s.net();
  const std::int32_t tails[] = {1}, heads[] = {0};
  const double secs[] = {60.0};
  const CsrGraph road = CsrGraph::from_edges(2, tails, heads, secs, 1);
  const std::int64_t cells[] = {0, 39};
  n.ride = &road;
  n.node_cell = cells;
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
  Strip s;
  MultimodalNetwork n = s.net();
  const std::int32_t tails[] = {1}, heads[] = {0};
  const double secs[] = {60.0};
  const CsrGraph road = CsrGraph::from_edges(2, tails, heads, secs, 1);
  const std::int64_t cells[] = {0, 39};
  n.ride = &road;
  n.node_cell = cells;
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
  EXPECT_GE(st.grid_rounds, 2);  // round 0 to the road, round 1 from the sources and the alighting cell
  EXPECT_EQ(t[39], 60.0);        // board 0 + ride 60 + alight 0
}

}  // namespace
