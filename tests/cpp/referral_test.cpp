// Referral between facility levels (careshed/referral.hpp), hand-worked: ties to the lowest facility index,
// a level with no facility (in reach), the inclusive cut-off, assigned vs nearest targets, one-way streets on
// the graph, impassable cells, route lengths and routes, bad input, and the RunControl contract. The random
// oracle (plain Dijkstra / networkx) is in tests/python/test_arrays_referral.py.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "careshed/error.hpp"
#include "careshed/progress.hpp"
#include "careshed/referral.hpp"
#include "run_control_checks.hpp"

using namespace careshed;

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();

// A 1 x 7 strip of 1 m cells at 1 s/m: a step between neighbours costs 1 s and measures 1 m.
struct Strip {
  std::vector<float> friction = std::vector<float>(7, 1.0f);
  FrictionGrid grid() const {
    FrictionGrid g;
    g.friction_f32 = friction.data();
    g.rows = 1;
    g.cols = 7;
    g.dx_m = 1.0;
    g.dy_m = 1.0;
    return g;
  }
};

// facility 0: level 1 at col 6; facility 1: level 1 at col 0; facility 2: level 0 at col 3 (3 cells from
// both level-1 facilities: an exact tie); level 2 has no facility.
const std::vector<std::int64_t> kStripRc = {0, 6, 0, 0, 0, 3};
const std::vector<std::int32_t> kStripLevel = {1, 1, 0};
}  // namespace

TEST(Referral, GridTieGoesToLowestIndexAndEmptyLevelIsUnreachable) {
  Strip s;
  FacilityLevels lv{kStripLevel.data(), 3, nullptr};
  std::vector<CellLabel> out(3 * 7);
  ReferralOptions o;
  o.keep_routes = true;
  const Referrals r = referral_on_grid(s.grid(), kStripRc.data(), 3, lv, o, out.data());
  // facility 2 (level 0) -> the nearest level-1 facility: 0 and 1 both 3 s away: the lowest index, 0.
  EXPECT_EQ(r.target[2], 0);
  EXPECT_DOUBLE_EQ(r.seconds[2], 3.0);
  EXPECT_DOUBLE_EQ(r.metres[2], 3.0);
  EXPECT_EQ(r.assigned[2], 0);
  // level-1 facilities: level 2 has no facility: none.
  for (int i : {0, 1}) {
    EXPECT_EQ(r.target[i], -1);
    EXPECT_EQ(r.seconds[i], kInf);
    EXPECT_EQ(r.metres[i], kInf);
  }
  // fields: level 0 from col 3; level 1 nearest at col 3 is facility 0 (tie); level 2 all unreachable.
  const int want0[7] = {3, 2, 1, 0, 1, 2, 3};
  for (int c = 0; c < 7; ++c) {
    EXPECT_EQ(out[c].nearest, 2);
    EXPECT_FLOAT_EQ(out[c].seconds, static_cast<float>(want0[c]));
    EXPECT_EQ(out[14 + c].nearest, -1);
    EXPECT_EQ(out[14 + c].seconds, std::numeric_limits<float>::infinity());
  }
  EXPECT_EQ(out[7 + 3].nearest, 0);
  EXPECT_EQ(out[7 + 2].nearest, 1);
  EXPECT_EQ(out[7 + 4].nearest, 0);
  // the route of facility 2: cells 3, 4, 5, 6
  ASSERT_EQ(r.route_first.size(), 4u);
  const std::vector<std::int64_t> route2(r.route_items.begin() + r.route_first[2], r.route_items.begin() + r.route_first[3]);
  EXPECT_EQ(route2, (std::vector<std::int64_t>{3, 4, 5, 6}));
  EXPECT_EQ(r.route_first[1] - r.route_first[0], 0);
}

TEST(Referral, GridAssignedTargetOverridesNearest) {
  Strip s;
  s.friction[1] = 3.0f;  // the way west is slower: col 3 -> col 0 costs 1 + 1 + (3+1)/2 = 4 s... per steps:
  // 3->2: (1+1)/2 = 1, 2->1: (1+3)/2 = 2, 1->0: (3+1)/2 = 2  => 5 s, 3 m.
  const std::vector<std::int32_t> assigned = {-1, -1, 1};  // facility 2 is assigned to facility 1 (west)
  FacilityLevels lv{kStripLevel.data(), 3, assigned.data()};
  std::vector<CellLabel> out(3 * 7);
  const Referrals r = referral_on_grid(s.grid(), kStripRc.data(), 3, lv, ReferralOptions{}, out.data());
  EXPECT_EQ(r.target[2], 1);
  EXPECT_EQ(r.assigned[2], 1);
  EXPECT_DOUBLE_EQ(r.seconds[2], 5.0);
  EXPECT_DOUBLE_EQ(r.metres[2], 3.0);
  // without the assignment the nearest (east, 3 s) wins
  FacilityLevels plain{kStripLevel.data(), 3, nullptr};
  const Referrals n = referral_on_grid(s.grid(), kStripRc.data(), 3, plain, ReferralOptions{}, out.data());
  EXPECT_EQ(n.target[2], 0);
  EXPECT_DOUBLE_EQ(n.seconds[2], 3.0);
}

TEST(Referral, GridCutoffIsInclusiveAndImpassableFacilityHasNoReferral) {
  Strip s;
  FacilityLevels lv{kStripLevel.data(), 2, nullptr};
  std::vector<CellLabel> out(2 * 7);
  ReferralOptions o;
  o.max_seconds = 3.0;  // exactly the time: reached
  EXPECT_EQ(referral_on_grid(s.grid(), kStripRc.data(), 3, lv, o, out.data()).target[2], 0);
  o.max_seconds = 2.999;
  const Referrals r = referral_on_grid(s.grid(), kStripRc.data(), 3, lv, o, out.data());
  EXPECT_EQ(r.target[2], -1);
  EXPECT_EQ(r.seconds[2], kInf);
  EXPECT_EQ(out[7 + 3].nearest, -1);
  s.friction[3] = std::numeric_limits<float>::quiet_NaN();  // facility 2 on an impassable cell
  const Referrals q = referral_on_grid(s.grid(), kStripRc.data(), 3, lv, ReferralOptions{}, out.data());
  EXPECT_EQ(q.target[2], -1);
}

TEST(Referral, GridDiagonalRouteLength) {
  // 3 x 3 cells of 10 m at 0.1 s/m: corner to corner along the diagonal, 2 steps of 10*sqrt(2) m.
  std::vector<double> f(9, 0.1);
  FrictionGrid g;
  g.friction_f64 = f.data();
  g.rows = g.cols = 3;
  g.dx_m = g.dy_m = 10.0;
  const std::vector<std::int64_t> rc = {0, 0, 2, 2};
  const std::vector<std::int32_t> level = {0, 1};
  FacilityLevels lv{level.data(), 2, nullptr};
  std::vector<CellLabel> out(2 * 9);
  const Referrals r = referral_on_grid(g, rc.data(), 2, lv, ReferralOptions{}, out.data());
  EXPECT_EQ(r.target[0], 1);
  EXPECT_NEAR(r.seconds[0], 2.0 * std::sqrt(2.0), 1e-5);
  EXPECT_NEAR(r.metres[0], 20.0 * std::sqrt(2.0), 1e-9);
}

TEST(Referral, GraphOneWayAndAssigned) {
  // 0 -> 1 -> 2 -> 3 one way (10 s / 100 m each), and 3 -> 0 (100 s / 1000 m) closing the loop.
  const std::vector<std::int64_t> tails = {0, 1, 2, 3}, heads = {1, 2, 3, 0};
  const std::vector<double> secs = {10, 10, 10, 100}, len = {100, 100, 100, 1000};
  // facility 0: level 0 at node 0; facility 1: level 1 at node 3; facility 2: level 1 at node 1;
  // facility 3: level 0 at node 2.
  const std::vector<std::int64_t> nodes = {0, 3, 1, 2};
  const std::vector<std::int32_t> level = {0, 1, 1, 0};
  FacilityLevels lv{level.data(), 2, nullptr};
  std::vector<double> s(2 * 4);
  std::vector<std::int32_t> n(2 * 4);
  ReferralOptions o;
  o.keep_routes = true;
  Referrals r = referral_on_graph(4, tails.data(), heads.data(), secs.data(), len.data(), 4, nodes.data(), 4, lv, o,
                                  s.data(), n.data());
  // facility 0 (node 0): node 1 (facility 2) is 10 s away
  EXPECT_EQ(r.target[0], 2);
  EXPECT_DOUBLE_EQ(r.seconds[0], 10.0);
  EXPECT_DOUBLE_EQ(r.metres[0], 100.0);
  // facility 3 (node 2): node 3 (facility 1) 10 s ahead; node 1 only round the loop (110 + 10 = 120 s)
  EXPECT_EQ(r.target[3], 1);
  EXPECT_DOUBLE_EQ(r.seconds[3], 10.0);
  // times are TO the facility: from node 0 to level 1's nearest (node 1) = 10 s; from node 2 to node 3 = 10.
  EXPECT_DOUBLE_EQ(s[4 + 0], 10.0);
  EXPECT_EQ(n[4 + 0], 2);
  EXPECT_DOUBLE_EQ(s[4 + 2], 10.0);
  EXPECT_EQ(n[4 + 2], 1);
  // assigned: facility 3 (node 2) to facility 2 (node 1): 2 -> 3 -> 0 -> 1 = 10 + 100 + 10 = 120 s, 1200 m
  const std::vector<std::int32_t> assigned = {-1, -1, -1, 2};
  FacilityLevels la{level.data(), 2, assigned.data()};
  r = referral_on_graph(4, tails.data(), heads.data(), secs.data(), len.data(), 4, nodes.data(), 4, la, o, s.data(),
                        n.data());
  EXPECT_EQ(r.target[3], 2);
  EXPECT_EQ(r.assigned[3], 1);
  EXPECT_DOUBLE_EQ(r.seconds[3], 120.0);
  EXPECT_DOUBLE_EQ(r.metres[3], 1200.0);
  const std::vector<std::int64_t> route3(r.route_items.begin() + r.route_first[3], r.route_items.begin() + r.route_first[4]);
  EXPECT_EQ(route3, (std::vector<std::int64_t>{2, 3, 0, 1}));
  // without the loop edge, node 1 is unreachable from node 2: the assignment has no route
  FacilityLevels la2{level.data(), 2, assigned.data()};
  r = referral_on_graph(4, tails.data(), heads.data(), secs.data(), len.data(), 3, nodes.data(), 4, la2,
                        ReferralOptions{}, s.data(), n.data());
  EXPECT_EQ(r.target[3], -1);
  EXPECT_EQ(r.seconds[3], kInf);
  EXPECT_EQ(r.assigned[3], 1);
}

TEST(Referral, BadInputIsRefusedWithNames) {
  Strip s;
  std::vector<CellLabel> out(3 * 7);
  const std::vector<std::int32_t> bad_level = {1, 3, 0};
  FacilityLevels lv{bad_level.data(), 3, nullptr};
  EXPECT_THROW(referral_on_grid(s.grid(), kStripRc.data(), 3, lv, ReferralOptions{}, out.data()), InputError);
  const std::vector<std::int32_t> self = {-1, 1, -1};
  FacilityLevels ls{kStripLevel.data(), 3, self.data()};
  try {
    referral_on_grid(s.grid(), kStripRc.data(), 3, ls, ReferralOptions{}, out.data());
    FAIL() << "an assignment to itself must be refused";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("assigned to itself"), std::string::npos) << e.what();
  }
  FacilityLevels none{kStripLevel.data(), 0, nullptr};
  EXPECT_THROW(referral_on_grid(s.grid(), kStripRc.data(), 3, none, ReferralOptions{}, out.data()), InputError);
  const std::vector<std::int64_t> outside = {0, 7, 0, 0, 0, 3};
  FacilityLevels lv2{kStripLevel.data(), 3, nullptr};
  EXPECT_THROW(referral_on_grid(s.grid(), outside.data(), 3, lv2, ReferralOptions{}, out.data()), InputError);
}

TEST(Referral, RunControlContract) {
  // 600 x 600 cells, 200 facilities in 3 levels, some assigned.
  const int rows = 600, cols = 600, n = 200;
  std::vector<float> f(static_cast<std::size_t>(rows) * cols, 0.05f);
  FrictionGrid g;
  g.friction_f32 = f.data();
  g.rows = rows;
  g.cols = cols;
  g.dx_m = g.dy_m = 100.0;
  std::vector<std::int64_t> rc;
  std::vector<std::int32_t> level, assigned;
  for (int i = 0; i < n; ++i) {
    rc.push_back((i * 37) % rows);
    rc.push_back((i * 91) % cols);
    level.push_back(i % 3);
    assigned.push_back(i % 10 == 0 && i > 0 ? 2 : -1);
  }
  FacilityLevels lv{level.data(), 3, assigned.data()};
  std::vector<CellLabel> out(3 * f.size());
  std::vector<CellLabel> plain(3 * f.size());
  const Referrals without = referral_on_grid(g, rc.data(), n, lv, ReferralOptions{}, plain.data());
  careshed_test::watch_progress([&](RunControl* c) {
    const Referrals with = referral_on_grid(g, rc.data(), n, lv, ReferralOptions{}, out.data(), c);
    EXPECT_EQ(with.target, without.target);
    EXPECT_EQ(with.seconds, without.seconds);
  }, "referral_on_grid");
  for (std::size_t x = 0; x < out.size(); ++x) {
    ASSERT_EQ(out[x].nearest, plain[x].nearest);
  }
  careshed_test::expect_stops_when_cancelled_before(
      [&](RunControl* c) { referral_on_grid(g, rc.data(), n, lv, ReferralOptions{}, out.data(), c); },
      "referral_on_grid");
  careshed_test::expect_stops_when_cancelled_midway(
      [&](RunControl* c) { referral_on_grid(g, rc.data(), n, lv, ReferralOptions{}, out.data(), c); },
      "referral_on_grid", 0.2);
}
