// careshed/optimize.hpp — site optimisation: where to put the next stations, and a proof of how good that is.
//
// Models (all on SPARSE costs: only the (demand, candidate) pairs a bounded search reached; never a dense matrix):
//  * LSCP     — least-cost (default: fewest) set of open sites covering every demand with weight > 0 within its
//               own standard (demand-specific standards: urban cells 11 min, rural 15 min in one model). With
//               zone_min_share: instead, every zone's covered share must reach its minimum (partial covering).
//  * MCLP     — most weight (population) covered by at most p open sites.
//  * Backup   — most weight covered + backup_weight × weight BACKED UP, at most p open sites. Definition: a demand
//               counts as backed up only when at least TWO distinct open sites cover it within its standard (one
//               site in range = covered, not backed up; spopt's LSCP-B leaves that case unconstrained and so
//               over-reports). require_primary = true asks that every coverable demand with weight > 0 be covered
//               at least once (BACOP1 / LSCP-B).
//  * MEXCLP   — Daskin (1983) maximum expected covering: p VEHICLES placed on sites (at most
//               max_vehicles_per_site each; existing ones from min_vehicles), each busy with probability
//               busy_fraction q independently; a demand covered by c vehicles is served with probability 1 − q^c;
//               objective Σ w·(1 − q^c). q = 0 is MCLP.
//  * p-median — least Σ w·(seconds to the nearest open site) with at most p open sites; every demand with weight
//               > 0 must have an open site among its pairs (a pair missing from the costs is unreachable).
//  * p-center — least worst time max over demand with weight > 0 of the seconds to its nearest open site.
//  * Capacitated MCLP / p-median (site_capacity given): each open site j serves at most site_capacity[j] weight
//               (e.g. beds × patients per bed, or an ambulance's workload in people). Definition: demand MAY BE
//               SPLIT — a demand point's weight can be served in parts by several open sites (fractional
//               assignment z_ij in [0, 1], Σ_j z_ij <= 1, Σ_i w_i z_ij <= capacity_j for open j, 0 when closed).
//               MCLP maximises the weight served within its standard (covered = served, zone shares too);
//               p-median minimises Σ w_i z_ij seconds_ij with every demand's weight fully served (Σ_j z_ij = 1),
//               so total capacity below the total weight is an InputError saying so. The assignment reported
//               is the site serving the largest share (ties lowest index); served[] holds each demand's share.
//               single_source = true: z_ij binary instead — each demand served WHOLLY by one open site (MCLP: or
//               not at all); scoring a set is then a generalised assignment problem (CBC); bound = the split LP.
//               InputError when a p-median demand is larger than every capacity it can reach, or (CBC) when no
//               set of sites can hold the whole demands.
// Common rules:
//  * Costs are float32 seconds (the engine's output precision), finite and >= 0. A pair covers its demand iff
//    double(seconds) <= the demand's standard (INCLUSIVE). Pairs beyond every standard are simply never covering.
//  * p counts every open site, fixed ones included (MEXCLP: every vehicle, existing ones included); models open AT
//    MOST p sites (opening more never lowers coverage, so the optimum is the same as "exactly p" when p sites are
//    affordable; a site that adds nothing is not opened by the heuristics).
//  * Candidates: SiteStatus free / fixed open (existing facilities, always open) / forbidden (never opened) /
//    closable (existing, may close; closing_cost[j] is then spent from the budget: Σ_open site_cost +
//    Σ_closed closing_cost <= budget, and LSCP minimises that sum).
//    site_cost (default 1 per site) with an optional budget on the total cost of open sites, fixed ones included.
//  * Demand with weight 0 is ignored by every objective and constraint (p-center "worst time" too).
//  * Ties: the greedy takes the lowest candidate index among equal gains; assignments go to the nearest open
//    site, ties to the lowest index. Exact solutions (proven optimal; every model): among the optimal sets, the
//    one with the FEWEST open sites (MEXCLP: vehicles), and among those the lexicographically smallest sorted list
//    of candidate indices (MEXCLP: a site listed once per vehicle; p-center: every set within the optimal worst
//    time is optimal) — found by a post-pass of CBC solves with the objective held at its optimum: one solve
//    minimises the count and asks for a different set (infeasible: the answer is the only optimal set, done);
//    only on a tie, one feasibility solve per element of the answer's sorted list proves it or finds a smaller
//    set. At most 200 solves, within the time limit, and only up to 50,000 pairs; ties_resolved says whether it
//    ran to the end.
// Solvers:
//  * Exact: a MIP handed to CBC (COIN-OR, Debian's coinor-libcbc-dev) through its C interface, built straight from
//    the sparse pairs (one coverage row per demand, one column per candidate). bound = CBC's best possible
//    objective; gap = 0 when proven optimal. time_limit_s / gap_target stop it early with the bound it proved.
//    Before CBC the heuristic answer is put to the LP relaxation (up to 200,000 pairs) or the Lagrangian bound
//    (covering models above that; with a time limit, at most half of the time left); that bound is kept when CBC
//    proves none tighter (e.g. stopped in its root LP or killed), so an exact run never reports a weaker bound than
//    it proved.
//    CBC 2.10's solver driver keeps process-wide state, so exact solves are serialised by a mutex.
//    Every CBC / CLP solve runs in a child process (POSIX fork; docs/optimize.md, "CBC and CLP in a child
//    process"): Debian's CBC / CLP abort() on failed internal assertions, which then ends the child only. A died
//    solve is retried once with other CBC settings; if that dies too, the heuristic answer and its bound are
//    returned and `status` says "CBC failed: ..." with how (e.g. "killed by SIGABRT (a failed assertion)" and the
//    assertion's text). time_limit_s is a hard limit for CBC: a solve still running time_limit_s + max(1 s, 10 %)
//    after it began is killed (CBC checks its own limit only between nodes, not in its root LP) and reads as
//    stopped by the time limit. Where fork is unavailable, or with CARESHED_CBC_IN_PROCESS=1, solves run in the
//    calling process (without that protection).
//  * Heuristic: greedy with lazy (CELF) marginal gains then first-improvement swap local search (Whitaker's fast
//    interchange bookkeeping; MCLP/LSCP find the one open site covering a singly covered demand in O(1)),
//    deterministic; the local search gets at most half of time_limit_s, the bound the rest. Bound: up to 200,000
//    pairs (with lp_bound) the LP relaxation solved by CLP (through CBC) when it finishes within the time limit;
//    above that (or without lp_bound) a Lagrangian bound — MCLP/backup/MEXCLP relax the coverage rows, p-median
//    the assignment rows — whose subgradient stops at the gap target, the deadline or its step limit; else a
//    simple valid bound (e.g. all coverable weight). Every bound reported is the value of a relaxation at the
//    multipliers it reached, so it is valid however early it stopped. Never a guess.
//  * gap = |objective − bound| / max(|objective|, 1e-9) (CBC's convention, relative to the incumbent); 0 when both 0.
// Memory: SiteCosts holds 8 bytes per pair (int32 demand + float32 seconds). The solvers add 8 bytes per pair: the
// covering models two int32 covering lists (by candidate and by demand), p-median/p-center a demand-major copy
// (int32 candidate + float32 seconds) — 16 B per pair in all.
// Ownership: every struct owns its vectors; solver inputs are read only during the call.
// Thread-safety: functions are re-entrant (exact solves queue on one process-wide mutex around CBC). CBC and CLP are
// run without their own SIGINT handlers, so Ctrl-C reaches the caller (Python) and stops the run through `control`.
// Errors: careshed::InputError naming the argument, the index and what to do (infeasible requests included:
// demand no candidate covers in LSCP / p-median, p larger than the candidates, more fixed sites than p, a budget
// below the fixed sites' cost, a zone minimum share that even all candidates cannot reach). careshed::SolverError
// (error.hpp) when a solver process died in both attempts and nothing stands in for it: a capacitated solve whose
// heuristics found no feasible set, a capacitated set evaluate_sites / marginal_gain_curve could not score.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "careshed/graph_search.hpp"   // careshed::SourceReach
#include "careshed/progress.hpp"       // careshed::RunControl
#include "careshed/raster_search.hpp"  // careshed::ReachLists

namespace careshed {

/// Travel seconds between demand points and candidate sites, sparse, candidate-major CSR: the pairs of candidate
/// j are demand[offsets[j] .. offsets[j+1]) (ascending, no duplicates) with seconds[...].
struct SiteCosts {
  std::int32_t n_demand = 0;
  std::int32_t n_candidates = 0;
  std::vector<std::int64_t> offsets{0};  ///< n_candidates + 1
  std::vector<std::int32_t> demand;      ///< demand index per pair
  std::vector<float> seconds;            ///< travel seconds per pair, finite, >= 0
  std::size_t n_pairs() const { return demand.size(); }
};

/// From (demand, candidate, seconds) triplets in any order. InputError on indices out of range, NaN/negative/
/// infinite seconds (leave unreachable pairs out instead), or a (demand, candidate) pair given twice.
SiteCosts site_costs_from_pairs(std::int32_t n_demand, std::int32_t n_candidates, const std::int32_t* demand,
                                const std::int32_t* candidate, const double* seconds, std::size_t n_pairs);

/// From a compressed sparse matrix of shape (n_demand, n_candidates) whose entries are the reachable pairs (an
/// explicit 0 is a real zero): scipy's CSC when by_candidate (indptr per candidate, indices = demand), CSR otherwise
/// (indptr per demand, indices = candidate). indptr has n_candidates + 1 (CSC) or n_demand + 1 (CSR) entries,
/// indices and seconds n_entries. Writes the 8 bytes per pair of SiteCosts and nothing per pair besides (no triplet
/// copy); CSR is transposed by a counting pass. Unsorted indices are sorted. InputError on a malformed indptr,
/// indices out of range, NaN/negative/infinite seconds, or the same pair twice.
SiteCosts site_costs_from_compressed(std::int32_t n_demand, std::int32_t n_candidates, bool by_candidate,
                                     const std::int64_t* indptr, std::int64_t indptr_len, const std::int32_t* indices,
                                     const float* seconds, std::int64_t n_entries);
SiteCosts site_costs_from_compressed(std::int32_t n_demand, std::int32_t n_candidates, bool by_candidate,
                                     const std::int64_t* indptr, std::int64_t indptr_len, const std::int32_t* indices,
                                     const double* seconds, std::int64_t n_entries);

/// From a grid search's per-candidate reach lists (careshed::raster_reach_lists, one source per candidate):
/// cell_demand[flat cell] gives the demand index of a cell (-1: not a demand point; length n_cells); when
/// max_seconds_per_demand is given, pairs beyond their demand's standard are dropped (coverage models need no
/// more; keep them for p-median). InputError when a reach list names a cell >= n_cells or a demand index is out
/// of range.
SiteCosts site_costs_from_reach_lists(const ReachLists& reach, const std::int32_t* cell_demand, std::int64_t n_cells,
                                      std::int32_t n_demand, const double* max_seconds_per_demand = nullptr);

/// The same from a road graph's per-candidate bounded searches (careshed::bounded_search_per_source):
/// node_demand[node] gives the demand index of a node (-1: none; length n_nodes).
SiteCosts site_costs_from_source_reach(const SourceReach& reach, const std::int32_t* node_demand,
                                       std::int64_t n_nodes, std::int32_t n_demand,
                                       const double* max_seconds_per_demand = nullptr);

enum class SiteModel { Lscp, Mclp, Backup, Mexclp, PMedian, PCenter };
enum class SiteSolver { Exact, Heuristic };
/// Free: may open. Fixed: existing, always open. Forbidden: never open. Closable: existing and open today, but the
/// model may close it (a "relocate" scenario: closing saves its site_cost in the budget; max_closures limits how
/// many close). Open closable sites count in p like any other; the marginal-gain curve starts from them open.
/// Not for MEXCLP (vehicles: use min_vehicles).
enum class SiteStatus : std::uint8_t { Free = 0, Fixed = 1, Forbidden = 2, Closable = 3 };

/// "lscp", "mclp", "backup", "mexclp", "p-median", "p-center".
const char* site_model_name(SiteModel model);

/// One optimisation request. Vectors left empty take the documented default.
struct SiteProblem {
  SiteModel model = SiteModel::Mclp;
  std::vector<double> weights;          ///< per demand, >= 0, finite (population); empty = 1 each
  std::vector<double> max_seconds;      ///< per demand standard (inclusive), or one value for all; required for
                                        ///< LSCP/MCLP/backup/MEXCLP; optional for p-median/p-center (then only
                                        ///< reported coverage uses it)
  std::int32_t p = 0;                   ///< max open sites (MEXCLP: vehicles), fixed included; not for LSCP
  std::vector<SiteStatus> site_status;  ///< per candidate; empty = all Free
  std::vector<double> site_cost;        ///< per candidate, >= 0; empty = 1 each (LSCP then minimises the count)
  double budget = std::numeric_limits<double>::infinity();  ///< on Σ site_cost of open sites (fixed included)
  std::vector<std::int32_t> demand_zone;   ///< per demand zone index (-1: none); needed with zone_min_share
  std::vector<double> zone_min_share;      ///< per zone, in [0, 1]: covered weight >= share × zone weight
  bool skip_uncoverable = false;  ///< LSCP: demand no allowed candidate covers is left out (reported) instead of
                                  ///< an InputError
  double backup_weight = 1.0;     ///< Backup: objective = covered + backup_weight × backed up; >= 0
  bool require_primary = false;   ///< Backup: every coverable demand (weight > 0) must be covered once
  double busy_fraction = 0.0;     ///< MEXCLP q in [0, 1)
  std::int32_t max_vehicles_per_site = 1;   ///< MEXCLP, >= 1
  std::vector<std::int32_t> min_vehicles;   ///< MEXCLP existing vehicles per candidate (empty: 1 at Fixed sites)
  std::int32_t max_closures = -1;  ///< most Closable sites that may close (-1: any); e.g. p = #existing and
                                   ///< max_closures = k moves up to k of them
  std::vector<double> closing_cost;  ///< per candidate, >= 0, nonzero only at Closable sites; empty = 0. What closing
                                     ///< that existing site spends (severance, moving equipment), from the same
                                     ///< budget: Σ_open site_cost + Σ_closed closing_cost <= budget; LSCP minimises
                                     ///< that sum. Needs a budget except in LSCP. See docs/optimize.md.
  std::vector<double> site_capacity;  ///< MCLP / p-median: weight each candidate can serve when open (>= 0, +inf
                                      ///< = unlimited); empty = uncapacitated. See "Capacitated" above.
  bool single_source = false;  ///< with site_capacity: each demand served WHOLLY by one open site (0/1 assignment;
                               ///< evaluating a set is then a generalised assignment problem, solved by CBC)
};

struct SiteOptions {
  SiteSolver solver = SiteSolver::Exact;
  double time_limit_s = std::numeric_limits<double>::infinity();  ///< CBC / local search / LP bound wall time
  double gap_target = 0.0;       ///< relative gap at which CBC may stop (0 = prove optimality)
  bool local_search = true;      ///< heuristic: run the swap phase after the greedy
  bool iterated_search = true;   ///< heuristic MCLP / backup / MEXCLP without zone shares, budget, closures or
                                 ///< capacities: after the swap's local optimum, up to 60 + 5p rounds of random
                                 ///< local kicks + swap, keeping only strict improvements (plain MCLP: two chains of
                                 ///< 60 + p rounds on incremental gains, docs/optimize.md). Heuristic p-median
                                 ///< without a closure limit: 60 + p such rounds after the swap, and after the
                                 ///< Lagrangian bound up to 10 × (60 + 5p) more from the best set (with a time limit:
                                 ///< at most half of the time left), until the gap target. Fixed seed: deterministic
                                 ///< unless the time limit stops it (status "time limit"). false = greedy + swap.
  bool lp_bound = true;          ///< heuristic: try the LP relaxation for the bound (else only the simple bound)
  /// heuristic p-median: when the Lagrangian bound leaves a gap above gap_target, a Lagrangian branch and bound
  /// (reduced-cost fixing, branching on sites) closes it within the time limit, or without one within a fixed
  /// amount of work (deterministic; tens of seconds at most). false: the Lagrangian bound alone.
  /// exact p-median (uncapacitated, max_closures not binding): the same search with gap 0 tries to prove the
  /// optimum before CBC (within half of the time limit or that work); CBC runs only when it did not finish, and
  /// the tie rule is the same. false: CBC alone.
  bool branch_and_bound = true;
};

/// What a set of open sites achieves (the same numbers for a solver's answer and for any given scenario).
struct SiteEvaluation {
  std::vector<std::int32_t> sites;     ///< open candidates, ascending
  std::vector<std::int32_t> vehicles;  ///< per entry of sites: vehicles there (1 except MEXCLP)
  double objective = 0.0;              ///< the model's objective (LSCP: Σ site_cost of open sites)
  double total_cost = 0.0;             ///< Σ site_cost of open sites + Σ closing_cost of closed closable sites
  double weight = 0.0;                 ///< Σ weights (weight > 0 demand)
  double covered = 0.0;                ///< weight within its standard of >= 1 open site (0 without standards)
  double backed_up = 0.0;              ///< weight within its standard of >= 2 distinct open sites
  double expected_covered = 0.0;       ///< MEXCLP: Σ w (1 − q^vehicles in range); else = covered
  double uncoverable = 0.0;            ///< weight no allowed candidate covers (not even with every site open)
  double max_seconds = 0.0;            ///< worst time to the nearest open site over weight > 0 demand (+inf if any
                                       ///< has none)
  double weighted_seconds = 0.0;       ///< Σ w × seconds to the nearest open site (+inf if any has none)
  std::vector<std::int32_t> assignment;  ///< per demand: nearest open site (within standard for coverage models;
                                         ///< any pair for p-median/p-center), ties lowest index; -1 none
  std::vector<float> assigned_seconds;   ///< per demand: seconds to it, +inf when -1
  std::vector<double> served;            ///< per demand: share of its weight served (0..1; uncapacitated: 1 when
                                         ///< assigned, else 0)
  std::vector<double> site_load;         ///< per entry of sites: weight it serves (Σ w × share assigned to it)
  std::vector<std::int32_t> closed;      ///< Closable (existing) sites not open, ascending
  std::vector<double> zone_weight;       ///< per zone (when demand_zone is given)
  std::vector<double> zone_covered;
  bool feasible = true;                  ///< constraints (p, budget, zone shares, LSCP cover) all met
  std::string infeasible_reason;         ///< empty when feasible
};

struct SiteSolution : SiteEvaluation {
  SiteModel model = SiteModel::Mclp;
  SiteSolver solver = SiteSolver::Exact;
  double bound = 0.0;              ///< proven bound on the optimum (upper for max models, lower for min models)
  double gap = 0.0;                ///< see header
  bool proven_optimal = false;     ///< gap closed (within 1e-9 relative)
  std::string status;              ///< "optimal", "time limit", "gap target", "local optimum"; what a dead solver
                                   ///< process cost, appended ("CBC failed: ...", "...; 2 of the 3 marginal gains
                                   ///< are unknown (NaN): ...")
  std::string bound_source;        ///< "cbc", "lp relaxation", "lagrangian", "lagrangian branch and bound"
                                   ///< (p-median heuristic), "simple", "binary search"
  bool ties_resolved = false;      ///< exact and optimal: the returned set is proven the fewest-sites,
                                   ///< lexicographically smallest optimal set (see "Ties" above)
  /// The chosen non-fixed sites in greedy order of what each adds given the fixed sites and the sites before it,
  /// with the objective gained by each (for p-median/p-center: the decrease). The planner's marginal-gain curve.
  /// With capacities each gain is re-measured (a transportation LP per prefix); one whose set the solver process
  /// could not score (it died twice) is NaN, and `status` says so (the answer's own numbers were scored before).
  std::vector<std::int32_t> added_order;
  std::vector<double> marginal_gain;
  double seconds_elapsed = 0.0;
};

/// Solves `problem` on `costs`. See the header comment for models, solvers and errors.
/// control (optional, caller-owned): cancellation and progress (careshed/progress.hpp). Every loop of the heuristics
/// polls it, and CBC / CLP get an event handler that stops branch and cut or the simplex at its next event once
/// cancellation is requested; then Cancelled is thrown (all memory freed). Progress: phase "greedy + swap" (fraction
/// = sites placed / p) then "bound" or "bound, branch and cut" (no fraction inside CBC), 1.0 at the end.
SiteSolution solve_sites(const SiteCosts& costs, const SiteProblem& problem, const SiteOptions& options = {},
                         RunControl* control = nullptr);

/// Scores a given set of open sites (fixed sites are added if missing) with the same numbers as a solution.
/// sites: candidate indices (any order; MEXCLP: a site listed k times holds k vehicles, added to min_vehicles).
/// Infeasibility (over p, budget, zone shares) is reported in .feasible / .infeasible_reason, not thrown. With
/// capacities, scoring runs CLP (single_source: CBC) in a solver process; when it dies in both attempts the set's
/// feasibility is unknown and careshed::SolverError is thrown (never an infeasible answer).
SiteEvaluation evaluate_sites(const SiteCosts& costs, const SiteProblem& problem,
                              const std::vector<std::int32_t>& sites, RunControl* control = nullptr);

/// The greedy marginal-gain curve: starting from the fixed sites, add up to k sites one at a time, each the
/// allowed candidate adding the most objective (ties lowest index; within budget), and report them with their
/// gains. Stops early when nothing adds anything. For LSCP the gain counted is the newly covered weight. With
/// capacities the gains are re-measured as evaluate_sites scores a set (careshed::SolverError when that cannot be
/// done).
struct MarginalGainCurve {
  std::vector<std::int32_t> sites;
  std::vector<double> gain;
  std::vector<double> objective;  ///< after each addition
};
MarginalGainCurve marginal_gain_curve(const SiteCosts& costs, const SiteProblem& problem, std::int32_t k,
                                      RunControl* control = nullptr);

}  // namespace careshed
