// Snapping and road travel times with access legs. Oracles: brute-force nearest node (distances computed
// here: Euclid for projected, haversine for lon/lat) with lowest-id ties, and times worked by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "careshed/error.hpp"
#include "careshed/road_graph.hpp"
#include "careshed/snap.hpp"

using careshed::NodeSnapper;
using careshed::RoadGraph;
using careshed::RoadLine;

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();

double hav(double lon1, double lat1, double lon2, double lat2) {
  const double R = 6371008.8, k = M_PI / 180.0;
  const double a = std::pow(std::sin((lat2 - lat1) * k / 2), 2) +
                   std::cos(lat1 * k) * std::cos(lat2 * k) * std::pow(std::sin((lon2 - lon1) * k / 2), 2);
  return R * 2 * std::atan2(std::sqrt(a), std::sqrt(1 - a));
}

RoadGraph random_grid_graph(std::mt19937& rng, bool geographic, int side) {
  std::vector<RoadLine> lines;
  // Integer metre coordinates (or degree grids) make exact distance ties common.
  auto coord = [&](int i, int j, double* x, double* y) {
    if (geographic) {
      *x = 43.2 + 0.001 * i;
      *y = -11.7 + 0.001 * j;
    } else {
      *x = 100.0 * i;
      *y = 100.0 * j;
    }
  };
  for (int i = 0; i < side; ++i)
    for (int j = 0; j < side; ++j) {
      double x0, y0, x1, y1;
      coord(i, j, &x0, &y0);
      if (i + 1 < side) {
        coord(i + 1, j, &x1, &y1);
        lines.push_back({{x0, y0, x1, y1}, 30.0, careshed::Direction::kBoth, i * 1000 + j});
      }
      if (j + 1 < side && (rng() % 4 != 0)) {
        coord(i, j + 1, &x1, &y1);
        lines.push_back({{x0, y0, x1, y1}, 50.0, careshed::Direction::kBoth, i * 1000 + j + 500});
      }
    }
  return RoadGraph::from_road_lines(lines, geographic);
}
}  // namespace

TEST(Snap, MatchesBruteForceWithLowestIdTies) {
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    const bool geographic = seed % 2 == 0;
    RoadGraph g = random_grid_graph(rng, geographic, 12);
    NodeSnapper snapper(g);
    std::vector<double> px, py;
    std::uniform_real_distribution<double> u(-0.2, 11.2);
    for (int i = 0; i < 300; ++i) {
      double a = u(rng), b = u(rng);
      if (i % 3 == 0) a = std::round(a * 2) / 2, b = std::round(b * 2) / 2;  // midpoints → exact ties
      px.push_back(geographic ? 43.2 + 0.001 * a : 100.0 * a);
      py.push_back(geographic ? -11.7 + 0.001 * b : 100.0 * b);
    }
    auto r = snapper.snap(px.data(), py.data(), px.size());
    for (size_t i = 0; i < px.size(); ++i) {
      double best = kInf;
      int64_t best_v = -1;
      for (uint32_t v = 0; v < g.n_nodes(); ++v) {
        const double d = geographic ? hav(px[i], py[i], g.node_x()[v], g.node_y()[v])
                                    : std::hypot(px[i] - g.node_x()[v], py[i] - g.node_y()[v]);
        // Exact ties only exist in the projected case; on the sphere use a relative tolerance.
        const bool tie = geographic ? std::abs(d - best) <= 1e-9 * best : d == best;
        if (d < best && !tie) best = d, best_v = v;
      }
      ASSERT_NEAR(r.distance_m[i], best, 1e-6 * std::max(1.0, best)) << "point " << i;
      if (!geographic) {
        EXPECT_EQ(r.node[i], best_v) << "point " << i;
      }
    }
  }
}

TEST(Snap, MaxDistanceIsInclusiveAndLargestComponentOnly) {
  std::vector<RoadLine> lines = {{{0, 0, 1000, 0}, 36, careshed::Direction::kBoth, 1},
                                 {{1000, 0, 2000, 0}, 36, careshed::Direction::kBoth, 2},
                                 {{0, 500, 10, 500}, 36, careshed::Direction::kBoth, 3}};  // a small island
  RoadGraph g = RoadGraph::from_road_lines(lines, false);
  NodeSnapper all(g), main(g, true);
  const double x[] = {0, 5, 3000};
  const double y[] = {300, 480, 0};
  auto r = all.snap(x, y, 3, 1000.0);
  EXPECT_EQ(r.distance_m[0], 200.0);  // island node (0, 500)
  EXPECT_NEAR(r.distance_m[1], std::hypot(5, 20), 1e-12);
  EXPECT_EQ(r.distance_m[2], 1000.0);  // exactly at the limit: snapped
  EXPECT_GE(r.node[2], 0);
  auto r2 = all.snap(x, y, 3, 999.999);
  EXPECT_EQ(r2.node[2], -1);
  EXPECT_TRUE(std::isinf(r2.distance_m[2]));
  auto m = main.snap(x, y, 3);
  EXPECT_EQ(m.distance_m[0], 300.0);  // (0, 0) on the main road instead of the island
  EXPECT_EQ(g.node_x()[m.node[0]], 0.0);
  EXPECT_EQ(g.node_y()[m.node[0]], 0.0);
  const double bad[] = {std::nan("")};
  EXPECT_THROW(all.snap(bad, y, 1), careshed::InputError);
  EXPECT_THROW(all.snap(x, y, 1, -1.0), careshed::InputError);
}

TEST(Snap, RoadTravelTimeAddsAccessLegsWorkedByHand) {
  // A straight road (0,0)→(1000,0) at 36 km/h (10 m/s), one-way eastbound, plus (1000,0)→(1000,1000)
  // both ways at 72 km/h (20 m/s).
  std::vector<RoadLine> lines = {{{0, 0, 1000, 0}, 36, careshed::Direction::kForward, 1},
                                 {{1000, 0, 1000, 1000}, 72, careshed::Direction::kBoth, 2}};
  RoadGraph g = RoadGraph::from_road_lines(lines, false);
  NodeSnapper snapper(g);
  // Facility 100 m off the road's west end (walk 100 m at 5 km/h = 72 s), dispatch offset 30 s.
  const double fx[] = {0}, fy[] = {100};
  const double off[] = {30};
  // Demand points: 200 m east of the corner (1000,0) → 144 s walk; one on the far end; one too far.
  const double px[] = {1200, 1000, 50000}, py[] = {0, 1000, 0};
  careshed::RoadTravelOptions o;
  o.source_offsets = off;
  o.max_snap_distance_m = 10000;
  auto r = careshed::road_travel_time(g, snapper, fx, fy, 1, px, py, 3, o);
  EXPECT_DOUBLE_EQ(r.facility_snap_m[0], 100.0);
  EXPECT_NEAR(r.point_seconds[0], 30 + 72 + 100 + 144, 1e-9);
  EXPECT_NEAR(r.point_seconds[1], 30 + 72 + 100 + 50, 1e-9);
  EXPECT_EQ(r.point_nearest[0], 0);
  EXPECT_TRUE(std::isinf(r.point_seconds[2]));  // beyond the snap limit
  EXPECT_EQ(r.point_nearest[2], -1);
  // Cutoff inclusive, legs included: exactly 346 s keeps point 0; 345.9 drops it but keeps point 1.
  o.max_seconds = 346;
  r = careshed::road_travel_time(g, snapper, fx, fy, 1, px, py, 3, o);
  EXPECT_NEAR(r.point_seconds[0], 346, 1e-9);
  o.max_seconds = 345.9;
  r = careshed::road_travel_time(g, snapper, fx, fy, 1, px, py, 3, o);
  EXPECT_TRUE(std::isinf(r.point_seconds[0]));
  EXPECT_NEAR(r.point_seconds[1], 252, 1e-9);
  // Reverse (patient → facility): the one-way road cannot be driven westwards.
  o.max_seconds = kInf;
  o.reverse = true;
  r = careshed::road_travel_time(g, snapper, fx, fy, 1, px, py, 3, o);
  EXPECT_TRUE(std::isinf(r.point_seconds[0]));
  // An unsnappable facility takes no part; the facility at the corner keeps its own index (1).
  const double fx2[] = {99999, 1000}, fy2[] = {0, 0};
  o.reverse = false;
  o.source_offsets = nullptr;
  r = careshed::road_travel_time(g, snapper, fx2, fy2, 2, px, py, 3, o);
  EXPECT_EQ(r.facility_node[0], -1);
  EXPECT_EQ(r.point_nearest[0], 1);
  EXPECT_NEAR(r.point_seconds[0], 144, 1e-9);
  o.offroad_speed_kmh = 0;
  EXPECT_THROW(careshed::road_travel_time(g, snapper, fx, fy, 1, px, py, 3, o), careshed::InputError);
}

TEST(Snap, DuplicateFacilitiesTieToLowestIndex) {
  std::vector<RoadLine> lines = {{{0, 0, 100, 0}, 36, careshed::Direction::kBoth, 1}};
  RoadGraph g = RoadGraph::from_road_lines(lines, false);
  NodeSnapper snapper(g);
  const double fx[] = {100, 0, 0}, fy[] = {0, 10, -10};  // facilities 1 and 2 are equally far
  const double px[] = {0}, py[] = {0};
  auto r = careshed::road_travel_time(g, snapper, fx, fy, 3, px, py, 1, {});
  EXPECT_EQ(r.point_nearest[0], 1);
  EXPECT_NEAR(r.point_seconds[0], 10 / (5 / 3.6), 1e-12);
}
