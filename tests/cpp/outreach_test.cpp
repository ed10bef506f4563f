// Tests of careshed/outreach.hpp. Oracles written here from the header's definitions, not from the solver:
//  * validate(): an independent check of a schedule (every route within its team's day, distinct points per day,
//    every point visited exactly at its frequency by one team, days per team, reported figures recomputed);
//  * brute_force(): every assignment of points to teams and, per team, every way of covering the visits with day
//    routes (each route a permutation of a subset), on tiny random instances (seed logged, CARESHED_TEST_SEED).
// Plus hand-worked cases, the bound against the exact optimum, bad input and cancellation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "careshed/error.hpp"
#include "careshed/outreach.hpp"
#include "careshed/progress.hpp"
#include "test_seed.hpp"

using careshed_test::fresh_or_replayed_seed;

namespace {

using careshed::OutreachOptions;
using careshed::OutreachProblem;
using careshed::OutreachSchedule;
using careshed::OutreachSolver;
using careshed::OutreachTeam;
constexpr double kInf = std::numeric_limits<double>::infinity();

double tt(const OutreachProblem& p, int a, int b) { return p.travel_seconds[std::size_t(a) * p.n_nodes + b]; }
int visits_of(const OutreachProblem& p, int i) { return p.visits.size() == 1 ? p.visits[0] : p.visits[i]; }
double svc_of(const OutreachProblem& p, int i) {
  return p.service_seconds.size() == 1 ? p.service_seconds[0] : p.service_seconds[i];
}

/// Travel of a route of team k through points `pts` (point indices), from the problem's matrix.
double route_travel(const OutreachProblem& p, int k, const std::vector<int>& pts) {
  const int base = p.teams[k].base;
  double s = 0.0;
  int at = base;
  for (int i : pts) {
    s += tt(p, at, p.point_node[i]);
    at = p.point_node[i];
  }
  return s + tt(p, at, base);
}

/// Independent validator: returns "" when `s` is a valid schedule of `p`, else what is wrong.
std::string validate(const OutreachProblem& p, const OutreachSchedule& s) {
  const int n = int(p.point_node.size()), K = int(p.teams.size());
  std::vector<int> count(n, 0), team(n, -1), days(K, 0);
  double travel = 0.0;
  for (const auto& r : s.routes) {
    if (r.team < 0 || r.team >= K) return "route of an unknown team";
    if (r.points.empty()) return "an empty route";
    ++days[r.team];
    std::vector<int> pts(r.points.begin(), r.points.end());
    std::vector<int> sorted = pts;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) return "a point twice in one day";
    double service = 0.0;
    for (int i : pts) {
      if (i < 0 || i >= n) return "unknown point";
      ++count[i];
      if (team[i] >= 0 && team[i] != r.team) return "point " + std::to_string(i) + " served by two teams";
      team[i] = r.team;
      service += svc_of(p, i);
    }
    const double t = route_travel(p, r.team, pts);
    if (!(t + service <= p.teams[r.team].day_seconds + 1e-6)) {
      return "route of team " + std::to_string(r.team) + " lasts " + std::to_string(t + service) + " s > day";
    }
    if (std::abs(t - r.travel_seconds) > 1e-6) return "reported route travel differs";
    travel += t;
  }
  for (int i = 0; i < n; ++i) {
    if (count[i] != visits_of(p, i)) {
      return "point " + std::to_string(i) + " visited " + std::to_string(count[i]) + " times";
    }
    if (s.point_team.at(i) != team[i]) return "point_team disagrees with the routes";
  }
  for (int k = 0; k < K; ++k) {
    if (days[k] > p.teams[k].days) return "team " + std::to_string(k) + " works too many days";
  }
  // Distinct days per team.
  std::map<std::pair<int, int>, int> used;
  for (const auto& r : s.routes) {
    if (r.day < 0 || r.day >= p.teams[r.team].days || used[{r.team, r.day}]++) return "bad day numbers";
  }
  const double obj = travel + p.day_cost_seconds * double(s.routes.size());
  if (std::abs(obj - s.objective) > 1e-6 * std::max(1.0, obj)) return "reported objective differs";
  return "";
}

/// Brute force: least objective over every schedule (kInf when there is none).
double brute_force(const OutreachProblem& p) {
  const int n = int(p.point_node.size()), K = int(p.teams.size());
  // Cheapest month of team k for the remaining visits `rem` with `d` days left: some route must hold the lowest
  // point still to visit, so try every route holding it (every subset of the others, every order).
  std::function<double(int, std::vector<int>&, int)> month = [&](int k, std::vector<int>& rem, int d) -> double {
    int first = -1;
    for (int i = 0; i < n; ++i) {
      if (rem[i] > 0) {
        first = i;
        break;
      }
    }
    if (first < 0) return 0.0;
    if (d == 0) return kInf;
    std::vector<int> others;
    for (int i = first + 1; i < n; ++i) {
      if (rem[i] > 0) others.push_back(i);
    }
    double best = kInf;
    for (unsigned mask = 0; mask < (1u << others.size()); ++mask) {
      std::vector<int> pts{first};
      for (std::size_t b = 0; b < others.size(); ++b) {
        if (mask >> b & 1) pts.push_back(others[b]);
      }
      std::sort(pts.begin(), pts.end());
      double svc = 0.0;
      for (int i : pts) svc += svc_of(p, i);
      double best_travel = kInf;
      do {
        const double t = route_travel(p, k, pts);
        if (t + svc <= p.teams[k].day_seconds) best_travel = std::min(best_travel, t);
      } while (std::next_permutation(pts.begin(), pts.end()));
      if (!std::isfinite(best_travel)) continue;
      for (int i : pts) --rem[i];
      best = std::min(best, best_travel + p.day_cost_seconds + month(k, rem, d - 1));
      for (int i : pts) ++rem[i];
    }
    return best;
  };
  double best = kInf;
  std::vector<int> team(n, 0);
  while (true) {
    double total = 0.0;
    for (int k = 0; k < K && std::isfinite(total); ++k) {
      std::vector<int> rem(n, 0);
      for (int i = 0; i < n; ++i) rem[i] = team[i] == k ? visits_of(p, i) : 0;
      total += month(k, rem, p.teams[k].days);
    }
    best = std::min(best, total);
    int i = 0;
    while (i < n && ++team[i] == K) team[i++] = 0;
    if (i == n) break;
  }
  return best;
}

/// Random instance: K bases and n points; asymmetric travel (a random detour factor per ordered pair; no triangle
/// inequality promised), some pairs without a way.
OutreachProblem random_problem(std::mt19937_64& rng, int K, int n, int max_days, int max_visits) {
  OutreachProblem p;
  p.n_nodes = K + n;
  std::uniform_real_distribution<double> xy(0.0, 10.0), detour(1.0, 1.6), u(0.0, 1.0);
  std::vector<double> x(p.n_nodes), y(p.n_nodes);
  for (int a = 0; a < p.n_nodes; ++a) {
    x[a] = xy(rng);
    y[a] = xy(rng);
  }
  p.travel_seconds.assign(std::size_t(p.n_nodes) * p.n_nodes, 0.0);
  for (int a = 0; a < p.n_nodes; ++a) {
    for (int b = 0; b < p.n_nodes; ++b) {
      if (a == b) continue;
      double v = std::round(600.0 * std::hypot(x[a] - x[b], y[a] - y[b]) * detour(rng));
      if (a >= K && b >= K && u(rng) < 0.1) v = kInf;  // no road between these two points
      p.travel_seconds[std::size_t(a) * p.n_nodes + b] = v;
    }
  }
  for (int k = 0; k < K; ++k) {
    OutreachTeam t;
    t.base = k;
    t.days = 1 + int(rng() % std::uint64_t(max_days));
    t.day_seconds = 3600.0 * (5 + double(rng() % 5));
    p.teams.push_back(t);
  }
  for (int i = 0; i < n; ++i) {
    p.point_node.push_back(K + i);
    p.visits.push_back(1 + int(rng() % std::uint64_t(max_visits)));
    p.service_seconds.push_back(1800.0 * double(1 + rng() % 4));
  }
  p.day_cost_seconds = (rng() % 2) ? 0.0 : 900.0;
  return p;
}

OutreachOptions with(OutreachSolver s) {
  OutreachOptions o;
  o.solver = s;
  return o;
}

TEST(Outreach, ExactEqualsBruteForceAndHeuristicIsValidAboveBound) {
  const std::uint64_t seed = fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  int solved = 0;
  for (int trial = 0; trial < 60; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    const int K = 1 + int(rng() % (trial % 3 == 0 ? 3 : 2)), n = 1 + int(rng() % 4);
    OutreachProblem p = random_problem(rng, K, n, 4, 2);
    if (trial % 3 == 0) {  // identical teams: one base, the same days and day (the MIP's symmetry-breaking rows)
      for (auto& t : p.teams) t = p.teams[0];
    }
    const double truth = brute_force(p);
    OutreachSchedule exact;
    try {
      exact = careshed::plan_outreach(p, with(OutreachSolver::Exact));
    } catch (const careshed::InputError&) {
      // Refused: then there must be no schedule at all.
      EXPECT_FALSE(std::isfinite(truth));
      continue;
    }
    ASSERT_TRUE(std::isfinite(truth)) << "solver found a schedule where brute force found none";
    ++solved;
    EXPECT_EQ(validate(p, exact), "");
    EXPECT_NEAR(exact.objective, truth, 1e-6 * std::max(1.0, truth));
    EXPECT_TRUE(exact.proven_optimal);
    EXPECT_EQ(exact.gap, 0.0);
    EXPECT_LE(exact.relaxation_bound, truth + 1e-6);
    EXPECT_LE(careshed::outreach_lower_bound(p), truth + 1e-6);
    try {
      const OutreachSchedule h = careshed::plan_outreach(p, with(OutreachSolver::Heuristic));
      EXPECT_EQ(validate(p, h), "");
      EXPECT_GE(h.objective, truth - 1e-6);
      EXPECT_LE(h.bound, truth + 1e-6);
      EXPECT_NEAR(h.gap, (h.objective - h.bound) / std::max(h.objective, 1e-9), 1e-9);
    } catch (const careshed::InputError& e) {
      // The heuristic may miss a tight schedule, but must say so (never return an invalid one).
      EXPECT_NE(std::string(e.what()).find("no schedule found"), std::string::npos) << e.what();
    }
  }
  EXPECT_GT(solved, 20);
}

TEST(Outreach, SeedSizedExactAgreesWithHeuristicBounds) {
  // 6 teams x 18 points, monthly visits, >= 13 days: the walking-hospital size. Exact is optimal; the heuristic
  // is valid, no better than exact, and its bound is below the exact optimum.
  const std::uint64_t seed = fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  OutreachProblem p = random_problem(rng, 6, 18, 1, 1);
  for (auto& t : p.teams) {
    t.days = 13 + int(rng() % 5);
    t.day_seconds = 8 * 3600.0;
  }
  std::fill(p.visits.begin(), p.visits.end(), 1);
  std::fill(p.service_seconds.begin(), p.service_seconds.end(), 2 * 3600.0);
  const OutreachSchedule e = careshed::plan_outreach(p, with(OutreachSolver::Exact));
  ASSERT_EQ(validate(p, e), "");
  EXPECT_TRUE(e.proven_optimal);
  EXPECT_GT(e.routes_enumerated, 18);
  const OutreachSchedule h = careshed::plan_outreach(p, with(OutreachSolver::Heuristic));
  ASSERT_EQ(validate(p, h), "");
  EXPECT_GE(h.objective, e.objective - 1e-6);
  EXPECT_LE(h.bound, e.objective + 1e-6);
  EXPECT_GE(h.gap, 0.0);
}

TEST(Outreach, ColumnGenerationBoundIsBelowTheOptimumAndAboveTheAssignmentBound) {
  // The column-generation bound (a Lagrangian bound of the set-partitioning LP over a relaxed route set) must
  // never pass the optimum: against brute force on tiny instances (asymmetric travel, no triangle inequality,
  // missing arcs, 1-2 visits, day costs), and against the exact MIP at the walking-hospital size, where it must
  // also be at least the assignment / radial / bin-packing bound it was built to beat.
  const std::uint64_t seed = fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  int compared = 0;
  for (int trial = 0; trial < 40; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    OutreachProblem p = random_problem(rng, 1 + int(rng() % 2), 1 + int(rng() % 4), 4, 2);
    const double truth = brute_force(p);
    if (!std::isfinite(truth)) continue;
    const careshed::OutreachLpBound lp = careshed::outreach_lp_bound(p, 5.0);
    EXPECT_LE(lp.value, truth + 1e-6 * std::max(1.0, truth));
    EXPECT_TRUE(lp.converged);
    ++compared;
  }
  EXPECT_GT(compared, 10);
  for (int trial = 0; trial < 3; ++trial) {
    SCOPED_TRACE("seed-sized trial " + std::to_string(trial));
    OutreachProblem p = random_problem(rng, 6, 18, 1, 1);
    for (auto& t : p.teams) {
      t.days = 13;
      t.day_seconds = 8 * 3600.0;
    }
    std::fill(p.visits.begin(), p.visits.end(), 1);
    std::fill(p.service_seconds.begin(), p.service_seconds.end(), 1.5 * 3600.0);
    const OutreachSchedule e = careshed::plan_outreach(p, with(OutreachSolver::Exact));
    ASSERT_TRUE(e.proven_optimal);
    const careshed::OutreachLpBound lp = careshed::outreach_lp_bound(p, 30.0);
    const double old = careshed::outreach_lower_bound(p);
    EXPECT_LE(lp.value, e.objective + 1e-6 * e.objective);
    EXPECT_GE(lp.value, old - 1e-6 * e.objective);
    EXPECT_TRUE(lp.converged);
    // The heuristic reports the larger of the two, never above its own objective.
    const OutreachSchedule h = careshed::plan_outreach(p, with(OutreachSolver::Heuristic));
    EXPECT_GE(h.bound, std::max(old, std::min(lp.value, h.objective)) - 1e-6 * e.objective);
    EXPECT_LE(h.bound, e.objective + 1e-6 * e.objective);
  }
}

TEST(Outreach, HandWorkedTwoPointsOneDay) {
  // Base 0, points at nodes 1, 2. 0->1 10 min, 1->2 5 min, 2->0 10 min (and reverse the same); 0<->2 direct.
  // Service 1 h each, day 3 h: both fit in one route (20+5+... = 25 min travel + 2 h). Visits 2 each, 2 days:
  // two copies of the same route, 25 min each -> 50 min travel.
  OutreachProblem p;
  p.n_nodes = 3;
  p.travel_seconds = {0, 600, 600, 600, 0, 300, 600, 300, 0};
  p.point_node = {1, 2};
  p.service_seconds = {3600.0};
  p.visits = {2};
  p.teams = {OutreachTeam{0, 2, 3 * 3600.0}};
  for (OutreachSolver s : {OutreachSolver::Exact, OutreachSolver::Heuristic}) {
    const OutreachSchedule r = careshed::plan_outreach(p, with(s));
    EXPECT_EQ(validate(p, r), "");
    EXPECT_DOUBLE_EQ(r.travel_seconds, 3000.0);
    EXPECT_EQ(r.team_days, 2);
    EXPECT_EQ(r.routes[0].day, 0);
    EXPECT_EQ(r.routes[1].day, 1);
  }
  // A day of exactly 1500 s + 2 h still fits (inclusive); one second less and each point needs its own day:
  // 4 days needed, 2 available -> infeasible, the exact MIP says so.
  p.teams[0].day_seconds = 1500.0 + 7200.0;
  EXPECT_EQ(careshed::plan_outreach(p, with(OutreachSolver::Exact)).team_days, 2);
  p.teams[0].day_seconds = 1499.0 + 7200.0;
  EXPECT_THROW(careshed::plan_outreach(p, with(OutreachSolver::Exact)), careshed::InputError);
  EXPECT_THROW(careshed::plan_outreach(p, with(OutreachSolver::Heuristic)), careshed::InputError);
  p.teams[0].days = 4;
  const OutreachSchedule four = careshed::plan_outreach(p, with(OutreachSolver::Exact));
  EXPECT_EQ(validate(p, four), "");
  EXPECT_DOUBLE_EQ(four.travel_seconds, 4 * 1200.0);
}

TEST(Outreach, BadInputNamesTheArgument) {
  OutreachProblem p;
  p.n_nodes = 2;
  p.travel_seconds = {0, 100, 100, 0};
  p.point_node = {1};
  p.service_seconds = {60.0};
  p.visits = {1};
  p.teams = {OutreachTeam{0, 5, 3600.0}};
  auto msg = [&](const OutreachProblem& q) -> std::string {
    try {
      careshed::plan_outreach(q);
    } catch (const careshed::InputError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(validate(p, careshed::plan_outreach(p)), "");
  OutreachProblem q = p;
  q.travel_seconds[1] = std::nan("");
  EXPECT_NE(msg(q).find("travel_seconds[0, 1]"), std::string::npos);
  q = p;
  q.point_node = {7};
  EXPECT_NE(msg(q).find("point_node[0]"), std::string::npos);
  q = p;
  q.visits = {0};
  EXPECT_NE(msg(q).find("visits[0]"), std::string::npos);
  q = p;
  q.teams[0].day_seconds = 200.0;  // round trip 200 s + 60 s service > 200 s
  EXPECT_NE(msg(q).find("service point 0: no team can serve it"), std::string::npos);
  q = p;
  q.travel_seconds[1] = kInf;
  EXPECT_NE(msg(q).find("no base reaches it"), std::string::npos);
  q = p;
  q.visits = {6};  // more visits than working days
  EXPECT_NE(msg(q).find("service point 0"), std::string::npos);
  q = p;
  q.teams.clear();
  EXPECT_NE(msg(q).find("teams"), std::string::npos);
  q = p;
  q.point_node.clear();  // nothing to visit: an empty, optimal month
  const OutreachSchedule empty = careshed::plan_outreach(q);
  EXPECT_TRUE(empty.routes.empty());
  EXPECT_EQ(empty.objective, 0.0);
}

TEST(Outreach, CancelledRunThrows) {
  std::mt19937_64 rng(7);
  OutreachProblem p = random_problem(rng, 4, 30, 1, 1);
  for (auto& t : p.teams) {
    t.days = 20;
    t.day_seconds = 10 * 3600.0;
  }
  std::fill(p.service_seconds.begin(), p.service_seconds.end(), 600.0);
  careshed::RunControl control;
  control.request_cancel();
  EXPECT_THROW(careshed::plan_outreach(p, with(OutreachSolver::Heuristic), &control), careshed::Cancelled);
  careshed::RunControl watched;
  const OutreachSchedule s = careshed::plan_outreach(p, with(OutreachSolver::Heuristic), &watched);
  EXPECT_EQ(validate(p, s), "");
  EXPECT_EQ(watched.fraction(), 1.0);
}

}  // namespace
