// outreach.cpp — mobile outreach circuits: problem checks, exact route enumeration + set-partitioning MIP (CBC),
// savings + local search heuristic, and the assignment relaxation bound. See careshed/outreach.hpp.
#include "careshed/outreach.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <mutex>
#include <numeric>
#include <sstream>
#include <unordered_map>
#include <utility>

#include "careshed/error.hpp"
#include "cbc_support.hpp"

namespace careshed {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kEps = 1e-9;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

[[noreturn]] void fail(const std::string& msg) { throw InputError(msg); }

std::string num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

std::string minutes(double seconds) { return num(std::round(seconds / 6.0) / 10.0) + " min"; }

/// The checked problem with the per-point values expanded and which team may serve which point.
struct Inst {
  std::int32_t n = 0, K = 0, N = 0;
  const double* T = nullptr;
  std::vector<std::int32_t> node, f;
  std::vector<double> svc;
  std::vector<OutreachTeam> team;
  double day_cost = 0.0;
  std::vector<std::vector<char>> allowed;  // [team][point]
  std::vector<std::vector<std::int32_t>> team_points;  // allowed points per team
  double t(std::int32_t a, std::int32_t b) const { return T[std::size_t(a) * std::size_t(N) + std::size_t(b)]; }
  double pp(std::int32_t i, std::int32_t j) const { return t(node[i], node[j]); }
  double bp(std::int32_t k, std::int32_t i) const { return t(team[k].base, node[i]); }
  double pb(std::int32_t i, std::int32_t k) const { return t(node[i], team[k].base); }
  /// Travel seconds of team k's route through `pts` in order (empty: 0).
  double travel(std::int32_t k, const std::vector<std::int32_t>& pts) const {
    if (pts.empty()) return 0.0;
    double s = bp(k, pts.front());
    for (std::size_t a = 1; a < pts.size(); ++a) s += pp(pts[a - 1], pts[a]);
    return s + pb(pts.back(), k);
  }
  double month_service = 0.0, longest_day = 0.0;  // Σ visits × service; the longest working day of any team
  std::int32_t most_visits = 0;
  /// Team-days any schedule needs when its travel is at least `travel`: every point's visits on distinct days, and
  /// all service + travel within days of at most the longest day.
  double min_days(double travel) const {
    return std::max(double(most_visits), std::ceil((month_service + travel) / longest_day * (1 - 1e-12)));
  }
  double service(const std::vector<std::int32_t>& pts) const {
    double s = 0.0;
    for (std::int32_t i : pts) s += svc[i];
    return s;
  }
};

Inst check(const OutreachProblem& p) {
  Inst I;
  I.N = p.n_nodes;
  if (I.N <= 0) fail("n_nodes: " + std::to_string(I.N) + " must be >= 1 (the bases and service points)");
  if (p.travel_seconds.size() != std::size_t(I.N) * std::size_t(I.N)) {
    fail("travel_seconds: expected n_nodes × n_nodes = " + std::to_string(std::size_t(I.N) * std::size_t(I.N)) +
         " values, got " + std::to_string(p.travel_seconds.size()));
  }
  for (std::size_t q = 0; q < p.travel_seconds.size(); ++q) {
    const double v = p.travel_seconds[q];
    if (std::isnan(v) || v < 0) {
      fail("travel_seconds[" + std::to_string(q / std::size_t(I.N)) + ", " + std::to_string(q % std::size_t(I.N)) +
           "] = " + num(v) + " must be seconds >= 0 (+inf when there is no way)");
    }
  }
  I.T = p.travel_seconds.data();
  I.n = std::int32_t(p.point_node.size());
  I.node = p.point_node;
  for (std::int32_t i = 0; i < I.n; ++i) {
    if (I.node[i] < 0 || I.node[i] >= I.N) {
      fail("point_node[" + std::to_string(i) + "] = " + std::to_string(I.node[i]) + " is not a node 0.." +
           std::to_string(I.N - 1));
    }
  }
  auto expand = [&](const auto& v, const char* what, auto& out) {
    if (v.size() == 1) {
      out.assign(std::size_t(I.n), v[0]);
    } else if (v.size() == std::size_t(I.n)) {
      out.assign(v.begin(), v.end());
    } else {
      fail(std::string(what) + ": give one value per service point (" + std::to_string(I.n) + ") or one for all; got " +
           std::to_string(v.size()));
    }
  };
  if (I.n > 0) {
    expand(p.service_seconds, "service_seconds", I.svc);
    expand(p.visits, "visits", I.f);
  }
  for (std::int32_t i = 0; i < I.n; ++i) {
    if (!(std::isfinite(I.svc[i]) && I.svc[i] >= 0)) {
      fail("service_seconds[" + std::to_string(i) + "] = " + num(I.svc[i]) + " must be finite seconds >= 0");
    }
    if (I.f[i] < 1) fail("visits[" + std::to_string(i) + "] = " + std::to_string(I.f[i]) + " must be >= 1 a month");
  }
  I.team = p.teams;
  I.K = std::int32_t(p.teams.size());
  if (I.K == 0 && I.n > 0) fail("teams: at least one team is needed to visit the service points");
  for (std::int32_t k = 0; k < I.K; ++k) {
    const OutreachTeam& tm = I.team[k];
    const std::string w = "teams[" + std::to_string(k) + "]";
    if (tm.base < 0 || tm.base >= I.N) fail(w + ".base = " + std::to_string(tm.base) + " is not a node");
    if (tm.days < 0) fail(w + ".days = " + std::to_string(tm.days) + " must be >= 0 working days");
    if (!(std::isfinite(tm.day_seconds) && tm.day_seconds > 0)) {
      fail(w + ".day_seconds = " + num(tm.day_seconds) + " must be a finite number of seconds > 0");
    }
  }
  if (!(std::isfinite(p.day_cost_seconds) && p.day_cost_seconds >= 0)) {
    fail("day_cost_seconds = " + num(p.day_cost_seconds) + " must be finite seconds >= 0");
  }
  I.day_cost = p.day_cost_seconds;
  for (std::int32_t i = 0; i < I.n; ++i) {
    I.month_service += I.f[i] * I.svc[i];
    I.most_visits = std::max(I.most_visits, I.f[i]);
  }
  for (const OutreachTeam& t : I.team) I.longest_day = std::max(I.longest_day, t.day_seconds);
  I.allowed.assign(std::size_t(I.K), std::vector<char>(std::size_t(I.n), 0));
  I.team_points.assign(std::size_t(I.K), {});
  for (std::int32_t i = 0; i < I.n; ++i) {
    bool any = false;
    double best = kInf;
    for (std::int32_t k = 0; k < I.K; ++k) {
      const double trip = I.bp(k, i) + I.svc[i] + I.pb(i, k);
      best = std::min(best, trip);
      if (std::isfinite(trip) && trip <= I.team[k].day_seconds && I.f[i] <= I.team[k].days) {
        I.allowed[k][i] = 1;
        I.team_points[k].push_back(i);
        any = true;
      }
    }
    if (!any) {
      std::string why = std::isfinite(best)
                            ? "the shortest round trip from a base with its service takes " + minutes(best) +
                                  " and must fit in a team's working day that also has at least " +
                                  std::to_string(I.f[i]) + " working days"
                            : "no base reaches it";
      fail("service point " + std::to_string(i) + ": no team can serve it (" + why +
           "); base a team nearer, lengthen the day, add days or leave the point out");
    }
  }
  return I;
}

// ---- schedules ---------------------------------------------------------------------------------------------------

/// Routes (point sequences) per team.
using Plan = std::vector<std::vector<std::vector<std::int32_t>>>;

OutreachSchedule schedule_of(const Inst& I, const Plan& plan) {
  OutreachSchedule s;
  s.point_team.assign(std::size_t(I.n), -1);
  for (std::int32_t k = 0; k < I.K; ++k) {
    // Copies of one route are spread over the month: all first copies, then the second ones, ...
    std::map<std::vector<std::int32_t>, int> seen;
    std::vector<std::pair<int, std::size_t>> order;
    for (std::size_t r = 0; r < plan[k].size(); ++r) order.emplace_back(seen[plan[k][r]]++, r);
    std::stable_sort(order.begin(), order.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::int32_t day = 0;
    for (const auto& [copy, r] : order) {
      (void)copy;
      OutreachRoute route;
      route.team = k;
      route.day = day++;
      route.points = plan[k][r];
      route.travel_seconds = I.travel(k, route.points);
      route.service_seconds = I.service(route.points);
      route.duration_seconds = route.travel_seconds + route.service_seconds;
      for (std::int32_t i : route.points) s.point_team[i] = k;
      s.travel_seconds += route.travel_seconds;
      s.routes.push_back(std::move(route));
    }
  }
  s.team_days = std::int32_t(s.routes.size());
  s.objective = s.travel_seconds + I.day_cost * s.team_days;
  return s;
}

// ---- lower bound: assignment relaxation --------------------------------------------------------------------------

/// Min-cost perfect assignment of an n × n cost matrix (Hungarian algorithm with potentials, O(n^3)). Polls.
double assignment_cost(const std::vector<double>& a, std::size_t n, RunControl* control) {
  std::vector<double> u(n + 1, 0.0), v(n + 1, 0.0), minv(n + 1);
  std::vector<std::size_t> p(n + 1, 0), way(n + 1, 0);
  std::vector<char> used(n + 1);
  for (std::size_t i = 1; i <= n; ++i) {
    throw_if_cancelled(control);
    report_progress(control, double(i) / double(n + 1));
    p[0] = i;
    std::size_t j0 = 0;
    std::fill(minv.begin(), minv.end(), kInf);
    std::fill(used.begin(), used.end(), 0);
    do {
      used[j0] = 1;
      const std::size_t i0 = p[j0];
      double delta = kInf;
      std::size_t j1 = 0;
      const double* row = a.data() + (i0 - 1) * n;
      for (std::size_t j = 1; j <= n; ++j) {
        if (used[j]) continue;
        const double cur = row[j - 1] - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (std::size_t j = 0; j <= n; ++j) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] != 0);
    do {
      const std::size_t j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0);
  }
  double cost = 0.0;
  for (std::size_t j = 1; j <= n; ++j) cost += a[(p[j] - 1) * n + (j - 1)];
  return cost;
}

/// Lower bound on the travel of any schedule (see the header), seconds.
double travel_bound(const Inst& I, RunControl* control) {
  std::vector<double> out(std::size_t(I.n), kInf), in(std::size_t(I.n), kInf);
  std::vector<std::int32_t> visit_point;
  for (std::int32_t i = 0; i < I.n; ++i) {
    for (std::int32_t k = 0; k < I.K; ++k) {
      if (!I.allowed[k][i]) continue;
      out[i] = std::min(out[i], I.pb(i, k));
      in[i] = std::min(in[i], I.bp(k, i));
    }
    for (std::int32_t c = 0; c < I.f[i]; ++c) visit_point.push_back(i);
  }
  const std::size_t V = visit_point.size();
  if (V == 0) return 0.0;
  // Past ~3000 visits the O(V^3) assignment costs more than it is worth: the weaker bound of each visit's cheapest
  // way in and out (half each, as every arc is some node's way out and another's way in).
  if (V > 3000) {
    double s = 0.0;
    for (std::int32_t i = 0; i < I.n; ++i) {
      double bi = out[i], bo = in[i];
      for (std::int32_t j = 0; j < I.n; ++j) {
        if (j == i) continue;
        bi = std::min(bi, I.pp(i, j));
        bo = std::min(bo, I.pp(j, i));
      }
      s += 0.5 * I.f[i] * (bi + bo);
    }
    return s;
  }
  // Rows: visits then V base exits; columns: visits then V base entries. A finite stand-in for "no arc" keeps the
  // potentials finite; every visit can always go to and come from a base, so no optimal assignment uses one.
  const std::size_t n = 2 * V;
  double big = 1.0;
  for (std::int32_t i = 0; i < I.n; ++i) big += out[i] + in[i];
  for (std::int32_t i = 0; i < I.n; ++i) {
    for (std::int32_t j = 0; j < I.n; ++j) {
      if (i != j && std::isfinite(I.pp(i, j))) big = std::max(big, I.pp(i, j));
    }
  }
  big *= double(n) + 1.0;
  std::vector<double> a(n * n, big);
  for (std::size_t r = 0; r < V; ++r) {
    const std::int32_t i = visit_point[r];
    for (std::size_t c = 0; c < V; ++c) {
      const std::int32_t j = visit_point[c];
      if (i != j && std::isfinite(I.pp(i, j))) a[r * n + c] = I.pp(i, j);
    }
    for (std::size_t c = V; c < n; ++c) a[r * n + c] = out[i];
  }
  // Every schedule runs at least min_routes day routes (the month's service needs that many days, and a point
  // needs its visits on distinct days): that many base exits may not stay idle, so at least that many visits are
  // entered from a base and (counting arcs) as many left to one.
  // Days are also spent travelling: with travel >= the bound, at least ceil((service + bound) / longest day)
  // routes; raising the count can raise the bound, so repeat while it grows (a few rounds at most).
  auto routes_for = [&](double travel) { return std::min(V, std::size_t(I.min_days(travel))); };
  std::size_t min_routes = routes_for(0.0), done = 0;
  double bound = 0.0;
  for (int round = 0; round < 4 && min_routes > done; ++round) {
    for (std::size_t r = V; r < n; ++r) {
      for (std::size_t c = 0; c < V; ++c) a[r * n + c] = in[visit_point[c]];
      for (std::size_t c = V; c < n; ++c) a[r * n + c] = r - V < min_routes ? big : 0.0;
    }
    bound = std::max(bound, assignment_cost(a, n, control));
    done = min_routes;
    min_routes = routes_for(bound);
  }
  return bound;
}

/// Radial bound: a route through point i travels at least the shortest round trip from the team's base to i
/// (shortest paths over the matrix itself, so no triangle inequality is assumed), hence at least the largest
/// such round trip among its points; a route holds at most max_per_day visits (the cheapest services that fit the
/// longest day), so over visits sorted by round trip, the 1st, (L+1)-th, (2L+1)-th ... are each some route's
/// largest. Empty when the closure would cost too much (N > 1500).
double radial_bound(const Inst& I) {
  const std::size_t N = std::size_t(I.N);
  if (N > 1500 || I.n == 0) return 0.0;
  std::vector<double> d(I.T, I.T + N * N);
  for (std::size_t a = 0; a < N; ++a) d[a * N + a] = 0.0;
  for (std::size_t m = 0; m < N; ++m) {
    for (std::size_t a = 0; a < N; ++a) {
      const double am = d[a * N + m];
      if (!std::isfinite(am)) continue;
      double* row = d.data() + a * N;
      const double* mrow = d.data() + m * N;
      for (std::size_t b = 0; b < N; ++b) row[b] = std::min(row[b], am + mrow[b]);
    }
  }
  std::vector<double> trips;
  for (std::int32_t i = 0; i < I.n; ++i) {
    double rt = kInf;
    for (std::int32_t k = 0; k < I.K; ++k) {
      if (!I.allowed[k][i]) continue;
      const std::size_t b = std::size_t(I.team[k].base), p = std::size_t(I.node[i]);
      rt = std::min(rt, d[b * N + p] + d[p * N + b]);
    }
    for (std::int32_t c = 0; c < I.f[i]; ++c) trips.push_back(rt);
  }
  std::vector<double> svc(I.svc);
  std::sort(svc.begin(), svc.end());
  std::size_t per_day = 0;
  double used = 0.0;
  while (per_day < svc.size() && used + svc[per_day] <= I.longest_day) used += svc[per_day++];
  per_day = std::max<std::size_t>(per_day, 1);
  std::sort(trips.begin(), trips.end(), std::greater<double>());
  double s = 0.0;
  for (std::size_t j = 0; j < trips.size(); j += per_day) s += trips[j];
  return s;
}

double full_bound(const Inst& I, RunControl* control) {
  const double travel = std::max(travel_bound(I, control), radial_bound(I));
  if (I.n == 0) return 0.0;
  return travel + I.day_cost * I.min_days(travel);
}

// ---- lower bound: column generation on the set-partitioning LP ---------------------------------------------------

/// The rows of the set-partitioning model (the exact MIP and the column generation's LP): link (k, i) for every
/// allowed pair (= 0: Σ_{r∋i} x[k,r] − visits_i y[k,i]), one per point (= 1: Σ_k y[k,i]), one per team (<= days).
struct MasterRows {
  std::vector<std::vector<std::int32_t>> link;  // [team][point] row, -1 when the team cannot serve the point
  std::vector<double> lb, ub;
  std::int32_t point0 = 0, team0 = 0;           // first point row, first team row
  explicit MasterRows(const Inst& I)
      : link(std::size_t(I.K), std::vector<std::int32_t>(std::size_t(I.n), -1)) {
    for (std::int32_t k = 0; k < I.K; ++k) {
      for (std::int32_t i : I.team_points[k]) {
        link[k][i] = std::int32_t(lb.size());
        lb.push_back(0.0);
        ub.push_back(0.0);
      }
    }
    point0 = std::int32_t(lb.size());
    lb.insert(lb.end(), std::size_t(I.n), 1.0);
    ub.insert(ub.end(), std::size_t(I.n), 1.0);
    team0 = std::int32_t(lb.size());
    for (std::int32_t k = 0; k < I.K; ++k) {
      lb.push_back(-kInf);
      ub.push_back(double(I.team[k].days));
    }
  }
};

/// Pricing for one team: the least reduced cost of any day route, over a RELAXATION of the team's day routes, and
/// the routes that reach it (and other negative ones), as columns for the restricted master.
///
/// The relaxation (why the bound stays valid): time is counted in ticks of u = day / B seconds, every arc's and
/// every service's ticks rounded DOWN (times (1 − 1e-9), so floating error can only lower them), and a walk is
/// kept when its ticks are <= floor(day / u) (times (1 + 1e-9)). A real route of duration <= day has
/// Σ floor(a/u) <= floor(Σ a / u) <= floor(day / u), so it is kept: every elementary day route of the team is in
/// the relaxed set. The relaxed set also holds walks that visit a point again after at least two other stops
/// (2-cycles i -> j -> i are excluded; longer cycles are not) — more routes can only LOWER the least reduced cost,
/// so what the DP returns is <= the least reduced cost over the real routes. The DP is exact over the relaxed set
/// (labels per (last point, ticks used), best and second best with different predecessors). Every visit takes at
/// least one tick (u <= the smallest service), so ticks strictly grow along a walk: no zero-time cycles, finite.
class Pricer {
 public:
  /// Best and second-best (different predecessor point) walk cost into (point, ticks), with the predecessor's
  /// point (-1: the base), ticks and which of its two labels.
  struct Label {
    double v[2] = {kInf, kInf};
    std::int32_t pred[2] = {-2, -2}, pt[2] = {0, 0}, pw[2] = {0, 0};
  };

  Pricer(const Inst& I, std::int32_t k, std::int32_t buckets)
      : I_(I), k_(k), P_(I.team_points[k]), u_(I.team[k].day_seconds / double(std::max(buckets, 1))) {
    B_ = std::int32_t(std::floor(I.team[k].day_seconds / u_ * (1.0 + 1e-9)));
    const std::size_t m = P_.size();
    out_.resize(m);
    back_.resize(m);
    svc_.resize(m);
    for (std::size_t a = 0; a < m; ++a) {
      out_[a] = ticks(I.bp(k, P_[a]));
      back_[a] = ticks(I.pb(P_[a], k));
      svc_[a] = ticks(I.svc[P_[a]]);  // >= 1: u <= the smallest service (column_generation chooses the ticks)
    }
  }

  struct Found {
    double rc;
    std::vector<std::int32_t> points;  // visiting order; a point may repeat (non-elementary walk)
  };

  /// prize[a] = dual of team k's link row of point P[a]; fixed = day cost − the team row's dual. Returns the least
  /// reduced cost over the relaxation (+inf without points) and up to `keep` walks of negative reduced cost.
  /// arc and lab are scratch shared by the teams' pricers (one team is priced at a time).
  double price(const std::vector<double>& prize, double fixed, std::size_t keep, std::vector<Found>& found,
               std::vector<std::int32_t>& arc, std::vector<Label>& lab) const {
    const std::size_t m = P_.size();
    if (m == 0) return kInf;
    arc.resize(m * m);
    for (std::size_t a = 0; a < m; ++a) {
      for (std::size_t b = 0; b < m; ++b) arc[a * m + b] = a == b ? kNever : ticks(I_.pp(P_[a], P_[b]));
    }
    lab.assign(m * std::size_t(B_ + 1), Label{});
    const auto at = [&](std::size_t a, std::int32_t t) -> Label& { return lab[a * std::size_t(B_ + 1) + t]; };
    for (std::size_t a = 0; a < m; ++a) {
      const std::int64_t t = std::int64_t(out_[a]) + svc_[a];
      if (t <= B_) insert(at(a, std::int32_t(t)), I_.bp(k_, P_[a]) - prize[a], -1, 0, 0);
    }
    // Best closing per last point (so several distinct routes can be returned).
    std::vector<std::pair<double, std::pair<std::size_t, std::int32_t>>> close(m, {kInf, {0, 0}});
    // Dominance: a label at (a, t) is dominated by the best two labels of point a at EARLIER ticks (with different
    // predecessors) when one of them costs no more and may extend wherever it may (same predecessor, or a second
    // one costing no more covers the excluded step): it reaches every later state no later and no dearer, through
    // the same last point, so skipping it changes no later label's value — the DP stays exact over the relaxation.
    struct Prefix {
      double c1 = kInf, c2 = kInf;
      std::int32_t q1 = -3;
    };
    std::vector<Prefix> prefix(m);
    for (std::int32_t t = 0; t <= B_; ++t) {
      for (std::size_t a = 0; a < m; ++a) {
        const Label& L = at(a, t);
        if (!std::isfinite(L.v[0])) continue;
        Prefix& P = prefix[a];
        bool live[2];
        for (int w = 0; w < 2; ++w) {
          live[w] = std::isfinite(L.v[w]) && !(P.c1 <= L.v[w] && (P.q1 == L.pred[w] || P.c2 <= L.v[w]));
        }
        for (int w = 0; w < 2; ++w) {  // the prefix's best two with different predecessors, this tick included
          if (!std::isfinite(L.v[w])) continue;
          if (L.v[w] < P.c1) {
            if (L.pred[w] != P.q1) P.c2 = P.c1;
            P.c1 = L.v[w];
            P.q1 = L.pred[w];
          } else if (L.v[w] < P.c2 && L.pred[w] != P.q1) {
            P.c2 = L.v[w];
          }
        }
        if (!live[0] && !live[1]) continue;
        if (live[0] && std::int64_t(t) + back_[a] <= B_) {
          const double c = L.v[0] + I_.pb(P_[a], k_);
          if (c < close[a].first) close[a] = {c, {a, t}};
        }
        const std::int32_t* arcs = arc.data() + a * m;
        for (std::size_t b = 0; b < m; ++b) {
          const std::int64_t t2 = std::int64_t(t) + arcs[b] + svc_[b];
          if (t2 > B_) continue;
          const int w = L.pred[0] == std::int32_t(b) ? 1 : 0;  // no 2-cycle b -> a -> b
          if (!live[w]) continue;
          insert(at(b, std::int32_t(t2)), L.v[w] + I_.pp(P_[a], P_[b]) - prize[b], std::int32_t(a), t, w);
        }
      }
    }
    std::sort(close.begin(), close.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    const double best = close.front().first + fixed;
    for (std::size_t c = 0; c < close.size() && found.size() < keep; ++c) {
      if (!(close[c].first + fixed < -1e-9 * std::max(1.0, std::abs(fixed)))) break;
      Found f{close[c].first + fixed, {}};
      std::int32_t a = std::int32_t(close[c].second.first), t = close[c].second.second, w = 0;
      while (a >= 0) {
        f.points.push_back(P_[std::size_t(a)]);
        const Label& L = at(std::size_t(a), t);
        const std::int32_t pa = L.pred[w], pt = L.pt[w], pw = L.pw[w];
        a = pa;
        t = pt;
        w = pw;
      }
      std::reverse(f.points.begin(), f.points.end());
      found.push_back(std::move(f));
    }
    return best;
  }

 private:
  static constexpr std::int32_t kNever = std::numeric_limits<std::int32_t>::max() / 4;  // no arc (t + 2 kNever fits)
  std::int32_t ticks(double s) const {
    return std::isfinite(s) ? std::int32_t(std::min(std::floor(s / u_ * (1.0 - 1e-9)), double(kNever))) : kNever;
  }
  static void insert(Label& L, double c, std::int32_t p, std::int32_t pt, std::int32_t pw) {
    if (c < L.v[0]) {
      if (L.pred[0] != p) {
        L.v[1] = L.v[0];
        L.pred[1] = L.pred[0];
        L.pt[1] = L.pt[0];
        L.pw[1] = L.pw[0];
      }
      L.v[0] = c;
      L.pred[0] = p;
      L.pt[0] = pt;
      L.pw[0] = pw;
    } else if (c < L.v[1] && p != L.pred[0]) {
      L.v[1] = c;
      L.pred[1] = p;
      L.pt[1] = pt;
      L.pw[1] = pw;
    }
  }
  const Inst& I_;
  std::int32_t k_, B_ = 0;
  const std::vector<std::int32_t>& P_;
  double u_;
  std::vector<std::int32_t> out_, back_, svc_;
};

struct LpBound {
  double value = -kInf;  // best Lagrangian bound found (-inf: not run)
  bool converged = false;
  std::int32_t iterations = 0;
};

/// The set-partitioning LP of the exact model (its integrality and symmetry rows dropped) solved by column
/// generation, starting from `start` routes (e.g. the heuristic's) and every single-point route.
///
/// Validity at EVERY iteration, converged or not (Lagrangian / Farley bound): for row duals u of the restricted
/// master — link rows π[k,i] (= 0 rows), point rows μ[i] (= 1), team rows σ[k] <= 0 (Σ_r x[k,r] <= days[k]; clamped
/// to <= 0 here) — any feasible schedule (x, y) of the real problem has
///   cost = Σ rc_j x_j + u·(A x) >= Σ_i μ_i + Σ_k σ_k days_k + Σ_{k,i} min(0, rc(y[k,i])) + Σ_k days_k min(0, rc*_k)
/// because A x = b on equality rows, σ_k <= 0 with Σ_r x[k,r] <= days_k, 0 <= y <= 1, and every route column's
/// reduced cost is >= rc*_k, a LOWER bound on team k's least reduced cost (the pricing relaxation, see Pricer).
/// Reduced costs are recomputed here from u, so the bound does not depend on CLP's optimality or tolerances.
/// Artificial columns (one per point row, cost M) keep the master feasible from the start; they are not columns of
/// the real problem, so they play no part in the bound. Stops when no negative column remains (then the bound is
/// the LP optimum over the relaxed columns), at `seconds` or when the bound reaches `ceiling` (nothing to prove).
/// Runs in the calling process: column_generation runs it in a child.
LpBound column_generation_here(const Inst& I, const Plan* start, double seconds, double ceiling,
                               RunControl* control) {
  LpBound out;
  if (I.n == 0 || !(seconds > 0)) return out;
  const Clock::time_point t0 = Clock::now();
  // Ticks: at least one per visit (u <= the smallest service of a point the team can serve), and a DP of about
  // 2e7 arc steps per team and pricing round before dominance. Finer ticks tighten the bound (200 points x 20 teams
  // of benchmarks/outreach.py: 100 ticks a day 45.3 h, 500 ticks 48.9 h, 2500 ticks 49.5 h at 2.4x the time).
  std::vector<std::int32_t> buckets(std::size_t(I.K), 0);
  for (std::int32_t k = 0; k < I.K; ++k) {
    const std::size_t m = I.team_points[k].size();
    if (m == 0 || I.team[k].days == 0) continue;
    double smallest = kInf;
    for (std::int32_t i : I.team_points[k]) smallest = std::min(smallest, I.svc[i]);
    // B >= need makes u = day / B < the smallest service by a margin, so every visit's ticks are >= 1.
    const double need = smallest > 0 ? std::floor(I.team[k].day_seconds / smallest * (1.0 + 1e-6)) + 1.0 : kInf;
    if (!(need <= 20000)) return out;  // services of ~nothing: the tick DP would be too fine; keep the old bound
    const double target = std::clamp(2e7 / double(m * m), 32.0, 2000.0);
    buckets[k] = std::int32_t(std::max(need, target));
  }
  std::vector<Pricer> pricers;
  for (std::int32_t k = 0; k < I.K; ++k) pricers.emplace_back(I, k, std::max(buckets[k], 1));

  MasterRows rows(I);
  const auto& link = rows.link;
  std::vector<double>&rowlb = rows.lb, &rowub = rows.ub;
  const std::int32_t point_row0 = rows.point0, team_row0 = rows.team0;
  // Columns in CSC form: y[k,i], artificials, then routes (added as found).
  struct Cols {
    std::vector<double> lb, ub, obj;
    std::vector<CoinBigIndex> start{0};
    std::vector<int> index;
    std::vector<double> value;
    void clear() {
      lb.clear();
      ub.clear();
      obj.clear();
      start.assign(1, 0);
      index.clear();
      value.clear();
    }
  } cols;
  double M = 1.0;
  for (std::int32_t i = 0; i < I.n; ++i) {
    double worst = 0.0;
    for (std::int32_t k = 0; k < I.K; ++k) {
      if (I.allowed[k][i]) worst = std::max(worst, I.bp(k, i) + I.pb(i, k));
    }
    M += I.f[i] * (worst + I.day_cost);
  }
  for (std::int32_t k = 0; k < I.K; ++k) {
    for (std::int32_t i : I.team_points[k]) {
      cols.index.insert(cols.index.end(), {link[k][i], point_row0 + i});
      cols.value.insert(cols.value.end(), {-double(I.f[i]), 1.0});
      cols.start.push_back(CoinBigIndex(cols.index.size()));
      cols.lb.push_back(0.0);
      cols.ub.push_back(1.0);
      cols.obj.push_back(0.0);
    }
  }
  for (std::int32_t i = 0; i < I.n; ++i) {
    cols.index.push_back(point_row0 + i);
    cols.value.push_back(1.0);
    cols.start.push_back(CoinBigIndex(cols.index.size()));
    cols.lb.push_back(0.0);
    cols.ub.push_back(kInf);
    cols.obj.push_back(M);
  }
  auto add_route = [&](std::int32_t k, const std::vector<std::int32_t>& pts) {
    std::map<std::int32_t, int> times;
    for (std::int32_t i : pts) ++times[i];
    for (const auto& [i, c] : times) {
      cols.index.push_back(link[k][i]);
      cols.value.push_back(double(c));
    }
    cols.index.push_back(team_row0 + k);
    cols.value.push_back(1.0);
    cols.start.push_back(CoinBigIndex(cols.index.size()));
    cols.lb.push_back(0.0);
    cols.ub.push_back(kInf);
    cols.obj.push_back(I.travel(k, pts) + I.day_cost);
  };
  for (std::int32_t k = 0; k < I.K; ++k) {
    if (I.team[k].days == 0) continue;
    for (std::int32_t i : I.team_points[k]) add_route(k, {i});
    if (start) {
      for (const auto& r : (*start)[k]) add_route(k, r);
    }
  }

  throw_if_cancelled(control);
  ClpSimplex lp;
  lp.setLogLevel(0);
  lp.loadProblem(int(cols.lb.size()), int(rowlb.size()), cols.start.data(), cols.index.data(), cols.value.data(),
                 cols.lb.data(), cols.ub.data(), cols.obj.data(), rowlb.data(), rowub.data());
  cols.clear();
  const Clock::time_point deadline = cbc::saturated_deadline(t0, seconds);
  cbc::ClpStop stop(control, deadline);
  lp.passInEventHandler(&stop);
  std::vector<double> prize;
  std::vector<Pricer::Found> found;
  std::vector<std::int32_t> arc_scratch;
  std::vector<Pricer::Label> label_scratch;
  for (bool first = true;; first = false) {
    first ? lp.dual() : lp.primal(1);  // after adding columns the basis stays primal feasible: primal warm start
    throw_if_cancelled(control);
    if (!lp.isProvenOptimal()) break;  // stopped at the deadline (or numerically stuck): keep the best bound so far
    ++out.iterations;
    const double* u = lp.dualRowSolution();
    double bound = 0.0;
    for (std::int32_t i = 0; i < I.n; ++i) bound += u[point_row0 + i];
    double least = 0.0;
    bool whole_round = true;
    for (std::int32_t k = 0; k < I.K; ++k) {
      throw_if_cancelled(control);
      if (Clock::now() > deadline) {  // a round cut short proves nothing: every team's pricing is part of the bound
        whole_round = false;
        break;
      }
      const double sigma = std::min(0.0, u[team_row0 + k]);
      bound += sigma * I.team[k].days;
      const std::vector<std::int32_t>& P = I.team_points[k];
      prize.assign(P.size(), 0.0);
      for (std::size_t a = 0; a < P.size(); ++a) {
        const std::int32_t i = P[a];
        prize[a] = u[link[k][i]];
        bound += std::min(0.0, I.f[i] * prize[a] - u[point_row0 + i]);  // y[k,i] in [0, 1]
      }
      if (I.team[k].days == 0 || P.empty()) continue;
      found.clear();
      const double rc = pricers[std::size_t(k)].price(prize, I.day_cost - sigma, 24, found, arc_scratch,
                                                      label_scratch);
      bound += I.team[k].days * std::min(0.0, rc);
      least = std::min(least, rc);
      for (const Pricer::Found& f : found) add_route(k, f.points);
    }
    if (!whole_round) break;
    out.value = std::max(out.value, bound);
    const double scale = std::max(1.0, std::abs(lp.objectiveValue()));
    if (least >= -1e-7 * scale || cols.lb.empty()) {
      out.converged = true;
      break;
    }
    if (out.value >= ceiling - 1e-9 * scale || Clock::now() > deadline) break;
    lp.addColumns(int(cols.lb.size()), cols.lb.data(), cols.ub.data(), cols.obj.data(), cols.start.data(),
                  cols.index.data(), cols.value.data());
    cols.clear();
    report_progress(control, std::min(0.99, seconds_since(t0) / seconds));
  }
  return out;
}

// ---- exact: route enumeration + MIP -----------------------------------------------------------------------------

struct TooManyRoutes {
  std::string why;
};

struct Column {
  std::int32_t team;
  std::vector<std::int32_t> points;  // ascending
  double travel;
};

/// Every feasible day route of every team (a set of its points with its cheapest order's travel). Held–Karp over
/// subsets, level by level, keeping only states within the day's hours.
std::vector<Column> enumerate_routes(const Inst& I, std::int64_t cap, RunControl* control) {
  std::vector<Column> cols;
  for (std::int32_t k = 0; k < I.K; ++k) {
    const std::vector<std::int32_t>& P = I.team_points[k];
    const std::size_t m = P.size();
    if (m == 0) continue;
    if (m > 63) {
      throw TooManyRoutes{"team " + std::to_string(k) + " could serve " + std::to_string(m) +
                          " points (the exact solver handles up to 63 per team)"};
    }
    const double day = I.team[k].day_seconds;
    // dp over (mask, last): travel from base through mask's points ending at last; service added separately.
    std::unordered_map<std::uint64_t, std::vector<double>> level, next;
    std::unordered_map<std::uint64_t, double> svc_of;
    for (std::size_t a = 0; a < m; ++a) {
      std::vector<double> d(m, kInf);
      d[a] = I.bp(k, P[a]);
      level.emplace(std::uint64_t(1) << a, std::move(d));
    }
    while (!level.empty()) {
      throw_if_cancelled(control);
      // Sorted masks: the column order (and so CBC's answer) does not depend on hash order.
      std::vector<std::uint64_t> masks;
      masks.reserve(level.size());
      for (const auto& kv : level) masks.push_back(kv.first);
      std::sort(masks.begin(), masks.end());
      next.clear();
      for (std::uint64_t mask : masks) {
        const std::vector<double>& d = level[mask];
        double svc = 0.0;
        for (std::size_t a = 0; a < m; ++a) {
          if (mask >> a & 1) svc += I.svc[P[a]];
        }
        double best = kInf;
        for (std::size_t a = 0; a < m; ++a) {
          if (std::isfinite(d[a])) best = std::min(best, d[a] + I.pb(P[a], k));
        }
        if (best + svc <= day) {
          Column c{k, {}, best};
          for (std::size_t a = 0; a < m; ++a) {
            if (mask >> a & 1) c.points.push_back(P[a]);
          }
          cols.push_back(std::move(c));
          if (std::int64_t(cols.size()) > cap) {
            throw TooManyRoutes{"more than " + std::to_string(cap) + " feasible day routes"};
          }
        }
        for (std::size_t a = 0; a < m; ++a) {
          if (!std::isfinite(d[a])) continue;
          for (std::size_t b = 0; b < m; ++b) {
            if (mask >> b & 1) continue;
            const double v = d[a] + I.pp(P[a], P[b]);
            if (!(v + svc + I.svc[P[b]] <= day)) continue;  // times are >= 0: no extension can fit either
            const std::uint64_t nm = mask | (std::uint64_t(1) << b);
            auto it = next.find(nm);
            if (it == next.end()) it = next.emplace(nm, std::vector<double>(m, kInf)).first;
            it->second[b] = std::min(it->second[b], v);
          }
        }
      }
      level.swap(next);
    }
  }
  return cols;
}

/// The cheapest order of team k's route through `pts` (Held–Karp with parents; routes are short).
std::vector<std::int32_t> best_order(const Inst& I, std::int32_t k, const std::vector<std::int32_t>& pts) {
  const std::size_t m = pts.size();
  if (m <= 1) return pts;
  const std::size_t S = std::size_t(1) << m;
  std::vector<double> d(S * m, kInf);
  std::vector<std::int32_t> par(S * m, -1);
  for (std::size_t a = 0; a < m; ++a) d[(std::size_t(1) << a) * m + a] = I.bp(k, pts[a]);
  for (std::size_t mask = 1; mask < S; ++mask) {
    for (std::size_t a = 0; a < m; ++a) {
      const double v = d[mask * m + a];
      if (!(mask >> a & 1) || !std::isfinite(v)) continue;
      for (std::size_t b = 0; b < m; ++b) {
        if (mask >> b & 1) continue;
        const std::size_t nm = mask | (std::size_t(1) << b);
        const double w = v + I.pp(pts[a], pts[b]);
        if (w < d[nm * m + b]) {
          d[nm * m + b] = w;
          par[nm * m + b] = std::int32_t(a);
        }
      }
    }
  }
  std::size_t last = 0;
  double best = kInf;
  for (std::size_t a = 0; a < m; ++a) {
    const double v = d[(S - 1) * m + a] + I.pb(pts[a], k);
    if (v < best) {
      best = v;
      last = a;
    }
  }
  std::vector<std::int32_t> order;
  std::size_t mask = S - 1;
  std::int32_t a = std::int32_t(last);
  while (a >= 0) {
    order.push_back(pts[std::size_t(a)]);
    const std::int32_t pa = par[mask * m + std::size_t(a)];
    mask &= ~(std::size_t(1) << a);
    a = pa;
  }
  std::reverse(order.begin(), order.end());
  return order;
}

/// column_generation_here in a child process of its own (cbc::run_isolated_once: an assertion inside CLP ends the
/// child, not the caller), killed at `seconds` + cbc::hard_limit_grace or at once when the run is cancelled (then
/// Cancelled is thrown). A child that died or was killed gives no bound (value -inf, as when not run). The child's
/// progress reports stay in the child, so while it runs this process reports the same estimate (the elapsed share of
/// `seconds`) to the caller's control.
LpBound column_generation(const Inst& I, const Plan* start, double seconds, double ceiling, RunControl* control) {
  std::lock_guard<std::mutex> lock(cbc::cbc_mutex());  // held in this process; the child uses CLP alone
  throw_if_cancelled(control);
  const cbc::Isolated run = cbc::run_isolated_once(
      [&] {
        cbc::ByteWriter w;
        w.put(column_generation_here(I, start, seconds, ceiling, control));
        return std::move(w.bytes);
      },
      control, cbc::saturated_deadline(Clock::now(), seconds + cbc::hard_limit_grace(seconds)), seconds);
  throw_if_cancelled(control);
  if (run.end == cbc::Isolated::End::kCancelled) throw Cancelled();
  LpBound out;
  if (run.end == cbc::Isolated::End::kFinished || run.end == cbc::Isolated::End::kInProcess) {
    cbc::ByteReader r{run.output};
    r.get(out);
  }
  return out;
}

struct MipAnswer {
  bool has_solution = false, proven_optimal = false, infeasible = false;
  double bound = 0.0;
  std::string failure;  // CBC died in both attempts (cbc::solve_mip): nothing else is set
  Plan plan;
};

MipAnswer solve_mip(const Inst& I, const std::vector<Column>& cols, double time_limit, RunControl* control) {
  MasterRows rows(I);
  const auto& link = rows.link;
  std::vector<double>&rowlb = rows.lb, &rowub = rows.ub;
  const std::int32_t point_row0 = rows.point0, team_row0 = rows.team0;
  // Identical teams (same base, days and day) make many equal optima that branch and bound would all visit. Valid
  // symmetry breaking: number identical teams by their lowest-index point (empty teams last), i.e. for the next
  // identical team k2 of k: y[k2,i] <= Σ_{j<i} y[k,j] (if k2 serves i, k serves some lower point).
  std::vector<std::int32_t> twin_of(std::size_t(I.K), -1), twin_row0(std::size_t(I.K), -1);
  for (std::int32_t k = 0; k < I.K; ++k) {
    for (std::int32_t k2 = k + 1; k2 < I.K; ++k2) {
      const OutreachTeam &a = I.team[k], &b = I.team[k2];
      if (a.base == b.base && a.days == b.days && a.day_seconds == b.day_seconds) {
        twin_of[k] = k2;
        break;
      }
    }
    if (twin_of[k] < 0) continue;
    twin_row0[k] = std::int32_t(rowlb.size());
    for (std::int32_t i = 0; i < I.n; ++i) {
      rowlb.push_back(-kInf);
      rowub.push_back(0.0);
    }
  }
  std::vector<double> collb, colub, obj;
  std::vector<CoinBigIndex> start{0};
  std::vector<int> index;
  std::vector<double> value;
  for (const Column& c : cols) {
    std::int32_t ub = I.team[c.team].days;
    for (std::int32_t i : c.points) {
      ub = std::min(ub, I.f[i]);
      index.push_back(link[c.team][i]);
      value.push_back(1.0);
    }
    index.push_back(team_row0 + c.team);
    value.push_back(1.0);
    start.push_back(CoinBigIndex(index.size()));
    collb.push_back(0.0);
    colub.push_back(double(ub));
    obj.push_back(c.travel + I.day_cost);
  }
  const std::size_t n_x = cols.size();
  std::vector<std::pair<std::int32_t, std::int32_t>> ycol;
  for (std::int32_t k = 0; k < I.K; ++k) {
    for (std::int32_t i : I.team_points[k]) {
      index.push_back(link[k][i]);
      value.push_back(-double(I.f[i]));
      index.push_back(point_row0 + i);
      value.push_back(1.0);
      for (std::int32_t k0 = 0; k0 < I.K; ++k0) {  // y[k,i] as the later twin of k0
        if (twin_of[k0] == k) {
          index.push_back(twin_row0[k0] + i);
          value.push_back(1.0);
        }
      }
      if (twin_of[k] >= 0) {  // y[k,i] as the earlier twin: a lower point for every later one
        for (std::int32_t i2 = i + 1; i2 < I.n; ++i2) {
          index.push_back(twin_row0[k] + i2);
          value.push_back(-1.0);
        }
      }
      start.push_back(CoinBigIndex(index.size()));
      collb.push_back(0.0);
      colub.push_back(1.0);
      obj.push_back(0.0);
      ycol.emplace_back(k, i);
    }
  }
  MipAnswer ans;
  throw_if_cancelled(control);
  cbc::Mip m;  // every column integer, minimised; solved in a child process (cbc::solve_mip)
  m.collb = std::move(collb), m.colub = std::move(colub), m.obj = std::move(obj);
  m.integer.assign(m.collb.size(), 1);
  m.start = std::move(start), m.index = std::move(index), m.value = std::move(value);
  m.rowlb = std::move(rowlb), m.rowub = std::move(rowub);
  const cbc::MipResult r = cbc::solve_mip(m, false, false, time_limit, 0.0, control);
  ans.failure = r.failure;
  ans.proven_optimal = r.proven_optimal;
  ans.infeasible = r.proven_infeasible;
  ans.bound = r.bound;
  const double* sol = r.has_solution ? r.x.data() : nullptr;
  if (!ans.infeasible && sol) {
    ans.has_solution = true;
    ans.plan.assign(std::size_t(I.K), {});
    for (std::size_t j = 0; j < n_x; ++j) {
      const long times = std::lround(sol[j]);
      for (long c = 0; c < times; ++c) ans.plan[cols[j].team].push_back(cols[j].points);
    }
  }
  return ans;
}

// ---- heuristic ---------------------------------------------------------------------------------------------------

struct TeamPlan {
  std::vector<std::vector<std::int32_t>> routes;
  double cost = 0.0;          // travel + day cost
  std::int32_t overload = 0;  // routes beyond the team's days
};

class TeamSolver {
 public:
  TeamSolver(const Inst& I, bool improve) : I_(I), improve_(improve) {}

  TeamPlan solve(std::int32_t k, const std::vector<std::int32_t>& pts) const {
    TeamPlan tp;
    if (!pts.empty()) {
      std::vector<std::vector<std::int32_t>> routes = savings(k, pts);
      if (improve_) improve(k, routes);
      eliminate(k, routes);
      if (improve_) improve(k, routes);
      tp.routes = std::move(routes);
    }
    for (const auto& r : tp.routes) tp.cost += I_.travel(k, r) + I_.day_cost;
    tp.overload = std::max<std::int32_t>(0, std::int32_t(tp.routes.size()) - I_.team[k].days);
    return tp;
  }

 private:
  bool fits(std::int32_t k, const std::vector<std::int32_t>& r) const {
    return I_.travel(k, r) + I_.service(r) <= I_.team[k].day_seconds;
  }
  static bool contains(const std::vector<std::int32_t>& r, std::int32_t i) {
    return std::find(r.begin(), r.end(), i) != r.end();
  }

  /// Clarke–Wright over visits: every visit alone, then merge tail(A) -> head(B) by decreasing saving while the
  /// day fits and no point would be visited twice in one day.
  std::vector<std::vector<std::int32_t>> savings(std::int32_t k, const std::vector<std::int32_t>& pts) const {
    std::vector<std::vector<std::int32_t>> routes;
    for (std::int32_t i : pts) {
      for (std::int32_t c = 0; c < I_.f[i]; ++c) routes.push_back({i});
    }
    struct Saving {
      double s;
      std::int32_t i, j;
    };
    std::vector<Saving> sv;
    for (std::int32_t i : pts) {
      for (std::int32_t j : pts) {
        if (i == j) continue;
        const double s = I_.pb(i, k) + I_.bp(k, j) - I_.pp(i, j);
        if (std::isfinite(s) && s >= 0) sv.push_back({s, i, j});
      }
    }
    std::stable_sort(sv.begin(), sv.end(), [](const Saving& a, const Saving& b) { return a.s > b.s; });
    std::vector<char> alive(routes.size(), 1);
    for (const Saving& s : sv) {
      bool merged = true;
      while (merged) {
        merged = false;
        for (std::size_t a = 0; a < routes.size() && !merged; ++a) {
          if (!alive[a] || routes[a].back() != s.i) continue;
          for (std::size_t b = 0; b < routes.size() && !merged; ++b) {
            if (b == a || !alive[b] || routes[b].front() != s.j) continue;
            bool clash = false;
            for (std::int32_t x : routes[b]) clash = clash || contains(routes[a], x);
            if (clash) continue;
            std::vector<std::int32_t> m = routes[a];
            m.insert(m.end(), routes[b].begin(), routes[b].end());
            if (!fits(k, m)) continue;
            routes[a] = std::move(m);
            alive[b] = 0;
            merged = true;
          }
        }
      }
    }
    std::vector<std::vector<std::int32_t>> out;
    for (std::size_t a = 0; a < routes.size(); ++a) {
      if (alive[a]) out.push_back(std::move(routes[a]));
    }
    return out;
  }

  /// 2-opt inside routes and or-opt (segments of 1..3 visits) within and between routes, first improvement.
  void improve(std::int32_t k, std::vector<std::vector<std::int32_t>>& routes) const {
    bool better = true;
    int passes = 0;
    while (better && passes++ < 100) {
      better = false;
      for (auto& r : routes) {
        double cur = I_.travel(k, r);
        for (std::size_t a = 0; a + 1 < r.size(); ++a) {
          for (std::size_t b = a + 1; b < r.size(); ++b) {
            std::reverse(r.begin() + long(a), r.begin() + long(b) + 1);
            const double t = I_.travel(k, r);
            if (t < cur - kEps) {
              cur = t;
              better = true;
            } else {
              std::reverse(r.begin() + long(a), r.begin() + long(b) + 1);
            }
          }
        }
      }
      for (std::size_t A = 0; A < routes.size(); ++A) {
        for (std::size_t len = 1; len <= 3; ++len) {
          for (std::size_t p = 0; p + len <= routes[A].size(); ++p) {
            if (try_move(k, routes, A, p, len)) better = true;
          }
        }
      }
      routes.erase(std::remove_if(routes.begin(), routes.end(), [](const auto& r) { return r.empty(); }),
                   routes.end());
    }
  }

  /// Moves routes[A][p, p+len) to its best place (any route, any position) if that lowers travel + day cost.
  bool try_move(std::int32_t k, std::vector<std::vector<std::int32_t>>& routes, std::size_t A, std::size_t p,
                std::size_t len) const {
    if (p + len > routes[A].size()) return false;
    std::vector<std::int32_t> seg(routes[A].begin() + long(p), routes[A].begin() + long(p + len));
    std::vector<std::int32_t> restA = routes[A];
    restA.erase(restA.begin() + long(p), restA.begin() + long(p + len));
    const double oldA = I_.travel(k, routes[A]);
    const double newA = I_.travel(k, restA) - (restA.empty() ? I_.day_cost : 0.0);
    double best_delta = -kEps;
    std::size_t best_B = 0, best_q = 0;
    bool found = false;
    for (std::size_t B = 0; B < routes.size(); ++B) {
      const std::vector<std::int32_t>& base = B == A ? restA : routes[B];
      if (B != A) {
        bool clash = false;
        for (std::int32_t x : seg) clash = clash || contains(base, x);
        if (clash) continue;
      }
      const double oldB = B == A ? 0.0 : I_.travel(k, routes[B]);
      for (std::size_t q = 0; q <= base.size(); ++q) {
        if (B == A && q == p) continue;
        std::vector<std::int32_t> nb = base;
        nb.insert(nb.begin() + long(q), seg.begin(), seg.end());
        if (!fits(k, nb)) continue;
        const double delta = B == A ? I_.travel(k, nb) - oldA : (newA - oldA) + (I_.travel(k, nb) - oldB);
        if (delta < best_delta) {
          best_delta = delta;
          best_B = B;
          best_q = q;
          found = true;
        }
      }
    }
    if (!found) return false;
    if (best_B == A) {
      restA.insert(restA.begin() + long(best_q), seg.begin(), seg.end());
      routes[A] = std::move(restA);
    } else {
      routes[best_B].insert(routes[best_B].begin() + long(best_q), seg.begin(), seg.end());
      routes[A] = std::move(restA);
    }
    return true;
  }

  /// While the team has more routes than days: empty the route whose visits fit elsewhere at least extra travel.
  void eliminate(std::int32_t k, std::vector<std::vector<std::int32_t>>& routes) const {
    while (std::int32_t(routes.size()) > I_.team[k].days) {
      double best_extra = kInf;
      std::vector<std::vector<std::int32_t>> best;
      for (std::size_t A = 0; A < routes.size(); ++A) {
        std::vector<std::vector<std::int32_t>> trial;
        for (std::size_t B = 0; B < routes.size(); ++B) {
          if (B != A) trial.push_back(routes[B]);
        }
        double extra = -I_.travel(k, routes[A]);
        bool ok = true;
        for (std::int32_t x : routes[A]) {
          double bd = kInf;
          std::size_t bB = 0, bq = 0;
          for (std::size_t B = 0; B < trial.size(); ++B) {
            if (contains(trial[B], x)) continue;
            const double old = I_.travel(k, trial[B]);
            for (std::size_t q = 0; q <= trial[B].size(); ++q) {
              std::vector<std::int32_t> nb = trial[B];
              nb.insert(nb.begin() + long(q), x);
              if (!fits(k, nb)) continue;
              const double d = I_.travel(k, nb) - old;
              if (d < bd) {
                bd = d;
                bB = B;
                bq = q;
              }
            }
          }
          if (!std::isfinite(bd)) {
            ok = false;
            break;
          }
          trial[bB].insert(trial[bB].begin() + long(bq), x);
          extra += bd;
        }
        if (ok && extra < best_extra) {
          best_extra = extra;
          best = std::move(trial);
        }
      }
      if (!std::isfinite(best_extra)) return;
      routes = std::move(best);
    }
  }

  const Inst& I_;
  bool improve_;
};

Plan heuristic(const Inst& I, const OutreachOptions& opt, Clock::time_point t0, bool& stopped,
               RunControl* control) {
  TeamSolver solver(I, opt.local_search);
  std::vector<std::int32_t> team_of(std::size_t(I.n), -1);
  for (std::int32_t i = 0; i < I.n; ++i) {
    double best = kInf;
    for (std::int32_t k = 0; k < I.K; ++k) {
      if (!I.allowed[k][i]) continue;
      const double trip = I.bp(k, i) + I.pb(i, k);
      if (trip < best) {
        best = trip;
        team_of[i] = k;
      }
    }
  }
  auto members = [&](std::int32_t k) {
    std::vector<std::int32_t> v;
    for (std::int32_t i = 0; i < I.n; ++i) {
      if (team_of[i] == k) v.push_back(i);
    }
    return v;
  };
  std::vector<TeamPlan> tp(std::size_t(I.K));
  {
    ProgressSpan span(control, 0.0, 0.3, "construction");
    for (std::int32_t k = 0; k < I.K; ++k) {
      throw_if_cancelled(control);
      tp[k] = solver.solve(k, members(k));
      report_progress(control, double(k + 1) / double(I.K));
    }
  }
  // Repair: move points out of teams with more routes than days, least extra cost first.
  auto total_overload = [&] {
    std::int32_t s = 0;
    for (const TeamPlan& p : tp) s += p.overload;
    return s;
  };
  while (total_overload() > 0) {
    throw_if_cancelled(control);
    double best_cost = kInf;
    std::int32_t best_gain = 0, bi = -1, bk = -1;
    TeamPlan best_a, best_b;
    for (std::int32_t a = 0; a < I.K; ++a) {
      if (tp[a].overload == 0) continue;
      for (std::int32_t i : members(a)) {
        for (std::int32_t b = 0; b < I.K; ++b) {
          if (b == a || !I.allowed[b][i]) continue;
          std::vector<std::int32_t> ma = members(a), mb = members(b);
          ma.erase(std::find(ma.begin(), ma.end(), i));
          mb.insert(std::lower_bound(mb.begin(), mb.end(), i), i);
          TeamPlan na = solver.solve(a, ma), nb = solver.solve(b, mb);
          const std::int32_t gain = tp[a].overload + tp[b].overload - na.overload - nb.overload;
          const double extra = na.cost + nb.cost - tp[a].cost - tp[b].cost;
          if (gain > 0 && (gain > best_gain || (gain == best_gain && extra < best_cost))) {
            best_gain = gain;
            best_cost = extra;
            bi = i;
            bk = b;
            best_a = std::move(na);
            best_b = std::move(nb);
          }
        }
      }
      if (bi >= 0) {
        team_of[bi] = bk;
        tp[a] = std::move(best_a);
        tp[bk] = std::move(best_b);
        break;
      }
    }
    if (bi < 0) {
      for (std::int32_t a = 0; a < I.K; ++a) {
        if (tp[a].overload > 0) {
          fail("outreach: no schedule found within team " + std::to_string(a) + "'s " +
               std::to_string(I.team[a].days) + " working days (its points need " +
               std::to_string(tp[a].routes.size()) + " day routes and no other team can take enough of them); "
               "add working days or teams, lengthen the day, lower the visit frequency or choose fewer points");
        }
      }
    }
  }
  // Improvement between teams: relocate a point, or swap two points, when the total objective drops.
  if (opt.local_search) {
    ProgressSpan span(control, 0.3, 0.7, "improvement");
    bool better = true;
    int pass = 0;
    while (better && !stopped) {
      better = false;
      ++pass;
      for (std::int32_t i = 0; i < I.n && !stopped; ++i) {
        throw_if_cancelled(control);
        if (seconds_since(t0) > opt.time_limit_s) {
          stopped = true;
          break;
        }
        const std::int32_t a = team_of[i];
        std::vector<std::int32_t> ma = members(a);
        ma.erase(std::find(ma.begin(), ma.end(), i));
        TeamPlan na = solver.solve(a, ma);
        for (std::int32_t b = 0; b < I.K; ++b) {
          if (b == a || !I.allowed[b][i]) continue;
          std::vector<std::int32_t> mb = members(b);
          mb.insert(std::lower_bound(mb.begin(), mb.end(), i), i);
          TeamPlan nb = solver.solve(b, mb);
          if (na.overload + nb.overload == 0 &&
              na.cost + nb.cost < tp[a].cost + tp[b].cost - kEps * std::max(1.0, tp[a].cost + tp[b].cost)) {
            team_of[i] = b;
            tp[a] = std::move(na);
            tp[b] = std::move(nb);
            better = true;
            break;
          }
        }
        if (team_of[i] != a) continue;
        // Swap with the points of other teams nearest to i (a few: the rest rarely pay off).
        std::vector<std::pair<double, std::int32_t>> near;
        for (std::int32_t j = 0; j < I.n; ++j) {
          if (team_of[j] != a && I.allowed[a][j] && I.allowed[team_of[j]][i]) near.emplace_back(I.pp(i, j), j);
        }
        std::sort(near.begin(), near.end());
        if (near.size() > 5) near.resize(5);
        for (const auto& [dist, j] : near) {
          (void)dist;
          const std::int32_t b = team_of[j];
          std::vector<std::int32_t> sa = members(a), sb = members(b);
          std::replace(sa.begin(), sa.end(), i, j);
          std::replace(sb.begin(), sb.end(), j, i);
          std::sort(sa.begin(), sa.end());
          std::sort(sb.begin(), sb.end());
          TeamPlan xa = solver.solve(a, sa), xb = solver.solve(b, sb);
          if (xa.overload + xb.overload == 0 &&
              xa.cost + xb.cost < tp[a].cost + tp[b].cost - kEps * std::max(1.0, tp[a].cost + tp[b].cost)) {
            team_of[i] = b;
            team_of[j] = a;
            tp[a] = std::move(xa);
            tp[b] = std::move(xb);
            better = true;
            break;
          }
        }
        report_progress(control, std::min(0.99, (pass - 1 + double(i + 1) / double(I.n)) / 3.0));
      }
    }
  }
  Plan plan(std::size_t(I.K));
  for (std::int32_t k = 0; k < I.K; ++k) plan[k] = tp[k].routes;
  return plan;
}

double gap_of(double objective, double bound) {
  if (objective == 0.0 && bound == 0.0) return 0.0;
  return std::max(0.0, (objective - bound) / std::max(std::abs(objective), 1e-9));
}

}  // namespace

double outreach_lower_bound(const OutreachProblem& problem, RunControl* control) {
  ProgressSpan span(control, 0.0, 1.0, "bound");
  return full_bound(check(problem), control);
}

OutreachLpBound outreach_lp_bound(const OutreachProblem& problem, double seconds, RunControl* control) {
  if (!(seconds > 0)) fail("seconds = " + num(seconds) + " must be > 0 (the column generation's time budget)");
  ProgressSpan span(control, 0.0, 1.0, "bound");
  const LpBound lp = column_generation(check(problem), nullptr, seconds, kInf, control);
  return {lp.value, lp.converged, lp.iterations};
}

OutreachSchedule plan_outreach(const OutreachProblem& problem, const OutreachOptions& options,
                               RunControl* control) {
  const Clock::time_point t0 = Clock::now();
  ProgressSpan whole(control, 0.0, 1.0);
  if (!(options.time_limit_s > 0)) fail("time_limit_s = " + num(options.time_limit_s) + " must be > 0 seconds");
  if (options.max_routes < 1) fail("max_routes = " + std::to_string(options.max_routes) + " must be >= 1");
  const Inst I = check(problem);
  double relaxation;
  {
    ProgressSpan span(control, 0.0, 0.2, "bound");
    relaxation = full_bound(I, control);
  }
  OutreachSchedule out;
  bool exact = options.solver != OutreachSolver::Heuristic;
  std::vector<Column> cols;
  if (exact) {
    ProgressSpan span(control, 0.2, 0.4, "routes");
    try {
      cols = enumerate_routes(I, options.max_routes, control);
    } catch (const TooManyRoutes& e) {
      if (options.solver == OutreachSolver::Exact) {
        fail("outreach exact solver: " + e.why + "; use the heuristic solver or raise max_routes");
      }
      exact = false;
    }
  }
  if (exact) {
    MipAnswer ans;
    {
      ProgressSpan span(control, 0.4, 1.0, "mip");
      ans = solve_mip(I, cols, options.time_limit_s - seconds_since(t0), control);
      throw_if_cancelled(control);
    }
    if (ans.infeasible) {
      fail("outreach: no schedule visits every point at its frequency within the teams' working days and hours "
           "(proven by the MIP); add working days or teams, lengthen the day, lower the visit frequency or choose "
           "fewer points");
    }
    Plan plan;
    if (ans.has_solution) {
      plan = std::move(ans.plan);
      for (std::int32_t k = 0; k < I.K; ++k) {
        for (auto& r : plan[k]) r = best_order(I, k, r);
      }
    } else {
      bool stopped = false;
      ProgressSpan span(control, 0.4, 1.0, "construction");
      plan = heuristic(I, options, t0, stopped, control);
    }
    out = schedule_of(I, plan);
    out.solver = "exact";
    out.bound = std::max(ans.bound, relaxation);
    out.bound = std::min(out.bound, out.objective);  // CBC's rounding must not claim more than the incumbent
    out.bound_source = ans.bound >= relaxation ? "cbc" : "assignment relaxation";
    out.proven_optimal = ans.has_solution && ans.proven_optimal;
    out.status = out.proven_optimal ? "optimal" : "time limit";
    if (!ans.failure.empty()) out.status = ans.failure + " (the heuristic schedule is kept)";
    out.routes_enumerated = std::int64_t(cols.size());
  } else {
    bool stopped = false;
    Plan plan;
    {
      ProgressSpan span(control, 0.2, 0.8, "construction");
      plan = heuristic(I, options, t0, stopped, control);
    }
    out = schedule_of(I, plan);
    out.solver = "heuristic";
    out.bound = relaxation;
    out.bound_source = "assignment relaxation";
    out.status = stopped ? "time limit" : "local optimum";
    if (options.bound_seconds > 0 && out.objective > relaxation + kEps * std::max(1.0, out.objective)) {
      ProgressSpan span(control, 0.8, 1.0, "bound");
      const LpBound lp = column_generation(I, &plan, options.bound_seconds, out.objective, control);
      out.lp_bound = lp.value;
      out.lp_converged = lp.converged;
      out.lp_iterations = lp.iterations;
      if (lp.value > out.bound) {
        out.bound = std::min(lp.value, out.objective);  // the LP's rounding must not claim more than the incumbent
        out.bound_source = lp.converged ? "column generation" : "column generation (stopped at its time budget)";
      }
    }
    out.proven_optimal = out.objective <= out.bound + kEps * std::max(1.0, out.objective);
  }
  out.relaxation_bound = relaxation;
  out.gap = out.proven_optimal ? 0.0 : gap_of(out.objective, out.bound);
  out.seconds_elapsed = seconds_since(t0);
  return out;
}

}  // namespace careshed
