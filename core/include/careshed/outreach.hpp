// careshed/outreach.hpp — mobile outreach planning (the "walking hospital"): each team's monthly circuit of day
// routes from its base through service points and back, within the day's hours, every point visited at its
// frequency; solved exactly (route enumeration + a MIP handed to CBC) on seed-sized instances, or by savings
// construction + local search with a proven lower bound beyond.
//
// The problem (units: seconds; times are travel seconds between NODES of a dense matrix, from row to column —
// asymmetric allowed — e.g. point-to-point times read from the engine's per-source searches; +inf = no way):
//  * Service points i = 0..n-1, each at node point_node[i], needing visits[i] >= 1 visits a month, each visit
//    taking service_seconds[i] on site.
//  * Teams k = 0..K-1, each with a base node, `days` working days in the month and `day_seconds` per day.
//  * A day route of team k: base -> one or more DISTINCT points -> base. Its duration = travel along the route +
//    the service of its points; it must be <= day_seconds (INCLUSIVE, like every careshed threshold).
//  * A schedule: each point is served by exactly ONE team (the team whose circuit it is in); that team runs at most
//    `days` routes in the month; the point is in exactly visits[i] of them (so its visits fall on distinct days).
//  * Objective (minimised): Σ travel seconds of all routes + day_cost_seconds × routes (team-days used).
//    Service time is the same in every schedule and is not part of the objective.
// A point no team can serve (base -> point -> base + service > day_seconds, or unreachable, for every team) makes
// the problem infeasible: InputError naming the point.
//
// Solvers:
//  * Exact: for each team every feasible set of its points that fits in one day is enumerated with its cheapest
//    order (Held–Karp dynamic programme over subsets, pruned by the day's hours), then CBC solves the set-
//    partitioning MIP: x[k,r] = times team k runs route r (integer), y[k,i] = point i is team k's (binary);
//    Σ_{r∋i} x[k,r] = visits[i]·y[k,i], Σ_k y[k,i] = 1, Σ_r x[k,r] <= days[k]. Optimal for the problem above (every
//    route any schedule can use is a column, in its cheapest order); identical teams (same base, days and day) are
//    numbered by their lowest-index point (a valid symmetry-breaking row set, so CBC does not revisit relabelled
//    optima). bound = CBC's proven bound. Enumeration is
//    capped by OutreachOptions::max_routes (InputError beyond it, or the heuristic under the Auto solver).
//  * Heuristic: points start with the team whose base is closest (round trip; ties lowest team); per team,
//    Clarke–Wright savings over VISITS (two visits of one point never share a route), then 2-opt inside routes,
//    or-opt (segments of 1–3 visits moved within and between the team's routes) and route elimination while the
//    team has more routes than days; then points are moved between teams (and swapped) when that lowers the
//    objective. Deterministic.
//  * Bound of the heuristic (and reported for the exact solve as `relaxation_bound`): an assignment relaxation over
//    visits — each visit gets one predecessor and one successor (another point's visit, or a base of a team that
//    can serve it, entered/left at its cheapest; at least max(largest visits[i], ceil(Σ service / longest day))
//    visits entered from a base, as every schedule runs that many routes), solved exactly (Hungarian algorithm;
//    past 3000 visits the weaker Σ half cheapest way in + half cheapest way out); plus day_cost_seconds ×
//    a bin-packing bound on team-days (max(largest visits[i], ceil((Σ service + travel bound) / longest day)).
//    A relaxation: always <= the optimum. Then, within OutreachOptions::bound_seconds, the LP relaxation of the
//    exact set-partitioning model (integrality and symmetry rows dropped) by column generation through CLP: the
//    restricted master starts from the heuristic's routes and every single-point route; pricing finds, per team,
//    the least reduced cost of a day route over a RELAXED route set (travel and service counted in ticks of
//    day/B rounded down; walks may revisit a point except straight back, i -> j -> i) by an exact dynamic
//    programme, so what it returns is <= the least reduced cost of any real route. The Lagrangian (Farley) bound
//    Σ μ_i + Σ σ_k days_k + Σ min(0, rc(y)) + Σ_k days_k min(0, least rc_k), with the master's duals, is then a
//    valid lower bound at every iteration, converged or not (derivation in outreach.cpp, column_generation);
//    the reported bound is the larger of the two. gap = (objective − bound) / max(objective, 1e-9); 0 when both
//    are 0.
// Time: the exact solve's CBC call honours time_limit_s (wall clock); the heuristic stops its improvement phase at
// time_limit_s (the schedule is then the best found so far, still valid).
// CBC and the bound's column generation (CLP) run in child processes, as site optimisation's solves do
// (careshed/optimize.hpp, "Exact"): an abort() inside them ends the child only (the exact solve then keeps the
// heuristic schedule and `status` says "CBC failed: ..."; a failed bound is reported as not run), and they are
// killed at their time limit + max(1 s, 10 %). The column generation's progress shows only when it ends.
// Cancellation / progress (careshed/progress.hpp): polled per enumerated subset level and team, per local-search
// pass and per Hungarian row; phases "routes", "mip", "construction", "improvement", "bound". A running CBC call
// stops at its next branch-and-cut event (or CLP iteration) once the run is cancelled.
// Ownership: every struct owns its vectors; inputs are read only during the call.
// Thread-safety: re-entrant; CBC / CLP calls are serialised by the one process-wide mutex that site optimisation
// uses too (CBC 2.10's driver keeps global state). Errors: careshed::InputError naming the argument, the index and what to do; careshed::Cancelled.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "careshed/progress.hpp"

namespace careshed {

struct OutreachTeam {
  std::int32_t base = 0;     ///< node of the team's base (row/column of the travel matrix)
  std::int32_t days = 0;     ///< working days in the month, >= 0
  double day_seconds = 0.0;  ///< longest working day (travel + service), seconds, > 0 and finite
};

struct OutreachProblem {
  std::int32_t n_nodes = 0;
  std::vector<double> travel_seconds;    ///< n_nodes × n_nodes row-major, from row to column; >= 0 or +inf
                                         ///< (no way); NaN refused; the diagonal is not used
  std::vector<std::int32_t> point_node;  ///< per service point: its node
  std::vector<double> service_seconds;   ///< per point, or one value for all; >= 0, finite
  std::vector<std::int32_t> visits;      ///< per point visits a month, or one value for all; >= 1
  std::vector<OutreachTeam> teams;
  double day_cost_seconds = 0.0;         ///< objective cost of each team-day used, seconds >= 0
};

enum class OutreachSolver { Exact, Heuristic, Auto };  ///< Auto: exact when the enumeration fits, else heuristic

struct OutreachOptions {
  OutreachSolver solver = OutreachSolver::Auto;
  double time_limit_s = std::numeric_limits<double>::infinity();  ///< CBC / improvement wall time
  std::int64_t max_routes = 2000000;  ///< exact: most day routes enumerated over all teams
  bool local_search = true;           ///< heuristic: improvement phase after the savings construction
  double bound_seconds = 10.0;        ///< heuristic: wall-time budget of the column-generation bound (0: none)
};

struct OutreachRoute {
  std::int32_t team = 0;
  std::int32_t day = 0;              ///< the team's working day, 0-based (copies of a route are spread apart)
  std::vector<std::int32_t> points;  ///< in visiting order
  double travel_seconds = 0.0;
  double service_seconds = 0.0;
  double duration_seconds = 0.0;     ///< travel + service (<= the team's day_seconds)
};

struct OutreachSchedule {
  std::vector<OutreachRoute> routes;     ///< ordered by team, then day
  std::vector<std::int32_t> point_team;  ///< per point: the team serving it
  double objective = 0.0;                ///< travel + day_cost_seconds × team_days
  double travel_seconds = 0.0;           ///< Σ travel of all routes
  std::int32_t team_days = 0;            ///< routes in the month
  double bound = 0.0;                    ///< proven lower bound on the optimal objective
  double relaxation_bound = 0.0;         ///< the assignment + bin-packing bound (see header)
  double gap = 0.0;
  bool proven_optimal = false;
  std::string solver;                    ///< "exact" / "heuristic"
  std::string status;                    ///< "optimal", "time limit", "local optimum"
  std::string bound_source;              ///< "cbc", "assignment relaxation", "column generation" or
                                         ///< "column generation (stopped at its time budget)"
  double lp_bound = std::numeric_limits<double>::quiet_NaN();  ///< heuristic: the column-generation bound (NaN:
                                                                ///< not run — no budget, or already optimal)
  bool lp_converged = false;             ///< no column of negative reduced cost was left (the bound is the LP's)
  std::int32_t lp_iterations = 0;        ///< master LP solves of the column generation
  std::int64_t routes_enumerated = 0;    ///< exact: MIP route columns
  double seconds_elapsed = 0.0;
};

/// Plans the month (see the header comment). InputError for bad input, an infeasible problem (a point no team can
/// serve; the MIP proving there is no schedule within the teams' days) or a heuristic that found no schedule within
/// the days (the message says which team and what to change).
OutreachSchedule plan_outreach(const OutreachProblem& problem, const OutreachOptions& options = {},
                               RunControl* control = nullptr);

/// The assignment + bin-packing lower bound alone (the heuristic's first bound), seconds.
double outreach_lower_bound(const OutreachProblem& problem, RunControl* control = nullptr);

struct OutreachLpBound {
  double value = -std::numeric_limits<double>::infinity();  ///< seconds; -inf when no pricing round finished
  bool converged = false;
  std::int32_t iterations = 0;
};

/// The column-generation bound alone (see the header comment), from single-point routes, within `seconds` of
/// wall time (> 0). Valid whether or not it converged. InputError as plan_outreach.
OutreachLpBound outreach_lp_bound(const OutreachProblem& problem, double seconds, RunControl* control = nullptr);

}  // namespace careshed
