// optimize.cpp — site optimisation on sparse costs: problem checks, evaluation, greedy + swap heuristics with
// certified bounds, and exact MIPs through CBC's C interface. See careshed/optimize.hpp for the definitions.
#include "careshed/optimize.hpp"

// CBC through its C++ API (CbcMain0/CbcMain1, the driver the C interface wraps) so that an event handler can stop
// branch and cut and CLP's simplex when the run is cancelled (the C interface exposes neither); the lock and the
// set-up are shared with outreach.cpp (cbc_support.hpp).

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <queue>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "careshed/error.hpp"
#include "careshed/progress.hpp"
#include "cbc_support.hpp"
#include "cover_swap.hpp"

namespace careshed {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr float kInfF = std::numeric_limits<float>::infinity();
constexpr double kTol = 1e-9;

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// t0 + seconds, saturating at Clock::time_point::max() for an infinite, NaN or huge limit (cbc_support.hpp). The
/// clock counts int64 nanoseconds: a limit of ~9.2e9 s — e.g. the seconds "left" until a deadline of max(), passed on
/// as a time limit — added naively wraps around into the past, and the run stops before it starts (the core LP of the
/// MCLP bound did, in every run without a time limit).
using cbc::saturated_deadline;
Clock::time_point deadline_after(Clock::time_point t0, double seconds) { return saturated_deadline(t0, seconds); }

[[noreturn]] void fail(const std::string& msg) { throw InputError(msg); }

std::string num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

/// Relative tolerance for comparing objective values of magnitude `scale`.
double tol_for(double scale) { return kTol * std::max(1.0, std::fabs(scale)); }

// ---- builders --------------------------------------------------------------------------------------------------

void sort_candidate_lists(SiteCosts& c);

/// Candidate-major CSR from triplets (counting sort by candidate, then a sort by demand within each candidate).
SiteCosts csr_from_triplets(std::int32_t n_demand, std::int32_t n_candidates, std::vector<std::int32_t>&& dem,
                            std::vector<std::int32_t>&& cand, std::vector<float>&& sec) {
  SiteCosts c;
  c.n_demand = n_demand;
  c.n_candidates = n_candidates;
  c.offsets.assign(std::size_t(n_candidates) + 1, 0);
  for (std::int32_t j : cand) ++c.offsets[std::size_t(j) + 1];
  for (std::int32_t j = 0; j < n_candidates; ++j) c.offsets[j + 1] += c.offsets[j];
  c.demand.resize(dem.size());
  c.seconds.resize(dem.size());
  std::vector<std::int64_t> pos(c.offsets.begin(), c.offsets.end() - 1);
  for (std::size_t k = 0; k < dem.size(); ++k) {
    const std::int64_t at = pos[cand[k]]++;
    c.demand[at] = dem[k];
    c.seconds[at] = sec[k];
  }
  sort_candidate_lists(c);
  return c;
}

/// Sorts each candidate's pairs by demand where they are not already ascending; the same pair twice is an error.
void sort_candidate_lists(SiteCosts& c) {
  std::vector<std::pair<std::int32_t, float>> tmp;
  for (std::int32_t j = 0; j < c.n_candidates; ++j) {
    const std::int64_t b = c.offsets[j], e = c.offsets[j + 1];
    bool sorted = true;
    for (std::int64_t k = b + 1; k < e; ++k) sorted = sorted && c.demand[k - 1] < c.demand[k];
    if (sorted) continue;
    tmp.clear();
    for (std::int64_t k = b; k < e; ++k) tmp.emplace_back(c.demand[k], c.seconds[k]);
    std::sort(tmp.begin(), tmp.end());
    for (std::int64_t k = b; k < e; ++k) {
      if (k > b && tmp[k - b].first == tmp[k - b - 1].first) {
        fail("costs: the pair (demand " + std::to_string(tmp[k - b].first) + ", candidate " + std::to_string(j) +
             ") is given twice; give each pair once (keep the smaller time)");
      }
      c.demand[k] = tmp[k - b].first;
      c.seconds[k] = tmp[k - b].second;
    }
  }
}

template <class Offset, class Item, class Secs>
SiteCosts costs_from_lists(const std::vector<Offset>& offsets, const std::vector<Item>& items, const Secs& secs,
                           const std::int32_t* item_demand, std::int64_t n_items, std::int32_t n_demand,
                           const double* max_seconds_per_demand, const char* what) {
  if (offsets.empty()) fail(std::string(what) + ": empty reach lists (no offsets)");
  if (n_demand < 0) fail("n_demand must be >= 0");
  const std::size_t n_cand = offsets.size() - 1;
  if (n_cand > std::size_t(std::numeric_limits<std::int32_t>::max())) fail("too many candidates (>= 2^31)");
  SiteCosts c;
  c.n_demand = n_demand;
  c.n_candidates = std::int32_t(n_cand);
  c.offsets.assign(n_cand + 1, 0);
  // Reach lists are sorted by cell/node id, not by demand index: collect then sort per candidate.
  std::vector<std::pair<std::int32_t, float>> tmp;
  for (std::size_t j = 0; j < n_cand; ++j) {
    tmp.clear();
    for (auto k = offsets[j]; k < offsets[j + 1]; ++k) {
      const auto item = std::int64_t(items[k]);
      if (item < 0 || item >= n_items) {
        fail(std::string(what) + ": candidate " + std::to_string(j) + " reaches id " + std::to_string(item) +
             " outside the demand map of " + std::to_string(n_items) + " entries (was the map built on the same grid/graph?)");
      }
      const std::int32_t d = item_demand[item];
      if (d < 0) continue;
      if (d >= n_demand) {
        fail(std::string(what) + ": demand map entry " + std::to_string(item) + " = " + std::to_string(d) +
             " is outside 0.." + std::to_string(n_demand - 1));
      }
      const float s = float(secs[k]);
      if (max_seconds_per_demand && !(double(s) <= max_seconds_per_demand[d])) continue;
      tmp.emplace_back(d, s);
    }
    std::sort(tmp.begin(), tmp.end());
    // Several cells/nodes may map to one demand point: keep its nearest.
    std::size_t kept = 0;
    for (std::size_t k = 0; k < tmp.size(); ++k) {
      if (kept > 0 && tmp[kept - 1].first == tmp[k].first) continue;  // sorted: first is the smallest time
      tmp[kept++] = tmp[k];
    }
    for (std::size_t k = 0; k < kept; ++k) {
      c.demand.push_back(tmp[k].first);
      c.seconds.push_back(tmp[k].second);
    }
    c.offsets[j + 1] = std::int64_t(c.demand.size());
  }
  return c;
}

// ---- the prepared problem -------------------------------------------------------------------------------------

bool is_coverage_model(SiteModel m) {
  return m == SiteModel::Lscp || m == SiteModel::Mclp || m == SiteModel::Backup || m == SiteModel::Mexclp;
}
bool is_max_model(SiteModel m) {
  return m == SiteModel::Mclp || m == SiteModel::Backup || m == SiteModel::Mexclp;
}

/// A constraint "covered weight of a group of demand >= required" (a zone's minimum share; or, as the group of all
/// coverable demand, Backup's require_primary).
struct CoverGroup {
  double required = 0.0;
  double total = 0.0;
};

/// A read-only list of int32 per pair: a view of another array that outlives it (SiteCosts.demand) or of its own
/// storage, shared by copies (a copied Prepared reads the same list).
class PairList {
 public:
  void view(const std::vector<std::int32_t>& v) { own_.reset(), p_ = v.data(), n_ = v.size(); }
  void own(std::vector<std::int32_t>&& v) {
    own_ = std::make_shared<const std::vector<std::int32_t>>(std::move(v));
    p_ = own_->data(), n_ = own_->size();
  }
  std::int32_t operator[](std::int64_t k) const { return p_[k]; }
  std::size_t size() const { return n_; }
  const std::int32_t* begin() const { return p_; }
  const std::int32_t* end() const { return p_ + n_; }

 private:
  std::shared_ptr<const std::vector<std::int32_t>> own_;
  const std::int32_t* p_ = nullptr;
  std::size_t n_ = 0;
};

/// Everything the solvers need, checked once: weights, standards, candidate bounds, covering lists both ways.
struct Prepared {
  const SiteCosts* costs = nullptr;
  SiteModel model{};
  std::int32_t nd = 0, nc = 0;
  std::vector<double> w;        // weights (0 for ignored demand)
  std::vector<double> stdv;     // per-demand standard (+inf when none)
  bool has_standard = false;
  std::vector<std::int32_t> lo, hi;  // vehicles (sites: 0/1) per candidate
  std::vector<double> cost;
  bool unit_cost = true;
  double budget = kInf;         // after closing costs: the budget minus every closable site's closing cost
  double budget_tol = kInf;     // budget + the tolerance a budget exactly met may exceed it by
  double closing_total = 0.0;   // Σ closing_cost over closable sites (see "closing costs" in prepare)
  std::int32_t p = 0;           // max open sites / vehicles (LSCP: n_candidates)
  double beta = 0.0, q = 0.0;
  // Covering pairs (seconds <= standard, weight > 0, candidate not forbidden): candidate- and demand-major.
  std::vector<std::int64_t> cov_off, dcov_off;
  PairList cov_dem;  // into costs->demand when every pair covers (no copy: 4 B per pair less), else its own copy
  std::vector<std::int32_t> dcov_cand;
  std::vector<char> coverable;  // per demand: some allowed candidate covers it (weight > 0 only)
  std::vector<char> required;   // LSCP full cover: demand that must be covered
  // Groups: zones (per demand zone index) and an optional "all coverable" group (require_primary).
  std::vector<std::int32_t> zone;  // per demand, -1 none
  std::vector<CoverGroup> groups;  // zones first, then the primary group if any
  std::int32_t primary_group = -1;
  bool lscp_full = false;          // LSCP without zone shares: cover every required demand
  std::size_t n_required = 0;
  std::vector<double> cap;         // per candidate capacity (weight served when open); empty = uncapacitated
  bool single_source = false;      // capacitated: each demand served wholly by one open site (0/1 assignment)
  RunControl* control = nullptr;   // cancellation / progress of the run (may be null)
  std::vector<char> closable;      // per candidate: an existing site the model may close
  std::int32_t n_closable = 0;
  std::int32_t max_closures = -1;  // -1: any number of closable sites may close
  std::int32_t min_kept = 0;       // closable sites that must stay open (n_closable - max_closures)
};

/// Whether closing `out` and opening `in` (either may be -1) keeps the closures within max_closures, given
/// `closed` closures now.
bool closures_ok(const Prepared& P, std::int32_t closed, std::int32_t out, std::int32_t in) {
  if (P.max_closures < 0) return true;
  if (out >= 0 && P.closable[out]) ++closed;
  if (in >= 0 && P.closable[in]) --closed;
  return closed <= P.max_closures;
}

/// Throws Cancelled when the run was asked to stop (one relaxed atomic load; cheap in every loop iteration).
void poll(const Prepared& P) {
  if (P.control) P.control->throw_if_cancelled();
}

std::int32_t dem_group(const Prepared& P, std::int32_t i, int which) {
  // which 0: its zone group; which 1: the primary group
  return which == 0 ? P.zone[i] : (P.coverable[i] ? P.primary_group : -1);
}

/// Capacities: checked, and for p-median the p largest capacities (fixed sites first) must hold all the weight.
void prepare_capacity(Prepared& P, const SiteProblem& pr, const std::string& model) {
  if (pr.model != SiteModel::Mclp && pr.model != SiteModel::PMedian) {
    fail("site_capacity: " + model + " does not take capacities (only mclp and p-median do)");
  }
  if (pr.site_capacity.size() != std::size_t(P.nc)) {
    fail("site_capacity: expected " + std::to_string(P.nc) + " values (one per candidate), got " +
         std::to_string(pr.site_capacity.size()));
  }
  for (std::int32_t j = 0; j < P.nc; ++j) {
    if (!(pr.site_capacity[j] >= 0.0)) {
      fail("site_capacity: candidate " + std::to_string(j) + " has capacity " + num(pr.site_capacity[j]) +
           "; capacities must be >= 0 (+inf for unlimited)");
    }
  }
  P.cap = pr.site_capacity;
  P.single_source = pr.single_source;
  if (P.single_source && pr.model == SiteModel::PMedian) {
    // Each demand goes wholly to one site: one larger than every capacity it can reach can never be served.
    const SiteCosts& C = *P.costs;
    std::vector<double> largest(P.nd, -1.0);
    for (std::int32_t j = 0; j < P.nc; ++j) {
      if (P.hi[j] == 0) continue;
      for (std::int64_t k = C.offsets[j]; k < C.offsets[j + 1]; ++k) {
        largest[C.demand[k]] = std::max(largest[C.demand[k]], P.cap[j]);
      }
    }
    for (std::int32_t i = 0; i < P.nd; ++i) {
      if (P.w[i] > 0 && largest[i] >= 0 && P.w[i] > largest[i] * (1 + 1e-12)) {
        fail("site_capacity: with single_source each demand is served wholly by one site, but demand " +
             std::to_string(i) + " (weight " + num(P.w[i]) + ") is larger than the capacity of every candidate it "
             "can reach (largest " + num(largest[i]) + "); raise those capacities, or let demand split "
             "(single_source = false)");
      }
    }
  }
  if (pr.model != SiteModel::PMedian) return;
  double total = 0.0, fixed_cap = 0.0;
  std::int32_t n_fixed = 0;
  std::vector<double> free_caps;
  for (std::int32_t i = 0; i < P.nd; ++i) total += P.w[i];
  for (std::int32_t j = 0; j < P.nc; ++j) {
    if (P.lo[j] > 0) fixed_cap += P.cap[j], ++n_fixed;
    else if (P.hi[j] > 0) free_caps.push_back(P.cap[j]);
  }
  std::sort(free_caps.begin(), free_caps.end(), std::greater<double>());
  double best = fixed_cap;
  for (std::int32_t k = 0; k < P.p - n_fixed && std::size_t(k) < free_caps.size(); ++k) best += free_caps[k];
  if (best < total * (1 - 1e-12)) {
    fail("site_capacity: p-median must serve all " + num(total) + " weight but the " + std::to_string(P.p) +
         " largest capacities the candidates allow (fixed sites included) sum to only " + num(best) +
         "; raise p or the capacities, or use mclp (which serves what it can)");
  }
}

Prepared prepare(const SiteCosts& C, const SiteProblem& pr, RunControl* control = nullptr) {
  Prepared P;
  P.costs = &C;
  P.control = control;
  P.model = pr.model;
  P.nd = C.n_demand;
  P.nc = C.n_candidates;
  const std::string model = site_model_name(pr.model);
  if (P.nd < 0 || P.nc < 0) fail("costs: negative sizes");
  if (C.offsets.size() != std::size_t(P.nc) + 1 || C.demand.size() != C.seconds.size() ||
      C.offsets.back() != std::int64_t(C.demand.size())) {
    fail("costs: inconsistent CSR arrays (offsets must have n_candidates + 1 entries ending at the pair count)");
  }
  if (P.nc == 0) fail(model + ": no candidate sites; give at least one candidate");
  // weights
  if (pr.weights.empty()) {
    P.w.assign(P.nd, 1.0);
  } else {
    if (pr.weights.size() != std::size_t(P.nd)) {
      fail("weights: expected " + std::to_string(P.nd) + " values (one per demand), got " +
           std::to_string(pr.weights.size()));
    }
    P.w = pr.weights;
    for (std::int32_t i = 0; i < P.nd; ++i) {
      if (!(P.w[i] >= 0.0) || !std::isfinite(P.w[i])) {
        fail("weights: demand " + std::to_string(i) + " has weight " + num(P.w[i]) +
             "; weights must be finite and >= 0 (use 0 for no people)");
      }
    }
  }
  // standards
  if (pr.max_seconds.empty()) {
    if (is_coverage_model(pr.model)) fail(model + ": max_seconds (the coverage standard) is required");
    P.stdv.assign(P.nd, kInf);
  } else if (pr.max_seconds.size() == 1 || pr.max_seconds.size() == std::size_t(P.nd)) {
    P.has_standard = true;
    P.stdv.resize(P.nd);
    for (std::int32_t i = 0; i < P.nd; ++i) {
      const double s = pr.max_seconds.size() == 1 ? pr.max_seconds[0] : pr.max_seconds[i];
      if (!(s >= 0.0)) {
        fail("max_seconds: demand " + std::to_string(i) + " has standard " + num(s) + "; standards must be >= 0");
      }
      P.stdv[i] = s;
    }
  } else {
    fail("max_seconds: expected 1 value or " + std::to_string(P.nd) + " (one per demand), got " +
         std::to_string(pr.max_seconds.size()));
  }
  // candidates
  if (!pr.site_status.empty() && pr.site_status.size() != std::size_t(P.nc)) {
    fail("site_status: expected " + std::to_string(P.nc) + " values (one per candidate), got " +
         std::to_string(pr.site_status.size()));
  }
  auto status = [&](std::int32_t j) { return pr.site_status.empty() ? SiteStatus::Free : pr.site_status[j]; };
  if (pr.model == SiteModel::Mexclp) {
    if (!(pr.busy_fraction >= 0.0 && pr.busy_fraction < 1.0)) {
      fail("busy_fraction: " + num(pr.busy_fraction) + " must be in [0, 1)");
    }
    if (pr.max_vehicles_per_site < 1) fail("max_vehicles_per_site must be >= 1");
    if (!pr.min_vehicles.empty() && pr.min_vehicles.size() != std::size_t(P.nc)) {
      fail("min_vehicles: expected " + std::to_string(P.nc) + " values (one per candidate), got " +
           std::to_string(pr.min_vehicles.size()));
    }
    P.q = pr.busy_fraction;
  }
  P.lo.assign(P.nc, 0);
  P.hi.assign(P.nc, 1);
  P.closable.assign(P.nc, 0);
  for (std::int32_t j = 0; j < P.nc; ++j) P.closable[j] = status(j) == SiteStatus::Closable;
  const std::int32_t vmax = pr.model == SiteModel::Mexclp ? pr.max_vehicles_per_site : 1;
  for (std::int32_t j = 0; j < P.nc; ++j) {
    const SiteStatus s = status(j);
    if (s != SiteStatus::Free && s != SiteStatus::Fixed && s != SiteStatus::Forbidden && s != SiteStatus::Closable) {
      fail("site_status: candidate " + std::to_string(j) +
           " has an unknown status (0 free, 1 fixed, 2 forbidden, 3 existing that may close)");
    }
    if (s == SiteStatus::Closable) {
      if (pr.model == SiteModel::Mexclp) {
        fail("site_status: mexclp counts vehicles; closable sites are not supported (give existing vehicles "
             "with min_vehicles, or free sites)");
      }
      ++P.n_closable;
    }
    P.hi[j] = s == SiteStatus::Forbidden ? 0 : vmax;
    P.lo[j] = s == SiteStatus::Fixed ? 1 : 0;
    if (pr.model == SiteModel::Mexclp && !pr.min_vehicles.empty()) {
      const std::int32_t m = pr.min_vehicles[j];
      if (m < 0 || m > vmax) {
        fail("min_vehicles: candidate " + std::to_string(j) + " has " + std::to_string(m) +
             " vehicles; must be in 0..max_vehicles_per_site (" + std::to_string(vmax) + ")");
      }
      if (m > 0 && s == SiteStatus::Forbidden) {
        fail("min_vehicles: candidate " + std::to_string(j) + " is forbidden but holds " + std::to_string(m) +
             " existing vehicles");
      }
      P.lo[j] = std::max(P.lo[j], m);
    }
  }
  if (pr.site_cost.empty()) {
    P.cost.assign(P.nc, 1.0);
  } else {
    if (pr.site_cost.size() != std::size_t(P.nc)) {
      fail("site_cost: expected " + std::to_string(P.nc) + " values (one per candidate), got " +
           std::to_string(pr.site_cost.size()));
    }
    P.cost = pr.site_cost;
    P.unit_cost = false;
    for (std::int32_t j = 0; j < P.nc; ++j) {
      if (!(P.cost[j] >= 0.0) || !std::isfinite(P.cost[j])) {
        fail("site_cost: candidate " + std::to_string(j) + " costs " + num(P.cost[j]) + "; costs must be finite, >= 0");
      }
    }
  }
  if (std::isnan(pr.budget) || pr.budget < 0) fail("budget: " + num(pr.budget) + " must be >= 0 (or +inf)");
  P.budget = pr.budget;
  const bool pc = pr.model == SiteModel::PMedian || pr.model == SiteModel::PCenter;
  if (pc && (!pr.site_cost.empty() || std::isfinite(pr.budget) || !pr.zone_min_share.empty())) {
    fail(model + ": site costs, budgets and zone minimum shares are not supported for this model "
                 "(use MCLP or LSCP for them)");
  }
  if (pr.model == SiteModel::Mexclp && (!pr.site_cost.empty() || std::isfinite(pr.budget))) {
    fail("mexclp: site costs and budgets are not supported for MEXCLP (vehicles are counted by p)");
  }
  double fixed_cost = 0.0;
  std::int64_t fixed_units = 0, allowed_units = 0;
  for (std::int32_t j = 0; j < P.nc; ++j) {
    if (P.lo[j] > 0) fixed_cost += P.cost[j];
    fixed_units += P.lo[j];
    allowed_units += P.hi[j];
  }
  if (fixed_cost > P.budget_tol) {
    fail("budget: " + num(P.budget) + " is below the cost of the fixed sites (" + num(fixed_cost) +
         "); raise the budget or free some fixed sites");
  }
  const char* unit = pr.model == SiteModel::Mexclp ? "vehicles" : "sites";
  if (pr.model == SiteModel::Lscp) {
    P.p = std::int32_t(std::min<std::int64_t>(allowed_units, std::numeric_limits<std::int32_t>::max()));
  } else {
    if (pr.p < 1) fail(model + ": p = " + std::to_string(pr.p) + "; p (open " + unit + ", fixed included) must be >= 1");
    if (pr.p > allowed_units) {
      fail(model + ": p = " + std::to_string(pr.p) + " is larger than the " + std::to_string(allowed_units) +
           " " + unit + " the candidates allow; lower p or add candidates");
    }
    if (fixed_units > pr.p) {
      fail(model + ": " + std::to_string(fixed_units) + " fixed " + unit + " exceed p = " + std::to_string(pr.p) +
           "; p counts fixed " + unit + " too");
    }
    P.p = pr.p;
  }
  if (pr.max_closures < -1) fail("max_closures: " + std::to_string(pr.max_closures) + " must be >= 0 (or -1: any)");
  P.max_closures = pr.max_closures;
  P.min_kept = P.max_closures >= 0 ? std::max(0, P.n_closable - P.max_closures) : 0;
  if (pr.model != SiteModel::Lscp && fixed_units + P.min_kept > P.p) {
    fail(model + ": p = " + std::to_string(P.p) + " but " + std::to_string(fixed_units) + " fixed sites and at least " +
         std::to_string(P.min_kept) + " of the " + std::to_string(P.n_closable) +
         " existing sites that may close must stay open (max_closures = " + std::to_string(P.max_closures) +
         "); raise p or max_closures");
  }
  // Closing costs: closing closable site j spends closing_cost[j] from the same budget (LSCP: in the cost it
  // minimises). Σ_open cost + Σ_closed closing = Σ_j (cost_j − closing_j) x_j + Σ_closable closing_j, so every
  // solver works on cost' = cost − closing (closable sites; may be < 0: keeping the site is cheaper than closing
  // it) and budget' = budget − Σ closing, and the reported total cost adds the constant back.
  if (!pr.closing_cost.empty()) {
    if (pr.closing_cost.size() != std::size_t(P.nc)) {
      fail("closing_cost: expected " + std::to_string(P.nc) + " values (one per candidate), got " +
           std::to_string(pr.closing_cost.size()));
    }
    double least_spend = fixed_cost;  // fixed sites, and each closable site kept or closed, whichever costs less
    for (std::int32_t j = 0; j < P.nc; ++j) {
      const double cc = pr.closing_cost[j];
      if (!(cc >= 0.0) || !std::isfinite(cc)) {
        fail("closing_cost: candidate " + std::to_string(j) + " has " + num(cc) +
             "; closing costs must be finite and >= 0 (what closing that existing site spends)");
      }
      if (cc == 0.0) continue;
      if (!P.closable[j]) {
        fail("closing_cost: candidate " + std::to_string(j) + " has a closing cost (" + num(cc) +
             ") but is not an existing site that may close (closable); give 0 there");
      }
      least_spend += std::min(P.cost[j], cc);
      P.closing_total += cc;
      P.cost[j] -= cc;
    }
    if (P.closing_total > 0.0) {
      if (pr.model == SiteModel::PMedian || pr.model == SiteModel::PCenter) {
        fail("closing_cost: " + model + " takes no budget, so closing costs cannot count; use lscp, or mclp / "
             "backup with a budget");
      }
      if (pr.model != SiteModel::Lscp && !std::isfinite(pr.budget)) {
        fail("closing_cost: " + model + " counts closing costs only against a budget; give a budget (or use lscp, "
             "whose objective is the total cost)");
      }
      if (least_spend > pr.budget * (1 + 1e-12)) {
        fail("budget: " + num(pr.budget) + " is below the least the fixed sites and the existing sites that may "
             "close cost, each kept or closed whichever is cheaper (" + num(least_spend) + "); raise the budget");
      }
      P.unit_cost = false;
      P.budget -= P.closing_total;
    }
  }
  P.budget_tol = P.budget + 1e-12 * std::max(1.0, std::fabs(pr.budget));
  if (pr.model == SiteModel::Backup) {
    if (!(pr.backup_weight >= 0.0 && pr.backup_weight <= 1.0)) {
      fail("backup_weight: " + num(pr.backup_weight) + " must be in [0, 1] (a backup never counts more than a first cover)");
    }
    P.beta = pr.backup_weight;
  }
  // costs values
  for (std::size_t k = 0; k < C.n_pairs(); ++k) {
    if (!(C.seconds[k] >= 0.0f) || !std::isfinite(C.seconds[k])) {
      fail("costs: pair " + std::to_string(k) + " has " + num(C.seconds[k]) + " seconds; must be finite and >= 0");
    }
    if (C.demand[k] < 0 || C.demand[k] >= P.nd) fail("costs: pair " + std::to_string(k) + " names a demand out of range");
  }
  // covering lists
  if (is_coverage_model(pr.model) || P.has_standard) {
    // Counted first, so that the lists are allocated at their size: when every pair covers (the usual coverage
    // input, cut to the standards already), cov_dem is costs.demand itself (the 1 M x 10,000 benchmark's peak
    // memory was 18 B per pair with a copy; the target is 16).
    P.cov_off.assign(std::size_t(P.nc) + 1, 0);
    std::vector<std::int64_t> dcount(std::size_t(P.nd) + 1, 0);
    auto covers = [&](std::int32_t j, std::int64_t k) {
      const std::int32_t i = C.demand[k];
      return P.hi[j] > 0 && P.w[i] > 0 && double(C.seconds[k]) <= P.stdv[i];
    };
    for (std::int32_t j = 0; j < P.nc; ++j) {
      std::int64_t n = 0;
      for (std::int64_t k = C.offsets[j]; k < C.offsets[j + 1]; ++k) {
        if (covers(j, k)) ++n, ++dcount[std::size_t(C.demand[k]) + 1];
      }
      P.cov_off[j + 1] = P.cov_off[j] + n;
    }
    if (P.cov_off.back() == std::int64_t(C.demand.size())) {
      P.cov_dem.view(C.demand);
    } else {
      std::vector<std::int32_t> dem(std::size_t(P.cov_off.back()));
      std::size_t at = 0;
      for (std::int32_t j = 0; j < P.nc; ++j) {
        for (std::int64_t k = C.offsets[j]; k < C.offsets[j + 1]; ++k) {
          if (covers(j, k)) dem[at++] = C.demand[k];
        }
      }
      P.cov_dem.own(std::move(dem));
    }
    for (std::int32_t i = 0; i < P.nd; ++i) dcount[i + 1] += dcount[i];
    P.dcov_off = std::move(dcount);
    P.dcov_cand.resize(P.cov_dem.size());
    std::vector<std::int64_t> pos(P.dcov_off.begin(), P.dcov_off.end() - 1);
    for (std::int32_t j = 0; j < P.nc; ++j) {
      for (std::int64_t k = P.cov_off[j]; k < P.cov_off[j + 1]; ++k) P.dcov_cand[pos[P.cov_dem[k]]++] = j;
    }
    P.coverable.assign(P.nd, 0);
    for (std::int32_t i = 0; i < P.nd; ++i) P.coverable[i] = P.dcov_off[i + 1] > P.dcov_off[i];
  } else {
    P.coverable.assign(P.nd, 0);
  }
  // zones
  const bool zoned = !pr.zone_min_share.empty();
  if (!pr.demand_zone.empty() || zoned) {
    if (pr.demand_zone.size() != std::size_t(P.nd)) {
      fail("demand_zone: expected " + std::to_string(P.nd) + " values (one per demand), got " +
           std::to_string(pr.demand_zone.size()));
    }
    std::int32_t nz = std::int32_t(pr.zone_min_share.size());
    for (std::int32_t i = 0; i < P.nd; ++i) nz = std::max(nz, pr.demand_zone[i] + 1);
    for (std::int32_t i = 0; i < P.nd; ++i) {
      if (pr.demand_zone[i] < -1) fail("demand_zone: demand " + std::to_string(i) + " has zone " +
                                       std::to_string(pr.demand_zone[i]) + "; use -1 for no zone");
      if (zoned && pr.demand_zone[i] >= std::int32_t(pr.zone_min_share.size())) {
        fail("zone_min_share: demand " + std::to_string(i) + " is in zone " + std::to_string(pr.demand_zone[i]) +
             " but only " + std::to_string(pr.zone_min_share.size()) + " zone shares were given");
      }
    }
    P.zone = pr.demand_zone;
    P.groups.assign(nz, {});
    for (std::int32_t i = 0; i < P.nd; ++i) {
      if (P.zone[i] >= 0) P.groups[P.zone[i]].total += P.w[i];
    }
    for (std::size_t z = 0; z < pr.zone_min_share.size(); ++z) {
      const double s = pr.zone_min_share[z];
      if (!(s >= 0.0 && s <= 1.0)) fail("zone_min_share: zone " + std::to_string(z) + " has " + num(s) + "; shares are in [0, 1]");
      P.groups[z].required = s * P.groups[z].total;
    }
    // Feasibility with every allowed site open.
    std::vector<double> reach(nz, 0.0);
    for (std::int32_t i = 0; i < P.nd; ++i) {
      if (P.zone[i] >= 0 && P.coverable[i]) reach[P.zone[i]] += P.w[i];
    }
    for (std::size_t z = 0; z < pr.zone_min_share.size(); ++z) {
      if (reach[z] < P.groups[z].required - tol_for(P.groups[z].required)) {
        fail("zone_min_share: zone " + std::to_string(z) + " needs " + num(pr.zone_min_share[z] * 100) +
             " % covered but even with every allowed candidate open only " +
             num(P.groups[z].total > 0 ? 100 * reach[z] / P.groups[z].total : 0) +
             " % is within its standard; lower the share or add candidates");
      }
    }
  } else {
    P.zone.assign(P.nd, -1);
  }
  if (pr.model == SiteModel::Backup && pr.require_primary) {
    P.primary_group = std::int32_t(P.groups.size());
    CoverGroup g;
    for (std::int32_t i = 0; i < P.nd; ++i) {
      if (P.coverable[i]) g.total += P.w[i];
    }
    g.required = g.total;
    P.groups.push_back(g);
  }
  if (!pr.site_capacity.empty()) prepare_capacity(P, pr, model);
  if (pr.single_source && pr.site_capacity.empty()) {
    fail("single_source: only capacitated mclp / p-median take it (give site_capacity); without capacities every "
         "demand is already served wholly by its nearest open site");
  }
  P.required.assign(P.nd, 0);
  if (pr.model == SiteModel::Lscp && !zoned) {
    P.lscp_full = true;
    for (std::int32_t i = 0; i < P.nd; ++i) {
      if (P.w[i] <= 0) continue;
      if (!P.coverable[i]) {
        if (!pr.skip_uncoverable) {
          fail("lscp: demand " + std::to_string(i) + " (weight " + num(P.w[i]) +
               ") is within its standard of no allowed candidate; add a candidate near it, raise its standard, "
               "or skip uncoverable demand");
        }
        continue;
      }
      P.required[i] = 1;
      ++P.n_required;
    }
  }
  return P;
}

// ---- count-based value (MCLP, Backup, MEXCLP; LSCP has no weight objective) -----------------------------------

/// Value of demand i covered by c vehicles/sites.
double value(const Prepared& P, std::int32_t i, std::int32_t c) {
  const double w = P.w[i];
  switch (P.model) {
    case SiteModel::Mclp: return c >= 1 ? w : 0.0;
    case SiteModel::Backup: return (c >= 1 ? w : 0.0) + (c >= 2 ? P.beta * w : 0.0);
    case SiteModel::Mexclp: return w * (1.0 - std::pow(P.q, double(c)));
    default: return 0.0;
  }
}
double inc(const Prepared& P, std::int32_t i, std::int32_t c) { return value(P, i, c + 1) - value(P, i, c); }

/// Search state for the count-based models: vehicles per candidate, count per demand, group coverage.
struct CountState {
  const Prepared* P = nullptr;
  std::vector<std::int32_t> x;     // vehicles per candidate
  std::vector<std::int32_t> c;     // covering vehicles per demand (distinct sites for Backup/MCLP: x is 0/1)
  std::vector<double> gcov;        // covered weight per group
  std::int64_t units = 0;          // Σ x
  double spent = 0.0;              // Σ cost of open sites
  double obj = 0.0;                // Σ value (LSCP: number of required demand covered)
  std::size_t req_covered = 0;     // LSCP full: required demand covered
  std::int32_t closed = 0;         // closable sites not open
  // Single-cover models (MCLP, LSCP: a demand's value changes only between 0 and 1 covering sites): the sum of the
  // open sites covering each demand, so that the one site covering a demand with c == 1 is owner_sum[i] — O(1)
  // instead of a scan of its covering list (Resende & Werneck's bookkeeping for the swap). Empty otherwise.
  std::vector<std::int64_t> owner_sum;

  explicit CountState(const Prepared& p)
      : P(&p), x(p.nc, 0), c(p.nd, 0), gcov(p.groups.size(), 0.0), closed(p.n_closable) {
    if (single_cover(p)) owner_sum.assign(p.nd, 0);
  }
  static bool single_cover(const Prepared& p) { return p.model == SiteModel::Mclp || p.model == SiteModel::Lscp; }

  double deficit() const {
    double d = 0.0;
    for (std::size_t g = 0; g < gcov.size(); ++g) d += std::max(0.0, P->groups[g].required - gcov[g]);
    if (P->lscp_full) d += double(P->n_required - req_covered);
    return d;
  }
  void cover_change(std::int32_t i, std::int32_t from, std::int32_t to) {
    obj += value(*P, i, to) - value(*P, i, from);
    const bool was = from >= 1, now = to >= 1;
    if (was != now) {
      const double s = now ? P->w[i] : -P->w[i];
      for (int which = 0; which < 2; ++which) {
        const std::int32_t g = dem_group(*P, i, which);
        if (g >= 0) gcov[g] += s;
      }
      if (P->required[i]) req_covered += now ? 1 : std::size_t(-1);
    }
  }
  void add(std::int32_t j) {
    if (x[j] == 0) spent += P->cost[j], closed -= P->closable[j];
    ++x[j];
    ++units;
    const bool owners = !owner_sum.empty();
    for (std::int64_t k = P->cov_off[j]; k < P->cov_off[j + 1]; ++k) {
      const std::int32_t i = P->cov_dem[k];
      cover_change(i, c[i], c[i] + 1);
      ++c[i];
      if (owners) owner_sum[i] += j;
    }
  }
  void remove(std::int32_t j) {
    --x[j];
    --units;
    if (x[j] == 0) spent -= P->cost[j], closed += P->closable[j];
    const bool owners = !owner_sum.empty();
    for (std::int64_t k = P->cov_off[j]; k < P->cov_off[j + 1]; ++k) {
      const std::int32_t i = P->cov_dem[k];
      cover_change(i, c[i], c[i] - 1);
      --c[i];
      if (owners) owner_sum[i] -= j;
    }
  }
};

/// Marginal effect of adding one vehicle at j to state S: (deficit reduction, objective gain).
struct AddEffect {
  double defred = 0.0, gain = 0.0;
};
AddEffect add_effect(const CountState& S, std::int32_t j, std::vector<double>& gscratch) {
  const Prepared& P = *S.P;
  AddEffect e;
  const bool groups = !P.groups.empty();
  if (groups) std::fill(gscratch.begin(), gscratch.end(), 0.0);
  double newly_required = 0.0;
  for (std::int64_t k = P.cov_off[j]; k < P.cov_off[j + 1]; ++k) {
    const std::int32_t i = P.cov_dem[k];
    e.gain += inc(P, i, S.c[i]);
    if (S.c[i] == 0) {
      if (groups) {
        for (int which = 0; which < 2; ++which) {
          const std::int32_t g = dem_group(P, i, which);
          if (g >= 0) gscratch[g] += P.w[i];
        }
      }
      if (P.required[i]) newly_required += 1.0;
    }
  }
  for (std::size_t g = 0; g < P.groups.size() && groups; ++g) {
    e.defred += std::min(std::max(0.0, P.groups[g].required - S.gcov[g]), gscratch[g]);
  }
  e.defred += newly_required;
  return e;
}

/// Greedy key: lexicographic (deficit reduction, gain), each per unit of cost when sites have costs.
struct Key {
  double a = 0.0, b = 0.0;
  std::int32_t j = 0;
};
bool key_less(const Key& x, const Key& y) {  // "x is worse than y" for a max-heap
  const double ta = tol_for(std::max(std::fabs(x.a), std::fabs(y.a)));
  if (std::fabs(x.a - y.a) > ta) return x.a < y.a;
  const double tb = tol_for(std::max(std::fabs(x.b), std::fabs(y.b)));
  if (std::fabs(x.b - y.b) > tb) return x.b < y.b;
  return x.j > y.j;  // lower index is better
}
Key make_key(const Prepared& P, const CountState& S, std::int32_t j, const AddEffect& e) {
  const double c = S.x[j] > 0 ? 0.0 : P.cost[j];
  if (P.unit_cost) return {e.defred, e.gain, j};
  const double d = std::max(c, 1e-12);
  return {e.defred / d, e.gain / d, j};
}

/// Lazy greedy over the candidates `allowed` (all when empty): repeatedly add the best vehicle/site until p units,
/// nothing adds anything, or (LSCP) nothing is left to cover. Records the order and gains.
void greedy_counts(CountState& S, std::vector<std::int32_t>* order, std::vector<double>* gains,
                   const std::vector<char>* allowed, std::int64_t max_units) {
  const Prepared& P = *S.P;
  std::vector<double> gscratch(P.groups.size());
  auto cmp = [](const Key& x, const Key& y) { return key_less(x, y); };
  std::priority_queue<Key, std::vector<Key>, decltype(cmp)> heap(cmp);
  auto can_add = [&](std::int32_t j) {
    if (allowed && !(*allowed)[j]) return false;
    if (S.x[j] >= P.hi[j]) return false;
    if (S.x[j] == 0 && S.spent + P.cost[j] > P.budget_tol) return false;
    return true;
  };
  for (std::int32_t j = 0; j < P.nc; ++j) {
    if (can_add(j)) heap.push(make_key(P, S, j, add_effect(S, j, gscratch)));
  }
  const bool lscp = P.model == SiteModel::Lscp;
  while (!heap.empty() && S.units < max_units) {
    poll(P);
    if (P.control && max_units > 0) P.control->report(double(S.units) / double(max_units));
    if (lscp && S.deficit() <= tol_for(0)) break;
    Key top = heap.top();
    heap.pop();
    if (!can_add(top.j)) continue;
    const AddEffect e = add_effect(S, top.j, gscratch);
    const Key fresh = make_key(P, S, top.j, e);
    if (!heap.empty() && key_less(fresh, heap.top())) {  // stale: someone else may be better now
      heap.push(fresh);
      continue;
    }
    if (e.defred <= 0.0 && (lscp || e.gain <= tol_for(S.obj))) break;  // nothing adds anything
    S.add(top.j);
    if (order) order->push_back(top.j);
    if (gains) gains->push_back(lscp ? e.defred : e.gain);
    if (can_add(top.j)) heap.push(make_key(P, S, top.j, add_effect(S, top.j, gscratch)));
  }
}

/// Swap local search (first improvement, Whitaker's bookkeeping of removal losses): move one vehicle/site from a
/// to b when that lowers the total deficit, or keeps it and raises the objective; respects p, budget, lo/hi.
/// With `focus`, only the candidates listed are tried as b (the iterated search's rounds: the candidates near its
/// kicks), until none of them improves.
void swap_counts(CountState& S, Clock::time_point deadline, const std::vector<std::int32_t>* focus = nullptr) {
  const Prepared& P = *S.P;
  const std::size_t ng = P.groups.size();
  // loss[a]: objective lost by removing one vehicle of a; gloss[a*ng+g]: group coverage lost.
  std::vector<double> loss(P.nc, 0.0), gloss(std::size_t(P.nc) * ng, 0.0);
  std::vector<double> rloss(P.nc, 0.0);  // LSCP full: required demand lost
  auto contrib = [&](std::int32_t a, std::int32_t i, double sign) {
    const std::int32_t ci = S.c[i];
    loss[a] += sign * (value(P, i, ci) - value(P, i, ci - 1));
    if (ci == 1) {
      for (int which = 0; which < 2; ++which) {
        const std::int32_t g = dem_group(P, i, which);
        if (g >= 0) gloss[std::size_t(a) * ng + g] += sign * P.w[i];
      }
      if (P.required[i]) rloss[a] += sign;
    }
  };
  auto rebuild = [&]() {
    std::fill(loss.begin(), loss.end(), 0.0);
    std::fill(gloss.begin(), gloss.end(), 0.0);
    std::fill(rloss.begin(), rloss.end(), 0.0);
    for (std::int32_t a = 0; a < P.nc; ++a) {
      if (S.x[a] == 0) continue;
      for (std::int64_t k = P.cov_off[a]; k < P.cov_off[a + 1]; ++k) contrib(a, P.cov_dem[k], 1.0);
    }
  };
  rebuild();
  const bool owners = !S.owner_sum.empty();
  std::vector<double> corr(P.nc, 0.0), gcorr(std::size_t(P.nc) * ng, 0.0), rcorr(P.nc, 0.0);
  std::vector<char> touched_flag(P.nc, 0);
  std::vector<std::int32_t> touched;
  std::vector<double> ggain(ng);
  std::vector<std::int32_t> own_after_remove;
  std::vector<std::int32_t> open_list;
  auto list_open = [&]() {
    open_list.clear();
    for (std::int32_t a = 0; a < P.nc; ++a) {
      if (S.x[a] > 0) open_list.push_back(a);
    }
  };
  list_open();
  std::int32_t since_improve = 0;
  std::int32_t b = 0;
  std::int64_t checks = 0;
  const std::int32_t n_try = focus ? std::int32_t(focus->size()) : P.nc;
  while (since_improve < n_try) {
    poll(P);
    if ((++checks & 15) == 0 && Clock::now() > deadline) break;
    const std::int32_t cand = focus ? (*focus)[b] : b;
    b = (b + 1) % n_try;
    ++since_improve;
    if (S.x[cand] >= P.hi[cand]) continue;
    // gain of adding b, and the corrections for demand b shares with each open a
    double gain = 0.0, rgain = 0.0;
    std::fill(ggain.begin(), ggain.end(), 0.0);
    touched.clear();
    for (std::int64_t k = P.cov_off[cand]; k < P.cov_off[cand + 1]; ++k) {
      const std::int32_t i = P.cov_dem[k];
      const std::int32_t ci = S.c[i];
      gain += inc(P, i, ci);
      if (ci == 0) {
        for (int which = 0; which < 2; ++which) {
          const std::int32_t g = dem_group(P, i, which);
          if (g >= 0) ggain[g] += P.w[i];
        }
        if (P.required[i]) rgain += 1.0;
        continue;
      }
      if (owners && ci >= 2) continue;  // single cover: removing one of several covering sites changes nothing
      const std::int64_t m_end = owners ? 1 : P.dcov_off[i + 1] - P.dcov_off[i];
      for (std::int64_t m = 0; m < m_end; ++m) {
        const std::int32_t a = owners ? std::int32_t(S.owner_sum[i]) : P.dcov_cand[P.dcov_off[i] + m];
        if (S.x[a] == 0 || a == cand) continue;
        if (!touched_flag[a]) {
          touched_flag[a] = 1;
          touched.push_back(a);
        }
        // For i in M_a ∩ M_b the count does not change: undo a's removal loss and b's gain for i.
        corr[a] += (value(P, i, ci) - value(P, i, ci - 1)) - inc(P, i, ci);
        if (ci == 1) {
          for (int which = 0; which < 2; ++which) {
            const std::int32_t g = dem_group(P, i, which);
            if (g >= 0) gcorr[std::size_t(a) * ng + g] += P.w[i];
          }
          if (P.required[i]) rcorr[a] += 1.0;
        }
      }
    }
    const double d0 = S.deficit();
    double best_d = d0, best_delta = 0.0;
    std::int32_t best_a = -1;
    for (std::int32_t a : open_list) {
      if (S.x[a] <= P.lo[a] || a == cand) continue;
      if (!closures_ok(P, S.closed, S.x[a] == 1 ? a : -1, S.x[cand] == 0 ? cand : -1)) continue;
      const double spent = S.spent - (S.x[a] == 1 ? P.cost[a] : 0.0) + (S.x[cand] == 0 ? P.cost[cand] : 0.0);
      if (spent > P.budget_tol) continue;
      const double delta = gain - loss[a] + corr[a];
      double d = 0.0;
      for (std::size_t g = 0; g < ng; ++g) {
        const double cov = S.gcov[g] + ggain[g] - gloss[std::size_t(a) * ng + g] + gcorr[std::size_t(a) * ng + g];
        d += std::max(0.0, P.groups[g].required - cov);
      }
      if (P.lscp_full) d += double(P.n_required - S.req_covered) - rgain + rloss[a] - rcorr[a];
      const double td = tol_for(std::max(d0, 1.0));
      bool better;
      if (d < best_d - td) {
        better = true;
      } else if (d <= best_d + td) {
        better = delta > best_delta + tol_for(S.obj);
      } else {
        better = false;
      }
      if (better) {
        best_d = d;
        best_delta = delta;
        best_a = a;
      }
    }
    for (std::int32_t a : touched) {
      touched_flag[a] = 0;
      corr[a] = 0.0;
      rcorr[a] = 0.0;
      for (std::size_t g = 0; g < ng; ++g) gcorr[std::size_t(a) * ng + g] = 0.0;
    }
    if (best_a < 0) continue;
    if (owners) {  // single cover: only demand whose count passes through 1 moves a removal loss, to its owner
      for (std::int64_t k = P.cov_off[best_a]; k < P.cov_off[best_a + 1]; ++k) {
        const std::int32_t i = P.cov_dem[k];
        if (S.c[i] == 1) contrib(best_a, i, -1.0);
        else if (S.c[i] == 2) own_after_remove.push_back(i);
      }
      S.remove(best_a);
      for (std::int32_t i : own_after_remove) contrib(std::int32_t(S.owner_sum[i]), i, 1.0);
      own_after_remove.clear();
      for (std::int64_t k = P.cov_off[cand]; k < P.cov_off[cand + 1]; ++k) {
        const std::int32_t i = P.cov_dem[k];
        if (S.c[i] == 1) contrib(std::int32_t(S.owner_sum[i]), i, -1.0);
      }
      S.add(cand);
      for (std::int64_t k = P.cov_off[cand]; k < P.cov_off[cand + 1]; ++k) {
        const std::int32_t i = P.cov_dem[k];
        if (S.c[i] == 1) contrib(cand, i, 1.0);
      }
      list_open();
      since_improve = 0;
      continue;
    }
    // Apply: update the loss bookkeeping only for demand whose count changes.
    // Only demand covered by a or b changes its count: recompute the losses of every site covering such demand.
    auto recompute_around = [&](std::int32_t j1, std::int32_t j2) {
      std::vector<std::int32_t> sites;
      for (std::int32_t j : {j1, j2}) {
        for (std::int64_t k = P.cov_off[j]; k < P.cov_off[j + 1]; ++k) {
          const std::int32_t i = P.cov_dem[k];
          for (std::int64_t m = P.dcov_off[i]; m < P.dcov_off[i + 1]; ++m) {
            const std::int32_t a = P.dcov_cand[m];
            if (!touched_flag[a]) {
              touched_flag[a] = 1;
              sites.push_back(a);
            }
          }
        }
      }
      return sites;
    };
    std::vector<std::int32_t> around = recompute_around(best_a, cand);
    for (std::int32_t a : around) {
      if (S.x[a] > 0) {
        for (std::int64_t k = P.cov_off[a]; k < P.cov_off[a + 1]; ++k) contrib(a, P.cov_dem[k], -1.0);
      }
    }
    S.remove(best_a);
    S.add(cand);
    for (std::int32_t a : around) {
      if (S.x[a] > 0) {
        for (std::int64_t k = P.cov_off[a]; k < P.cov_off[a + 1]; ++k) contrib(a, P.cov_dem[k], 1.0);
      }
      touched_flag[a] = 0;
    }
    list_open();
    since_improve = 0;
  }
}

/// LSCP: drop open non-fixed sites that are not needed (most expensive first, ties highest index first).
void drop_redundant(CountState& S) {
  const Prepared& P = *S.P;
  std::vector<std::int32_t> open;
  for (std::int32_t j = 0; j < P.nc; ++j) {
    if (S.x[j] > P.lo[j]) open.push_back(j);
  }
  std::sort(open.begin(), open.end(), [&](std::int32_t a, std::int32_t b) {
    return P.cost[a] != P.cost[b] ? P.cost[a] > P.cost[b] : a > b;
  });
  for (std::int32_t j : open) {
    if (!closures_ok(P, S.closed, j, -1) || P.cost[j] < 0) continue;  // cost' < 0: keeping it costs less
    const double d0 = S.deficit();
    S.remove(j);
    if (S.deficit() > d0 + tol_for(d0)) S.add(j);
  }
}

// ---- p-median / p-center state (nearest and second nearest open site per demand) -----------------------------

struct Demand2 {  // demand-major pairs with seconds (allowed candidates only, weight > 0 demand)
  std::vector<std::int64_t> off;
  std::vector<std::int32_t> cand;
  std::vector<float> sec;
  bool by_cost = false;  // each demand's pairs ascending by (seconds, candidate); else by candidate
};
Demand2 demand_major(const Prepared& P) {
  const SiteCosts& C = *P.costs;
  Demand2 D;
  D.off.assign(std::size_t(P.nd) + 1, 0);
  for (std::int32_t j = 0; j < P.nc; ++j) {
    if (P.hi[j] == 0) continue;
    for (std::int64_t k = C.offsets[j]; k < C.offsets[j + 1]; ++k) {
      if (P.w[C.demand[k]] > 0) ++D.off[std::size_t(C.demand[k]) + 1];
    }
  }
  for (std::int32_t i = 0; i < P.nd; ++i) D.off[i + 1] += D.off[i];
  D.cand.resize(D.off.back());
  D.sec.resize(D.off.back());
  std::vector<std::int64_t> pos(D.off.begin(), D.off.end() - 1);
  for (std::int32_t j = 0; j < P.nc; ++j) {
    if (P.hi[j] == 0) continue;
    for (std::int64_t k = C.offsets[j]; k < C.offsets[j + 1]; ++k) {
      const std::int32_t i = C.demand[k];
      if (P.w[i] > 0) {
        D.cand[pos[i]] = j;
        D.sec[pos[i]++] = C.seconds[k];
      }
    }
  }
  return D;
}

/// Sorts each demand's pairs by (seconds, candidate): the nearest open sites are then the first open ones in the
/// list (ties to the lowest index), and the Lagrangian bound touches only the pairs cheaper than a multiplier.
void sort_by_cost(Demand2& D) {
  std::vector<std::pair<float, std::int32_t>> tmp;
  for (std::size_t i = 0; i + 1 < D.off.size(); ++i) {
    const std::int64_t a = D.off[i], b = D.off[i + 1];
    tmp.clear();
    for (std::int64_t k = a; k < b; ++k) tmp.emplace_back(D.sec[k], D.cand[k]);
    std::sort(tmp.begin(), tmp.end());
    for (std::int64_t k = a; k < b; ++k) D.sec[k] = tmp[std::size_t(k - a)].first, D.cand[k] = tmp[std::size_t(k - a)].second;
  }
  D.by_cost = true;
}

/// Lexicographic value of a p-median state: (weight with no open site, Σ w × seconds).
struct LexV {
  double unc = 0.0, cost = 0.0;
};
LexV operator+(LexV a, LexV b) { return {a.unc + b.unc, a.cost + b.cost}; }
LexV operator-(LexV a, LexV b) { return {a.unc - b.unc, a.cost - b.cost}; }
/// a strictly better (smaller) than b beyond tolerance
bool lex_better(LexV a, LexV b, double scale_unc, double scale_cost) {
  if (a.unc < b.unc - tol_for(scale_unc)) return true;
  if (a.unc > b.unc + tol_for(scale_unc)) return false;
  return a.cost < b.cost - tol_for(scale_cost);
}
LexV val_at(double w, double d) { return std::isfinite(d) ? LexV{0.0, w * d} : LexV{w, 0.0}; }

struct MedianState {
  const Prepared* P;
  const Demand2* D;
  std::vector<char> open;
  std::vector<std::int32_t> n1;
  std::vector<double> d1, d2;
  LexV total;
  std::int32_t n_open = 0;
  std::int64_t work = 0;  // pairs read by refresh and the swap (a count, not a clock: it schedules the heuristics)
  MedianState(const Prepared& p, const Demand2& d)
      : P(&p), D(&d), open(p.nc, 0), n1(p.nd, -1), d1(p.nd, kInf), d2(p.nd, kInf) {
    for (std::int32_t i = 0; i < p.nd; ++i) {
      if (p.w[i] > 0) total.unc += p.w[i];
    }
  }
  void refresh(std::int32_t i) {  // recompute nearest / second nearest of demand i from its list
    total = total - val_at(P->w[i], d1[i]);
    n1[i] = -1;
    d1[i] = d2[i] = kInf;
    for (std::int64_t k = D->off[i]; k < D->off[i + 1]; ++k) {
      ++work;
      const std::int32_t j = D->cand[k];
      if (!open[j]) continue;
      const double s = D->sec[k];
      if (s < d1[i] || (s == d1[i] && j < n1[i])) {
        d2[i] = d1[i];
        d1[i] = s;
        n1[i] = j;
      } else if (s < d2[i]) {
        d2[i] = s;
      }
      if (D->by_cost && std::isfinite(d2[i])) break;  // the first two open ones are the nearest two
    }
    total = total + val_at(P->w[i], d1[i]);
  }
};

/// Greedy (lazy) add for p-median: the site that lowers (unassigned weight, Σ w·seconds) most, ties lowest index.
void greedy_median(MedianState& S, const SiteCosts& C, std::int32_t max_open, const std::vector<char>* allowed,
                   std::vector<std::int32_t>* order, std::vector<LexV>* gains) {
  const Prepared& P = *S.P;
  if (S.n_open >= max_open) return;  // nothing to add (a start with p sites): skip the heap's pass over all pairs
  auto effect = [&](std::int32_t j) {
    LexV g;
    S.work += C.offsets[j + 1] - C.offsets[j];
    for (std::int64_t k = C.offsets[j]; k < C.offsets[j + 1]; ++k) {
      const std::int32_t i = C.demand[k];
      if (P.w[i] <= 0) continue;
      const double s = C.seconds[k];
      if (s < S.d1[i]) g = g + (val_at(P.w[i], S.d1[i]) - val_at(P.w[i], s));
    }
    return g;
  };
  struct HK {
    LexV g;
    std::int32_t j;
  };
  const double su = std::max(1.0, S.total.unc);
  auto worse = [&](const HK& x, const HK& y) {  // x worse than y: smaller gain, or equal and higher index
    if (x.g.unc < y.g.unc - tol_for(su)) return true;
    if (x.g.unc > y.g.unc + tol_for(su)) return false;
    const double sc = std::max(std::fabs(x.g.cost), std::fabs(y.g.cost));
    if (x.g.cost < y.g.cost - tol_for(sc)) return true;
    if (x.g.cost > y.g.cost + tol_for(sc)) return false;
    return x.j > y.j;
  };
  std::priority_queue<HK, std::vector<HK>, decltype(worse)> heap(worse);
  for (std::int32_t j = 0; j < P.nc; ++j) {
    if (!S.open[j] && P.hi[j] > 0 && (!allowed || (*allowed)[j])) heap.push({effect(j), j});
  }
  while (!heap.empty() && S.n_open < max_open) {
    poll(P);
    if (P.control && max_open > 0) P.control->report(double(S.n_open) / double(max_open));
    HK top = heap.top();
    heap.pop();
    HK fresh{effect(top.j), top.j};
    if (!heap.empty() && worse(fresh, heap.top())) {
      heap.push(fresh);
      continue;
    }
    if (fresh.g.unc <= 0 && fresh.g.cost <= tol_for(S.total.cost)) break;
    S.open[top.j] = 1;
    ++S.n_open;
    for (std::int64_t k = C.offsets[top.j]; k < C.offsets[top.j + 1]; ++k) {
      if (P.w[C.demand[k]] > 0) S.refresh(C.demand[k]);
    }
    if (order) order->push_back(top.j);
    if (gains) gains->push_back(fresh.g);
  }
}

/// Fast interchange (Whitaker 1983; Resende & Werneck 2004): for each closed b, the best open a to swap out in
/// O(|M_b| + p); first improvement; stops at a local optimum or the deadline. focus (optional, ascending): only
/// these candidates are tried for b (a local optimum of that smaller neighbourhood). Adds the pairs it reads to
/// S.work.
void swap_median(MedianState& S, const SiteCosts& C, Clock::time_point deadline,
                 const std::vector<std::int32_t>* focus = nullptr) {
  const Prepared& P = *S.P;
  const Demand2& D = *S.D;
  std::vector<LexV> loss(P.nc);  // change of total when a is removed (positive = worse)
  auto contrib = [&](std::int32_t i) { return val_at(P.w[i], S.d2[i]) - val_at(P.w[i], S.d1[i]); };
  for (std::int32_t i = 0; i < P.nd; ++i) {
    if (P.w[i] > 0 && S.n1[i] >= 0) loss[S.n1[i]] = loss[S.n1[i]] + contrib(i);
  }
  S.work += P.nd;
  std::vector<LexV> extra(P.nc);
  std::vector<std::int32_t> touched;
  std::vector<char> tflag(P.nc, 0);
  std::int32_t since = 0, b = 0;
  std::int64_t checks = 0;
  std::int32_t closed_now = 0;
  for (std::int32_t j = 0; j < P.nc; ++j) closed_now += P.closable[j] && !S.open[j];
  std::vector<std::int32_t> open_sites;  // the open sites, ascending (p of them, not all candidates, per scan)
  for (std::int32_t j = 0; j < P.nc; ++j) {
    if (S.open[j]) open_sites.push_back(j);
  }
  const std::int32_t n_try = focus ? std::int32_t(focus->size()) : P.nc;
  while (since < n_try) {
    poll(P);
    if ((++checks & 15) == 0 && Clock::now() > deadline) break;
    const std::int32_t cand = focus ? (*focus)[b] : b;
    b = (b + 1) % n_try;
    ++since;
    if (S.open[cand] || P.hi[cand] == 0) continue;
    S.work += (C.offsets[cand + 1] - C.offsets[cand]) + std::int64_t(open_sites.size());
    LexV gain;  // decrease of total from adding cand (positive = better)
    touched.clear();
    for (std::int64_t k = C.offsets[cand]; k < C.offsets[cand + 1]; ++k) {
      const std::int32_t i = C.demand[k];
      if (P.w[i] <= 0) continue;
      const double s = C.seconds[k];
      const std::int32_t a = S.n1[i];
      if (s < S.d1[i]) {
        gain = gain + (val_at(P.w[i], S.d1[i]) - val_at(P.w[i], s));
        if (a >= 0) {  // removing a no longer costs anything for i: undo its loss
          extra[a] = extra[a] - contrib(i);
          if (!tflag[a]) tflag[a] = 1, touched.push_back(a);
        }
      } else if (a >= 0 && s < S.d2[i]) {  // after removing a, i goes to cand instead of its second nearest
        extra[a] = extra[a] + (val_at(P.w[i], s) - val_at(P.w[i], S.d2[i]));
        if (!tflag[a]) tflag[a] = 1, touched.push_back(a);
      }
    }
    std::int32_t best_a = -1;
    LexV best{0.0, 0.0};  // best change (negative = improvement)
    for (std::int32_t a : open_sites) {  // ascending: ties go to the lowest index
      if (P.lo[a] > 0) continue;
      if (!closures_ok(P, closed_now, a, cand)) continue;
      const LexV change = loss[a] + extra[a] - gain;
      if (lex_better(change, best, std::max(1.0, S.total.unc), std::max(1.0, S.total.cost))) {
        best = change;
        best_a = a;
      }
    }
    for (std::int32_t a : touched) tflag[a] = 0, extra[a] = LexV{};
    if (best_a < 0) continue;
    // apply: demand of best_a and cand change their nearest / second nearest
    std::vector<std::int32_t> aff;
    for (std::int32_t j : {best_a, cand}) {
      for (std::int64_t k = C.offsets[j]; k < C.offsets[j + 1]; ++k) {
        if (P.w[C.demand[k]] > 0) aff.push_back(C.demand[k]);
      }
    }
    std::sort(aff.begin(), aff.end());
    aff.erase(std::unique(aff.begin(), aff.end()), aff.end());
    for (std::int32_t i : aff) {
      if (S.n1[i] >= 0) loss[S.n1[i]] = loss[S.n1[i]] - contrib(i);
    }
    S.open[best_a] = 0;
    S.open[cand] = 1;
    *std::find(open_sites.begin(), open_sites.end(), best_a) = cand;
    std::sort(open_sites.begin(), open_sites.end());
    closed_now += P.closable[best_a] - P.closable[cand];
    for (std::int32_t i : aff) {
      S.refresh(i);
      if (S.n1[i] >= 0) loss[S.n1[i]] = loss[S.n1[i]] + contrib(i);
    }
    since = 0;
  }
  (void)D;
}

// ---- evaluation -----------------------------------------------------------------------------------------------

SiteEvaluation evaluate_counts(const Prepared& P, const std::vector<std::int32_t>& x) {
  const SiteCosts& C = *P.costs;
  SiteEvaluation ev;
  std::int64_t units = 0;
  for (std::int32_t j = 0; j < P.nc; ++j) {
    if (x[j] > 0) {
      ev.sites.push_back(j);
      ev.vehicles.push_back(x[j]);
      ev.total_cost += P.cost[j];
      units += x[j];
    }
  }
  ev.assignment.assign(P.nd, -1);
  ev.assigned_seconds.assign(P.nd, kInfF);
  std::vector<float> nearest(P.nd, kInfF);
  std::vector<std::int32_t> nearest_site(P.nd, -1), count_sites(P.nd, 0), count_veh(P.nd, 0);
  for (std::int32_t j : ev.sites) {  // ascending j: strict < keeps the lowest index among equal times
    for (std::int64_t k = C.offsets[j]; k < C.offsets[j + 1]; ++k) {
      const std::int32_t i = C.demand[k];
      const float s = C.seconds[k];
      if (s < nearest[i]) nearest[i] = s, nearest_site[i] = j;
      if (double(s) <= P.stdv[i] && P.has_standard) {
        ++count_sites[i];
        count_veh[i] += x[j];
        if (s < ev.assigned_seconds[i]) ev.assigned_seconds[i] = s, ev.assignment[i] = j;
      }
    }
  }
  const bool pc = !is_coverage_model(P.model);
  if (pc) {
    ev.assignment = nearest_site;
    ev.assigned_seconds = nearest;
  }
  ev.served.assign(P.nd, 0.0);
  {
    std::vector<double> load(P.nc, 0.0);
    for (std::int32_t i = 0; i < P.nd; ++i) {
      if (P.w[i] > 0 && ev.assignment[i] >= 0) ev.served[i] = 1.0, load[ev.assignment[i]] += P.w[i];
    }
    for (std::int32_t j : ev.sites) ev.site_load.push_back(load[j]);
  }
  const std::size_t nz = P.groups.size() - (P.primary_group >= 0 ? 1 : 0);
  ev.zone_weight.assign(nz, 0.0);
  ev.zone_covered.assign(nz, 0.0);
  double covered_required = 0.0;
  std::size_t required_missing = 0;
  for (std::int32_t i = 0; i < P.nd; ++i) {
    const double w = P.w[i];
    if (w <= 0) continue;
    ev.weight += w;
    const bool cov = count_sites[i] >= 1;
    if (cov) ev.covered += w;
    if (count_sites[i] >= 2) ev.backed_up += w;
    ev.expected_covered += P.model == SiteModel::Mexclp ? w * (1.0 - std::pow(P.q, double(count_veh[i])))
                                                        : (cov ? w : 0.0);
    if (P.has_standard && !P.coverable[i]) ev.uncoverable += w;
    ev.max_seconds = std::max(ev.max_seconds, double(nearest[i]));
    ev.weighted_seconds += std::isfinite(nearest[i]) ? w * double(nearest[i]) : kInf;
    if (P.zone[i] >= 0 && std::size_t(P.zone[i]) < nz) {
      ev.zone_weight[P.zone[i]] += w;
      if (cov) ev.zone_covered[P.zone[i]] += w;
    }
    if (P.coverable[i] && cov) covered_required += w;
    if (P.required[i] && !cov) ++required_missing;
  }
  ev.total_cost += P.closing_total;  // Σ_open (cost − closing) + Σ closing = Σ_open cost + Σ_closed closing
  switch (P.model) {
    case SiteModel::Lscp: ev.objective = ev.total_cost; break;
    case SiteModel::Mclp: ev.objective = ev.covered; break;
    case SiteModel::Backup: ev.objective = ev.covered + P.beta * ev.backed_up; break;
    case SiteModel::Mexclp: ev.objective = ev.expected_covered; break;
    case SiteModel::PMedian: ev.objective = ev.weighted_seconds; break;
    case SiteModel::PCenter: ev.objective = ev.max_seconds; break;
  }
  std::ostringstream why;
  if (P.model != SiteModel::Lscp && units > P.p) {
    why << units << (P.model == SiteModel::Mexclp ? " vehicles" : " sites") << " open, more than p = " << P.p << "; ";
  }
  if (ev.total_cost - P.closing_total > P.budget_tol) {
    why << "cost " << ev.total_cost << " over the budget " << P.budget + P.closing_total << "; ";
  }
  for (std::int32_t j = 0; j < P.nc; ++j) {
    if (P.closable[j] && x[j] == 0) ev.closed.push_back(j);
  }
  if (P.max_closures >= 0 && std::int32_t(ev.closed.size()) > P.max_closures) {
    why << ev.closed.size() << " existing sites closed, more than max_closures = " << P.max_closures << "; ";
  }
  for (std::int32_t j = 0; j < P.nc; ++j) {
    if (x[j] < P.lo[j]) why << "fixed candidate " << j << " is not open; ";
    if (x[j] > P.hi[j]) why << "candidate " << j << " is forbidden or over its vehicle limit; ";
  }
  for (std::size_t z = 0; z < nz; ++z) {
    if (ev.zone_covered[z] < P.groups[z].required - tol_for(P.groups[z].required)) {
      why << "zone " << z << " covered " << ev.zone_covered[z] << " < required " << P.groups[z].required << "; ";
    }
  }
  if (P.primary_group >= 0 && covered_required < P.groups[P.primary_group].required - tol_for(covered_required)) {
    why << "not every coverable demand is covered (require_primary); ";
  }
  if (required_missing > 0) why << required_missing << " demand points not covered; ";
  if (pc && !std::isfinite(ev.weighted_seconds)) why << "some demand has no open site among its pairs; ";
  ev.infeasible_reason = why.str();
  if (ev.infeasible_reason.size() >= 2) ev.infeasible_reason.resize(ev.infeasible_reason.size() - 2);
  ev.feasible = ev.infeasible_reason.empty();
  return ev;
}

/// Objective of the greedy order of a solution's added sites (the marginal-gain curve of the answer).
void order_solution(const Prepared& P, SiteSolution& sol, const std::vector<std::int32_t>& x) {
  // The curve starts from the fixed sites and the existing (closable) sites kept open.
  std::vector<std::int32_t> base(P.lo);
  for (std::int32_t j = 0; j < P.nc; ++j) {
    if (P.closable[j]) base[j] = x[j];
  }
  std::vector<char> allowed(P.nc, 0);
  for (std::int32_t j = 0; j < P.nc; ++j) allowed[j] = x[j] > base[j];
  if (is_coverage_model(P.model)) {
    CountState S(P);
    for (std::int32_t j = 0; j < P.nc; ++j) {
      for (std::int32_t v = 0; v < base[j]; ++v) S.add(j);
    }
    // Add exactly the solution's extra units, greedily; LSCP gains are newly covered weight.
    std::int64_t target = 0;
    for (std::int32_t j = 0; j < P.nc; ++j) target += x[j];
    std::vector<std::int32_t> left(x);
    for (std::int32_t j = 0; j < P.nc; ++j) left[j] -= base[j];
    while (S.units < target) {
      poll(P);
      std::int32_t best = -1;
      double bg = 0.0;
      for (std::int32_t j = 0; j < P.nc; ++j) {
        if (left[j] <= 0) continue;
        double g = 0.0;
        for (std::int64_t k = P.cov_off[j]; k < P.cov_off[j + 1]; ++k) {
          const std::int32_t i = P.cov_dem[k];
          g += P.model == SiteModel::Lscp ? (S.c[i] == 0 ? P.w[i] : 0.0) : inc(P, i, S.c[i]);
        }
        if (best < 0 || g > bg + tol_for(bg)) bg = g, best = j;
      }
      --left[best];
      S.add(best);
      sol.added_order.push_back(best);
      sol.marginal_gain.push_back(bg);
    }
  } else {
    Demand2 D = demand_major(P);
    MedianState S(P, D);
    for (std::int32_t j = 0; j < P.nc; ++j) {
      if (base[j] > 0) S.open[j] = 1, ++S.n_open;
    }
    for (std::int32_t i = 0; i < P.nd; ++i) {
      if (P.w[i] > 0) S.refresh(i);
    }
    std::vector<LexV> gains;
    greedy_median(S, *P.costs, P.nc, &allowed, &sol.added_order, &gains);
    // Report the objective's decrease (+inf while some demand still had no site).
    double prev = kInf;
    std::vector<char> open(S.open.size(), 0);
    for (std::int32_t j = 0; j < P.nc; ++j) open[j] = base[j] > 0;
    for (std::int32_t j : sol.added_order) {
      open[j] = 1;
      std::vector<std::int32_t> xx(open.begin(), open.end());
      const SiteEvaluation e = evaluate_counts(P, xx);
      const double now = e.objective;
      sol.marginal_gain.push_back(std::isfinite(prev) ? prev - now : kInf);
      prev = now;
    }
  }
}

// ---- CBC -------------------------------------------------------------------------------------------------------

using cbc::CbcHeuristics;
using cbc::Mip;
using cbc::MipResult;
using cbc::solve_mip;

/// SiteSolution::status when CBC / CLP died in both attempts (MipResult::failure): what happened, and that the answer
/// is the heuristic's, with the bound it proved.
std::string solver_failed_status(const MipResult& r) {
  return r.failure + " (the heuristic answer and its bound are kept)";
}

std::vector<std::int32_t> x_from_mip(const Prepared& P, const std::vector<double>& sol) {
  std::vector<std::int32_t> x(P.nc);
  for (std::int32_t j = 0; j < P.nc; ++j) x[j] = std::int32_t(std::lround(sol[j]));
  return x;
}

/// m with the objective held in [obj_lo, obj_hi] by one more row, at most count_hi site columns open (when
/// count_hi >= 0), the site columns' bounds replaced by site_lb / site_ub, and the objective replaced by new_obj on
/// the site columns (zero elsewhere) when given.
Mip restricted_mip(const Mip& m, std::int32_t nc, double obj_lo, double obj_hi, double count_hi,
                   const std::vector<double>& site_lb, const std::vector<double>& site_ub,
                   const std::vector<double>* new_obj) {
  Mip r;
  r.rowlb = m.rowlb;
  r.rowub = m.rowub;
  const int obj_row = r.add_row(obj_lo, obj_hi);
  const int count_row = count_hi >= 0 ? r.add_row(-kInf, count_hi) : -1;
  for (std::size_t c = 0; c < m.collb.size(); ++c) {
    const bool site = c < std::size_t(nc);
    r.add_col(site ? site_lb[c] : m.collb[c], site ? site_ub[c] : m.colub[c],
              new_obj ? (site ? (*new_obj)[c] : 0.0) : m.obj[c], m.integer[c]);
    for (CoinBigIndex k = m.start[c]; k < m.start[c + 1]; ++k) r.entry(m.index[k], m.value[k]);
    if (m.obj[c] != 0.0) r.entry(obj_row, m.obj[c]);
    if (site && count_row >= 0) r.entry(count_row, 1.0);
    r.end_col();
  }
  return r;
}

/// m with more entries on its first nc (site) columns: extra(c, r) adds column c's new entries to r (CSC columns are
/// contiguous, so the matrix is re-assembled column by column).
Mip with_site_entries(const Mip& m, std::int32_t nc, const std::function<void(std::size_t, Mip&)>& extra) {
  Mip r;
  r.rowlb = m.rowlb;
  r.rowub = m.rowub;
  for (std::size_t c = 0; c < m.collb.size(); ++c) {
    r.add_col(m.collb[c], m.colub[c], m.obj[c], m.integer[c]);
    for (CoinBigIndex k = m.start[c]; k < m.start[c + 1]; ++k) r.entry(m.index[k], m.value[k]);
    if (c < std::size_t(nc)) extra(c, r);
    r.end_col();
  }
  return r;
}

/// At most this many CBC solves are spent on breaking ties (see lex_smallest_optimum), and only on instances up
/// to kTieMaxPairs pairs (each solve must prove infeasibility when the optimum is unique: costly on large MIPs).
constexpr int kMaxTieSolves = 200;
constexpr std::size_t kTieMaxPairs = 50000;

/// DESIGN.md's deterministic ties for the exact path: among the optimal sets (objective z, proven), the one with the
/// fewest open sites (MEXCLP: vehicles), and among those the lexicographically smallest sorted list of candidate
/// indices (MEXCLP: a site listed once per vehicle, so more vehicles at a lower index come first). Every solve
/// holds the objective at z; its own objective prefers low indices (Σ (j+1) x_j, after the count), so the sets it
/// returns are already nearly the smallest and few solves follow.
/// (1) One CBC solve minimises the open units AND requires a set different from x (a no-good row; 0/1 columns
/// only). Infeasible: x is the only optimal set, done — the common case, one solve. A larger other set: x is the
/// only optimal set of its size, done. Otherwise it gives the fewest units (x's or the other set's).
/// (2) Only when a tie of that size exists, element by element of the sorted list: with the elements before
/// fixed, one feasibility solve asks whether any optimal set of that size has its next element at a lower index
/// than the current set's (a row Σ_{j in the gap} x_j >= 1 + their fixed units). Infeasible: the element is
/// proven and fixed; feasible: the set found is smaller, it becomes the current one. So the solves are about the
/// set's size plus the improvements, not the number of candidates. `optimal(x)` checks a candidate answer with
/// the model's own evaluation (feasible, objective equal to z). Stops at the deadline or after kMaxTieSolves
/// solves, keeping the current (still optimal) set; *complete says whether it finished.
std::vector<std::int32_t> lex_smallest_optimum(const Prepared& P, const Mip& m, bool maximise, double z,
                                               std::vector<std::int32_t> x,
                                               const std::function<bool(const std::vector<std::int32_t>&)>& optimal,
                                               Clock::time_point deadline, bool* complete) {
  *complete = false;
  cbc::SolverSession solver_session;  // one solver process for up to kMaxTieSolves small MIPs
  const double tol = 1e-7 * std::max(1.0, std::fabs(z));
  const double lo = maximise ? z - tol : -kInf, hi = maximise ? kInf : z + tol;
  std::vector<double> lb(P.nc), ub(P.nc);
  bool binary = true;
  for (std::int32_t j = 0; j < P.nc; ++j) lb[j] = P.lo[j], ub[j] = P.hi[j], binary = binary && P.hi[j] <= 1;
  auto left = [&]() {
    return deadline == Clock::time_point::max() ? kInf : std::chrono::duration<double>(deadline - Clock::now()).count();
  };
  auto count = [](const std::vector<std::int32_t>& v) { return std::accumulate(v.begin(), v.end(), std::int64_t(0)); };
  // m restricted (objective held, count_hi, bounds, index-preferring objective) plus one row `row_lb <= Σ coef x`
  // over the site columns (no row when coef is empty).
  auto tie_mip = [&](double count_hi, const std::vector<double>& lbs, const std::vector<double>& obj,
                     const std::vector<double>& coef, double row_lb) {
    Mip t = restricted_mip(m, P.nc, lo, hi, count_hi, lbs, ub, &obj);
    if (coef.empty()) return t;
    const int row = t.add_row(row_lb, kInf);
    return with_site_entries(t, P.nc, [&](std::size_t c, Mip& r) {
      if (coef[c] != 0.0) r.entry(row, coef[c]);
    });
  };
  int solves = 0;
  if (left() <= 0) return x;
  // (1) fewest units (count + a preference for low indices worth < 1 in all), and whether another optimal set exists
  // The sorted list of a is smaller than b's: fewer units, or at the first index where they differ, more units.
  auto list_smaller = [&](const std::vector<std::int32_t>& u, const std::vector<std::int32_t>& v) {
    return count(u) != count(v) ? count(u) < count(v) : u > v;
  };
  const double units = std::max(1.0, double(count(P.hi)));
  std::vector<double> obj1(P.nc), by_index(P.nc), coef;
  for (std::int32_t j = 0; j < P.nc; ++j) {
    obj1[j] = 1.0 + double(j + 1) / (2.0 * double(P.nc + 1) * units);  // Σ over any set of units < 1/2
    by_index[j] = double(j + 1);
  }
  double row_lb = 0.0;
  if (binary) {  // no-good: Σ_{j∉x} x_j − Σ_{j∈x} x_j >= 1 − |x| over the free columns
    coef.assign(P.nc, 0.0);
    double in_x = 0.0;
    for (std::int32_t j = 0; j < P.nc; ++j) {
      if (lb[j] >= ub[j]) continue;
      coef[j] = x[j] > 0 ? -1.0 : 1.0;
      in_x += x[j] > 0 ? 1.0 : 0.0;
    }
    row_lb = 1.0 - in_x;
  }
  const MipResult r1 = solve_mip(tie_mip(-1.0, lb, obj1, coef, row_lb), false, false, left(), 0.0, P.control);
  ++solves;
  if (binary && r1.proven_infeasible) {  // x is the only optimal set
    *complete = true;
    return x;
  }
  if (!r1.proven_optimal || !r1.has_solution) return x;  // stopped undecided (time): keep x (optimal)
  const std::vector<std::int32_t> x1 = x_from_mip(P, r1.x);
  if (binary && count(x1) > count(x)) {  // every other optimal set is larger: x is the answer
    *complete = true;
    return x;
  }
  if (list_smaller(x1, x)) {
    if (!optimal(x1)) return x;  // numerically doubtful: keep x (optimal)
    x = x1;
  }
  const double count_hi = double(count(x));
  // (2) the sorted list element by element: a = first index not yet fixed
  std::int32_t a = 0;
  while (true) {
    poll(P);
    std::int32_t s = -1;  // the current set's next element: the first index >= a with more units than fixed
    for (std::int32_t j = a; j < P.nc && s < 0; ++j) {
      if (x[j] > lb[j]) s = j;
    }
    if (s < 0) break;  // every unit is placed at fixed positions: the list is proven smallest
    bool gap = false;
    for (std::int32_t j = a; j < s; ++j) gap = gap || lb[j] < ub[j];
    if (gap) {
      if (solves >= kMaxTieSolves || left() <= 0) return x;
      std::vector<double> g(P.nc, 0.0);
      double fixed_units = 0.0;
      for (std::int32_t j = a; j < s; ++j) {
        if (lb[j] < ub[j]) g[j] = 1.0, fixed_units += lb[j];
      }
      const MipResult r = solve_mip(tie_mip(count_hi, lb, by_index, g, 1.0 + fixed_units), false, false, left(), 0.0,
                                    P.control);
      ++solves;
      if (r.has_solution) {
        const std::vector<std::int32_t> xr = x_from_mip(P, r.x);
        if (list_smaller(xr, x) && optimal(xr)) {
          x = xr;
          continue;  // a smaller next element: look again from a
        }
      }
      if (!(r.proven_infeasible || r.proven_optimal)) return x;  // stopped undecided (time): keep the current set
      if (r.proven_optimal) return x;  // a solution CBC calls optimal that our evaluation rejects: stop safely
      for (std::int32_t j = a; j < s; ++j) ub[j] = lb[j];  // no optimal set of this size goes lower
    }
    lb[s] += 1;  // the next element is s
    a = s;
  }
  *complete = true;
  return x;
}

/// Demand with the same zone and the same covering candidates behave identically in every covering model: one MIP
/// row (and one set of coverage columns) per such class, with the class's summed weight, gives the same optimum
/// with far fewer rows (fine grids have many cells seen by exactly the same sites). rep[i] = the class's first
/// demand (-1: not coverable); agg_w[rep] = the class weight.
std::vector<std::int32_t> demand_classes(const Prepared& P, std::vector<double>& agg_w) {
  std::vector<std::int32_t> rep(P.nd, -1);
  agg_w.assign(P.nd, 0.0);
  std::unordered_map<std::uint64_t, std::vector<std::int32_t>> buckets;
  buckets.reserve(std::size_t(P.nd));
  auto same = [&](std::int32_t a, std::int32_t b) {
    if (P.zone[a] != P.zone[b]) return false;
    const std::int64_t na = P.dcov_off[a + 1] - P.dcov_off[a], nb = P.dcov_off[b + 1] - P.dcov_off[b];
    return na == nb && std::equal(P.dcov_cand.begin() + P.dcov_off[a], P.dcov_cand.begin() + P.dcov_off[a + 1],
                                  P.dcov_cand.begin() + P.dcov_off[b]);
  };
  for (std::int32_t i = 0; i < P.nd; ++i) {
    if (!P.coverable[i]) continue;
    std::uint64_t h = 1469598103934665603ull ^ std::uint64_t(std::uint32_t(P.zone[i]));
    for (std::int64_t k = P.dcov_off[i]; k < P.dcov_off[i + 1]; ++k) {
      h = (h ^ std::uint64_t(std::uint32_t(P.dcov_cand[k]))) * 1099511628211ull;
    }
    std::vector<std::int32_t>& bucket = buckets[h];
    std::int32_t found = -1;
    for (std::int32_t r : bucket) {
      if (same(r, i)) {
        found = r;
        break;
      }
    }
    if (found < 0) {
      bucket.push_back(i);
      found = i;
    }
    rep[i] = found;
    agg_w[found] += P.w[i];
  }
  return rep;
}

/// The MIP of a model: columns 0..nc-1 are the sites (vehicles for MEXCLP), then the coverage / assignment columns.
Mip build_mip(const Prepared& P, const Demand2* D) {
  Mip m;
  const bool lscp = P.model == SiteModel::Lscp;
  const bool median = P.model == SiteModel::PMedian;
  // Rows first (their indices are referenced by the site columns).
  // Coverage rows: one per demand with weight > 0 that can be covered (LSCP: required demand only, unless zones).
  std::vector<int> row_of(P.nd, -1);
  std::vector<int> group_row(P.groups.size(), -1);
  std::vector<double> agg_w;
  const std::vector<std::int32_t> rep = median ? std::vector<std::int32_t>() : demand_classes(P, agg_w);
  int budget_row = -1, count_row = -1;
  if (median) {
    for (std::int32_t i = 0; i < P.nd; ++i) {
      if (P.w[i] > 0) row_of[i] = m.add_row(1.0, 1.0);  // Σ_j z_ij = 1
    }
  } else {
    for (std::int32_t i = 0; i < P.nd; ++i) {
      if (!P.coverable[i] || rep[i] != i) continue;  // one row per demand class
      if (lscp && P.lscp_full) {
        if (P.required[i]) row_of[i] = m.add_row(1.0, kInf);  // Σ x_j >= 1
      } else {
        row_of[i] = m.add_row(0.0, kInf);  // Σ x_j − Σ_k y_ik >= 0
      }
    }
    for (std::size_t g = 0; g < P.groups.size(); ++g) {
      if (P.groups[g].required > 0) group_row[g] = m.add_row(P.groups[g].required * (1 - 1e-12), kInf);
    }
  }
  if (std::isfinite(P.budget)) budget_row = m.add_row(-kInf, P.budget);
  if (!lscp) count_row = m.add_row(-kInf, double(P.p));
  const int keep_row = P.min_kept > 0 ? m.add_row(double(P.min_kept), kInf) : -1;  // Σ closable x >= kept
  // site columns
  for (std::int32_t j = 0; j < P.nc; ++j) {
    m.add_col(double(P.lo[j]), double(P.hi[j]), lscp ? P.cost[j] : 0.0, true);
    if (!median) {
      for (std::int64_t k = P.cov_off[j]; k < P.cov_off[j + 1]; ++k) {
        const int r = row_of[P.cov_dem[k]];  // -1 for class members other than the representative
        if (r >= 0) m.entry(r, 1.0);
      }
    }
    if (budget_row >= 0) m.entry(budget_row, P.cost[j]);
    if (count_row >= 0) m.entry(count_row, 1.0);
    if (keep_row >= 0 && P.closable[j]) m.entry(keep_row, 1.0);
    // p-median: z_ij <= x_j rows are added with the z columns (rows indexed after): handled below.
    m.end_col();
  }
  if (median) {
    // z_ij − x_j <= 0 rows: one per pair. Add the rows now and patch x columns: simpler to rebuild x columns.
    // Build as: columns z (pairs of D), rows link_k: z_k − x_j <= 0.
    std::vector<std::vector<std::pair<int, double>>> xcol(P.nc);
    for (std::int32_t i = 0; i < P.nd; ++i) {
      if (P.w[i] <= 0) continue;
      for (std::int64_t k = D->off[i]; k < D->off[i + 1]; ++k) {
        const int link = m.add_row(-kInf, 0.0);
        xcol[D->cand[k]].push_back({link, -1.0});
        m.add_col(0.0, 1.0, P.w[i] * double(D->sec[k]), false);
        m.entry(row_of[i], 1.0);
        m.entry(link, 1.0);
        m.end_col();
      }
    }
    // The x columns' link entries (x columns first).
    return with_site_entries(m, P.nc, [&](std::size_t c, Mip& r) {
      for (auto& e : xcol[c]) r.entry(e.first, e.second);
    });
  }
  if (lscp && P.closing_total != 0.0) {  // the closing-cost constant as a column fixed at 1 (objective = total cost)
    m.add_col(1.0, 1.0, P.closing_total, false);
    m.end_col();
  }
  // coverage columns y
  for (std::int32_t i = 0; i < P.nd; ++i) {
    if (row_of[i] < 0 || (lscp && P.lscp_full)) continue;
    const double w = agg_w[i];
    auto groups_entry = [&](double coef) {
      for (int which = 0; which < 2; ++which) {
        const std::int32_t g = dem_group(P, i, which);
        if (g >= 0 && group_row[g] >= 0) m.entry(group_row[g], coef);
      }
    };
    switch (P.model) {
      case SiteModel::Lscp:
      case SiteModel::Mclp:
        m.add_col(0.0, 1.0, P.model == SiteModel::Mclp ? w : 0.0, false);
        m.entry(row_of[i], -1.0);
        groups_entry(w);
        m.end_col();
        break;
      case SiteModel::Backup: {
        // y1 (covered) and y2 (backed up), y2 <= y1 through the row y1 − y2 >= 0; y1 + y2 <= Σ x.
        const int order_row = m.add_row(0.0, kInf);
        m.add_col(0.0, 1.0, w, false);
        m.entry(row_of[i], -1.0);
        m.entry(order_row, 1.0);
        groups_entry(w);
        m.end_col();
        m.add_col(0.0, 1.0, P.beta * w, false);
        m.entry(row_of[i], -1.0);
        m.entry(order_row, -1.0);
        m.end_col();
        break;
      }
      case SiteModel::Mexclp: {
        // y_ik, k = 1..K: the k-th vehicle in range, worth w (1 − q) q^(k−1); decreasing, so the LP fills in order.
        std::int64_t K = 0;
        for (std::int64_t k = P.dcov_off[i]; k < P.dcov_off[i + 1]; ++k) K += P.hi[P.dcov_cand[k]];
        K = std::min<std::int64_t>(K, P.p);
        for (std::int64_t k = 1; k <= K; ++k) {
          m.add_col(0.0, 1.0, w * (1.0 - P.q) * std::pow(P.q, double(k - 1)), false);
          m.entry(row_of[i], -1.0);
          if (k == 1) groups_entry(w);  // y_i1 > 0 only when some vehicle is in range (Σ x integer)
          m.end_col();
        }
        break;
      }
      default: break;
    }
  }
  return m;
}

void finish_gap(SiteSolution& s) {
  const bool maxm = is_max_model(s.model);
  // A bound on the wrong side of the incumbent by rounding only: the incumbent itself bounds the optimum there.
  if (maxm) s.bound = std::max(s.bound, s.objective);
  else s.bound = std::min(s.bound, s.objective);
  const double diff = std::fabs(s.objective - s.bound);
  s.gap = diff == 0.0 ? 0.0 : diff / std::max(std::fabs(s.objective), 1e-9);
  if (!std::isfinite(s.objective)) s.gap = kInf;
  s.proven_optimal = s.gap <= 1e-9;
}

/// A bound every model has without solving anything.
double simple_bound(const Prepared& P) {
  switch (P.model) {
    case SiteModel::Lscp: {
      double b = P.closing_total;  // fixed sites, and any site cheaper kept than closed (cost' < 0)
      for (std::int32_t j = 0; j < P.nc; ++j) {
        if (P.lo[j] > 0 || (P.hi[j] > 0 && P.cost[j] < 0)) b += P.cost[j];
      }
      return b;
    }
    case SiteModel::Mclp:
    case SiteModel::Backup:
    case SiteModel::Mexclp: {
      double b = 0.0;
      for (std::int32_t i = 0; i < P.nd; ++i) {
        if (!P.coverable[i]) continue;
        std::int64_t K = 0;
        for (std::int64_t k = P.dcov_off[i]; k < P.dcov_off[i + 1]; ++k) K += P.hi[P.dcov_cand[k]];
        b += value(P, i, std::int32_t(std::min<std::int64_t>(K, P.p)));
      }
      return b;
    }
    case SiteModel::PMedian:
    case SiteModel::PCenter: {
      double sum = 0.0, mx = 0.0;
      const SiteCosts& C = *P.costs;
      std::vector<double> best(P.nd, kInf);
      for (std::int32_t j = 0; j < P.nc; ++j) {
        if (P.hi[j] == 0) continue;
        for (std::int64_t k = C.offsets[j]; k < C.offsets[j + 1]; ++k) {
          best[C.demand[k]] = std::min(best[C.demand[k]], double(C.seconds[k]));
        }
      }
      for (std::int32_t i = 0; i < P.nd; ++i) {
        if (P.w[i] <= 0) continue;
        sum += P.w[i] * best[i];
        mx = std::max(mx, best[i]);
      }
      return P.model == SiteModel::PMedian ? sum : mx;
    }
  }
  return 0.0;
}


/// p-median: check that every demand with weight > 0 has an allowed candidate among its pairs.
void require_assignable(const Prepared& P, const Demand2& D) {
  for (std::int32_t i = 0; i < P.nd; ++i) {
    if (P.w[i] > 0 && D.off[i + 1] == D.off[i]) {
      fail(std::string(site_model_name(P.model)) + ": demand " + std::to_string(i) + " (weight " + num(P.w[i]) +
           ") has no allowed candidate among its pairs (unreachable); drop it, give it weight 0, or add pairs");
    }
  }
}

/// Existing sites that may close start open (lowest index first, within p and the budget): the local search and
/// (LSCP) the redundancy removal close them when that pays, within max_closures.
void open_existing(CountState& S) {
  const Prepared& P = *S.P;
  for (std::int32_t j = 0; j < P.nc; ++j) {
    if (P.closable[j] && S.x[j] == 0 && S.units < P.p && S.spent + P.cost[j] <= P.budget_tol) S.add(j);
  }
}

/// Iterated local search after the swap's local optimum (MCLP, backup, MEXCLP without zone shares, budget, closures
/// or capacities): relocate 1–3 random open units each to a random candidate covering some demand of the unit moved
/// (a local move: for coverage discs, a neighbouring disc), run the swap to a local optimum again, keep the result
/// only when it is strictly better and go back to the best state otherwise. A swap local optimum can differ from
/// the optimum in most sites (benchmarks/optimize.py's 40,000 × 400, p = 4: 3 of 4) while such kicks reach it.
/// Each round's swap tries only the candidates sharing demand with a site a kick moved (at 1 M demand × 10,000
/// candidates a few hundred of them instead of all: a round costs ~1/20 of a full pass); one full swap follows the
/// last round, so the answer is a local optimum of the whole neighbourhood again.
/// Deterministic: a fixed seed, at most kIlsRounds + 5p rounds (the deadline may stop it earlier at scale).
constexpr int kIlsRounds = 60;
void iterated_swaps(CountState& S, Clock::time_point deadline) {
  const Prepared& P = *S.P;
  detail::KickRng next{0x9e3779b97f4a7c15ull};
  CountState best = S;
  std::vector<std::int32_t> movable, focus;
  std::vector<char> in_focus(P.nc, 0);
  auto near = [&](std::int32_t j) {  // the candidates sharing demand with j
    for (std::int64_t k = P.cov_off[j]; k < P.cov_off[j + 1]; ++k) {
      const std::int32_t i = P.cov_dem[k];
      for (std::int64_t m = P.dcov_off[i]; m < P.dcov_off[i + 1]; ++m) {
        const std::int32_t c = P.dcov_cand[m];
        if (!in_focus[c]) in_focus[c] = 1, focus.push_back(c);
      }
    }
  };
  const std::int64_t max_rounds = kIlsRounds + 5 * std::int64_t(P.p);
  bool changed = false;
  for (std::int64_t round = 0; round < max_rounds; ++round) {
    poll(P);
    if (Clock::now() > deadline) break;
    movable.clear();
    for (std::int32_t j = 0; j < P.nc; ++j) {
      if (S.x[j] > P.lo[j]) movable.push_back(j);
    }
    if (movable.empty()) break;
    const int kicks = 1 + int(round % 3);
    for (int k = 0; k < kicks; ++k) {
      const std::int32_t a = movable[next(movable.size())];
      if (S.x[a] <= P.lo[a] || P.cov_off[a] == P.cov_off[a + 1]) continue;
      const std::int32_t i = P.cov_dem[P.cov_off[a] + std::int64_t(next(std::uint64_t(P.cov_off[a + 1] - P.cov_off[a])))];
      const std::int64_t n_i = P.dcov_off[i + 1] - P.dcov_off[i];
      const std::int32_t b = P.dcov_cand[P.dcov_off[i] + std::int64_t(next(std::uint64_t(n_i)))];
      if (b == a || S.x[b] >= P.hi[b]) continue;
      S.remove(a);
      S.add(b);
      near(a);
      near(b);
    }
    std::sort(focus.begin(), focus.end());
    swap_counts(S, deadline, &focus);
    for (std::int32_t c : focus) in_focus[c] = 0;
    focus.clear();
    if (S.obj > best.obj + tol_for(best.obj)) {
      best = S;
      changed = true;
    } else {
      S = best;
    }
  }
  S = std::move(best);
  if (changed) swap_counts(S, deadline);
}

/// No zone shares, budget, closure limit or capacities: the swap's moves need no side constraint checked.
bool unconstrained(const Prepared& P) {
  return P.groups.empty() && !std::isfinite(P.budget) && P.max_closures < 0 && P.cap.empty();
}

/// Plain MCLP (no zone shares, budget, closures or capacities) whose swap tables fit: the swap and the iterated
/// search run on cover_swap.hpp's incremental gains (the whole neighbourhood per move, ~1/20 of a rescanning round
/// at 1 M demand). The tables: two chains of p x n_candidates doubles, at most 1 byte per covering pair or 64 MB.
bool incremental_cover_search(const Prepared& P) {
  const double table = 2.0 * detail::cover_swap_table_bytes(P.p, P.nc);
  return P.model == SiteModel::Mclp && unconstrained(P) && table <= std::max(64e6, double(P.cov_dem.size()));
}

/// The greedy up to p sites, the swap and (with `iterated`) the iterated search (per chain kIlsRounds + p rounds
/// of kicks, two chains) on the incremental gains, from S's sites (fixed and existing); S ends at the best set
/// found. `allowed` (when given): the only candidates the search may open. Returns whether the deadline cut it.
bool cover_swaps(CountState& S, bool iterated, Clock::time_point deadline, const std::vector<char>* allowed = nullptr) {
  const Prepared& P = *S.P;
  detail::CoverLists L;
  L.nd = P.nd, L.nc = P.nc;
  L.cov_off = P.cov_off.data(), L.cov_dem = P.cov_dem.begin();
  L.dcov_off = P.dcov_off.data(), L.dcov_cand = P.dcov_cand.data();
  L.w = P.w.data();
  std::vector<char> may_close(P.nc), may_open(P.nc);
  std::vector<std::int32_t> start;
  for (std::int32_t j = 0; j < P.nc; ++j) {
    may_close[j] = P.lo[j] == 0;
    may_open[j] = P.hi[j] > 0 && (!allowed || (*allowed)[j]);
    if (S.x[j] > 0) start.push_back(j);
  }
  detail::CoverSearchOptions opt;
  opt.max_open = P.p;
  // Rounds with the kicked-out sites kept closed cost ~5 moves each (not ~2): 60 + p per chain (at 1 M, p = 100,
  // 2 x 160 rounds; 295 such rounds took ~23 s at load 10) instead of the rescanning search's 60 + 5p.
  opt.rounds = iterated ? kIlsRounds + std::int64_t(P.p) : 0;
  opt.rel_tol = kTol;
  opt.deadline = deadline;
  opt.poll = [&P] { poll(P); };
  const detail::CoverSearchResult r = detail::cover_search(L, may_close, may_open, start, opt);
  std::vector<char> keep(P.nc, 0);
  for (std::int32_t j : r.sites) keep[j] = 1;
  for (std::int32_t j = 0; j < P.nc; ++j) {
    if (S.x[j] > 0 && !keep[j]) S.remove(j);
  }
  for (std::int32_t j : r.sites) {
    if (S.x[j] == 0) S.add(j);
  }
  return r.cut;
}

/// Heuristic solution of the count-based models and LSCP: greedy then swap (then LSCP redundancy removal), then the
/// iterated swaps where they apply. *cut (when given): whether the deadline stopped the search before its counted
/// work was done (the answer then depends on the machine's speed).
/// The heuristics' start: the fixed units, then the existing (closable) sites while p and the budget allow.
CountState start_counts(const Prepared& P) {
  CountState S(P);
  for (std::int32_t j = 0; j < P.nc; ++j) {
    for (std::int32_t v = 0; v < P.lo[j]; ++v) S.add(j);
  }
  open_existing(S);
  return S;
}

std::vector<std::int32_t> heuristic_counts(const Prepared& P, const SiteOptions& o, Clock::time_point deadline,
                                           bool* cut = nullptr) {
  bool stopped = false;
  CountState S = start_counts(P);
  const bool incremental = P.model != SiteModel::Lscp && o.local_search && incremental_cover_search(P);
  if (!incremental) greedy_counts(S, nullptr, nullptr, nullptr, P.p);  // else cover_swaps' greedy on its gains
  if (P.model == SiteModel::Lscp) {
    drop_redundant(S);
  } else if (incremental) {
    stopped = cover_swaps(S, o.iterated_search, deadline);
  } else if (o.local_search) {
    swap_counts(S, deadline);
    if (unconstrained(P) && o.iterated_search) iterated_swaps(S, deadline);
    stopped = Clock::now() > deadline;  // the swaps stop only at a local optimum, their round count, or the deadline
  }
  if (cut) *cut = stopped;
  return S.x;
}

/// MCLP's search guided by its LP relaxation (x_lp: the LP's site values; incremental_cover_search(P) holds). On
/// instances where many candidates overlap, the LP spreads p over many fractional sites and the search from the
/// greedy can stop in a poor local optimum: the generator of benchmarks/optimize.py at 6,400 x 400, p = 16, gave
/// 8,299.7 where CBC found 8,395.7 in 600 s. The search again, restricted to the candidates the LP uses (x_j > 1e-6;
/// and x_j >= 0.05), each answer then swapped over every candidate (a local optimum of the whole neighbourhood),
/// found 8,357.3 / 8,390.2 there, and on nine instances of that generator (≤ 200,000 pairs, seeds 3–5) +0.00 to
/// +1.09 % over the plain search (the better of the two; never worse, since the plain answer is kept unless beaten).
/// Returns the better of the two sets (empty when neither was found); *cut: the deadline stopped one.
std::vector<std::int32_t> lp_guided_cover_search(const Prepared& P, const std::vector<double>& x_lp, bool iterated,
                                                 Clock::time_point deadline, bool* cut) {
  std::vector<std::int32_t> best;
  double best_value = -kInf;
  for (const double threshold : {1e-6, 0.05}) {
    std::vector<char> allowed(P.nc, 0);
    std::int64_t n = 0;
    for (std::int32_t j = 0; j < P.nc; ++j) n += allowed[j] = x_lp[std::size_t(j)] > threshold || P.lo[j] > 0;
    if (n < P.p) continue;  // too few to place p sites: the plain search already covers this case
    CountState S = start_counts(P);
    *cut |= cover_swaps(S, iterated, deadline, &allowed);
    *cut |= cover_swaps(S, false, deadline);  // the swap over every candidate from there
    const SiteEvaluation e = evaluate_counts(P, S.x);
    if (e.feasible && e.objective > best_value) best_value = e.objective, best = S.x;
  }
  return best;
}

/// Iterated local search after the p-median swap's local optimum (no closure limit: a kick may close an existing
/// site): each round moves 1–3 random non-fixed open sites each to a random candidate listed by a random demand of
/// the moved site (a neighbouring site), runs the swap on the candidates listed by the demand whose nearest site
/// the kick changed (whole lists: the nearest 20 of each gave more rounds but worse sets in the same time), keeps
/// the result when strictly better and goes back to the best set otherwise; one full swap follows an improvement,
/// so the answer is a local optimum of the whole neighbourhood again. At the benchmark's 100,000 × 10,000
/// (nearest 200, p = 200) 260 rounds took the swap's local optimum from 45.31 M to 45.05 M (−0.57 %); the
/// Lagrangian heuristic's swap searches from relaxation sets had reached 45.18 M at best.
/// Deterministic: the seed, at most max_rounds rounds and at most `patience` rounds in a row without an
/// improvement; stops early once the value is <= stop_at (every demand served), or at the deadline (then the best
/// set so far is kept and the return value is true).
constexpr int kMedianIlsRounds = 60;
constexpr std::uint64_t kMedianSeed = 0x2545f4914f6cdd1dull;
bool iterated_median(MedianState& S, Clock::time_point deadline, std::int64_t max_rounds, std::int64_t patience,
                     double stop_at, std::uint64_t seed) {
  const Prepared& P = *S.P;
  const Demand2& D = *S.D;
  const SiteCosts& C = *P.costs;
  detail::KickRng next{seed};
  const double su = std::max(1.0, S.total.unc);
  const auto done = [&](const MedianState& X) { return X.total.unc <= tol_for(su) * 1e-3 && X.total.cost <= stop_at; };
  MedianState best = S;
  std::vector<std::int32_t> movable, focus;
  std::vector<char> in_focus(P.nc, 0);
  bool changed = false, timed_out = false;
  std::int64_t stalled = 0;
  for (std::int64_t round = 0; round < max_rounds && stalled < patience && !done(best); ++round) {
    poll(P);
    if (Clock::now() > deadline) {
      timed_out = true;
      break;
    }
    movable.clear();
    for (std::int32_t j = 0; j < P.nc; ++j) {
      if (S.open[j] && P.lo[j] == 0) movable.push_back(j);
    }
    if (movable.empty()) break;
    const int kicks = 1 + int(round % 3);
    for (int k = 0; k < kicks; ++k) {
      const std::int32_t a = movable[next(movable.size())];
      const std::int64_t n_a = C.offsets[a + 1] - C.offsets[a];
      if (!S.open[a] || n_a == 0) continue;
      const std::int32_t i = C.demand[C.offsets[a] + std::int64_t(next(std::uint64_t(n_a)))];
      const std::int64_t n_i = D.off[i + 1] - D.off[i];
      if (P.w[i] <= 0 || n_i == 0) continue;
      const std::int32_t b = D.cand[D.off[i] + std::int64_t(next(std::uint64_t(n_i)))];
      if (b == a || S.open[b] || P.hi[b] == 0) continue;
      S.open[a] = 0;
      S.open[b] = 1;
      for (std::int32_t j : {a, b}) {
        S.work += C.offsets[j + 1] - C.offsets[j];
        for (std::int64_t q = C.offsets[j]; q < C.offsets[j + 1]; ++q) {
          const std::int32_t d = C.demand[q];
          if (P.w[d] <= 0) continue;
          // only demand whose nearest two open sites may change: a among them, or b nearer than the second
          if (C.seconds[q] > S.d2[d] && (j == b || S.n1[d] != a)) continue;
          const std::int32_t was = S.n1[d];
          S.refresh(d);
          if (S.n1[d] == was) continue;
          for (std::int64_t m = D.off[d]; m < D.off[d + 1]; ++m) {
            const std::int32_t c = D.cand[m];
            if (!in_focus[c]) in_focus[c] = 1, focus.push_back(c);
          }
          S.work += D.off[d + 1] - D.off[d];
        }
      }
    }
    std::sort(focus.begin(), focus.end());
    swap_median(S, C, deadline, &focus);
    for (std::int32_t c : focus) in_focus[c] = 0;
    focus.clear();
    const std::int64_t w = S.work;  // the work done stays counted whichever state is kept
    if (lex_better(S.total, best.total, su, std::max(1.0, best.total.cost))) {
      best = S;
      changed = true;
      stalled = 0;
    } else {
      S = best;
      ++stalled;
    }
    S.work = best.work = w;
  }
  S = std::move(best);
  if (changed) swap_median(S, C, deadline);
  return timed_out;
}

std::vector<std::int32_t> heuristic_median(const Prepared& P, const Demand2& D, const SiteOptions& o,
                                           Clock::time_point deadline) {
  MedianState S(P, D);
  for (std::int32_t j = 0; j < P.nc; ++j) {
    if (P.lo[j] > 0 || (P.closable[j] && S.n_open < P.p)) S.open[j] = 1, ++S.n_open;  // existing sites start open
  }
  for (std::int32_t i = 0; i < P.nd; ++i) {
    if (P.w[i] > 0) S.refresh(i);
  }
  greedy_median(S, *P.costs, P.p, nullptr, nullptr, nullptr);
  if (o.local_search) swap_median(S, *P.costs, deadline);
  if (o.local_search && o.iterated_search && o.solver == SiteSolver::Heuristic && P.max_closures < 0) {
    const std::int64_t rounds = kMedianIlsRounds + std::int64_t(P.p);
    iterated_median(S, deadline, rounds, rounds, -kInf, kMedianSeed);
  }
  return std::vector<std::int32_t>(S.open.begin(), S.open.end());
}

/// The swap local search started from `sites` (with the fixed sites, filled up to p by the greedy): a p-median
/// heuristic from a relaxation's answer. False (S untouched) when the start closes more existing sites than
/// max_closures allows.
bool median_from(const Prepared& P, const std::vector<std::int32_t>& sites, Clock::time_point deadline,
                 MedianState& S) {
  std::vector<char> open(P.nc, 0);
  std::int32_t n_open = 0, closed = 0;
  for (std::int32_t j = 0; j < P.nc; ++j) {
    if (P.lo[j] > 0) open[j] = 1, ++n_open;
  }
  for (std::int32_t j : sites) {
    if (!open[j] && P.hi[j] > 0 && n_open < P.p) open[j] = 1, ++n_open;
  }
  for (std::int32_t j = 0; j < P.nc; ++j) closed += P.closable[j] && !open[j];
  if (P.max_closures >= 0 && closed > P.max_closures) return false;
  S.open = std::move(open);
  S.n_open = n_open;
  for (std::int32_t i = 0; i < P.nd; ++i) {
    if (P.w[i] > 0) S.refresh(i);
  }
  greedy_median(S, *P.costs, P.p, nullptr, nullptr, nullptr);
  swap_median(S, *P.costs, deadline);
  return true;
}

/// p-center through LSCP at each radius: the least t whose LSCP (pairs <= t, fixed sites open) needs <= p sites.
/// exact: CBC solves each LSCP (the answer is optimal when every step finished); heuristic: greedy for the upper
/// side and the LP relaxation (or nothing) for the proof that smaller radii are infeasible.
void solve_pcenter(const SiteCosts& C, const SiteProblem& pr, const Prepared& P, const SiteOptions& o,
                   Clock::time_point t0, SiteSolution& sol) {
  std::vector<float> radii;
  for (std::int32_t j = 0; j < P.nc; ++j) {
    if (P.hi[j] == 0) continue;
    for (std::int64_t k = C.offsets[j]; k < C.offsets[j + 1]; ++k) {
      if (P.w[C.demand[k]] > 0) radii.push_back(C.seconds[k]);
    }
  }
  std::sort(radii.begin(), radii.end());
  radii.erase(std::unique(radii.begin(), radii.end()), radii.end());
  const double lower0 = simple_bound(P);
  // Radii below the simple bound cannot work (some demand has no pair at all that short).
  std::size_t lo = std::size_t(std::lower_bound(radii.begin(), radii.end(), float(lower0)) - radii.begin());
  std::size_t hi = radii.size() - 1;  // every pair allowed: feasible (p >= fixed, all demand assignable)
  std::vector<std::int32_t> best_x;
  std::size_t proven_lo = lo;  // every radius index below it is proven infeasible
  const double deadline_s = o.time_limit_s;
  // 1 feasible, 0 proven infeasible, -1 unknown. exact: CBC decides when the greedy cover needs more than p sites.
  auto attempt = [&](std::size_t idx, std::vector<std::int32_t>& x_out, bool exact) -> int {
    SiteProblem sub = pr;
    sub.model = SiteModel::Lscp;
    sub.max_seconds = {double(radii[idx])};
    sub.p = 0;
    const Prepared Q = prepare(C, sub, P.control);
    SiteOptions so = o;
    so.time_limit_s = std::max(0.01, deadline_s - seconds_since(t0));
    const Clock::time_point dl = deadline_after(Clock::now(), so.time_limit_s);
    std::vector<std::int32_t> x = heuristic_counts(Q, so, dl);
    std::int64_t count = 0;
    for (std::int32_t v : x) count += v;
    if (count <= P.p) {
      x_out = x;
      return 1;
    }
    Demand2 none;
    Mip m = build_mip(Q, &none);
    if (exact) {
      MipResult r = solve_mip(m, false, false, so.time_limit_s, 0.0, Q.control);
      if (r.has_solution) {
        std::vector<std::int32_t> xm = x_from_mip(Q, r.x);
        std::int64_t cm = 0;
        for (std::int32_t v : xm) cm += v;
        if (cm <= P.p) {
          x_out = xm;
          return 1;
        }
      }
      if (r.proven_optimal || std::ceil(r.bound - 1e-6) > P.p) return 0;
      return -1;
    }
    if (o.lp_bound) {
      MipResult r = solve_mip(m, false, true, so.time_limit_s, 0.0, Q.control);
      if (r.proven_optimal && std::ceil(r.bound - 1e-6) > P.p) return 0;
    }
    return -1;
  };
  if (radii.empty()) {  // nobody with weight > 0: the fixed sites alone are optimal (worst time 0)
    static_cast<SiteEvaluation&>(sol) = evaluate_counts(P, P.lo);
    sol.bound = sol.objective;
    sol.bound_source = "simple";
    return;
  }
  // The largest radius allows every pair: CBC settles whether p sites can serve everyone at all.
  if (attempt(hi, best_x, true) != 1) {
    fail("p-center: no set of p = " + std::to_string(P.p) + " sites found that gives every demand with weight > 0 "
         "an open site among its pairs; raise p or add pairs (longer search radius)");
  }
  // binary search on [lo, hi): invariant: radii[hi] feasible (best_x), radii < proven_lo infeasible.
  while (lo < hi) {
    poll(P);
    const std::size_t mid = lo + (hi - lo) / 2;
    std::vector<std::int32_t> x;
    const int r = attempt(mid, x, o.solver == SiteSolver::Exact);
    if (r == 1) {
      hi = mid;
      best_x = x;
    } else {
      if (r == 0) {
        proven_lo = std::max(proven_lo, mid + 1);
      }
      lo = mid + 1;
    }
  }
  std::vector<std::int32_t> x = best_x.empty() ? std::vector<std::int32_t>(P.lo) : best_x;
  static_cast<SiteEvaluation&>(sol) = evaluate_counts(P, x);
  // Bound: the smallest radius not proven infeasible (monotone: every smaller radius is infeasible too).
  double b = lower0;
  if (proven_lo < radii.size()) b = std::max(b, double(radii[std::min(proven_lo, radii.size() - 1)]));
  sol.bound = b;
  sol.bound_source = "binary search";
  // Ties (exact, proven): every set with <= p sites covering everyone within the optimal radius is optimal; among
  // them the fewest sites, then the lexicographically smallest, by the post-pass on that radius's LSCP (unit cost).
  if (o.solver == SiteSolver::Exact && b >= sol.objective && C.n_pairs() <= kTieMaxPairs) {
    SiteProblem sub = pr;
    sub.model = SiteModel::Lscp;
    sub.max_seconds = {sol.objective};
    sub.p = 0;
    const Prepared Q = prepare(C, sub, P.control);
    Demand2 none;
    const double radius = sol.objective;
    auto optimal = [&](const std::vector<std::int32_t>& xx) {
      const SiteEvaluation e = evaluate_counts(P, xx);
      return e.feasible && e.objective <= radius;
    };
    const Clock::time_point deadline = deadline_after(t0, o.time_limit_s);
    bool complete = false;
    const std::vector<std::int32_t> xl =
        lex_smallest_optimum(Q, build_mip(Q, &none), false, kInf, x, optimal, deadline, &complete);
    if (xl != x) {
      x = xl;
      static_cast<SiteEvaluation&>(sol) = evaluate_counts(P, x);
      sol.bound = b;
    }
    sol.ties_resolved = complete;
  }
  order_solution(P, sol, x);
}

/// MCLP: Lagrange multipliers from the LP relaxation of a core problem, grown by column generation. The covering
/// LP of MCLP is usually nearly integral, and its optimum uses few candidates, but the subgradient method converges
/// slowly on a million multipliers. Here the LP is solved by CLP over a core of candidates (the incumbent's sites,
/// the candidates covering the most population the incumbent leaves uncovered, and those with the largest
/// C_j = Σ_{i∈M_j} λ_i), its demand aggregated into classes with the same core candidates (hashed: a collision
/// merges two classes, which only makes λ worse, never the bound wrong); the classes' duals, split in proportion to
/// weight, and λ_i = w_i for demand no core candidate covers, give λ for the whole problem; each round's λ is also
/// tried "completed" (scaled down so that no free candidate's C_j exceeds the LP's price of a site: complete()),
/// which at scale is far better than the raw one. Candidates outside the core whose C_j (at the raw λ) exceeds the
/// LP's price of one more site are added and the LP solved again, until none does (λ is then optimal for the LP of
/// the whole problem), the deadline, or L(λ) reaches stop_at. λ and C (exact sums) are left at the best L found; the caller certifies L from them. Returns whether λ
/// is optimal for the LP relaxation without the budget (no subgradient step can then lower L without a budget).
template <class FullC, class Eval>
bool core_lp_start(const Prepared& P, const std::vector<std::int32_t>& x, Clock::time_point deadline,
                   std::vector<double>& lam, std::vector<double>& C, FullC& full_C, Eval& evaluate, double stop_at) {
  std::vector<char> in_core(P.nc, 0);
  std::vector<std::int32_t> core;
  auto add_core = [&](std::int32_t j) {
    if (!in_core[j] && P.hi[j] > 0) in_core[j] = 1, core.push_back(j);
  };
  for (std::int32_t j = 0; j < P.nc; ++j) {
    if (x[j] > 0 || P.lo[j] > 0) add_core(j);
  }
  const std::size_t batch = std::size_t(std::max(50, std::min(P.p, 1000)));
  std::vector<std::int32_t> out;
  auto add_top = [&](double threshold) {  // up to batch non-core candidates with the largest C_j > threshold
    out.clear();
    for (std::int32_t j = 0; j < P.nc; ++j) {
      if (!in_core[j] && P.hi[j] > 0 && C[j] > threshold) out.push_back(j);
    }
    const auto by_c = [&](std::int32_t a, std::int32_t b) { return C[a] > C[b] || (C[a] == C[b] && a < b); };
    const std::size_t n = std::min(batch, out.size());
    std::partial_sort(out.begin(), out.begin() + std::ptrdiff_t(n), out.end(), by_c);
    for (std::size_t t = 0; t < n; ++t) add_core(out[t]);
    return n;
  };
  // The first core: the incumbent's sites and the candidates with the most population the incumbent leaves
  // uncovered (C_j at λ_i = w_i on that demand, 0 elsewhere) — the ones most likely to enter the LP's solution.
  {
    std::vector<double> uncovered(P.nd, 0.0);
    std::vector<char> hit(P.nd, 0);
    for (std::int32_t j : core) {
      for (std::int64_t k = P.cov_off[j]; k < P.cov_off[j + 1]; ++k) hit[P.cov_dem[k]] = 1;
    }
    for (std::int32_t i = 0; i < P.nd; ++i) uncovered[i] = P.coverable[i] && !hit[i] ? inc(P, i, 0) : 0.0;
    full_C(uncovered);
    add_top(0.0);
    full_C(lam);
  }
  add_top(-kInf);  // C holds the sums at the caller's start λ
  std::vector<double> best_lam = lam;
  double best = evaluate(lam, false);
  std::vector<char> outside(P.nd, 0);  // coverable demand no core candidate covers (priced at its weight)
  std::vector<double> ratio_out(P.nc), ratio_core(P.nc);
  // Dual completion: λ from the core LP prices the demand no core candidate covers at its weight, so candidates
  // outside the core get C_j far above the LP's price of a site and L(λ) far above the LP value. Scaling λ down
  // on the demand of each such free candidate — first the outside demand (to the room the core demand leaves
  // under the price), then, where the core demand alone exceeds it, all of it — brings every C_j to at most the
  // price: each λ_i is multiplied by the smallest ratio over the candidates covering it. Any λ >= 0 gives a valid
  // bound, so this only chooses a better λ; C is left at the sums of the completed λ.
  auto complete = [&](std::vector<double>& l, double price) {
    for (std::int32_t j = 0; j < P.nc; ++j) {
      double co = 0.0;
      for (std::int64_t k = P.cov_off[j]; k < P.cov_off[j + 1]; ++k) {
        const std::int32_t i = P.cov_dem[k];
        if (outside[i]) co += l[i];
      }
      const double cc = C[j] - co;
      const bool free_site = P.hi[j] > P.lo[j];
      ratio_out[j] = free_site && co > 0 ? std::clamp((price - cc) / co, 0.0, 1.0) : 1.0;
      ratio_core[j] = free_site && cc > price ? price / cc : 1.0;
    }
    for (std::int32_t i = 0; i < P.nd; ++i) {
      if (l[i] == 0.0) continue;
      const std::vector<double>& r = outside[i] ? ratio_out : ratio_core;
      double m = 1.0;
      for (std::int64_t k = P.dcov_off[i]; k < P.dcov_off[i + 1]; ++k) m = std::min(m, r[P.dcov_cand[k]]);
      l[i] *= m;
    }
    full_C(l);
  };
  std::vector<std::uint64_t> h(P.nd, 0);
  std::vector<std::int32_t> cls(P.nd, -1), stamp;
  std::vector<std::int32_t> touched;
  std::vector<double> W, mixed(P.nd, 0.0);
  bool lp_optimal = false;
  // With a time limit, rounds stop after three in a row that leave the best L where it was: at 1 M demand no round's
  // λ came near the start's L, while each CLP solve took longer (0.2 s to 5 s) — time the subgradient steps use
  // better. Without one they run until λ is optimal for the LP (rounds that do not lower L can still lead there:
  // after two such rounds, one seed of MclpCoreLpBoundEqualsTheLpValueWhenTheCoreGrowsOverRounds had not got there).
  const bool timed = deadline != Clock::time_point::max();
  int idle = 0;
  for (int round = 0; round < 50 && best > stop_at && !(timed && idle >= 3); ++round) {
    poll(P);
    const double left = std::chrono::duration<double>(deadline - Clock::now()).count();
    if (!(left > 0)) break;
    std::sort(core.begin(), core.end());
    // classes: demand with the same core candidates (a running hash over the candidates in ascending order)
    for (std::int32_t j : core) {
      for (std::int64_t k = P.cov_off[j]; k < P.cov_off[j + 1]; ++k) {
        const std::int32_t i = P.cov_dem[k];
        if (h[i] == 0) touched.push_back(i), h[i] = 1469598103934665603ull;
        h[i] = (h[i] ^ std::uint64_t(std::uint32_t(j))) * 1099511628211ull;
      }
    }
    std::unordered_map<std::uint64_t, std::int32_t> class_of;
    class_of.reserve(touched.size());
    W.clear();
    for (std::int32_t i : touched) {
      auto it = class_of.emplace(h[i], std::int32_t(W.size())).first;
      if (it->second == std::int32_t(W.size())) W.push_back(0.0);
      cls[i] = it->second;
      W[cls[i]] += P.w[i];
    }
    const int nclass = int(W.size());
    Mip m;
    for (int r = 0; r < nclass; ++r) m.add_row(-kInf, 0.0);  // y_r − Σ_{core j covering r} x_j <= 0
    const int count_row = m.add_row(-kInf, double(P.p));
    stamp.assign(std::size_t(nclass), -1);
    for (std::int32_t j : core) {
      m.add_col(double(P.lo[j]), double(P.hi[j]), 0.0, false);
      for (std::int64_t k = P.cov_off[j]; k < P.cov_off[j + 1]; ++k) {
        const std::int32_t r = cls[P.cov_dem[k]];
        if (stamp[r] != j) stamp[r] = j, m.entry(r, -1.0);
      }
      m.entry(count_row, 1.0);
      m.end_col();
    }
    for (int r = 0; r < nclass; ++r) {
      m.add_col(0.0, 1.0, W[r], false);
      m.entry(r, 1.0);
      m.end_col();
    }
    const MipResult lp = solve_mip(m, true, true, left, 0.0, P.control);
    if (!lp.proven_optimal || lp.row_dual.size() != m.rowlb.size()) break;
    for (std::int32_t i = 0; i < P.nd; ++i) {
      if (!P.coverable[i]) {
        lam[i] = 0.0;
      } else if (cls[i] < 0) {
        lam[i] = P.w[i];  // no core candidate covers it: priced at its weight (pulls in the candidates covering it)
      } else {
        const std::int32_t r = cls[i];
        lam[i] = std::min(W[r], std::fabs(lp.row_dual[r])) * (P.w[i] / W[r]);
      }
    }
    const double price = std::fabs(lp.row_dual[count_row]);
    for (std::int32_t i = 0; i < P.nd; ++i) outside[i] = P.coverable[i] && cls[i] < 0;
    for (std::int32_t i : touched) h[i] = 0, cls[i] = -1;
    touched.clear();
    full_C(lam);
    double L = evaluate(lam, false);
    // Candidates to add: priced at the LP's own λ (C now holds its sums).
    const std::size_t added = add_top(price + 1e-9 * std::max(1.0, price));
    {
      std::vector<double> completed = lam;
      complete(completed, price);
      const double Lc = evaluate(completed, false);
      if (Lc < L) L = Lc, lam.swap(completed);
      else full_C(lam);
    }
    // The core LP's dual is highly degenerate (its optimum is often the incumbent itself) and CLP returns an
    // extreme one; points between it and the best λ so far (Wentges' smoothing) are often better for the whole
    // problem, so the best of the LP's λ and up to three halvings towards the best λ is kept.
    double Lbest_here = L;
    std::vector<double> cur = lam;
    for (int half = 0; half < 3 && round > 0; ++half) {
      for (std::int32_t i = 0; i < P.nd; ++i) mixed[i] = 0.5 * (cur[i] + best_lam[i]);
      full_C(mixed);
      const double Lm = evaluate(mixed, false);
      if (!(Lm < Lbest_here)) break;
      Lbest_here = Lm;
      cur = mixed;
    }
    if (Lbest_here < best) best = Lbest_here, best_lam = cur, idle = 0;
    else ++idle;
    if (added == 0) {  // no candidate outside the core prices in: the LP's λ is optimal for the whole LP
      lp_optimal = true;
      break;
    }
  }
  lam = best_lam;
  full_C(lam);
  return lp_optimal;
}

/// Lagrangian upper bound for the covering models MCLP, backup and MEXCLP (Galvão & ReVelle style, generalised):
/// relax every coverage row Σ_k y_ik <= Σ_{j∈N_i} x_j with a multiplier λ_i >= 0 and drop the zone-share and
/// require_primary rows (dropping constraints of a maximisation only raises its optimum). The value of demand i
/// covered c times, V_i(c), is concave in c (MCLP: w[c>=1]; backup: w[c>=1] + βw[c>=2] with β <= 1; MEXCLP:
/// w(1 − q^c)), with increments inc_ik = V_i(k) − V_i(k−1) decreasing in k, so for any λ
///   L(λ) = Σ_i Σ_{k<=K_i} max(0, inc_ik − λ_i) + X(C),   C_j = Σ_{i∈M_j} λ_i,
/// where X(C) bounds max Σ_j C_j x_j over the site (vehicle) choices: fixed units forced, at most p units, each
/// candidate up to its limit, and, with a budget, the smaller of "the largest C_j up to p" and the fractional
/// knapsack of the C_j over the site costs within the budget — is an upper bound on the optimum, whatever λ is.
/// λ starts from the better (lower L) of the first increment spread over the covering sites and a dual ascent at a
/// small price of a site (see the code). MCLP with the incumbent's sites given (incumbent_x) then runs core_lp_start (at
/// most a quarter of the time left), and stops there when that λ is optimal for the LP and there is no budget. Then
/// λ is improved by projected, deflected subgradient steps: the direction is 0.3 × this step's subgradient + 0.7 ×
/// the last direction (plain subgradient steps zigzag; on the 1 M benchmark's instance 250 plain steps from the
/// first start ended at 100.48 % of the coverable population, deflected ones at 99.88 %), the Polyak step θ(L −
/// incumbent)/|d|² with θ = 1, halved after 20 steps without improvement (at most max_iter steps, the deadline, or
/// the gap target); without budget its limit is the LP relaxation's value (the subproblem has the integrality
/// property). Each step costs O(demand + the
/// pairs of the units chosen + the pairs of the demand whose λ moved): C is kept up to date incrementally (most λ
/// settle at 0 or at their first increment after a few steps), not recomputed from all pairs. The value returned
/// is L at the best λ recomputed from scratch (so rounding in the incremental C cannot leak into the bound).
/// +inf for models it does not cover.
double lagrangian_bound(const Prepared& P, double incumbent, Clock::time_point deadline, int max_iter = 3000,
                        double gap_target = 0.0, const std::vector<std::int32_t>* incumbent_x = nullptr) {
  if (!is_max_model(P.model)) return kInf;
  // The knapsack part needs costs >= 0; with closing costs (cost' < 0) the budget row is dropped instead (dropping a
  // constraint of a maximisation only raises it: still a bound).
  const bool budgeted = std::isfinite(P.budget) && std::all_of(P.cost.begin(), P.cost.end(), [](double c) { return c >= 0; });
  std::vector<double> lam(P.nd, 0.0), C(P.nc, 0.0), delta(P.nd, 0.0);
  std::vector<std::int32_t> K(P.nd, 0), cov(P.nd, 0);
  const std::int32_t kmax = P.model == SiteModel::Mclp ? 1 : P.model == SiteModel::Backup ? 2 : P.p;
  for (std::int32_t i = 0; i < P.nd; ++i) {
    if (!P.coverable[i]) continue;
    std::int64_t units = 0;
    for (std::int64_t k = P.dcov_off[i]; k < P.dcov_off[i + 1]; ++k) units += P.hi[P.dcov_cand[k]];
    K[i] = std::int32_t(std::min<std::int64_t>({units, std::int64_t(P.p), std::int64_t(kmax)}));
    // Start: the first increment spread over the sites that can cover the demand.
    lam[i] = inc(P, i, 0) / double(P.dcov_off[i + 1] - P.dcov_off[i]);
  }
  auto full_C = [&](const std::vector<double>& l) {
    for (std::int32_t j = 0; j < P.nc; ++j) {
      double c = 0.0;
      for (std::int64_t k = P.cov_off[j]; k < P.cov_off[j + 1]; ++k) c += l[P.cov_dem[k]];
      C[j] = c;
    }
  };
  std::int64_t fixed_units = 0;
  double fixed_cost = 0.0;
  for (std::int32_t j = 0; j < P.nc; ++j) {
    fixed_units += P.lo[j];
    if (P.lo[j] > 0) fixed_cost += P.cost[j];
  }
  const std::int64_t free_units = std::max<std::int64_t>(0, P.p - fixed_units);
  const double free_budget = budgeted ? std::max(0.0, P.budget - fixed_cost) : kInf;
  std::vector<std::int32_t> cand, units_at(P.nc, 0), chosen;
  // L(λ) given C; fills units_at with the subproblem's choice (the step direction) when choose.
  auto evaluate = [&](const std::vector<double>& l, bool choose) {
    double L = 0.0;
    for (std::int32_t i = 0; i < P.nd; ++i) {
      for (std::int32_t k = 0; k < K[i]; ++k) {
        const double d = inc(P, i, k) - l[i];
        if (d <= 0) break;  // increments decrease: no later one is positive either
        L += d;
      }
    }
    cand.clear();
    for (std::int32_t j = 0; j < P.nc; ++j) {
      units_at[j] = P.lo[j];
      L += double(P.lo[j]) * C[j];
      if (P.hi[j] > P.lo[j] && C[j] > 0) cand.push_back(j);
    }
    // X(C) over the free units: the largest C_j (each up to hi − lo units) up to free_units ...
    const auto by_c = [&](std::int32_t a, std::int32_t b) { return C[a] > C[b] || (C[a] == C[b] && a < b); };
    // 0/1 sites: only the free_units largest C_j matter, found without a full sort (MEXCLP: sites hold several)
    const std::size_t n_top = std::size_t(std::min<std::int64_t>(free_units, std::int64_t(cand.size())));
    if (P.model == SiteModel::Mexclp || n_top >= cand.size()) {
      std::sort(cand.begin(), cand.end(), by_c);
    } else {  // 0/1 sites: only the free_units largest matter
      std::nth_element(cand.begin(), cand.begin() + std::ptrdiff_t(n_top), cand.end(), by_c);
      std::sort(cand.begin(), cand.begin() + std::ptrdiff_t(n_top), by_c);
    }
    double top = 0.0;
    std::int64_t left = free_units;
    for (std::int32_t j : cand) {
      if (left <= 0) break;
      const std::int64_t t = std::min<std::int64_t>(left, P.hi[j] - P.lo[j]);
      top += double(t) * C[j];
      left -= t;
    }
    double xbound = top;
    bool use_top = true;
    if (budgeted) {  // ... or, if smaller, the fractional knapsack of the sites (0/1, MCLP/backup) over the budget
      std::vector<std::int32_t> by_ratio = cand;
      auto ratio = [&](std::int32_t j) { return P.cost[j] > 0 ? C[j] / P.cost[j] : kInf; };
      std::sort(by_ratio.begin(), by_ratio.end(), [&](std::int32_t a, std::int32_t b) {
        const double ra = ratio(a), rb = ratio(b);
        return ra > rb || (ra == rb && a < b);
      });
      double knap = 0.0, room = free_budget;
      for (std::int32_t j : by_ratio) {
        if (P.cost[j] <= room) {
          knap += C[j];
          room -= P.cost[j];
        } else {
          knap += C[j] * room / P.cost[j];
          break;
        }
      }
      if (knap < top) xbound = knap, use_top = false;
      if (!use_top && choose) {  // the knapsack's whole items as the subproblem's choice (the step direction only)
        double r2 = free_budget;
        for (std::int32_t j : by_ratio) {
          if (P.cost[j] <= r2) units_at[j] += 1, r2 -= P.cost[j];
        }
      }
    }
    if (use_top && choose) {
      left = free_units;
      for (std::int32_t j : cand) {
        if (left <= 0) break;
        const std::int64_t t = std::min<std::int64_t>(left, P.hi[j] - P.lo[j]);
        units_at[j] += std::int32_t(t);
        left -= t;
      }
    }
    return L + xbound;
  };
  full_C(lam);
  // A second start, kept when its L is lower: a dual ascent at a small price μ of a site (1/20 of the average first
  // increment per site) — demand in ascending order of its candidates' count (then index) raises λ_i to its first
  // increment or until one of its candidates' C_j reaches μ. At 1 M demand its L was 100.5 % of the coverable
  // population against 104.5 % for the start above, and 250 deflected steps from it reached 99.58 % against 99.88 %
  // from the start above (a standalone copy of these steps on the benchmark's instance and incumbent; docs/optimize.md).
  {
    std::vector<std::int32_t> order;
    double first = 0.0;
    for (std::int32_t i = 0; i < P.nd; ++i) {
      if (P.coverable[i]) order.push_back(i), first += inc(P, i, 0);
    }
    std::stable_sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t b) {
      return P.dcov_off[a + 1] - P.dcov_off[a] < P.dcov_off[b + 1] - P.dcov_off[b];
    });
    const double mu = first / (20.0 * double(std::max(1, P.p)));
    const double L_start = evaluate(lam, false);
    std::vector<double> ascent(P.nd, 0.0);
    std::fill(C.begin(), C.end(), 0.0);
    for (std::int32_t i : order) {
      double s = inc(P, i, 0);
      for (std::int64_t k = P.dcov_off[i]; k < P.dcov_off[i + 1]; ++k) s = std::min(s, mu - C[P.dcov_cand[k]]);
      if (!(s > 0)) continue;
      ascent[i] = s;
      for (std::int64_t k = P.dcov_off[i]; k < P.dcov_off[i + 1]; ++k) C[P.dcov_cand[k]] += s;
    }
    full_C(ascent);
    if (evaluate(ascent, false) < L_start) lam.swap(ascent);
    else full_C(lam);
  }
  bool lp_optimal = false;
  if (incumbent_x && P.model == SiteModel::Mclp) {
    // At most a quarter of the time left: the subgradient steps from its λ need the rest (at 1 M demand its CLP
    // solves grow to several seconds a round and its λ stayed above the start's L in every round).
    const Clock::time_point now = Clock::now();
    const Clock::time_point core_deadline = deadline == Clock::time_point::max() ? deadline : now + (deadline - now) / 4;
    lp_optimal = core_lp_start(P, *incumbent_x, core_deadline, lam, C, full_C, evaluate,
                  incumbent + std::max(tol_for(incumbent), gap_target * std::fabs(incumbent)));
  }
  std::vector<double> best_lam = lam;
  double best = kInf, theta = 1.0;
  std::vector<double> dir(P.nd, 0.0);  // the deflected direction: 0.3 × this step's subgradient + 0.7 × the last one
  int since = 0;
  const double stop_at = incumbent + std::max(tol_for(incumbent), gap_target * std::fabs(incumbent));
  // Without a budget the LP's optimal λ minimises L: no step can improve on it.
  const int steps = lp_optimal && !budgeted ? 0 : max_iter;
  for (int it = 0; it < steps; ++it) {
    poll(P);
    if ((it & 7) == 0 && Clock::now() > deadline) break;
    const double L = evaluate(lam, true);
    if (L < best) {
      best = L;
      best_lam = lam;
      since = 0;
    } else if (++since >= 20) {
      theta *= 0.5;
      since = 0;
    }
    if (best <= stop_at || theta < 1e-5) break;
    // subgradient s_i = y_i − Σ_{j∈N_i} x_j, y_i = the increments above λ_i
    std::fill(cov.begin(), cov.end(), 0);
    for (std::int32_t j = 0; j < P.nc; ++j) {
      if (units_at[j] == 0) continue;
      for (std::int64_t k = P.cov_off[j]; k < P.cov_off[j + 1]; ++k) cov[P.cov_dem[k]] += units_at[j];
    }
    double norm = 0.0;
    for (std::int32_t i = 0; i < P.nd; ++i) {
      if (!P.coverable[i]) continue;
      std::int32_t y = 0;
      while (y < K[i] && inc(P, i, y) - lam[i] > 0) ++y;
      const double sub = 0.3 * (double(y) - double(cov[i])) + 0.7 * dir[i];
      delta[i] = dir[i] = sub;
      norm += sub * sub;
    }
    if (norm == 0.0) break;  // λ is optimal for the dual
    const double t = theta * (L - incumbent) / norm;
    for (std::int32_t i = 0; i < P.nd; ++i) {
      if (!P.coverable[i] || delta[i] == 0.0) continue;
      const double nl = std::min(inc(P, i, 0), std::max(0.0, lam[i] + t * delta[i]));
      const double d = nl - lam[i];
      lam[i] = nl;
      if (d == 0.0) continue;
      for (std::int64_t k = P.dcov_off[i]; k < P.dcov_off[i + 1]; ++k) C[P.dcov_cand[k]] += d;
    }
  }
  full_C(best_lam);  // the certified value: L at the best λ from exact sums (at the start λ if no step ran)
  return evaluate(best_lam, false);
}

/// The p-median's Lagrangian relaxation (see median_lagrangian) at a node of a search tree: each candidate is open
/// (fixed, or fixed open by the search), closed (forbidden, or fixed closed by the search) or free; the relaxation
/// opens the open ones and up to p − #open free ones. D must be sorted by cost (sort_by_cost).
struct MedianRelax {
  enum : char { kFree = 0, kOpen = 1, kClosed = 2 };
  const Prepared* P;
  const Demand2* D;
  std::vector<char> st;                   // per candidate: kFree / kOpen / kClosed
  std::vector<std::int32_t> open_sites;   // st == kOpen
  std::vector<std::int32_t> free_sites;   // st == kFree (reordered by evaluate)
  std::size_t k = 0;                      // free sites the relaxation may open: p − #open (0 if negative)
  std::vector<double> rho;                // per candidate: Σ_i min(0, c_ij − u_i) at the last evaluate
  std::vector<char> sel;                  // open, or free and chosen, at the last evaluate
  std::vector<std::int32_t> chosen;       // the free sites chosen at the last evaluate
  bool listed_closed = false;             // some closed site is in D's lists (forbidden ones are not)
  std::int64_t work = 0;                  // pairs read by evaluate and direction (a count that schedules work)
  MedianRelax(const Prepared& p, const Demand2& d) : P(&p), D(&d), st(std::size_t(p.nc), kFree), rho(p.nc, 0.0) {
    for (std::int32_t j = 0; j < p.nc; ++j) st[j] = p.lo[j] > 0 ? kOpen : (p.hi[j] == 0 ? kClosed : kFree);
    refresh_sets();
  }
  /// After st changed.
  void refresh_sets() {
    open_sites.clear();
    free_sites.clear();
    chosen.clear();
    sel.assign(st.size(), 0);
    listed_closed = false;
    for (std::int32_t j = 0; j < P->nc; ++j) {
      if (st[j] == kOpen) open_sites.push_back(j), sel[j] = 1;
      else if (st[j] == kFree) free_sites.push_back(j);
      else listed_closed = listed_closed || P->hi[j] > 0;
    }
    k = std::size_t(std::max(0, P->p - std::int32_t(open_sites.size())));
  }
  /// L(u) under the statuses (a lower bound on every set of sites they allow); sets rho, chosen and sel.
  double evaluate(const std::vector<double>& u) {
    std::fill(rho.begin(), rho.end(), 0.0);
    double L = 0.0;
    for (std::int32_t i = 0; i < P->nd; ++i) {
      if (P->w[i] <= 0) continue;
      L += u[i];
      std::int64_t q = D->off[i];
      for (; q < D->off[i + 1]; ++q) {
        const double v = P->w[i] * double(D->sec[q]) - u[i];
        if (v >= 0) break;  // sorted: no later pair is cheaper than u_i
        // (without closed listed sites, as in median_lagrangian, the step reads no status: it is the hot loop)
        if (!listed_closed || st[D->cand[q]] != kClosed) rho[D->cand[q]] += v;
      }
      work += 1 + (q - D->off[i]);
    }
    for (std::int32_t j : chosen) sel[j] = 0;
    chosen.clear();
    for (std::int32_t j : open_sites) L += rho[j];
    const std::size_t n_top = std::min(k, free_sites.size());
    const auto lower = [&](std::int32_t a, std::int32_t b) { return rho[a] < rho[b] || (rho[a] == rho[b] && a < b); };
    std::nth_element(free_sites.begin(), free_sites.begin() + std::ptrdiff_t(n_top), free_sites.end(), lower);
    for (std::size_t t = 0; t < n_top; ++t) {
      const std::int32_t j = free_sites[t];
      if (rho[j] < 0) sel[j] = 1, L += rho[j], chosen.push_back(j);
    }
    return L;
  }
  /// The subgradient at the last evaluate, g_i = 1 − #{selected j: c_ij < u_i}, deflected: dir_i = g_i + deflection
  /// × dir_i. Returns the squared norm of dir; *g_zero: g = 0 (the relaxed solution assigns every demand to exactly
  /// one selected site, its nearest: L is then the value of the selected set).
  double direction(const std::vector<double>& u, std::vector<double>& dir, double deflection, bool* g_zero) {
    double norm = 0.0;
    bool zero = true;
    for (std::int32_t i = 0; i < P->nd; ++i) {
      if (P->w[i] <= 0) continue;
      double n_open = 0.0;
      std::int64_t q = D->off[i];
      for (; q < D->off[i + 1]; ++q) {
        if (P->w[i] * double(D->sec[q]) >= u[i]) break;
        n_open += sel[D->cand[q]];
      }
      work += 1 + (q - D->off[i]);
      zero = zero && n_open == 1.0;
      dir[i] = 1.0 - n_open + deflection * dir[i];
      norm += dir[i] * dir[i];
    }
    if (g_zero) *g_zero = zero;
    return norm;
  }
};

/// Lagrangian lower bound for the (uncapacitated) p-median, and the Lagrangian heuristic that shares its steps.
/// Bound: relax every assignment row Σ_j z_ij = 1 (weight > 0 demand, over its allowed pairs: a demand is served
/// only by a candidate in its list, so a set leaving a demand with no open listed candidate is infeasible) with a
/// free multiplier u_i and drop max_closures (dropping constraints of a minimisation only lowers its optimum).
/// With c_ij = w_i × seconds_ij, for any u
///   L(u) = Σ_i u_i + Σ_{j fixed} ρ_j + (the p − #fixed most negative ρ_j < 0 of the other allowed sites),
///   ρ_j = Σ_{i: (i,j) a pair} min(0, c_ij − u_i),
/// is a lower bound on the optimum (the classic relaxation of Cornuéjols, Fisher & Nemhauser; its limit is the LP
/// relaxation's value). u starts at each demand's nearest pair (L = the simple bound) and moves by subgradient
/// steps along g_i = 1 − #{open j: c_ij < u_i} (deflected: plus 0.7 × the previous direction), Polyak lengths
/// towards the incumbent's value with a factor halved after 30 steps without a better L, until the deadline, the
/// gap target or a vanishing step. D must be sorted by cost
/// (sort_by_cost): a step touches only the pairs cheaper than their multiplier. Every L is computed exactly from
/// its u, so the best one seen is certified.
/// Heuristic (with `primal`): the relaxation's open sites approximate a good set (Beasley 1993); every few steps
/// they (filled up to p by the greedy) start the swap local search, and a better set than `x` replaces it — its
/// value is the next Polyak target. Skipped when max_closures binds the relaxation's set. The steps between two
/// such searches are chosen so that the searches take about half of the work (pairs read, counted: the run does not
/// depend on the clock except where the deadline stops it). The steps stop when L has settled (less than 1 % of
/// the gap target gained over 200 steps).
/// best_u (optional): the multipliers of the best L, for the branch and bound to start from.
double median_lagrangian(const Prepared& P, const Demand2& D, std::vector<std::int32_t>& x, Clock::time_point deadline,
                         double gap_target, bool primal, std::vector<double>* best_u = nullptr) {
  MedianState inc(P, D);
  for (std::int32_t j = 0; j < P.nc; ++j) {
    if (x[j] > 0) inc.open[j] = 1, ++inc.n_open;
  }
  double W = 0.0, worst = 0.0;  // worst: Σ w × the farthest listed pair, at least any feasible set's value
  for (std::int32_t i = 0; i < P.nd; ++i) {
    if (P.w[i] <= 0) continue;
    inc.refresh(i);
    W += P.w[i];
    if (D.off[i + 1] > D.off[i]) worst += P.w[i] * double(D.sec[D.off[i + 1] - 1]);
  }
  LexV best_v = inc.total;
  const auto feasible_v = [&](LexV v) { return v.unc <= tol_for(W) * 1e-3; };
  const auto target = [&] { return feasible_v(best_v) ? best_v.cost : worst; };
  std::vector<double> u(P.nd, 0.0);
  std::vector<std::int32_t> tried;
  MedianRelax R(P, D);
  for (std::int32_t i = 0; i < P.nd; ++i) {
    if (P.w[i] > 0 && D.off[i + 1] > D.off[i]) u[i] = P.w[i] * double(D.sec[D.off[i]]);
  }
  if (best_u) *best_u = u;
  double best = -kInf, theta = 2.0;
  // Deflected steps (direction g + 0.7 × the previous direction) and halving after 30 steps without a better L:
  // on seeded 4,900 × 500 sparse instances these reached the plateau in ~1,000 steps where plain steps halved
  // every 20 stalled 0.3 % lower.
  const int patience = 30;
  const std::int64_t max_steps = 100000;  // without a time limit: a stop even when L creeps up forever
  const double deflection = 0.7;
  std::vector<double> dir(P.nd, 0.0);
  int since = 0;
  std::int64_t next_primal = 5;
  std::int64_t steps = 0;
  constexpr std::int64_t kSettleSteps = 200;
  double settle_from = -kInf;
  for (std::int64_t it = 0; it < max_steps; ++it) {
    poll(P);
    if (Clock::now() > deadline) break;
    const double L = R.evaluate(u);
    const bool better = L > best + 1e-9 * std::fabs(best) || best == -kInf;  // by a meaningful amount
    if (best_u && L > best) *best_u = u;
    best = std::max(best, L);
    if (better) {
      since = 0;
    } else if (++since >= patience) {
      theta *= 0.5;
      since = 0;
    }
    const double ub = target();
    if ((feasible_v(best_v) && best >= ub - std::max(tol_for(ub), gap_target * std::fabs(ub))) || theta < 1e-6) break;
    // Settled: the last kSettleSteps steps raised L by less than 1 % of the gap target (relative; 1e-7 without
    // one). At scale the last 0.01 % of the bound took half of the steps; the iterated search uses that time better.
    if (it % kSettleSteps == 0) {
      if (it > 0 && best - settle_from <= std::max(1e-7, 0.01 * gap_target) * std::fabs(best)) break;
      settle_from = best;
    }
    const double norm = R.direction(u, dir, deflection, nullptr);
    ++steps;
    if (norm == 0.0) break;  // the relaxed solution is feasible: L is the optimum of the relaxation
    const double t = theta * (ub - L) / norm;
    for (std::int32_t i = 0; i < P.nd; ++i) u[i] = std::max(0.0, u[i] + t * dir[i]);
    if (!primal || it < next_primal || R.chosen.empty()) continue;
    // Lagrangian heuristic from this step's open set (unless it is the one tried last)
    std::vector<std::int32_t> set(R.chosen);
    std::sort(set.begin(), set.end());
    if (set == tried) continue;
    tried = set;
    MedianState S(P, D);
    if (!median_from(P, set, deadline, S)) continue;
    if (lex_better(S.total, best_v, std::max(1.0, W), std::max(1.0, best_v.cost))) {
      best_v = S.total;
      for (std::int32_t j = 0; j < P.nc; ++j) x[j] = S.open[j];
    }
    // The next search after as many steps as this one's work (pairs read; counted, not timed, so that the run is
    // the same every time): the searches take about half of the work.
    const double per_step = double(R.work) / double(steps);
    next_primal = it + std::max<std::int64_t>(5, std::int64_t(double(S.work) / std::max(1.0, per_step)));
  }
  return best;
}

/// What median_branch_and_bound proved.
struct MedianTree {
  double bound = -kInf;     // a lower bound on the optimum (of the sparse model, as median_lagrangian's)
  bool finished = false;    // every node explored: bound = the incumbent's value up to the pruning tolerance
  std::int64_t nodes = 0;   // nodes whose relaxation was solved
  std::int64_t work = 0;    // Σ over subgradient steps of the demand points (the budget's unit)
};

/// Lagrangian branch and bound for the uncapacitated p-median (the tree search of Beasley 1993, "Lagrangean
/// heuristics for location problems", on the relaxation of median_lagrangian): closes the gap the subgradient
/// bound leaves (on dense random instances it stalls a few 0.01 % below the optimum, the LP's own gap).
/// A node fixes some sites open or closed. At each node, subgradient steps from the parent's multipliers give
/// L(u) (a lower bound for every set the node allows); the relaxation's set is tried as an incumbent. With the
/// free sites' ρ sorted ascending (a_1 <= a_2 <= ..., a_t = min(0, ρ)) and k = p − #open free places:
///   - node pruned when L >= UB − tol (tol = max(1e-10, gap_target) × UB);
///   - reduced-cost fixing: a chosen free site j (t <= k) whose closing gives L − a_t + a_{k+1} >= UB − tol is fixed
///     open, an unchosen one (t > k) whose opening gives L − a_k + a_t >= UB − tol is fixed closed (each is L of the
///     same u over the smaller region, so each is valid alone and all at once); then the node is solved again;
///   - otherwise it branches on the free site whose share in the relaxation's recent sets is nearest 1/2 (an
///     estimate of the LP's fractional y_j), the side that share favours first, depth first;
///   - a node with at most k free sites is a leaf: every free site open is its best set (opening never hurts).
/// The bound reported is the least of the incumbent, every pruned or fixed-away region's L and the unexplored
/// nodes' bounds (at the deadline), so it holds whenever the search stops. x (a feasible set) gets the best set
/// found. D must be sorted by cost; max_closures must not bind (min_kept == 0: the search does not enforce it).
/// It stops at the deadline or after max_work (Σ demand points over its subgradient steps: a budget that keeps a
/// run without a time limit deterministic), whichever comes first.
MedianTree median_branch_and_bound(const Prepared& P, const Demand2& D, const std::vector<double>& u_root,
                                   std::vector<std::int32_t>& x, Clock::time_point deadline, double gap_target,
                                   std::int64_t max_work) {
  using R = MedianRelax;
  MedianTree res;
  // Σ w × the nearest open listed site, +inf when a demand has none open
  const auto set_value = [&](const std::vector<char>& open) {
    double v = 0.0;
    for (std::int32_t i = 0; i < P.nd; ++i) {
      if (P.w[i] <= 0) continue;
      std::int64_t q = D.off[i];
      while (q < D.off[i + 1] && !open[D.cand[q]]) ++q;
      if (q == D.off[i + 1]) return kInf;
      v += P.w[i] * double(D.sec[q]);
    }
    return v;
  };
  std::vector<char> xo(std::size_t(P.nc), 0);
  for (std::int32_t j = 0; j < P.nc; ++j) xo[j] = x[j] > 0;
  double ub = set_value(xo);
  if (!std::isfinite(ub)) return res;
  const auto offer = [&](const std::vector<char>& open) {
    const double v = set_value(open);
    if (v < ub) {
      ub = v;
      for (std::int32_t j = 0; j < P.nc; ++j) x[j] = open[j] ? 1 : 0;
    }
  };
  const auto threshold = [&] { return ub - std::max(1e-10, gap_target) * std::fabs(ub); };
  double removed = kInf;  // the least L of every region cut off (pruned or fixed away)
  struct Node {
    std::vector<char> st;
    std::vector<float> u;  // warm start only (any u gives a valid bound); empty: the root's
    double lb;
  };
  // Multipliers kept per open node: at most ~256 MB of them; beyond that nodes start from the root's.
  const std::size_t max_u_floats = std::size_t(64) << 20;
  std::size_t u_floats = 0;
  R rel(P, D);
  std::vector<Node> stack;
  stack.push_back({rel.st, {}, -kInf});
  std::vector<double> u, dir(P.nd, 0.0), best_u, best_rho, ybar(P.nc, 0.0);
  std::vector<char> best_sel, leaf(P.nc, 0);
  bool root = true, timed_out = false;
  const auto out_of_budget = [&] { return res.work > max_work || Clock::now() > deadline; };
  while (!stack.empty()) {
    poll(P);
    if (out_of_budget()) {
      timed_out = true;
      break;
    }
    Node node = std::move(stack.back());
    stack.pop_back();
    u_floats -= node.u.size();
    if (node.lb >= threshold()) {  // the incumbent improved since the node was made
      removed = std::min(removed, node.lb);
      continue;
    }
    rel.st = std::move(node.st);
    rel.refresh_sets();
    ++res.nodes;
    bool empty = false;  // a demand with no listed site open or free: the node allows no feasible set
    for (std::int32_t i = 0; i < P.nd && !empty; ++i) {
      if (P.w[i] <= 0) continue;
      std::int64_t q = D.off[i];
      while (q < D.off[i + 1] && rel.st[D.cand[q]] == R::kClosed) ++q;
      empty = q == D.off[i + 1];
    }
    if (empty) continue;
    if (rel.k == 0 || rel.free_sites.size() <= rel.k) {  // a leaf: every free site open (if any may open)
      for (std::int32_t j = 0; j < P.nc; ++j) leaf[j] = rel.st[j] == R::kOpen || (rel.st[j] == R::kFree && rel.k > 0);
      offer(leaf);
      continue;
    }
    if (node.u.empty()) u = u_root;
    else u.assign(node.u.begin(), node.u.end());
    std::fill(dir.begin(), dir.end(), 0.0);
    // The root continues from median_lagrangian's multipliers, a child from its parent's with a smaller step
    // factor. Fewer steps per node (patience 3-5) gave more nodes and more time in all on the benchmark's dense
    // 1,000 x 100 instance.
    double best = -kInf, theta = root ? 1.0 : 0.5;
    const int patience = root ? 30 : 15, max_steps = root ? 5000 : 1000;
    const double deflection = 0.7;
    int since = 0;
    bool solved = false;
    for (int s = 0; s < max_steps; ++s) {
      if ((s & 15) == 15) {
        poll(P);
        if (out_of_budget()) break;
      }
      const double L = rel.evaluate(u);
      res.work += P.nd;
      for (std::int32_t j : rel.free_sites) ybar[j] = s == 0 ? rel.sel[j] : 0.9 * ybar[j] + 0.1 * rel.sel[j];
      if (L > best) {
        if (L > best + 1e-12 * std::fabs(best) || best == -kInf) since = 0;
        best = L;
        best_u = u;
        best_rho = rel.rho;
        best_sel = rel.sel;
      }
      if (++since >= patience) theta *= 0.5, since = 0;
      if (best >= threshold() || theta < 1e-4) break;
      bool g_zero = false;
      const double norm = rel.direction(u, dir, deflection, &g_zero);
      if (g_zero) {  // L is the value of the selected set, the best the node allows
        offer(rel.sel);
        solved = true;
        break;
      }
      if ((s & 31) == 31) offer(rel.sel);
      if (norm == 0.0) break;
      const double t = theta * (ub - L) / norm;
      for (std::int32_t i = 0; i < P.nd; ++i) u[i] = std::max(0.0, u[i] + t * dir[i]);
    }
    root = false;
    if (solved) continue;
    const double lb = std::max(node.lb, best);
    const auto keep_u = [&] {
      if (u_floats + best_u.size() > max_u_floats) return std::vector<float>{};
      u_floats += best_u.size();
      return std::vector<float>(best_u.begin(), best_u.end());
    };
    if (out_of_budget()) {  // unexplored: its bound stays in the answer
      stack.push_back({rel.st, keep_u(), lb});
      timed_out = true;
      break;
    }
    offer(best_sel);
    if (lb >= threshold()) {
      removed = std::min(removed, lb);
      continue;
    }
    // reduced-cost fixing at the best multipliers of this node
    std::vector<std::int32_t>& fs = rel.free_sites;
    std::sort(fs.begin(), fs.end(), [&](std::int32_t a, std::int32_t b) {
      return best_rho[a] < best_rho[b] || (best_rho[a] == best_rho[b] && a < b);
    });
    const auto a = [&](std::size_t t) { return t < fs.size() ? std::min(0.0, best_rho[fs[t]]) : 0.0; };
    const std::size_t k = rel.k;  // >= 1 and < fs.size() here (else a leaf)
    const double ak = a(k - 1), ak1 = a(k);
    bool fixed_any = false;
    for (std::size_t t = 0; t < fs.size(); ++t) {
      const double l = t < k ? best - a(t) + ak1 : best - ak + a(t);
      if (l >= threshold()) {
        rel.st[fs[t]] = t < k ? R::kOpen : R::kClosed;
        removed = std::min(removed, l);
        fixed_any = true;
      }
    }
    if (fixed_any) {
      stack.push_back({rel.st, keep_u(), lb});
      continue;
    }
    std::int32_t jb = -1;
    for (std::int32_t j : fs) {  // fs is sorted by ρ: ties of the share go to the most attractive site
      if (jb < 0 || std::fabs(ybar[j] - 0.5) < std::fabs(ybar[jb] - 0.5)) jb = j;
    }
    Node open_child{rel.st, keep_u(), lb}, closed_child{rel.st, keep_u(), lb};
    open_child.st[jb] = R::kOpen;
    closed_child.st[jb] = R::kClosed;
    if (ybar[jb] >= 0.5) {
      stack.push_back(std::move(closed_child));
      stack.push_back(std::move(open_child));
    } else {
      stack.push_back(std::move(open_child));
      stack.push_back(std::move(closed_child));
    }
  }
  double bound = std::min(ub, removed);
  for (const Node& n : stack) bound = std::min(bound, n.lb);
  res.bound = bound;
  res.finished = !timed_out && stack.empty();
  return res;
}

// ---- capacitated MCLP / p-median (demand may be split) --------------------------------------------------------

/// The assignment network of a capacitated model: rows r with weight W[r] and their pairs (r, cand, coef = the
/// objective per unit share). MCLP: one row per demand class (same zone, same covering sites: with split demand
/// the members are interchangeable, so the class's summed weight gives the same optimum); pairs = the covering
/// sites. p-median: one row per demand with weight > 0; pairs = its allowed candidates, coef = w × seconds.
struct CapNet {
  std::vector<double> W;
  std::vector<std::int32_t> row_of;  // per demand: its row, -1 none
  std::vector<std::int32_t> zone;    // per row: zone (MCLP), -1 none
  std::vector<std::int64_t> off{0};
  std::vector<std::int32_t> cand;
  std::vector<float> sec;            // p-median: seconds per pair (MCLP: empty; every pair is within standard)
  std::vector<double> coef;
};

CapNet cap_net(const Prepared& P, const Demand2& D) {
  CapNet N;
  N.row_of.assign(P.nd, -1);
  if (P.model == SiteModel::Mclp) {
    // Single-source: one row per demand (members of a class may go to different sites, so no merging).
    std::vector<double> agg;
    std::vector<std::int32_t> rep;
    if (P.single_source) {
      rep.assign(P.nd, -1);
      for (std::int32_t i = 0; i < P.nd; ++i) {
        if (P.coverable[i]) rep[i] = i;
      }
      agg = P.w;
    } else {
      rep = demand_classes(P, agg);
    }
    std::vector<std::int32_t> rep_row(P.nd, -1);
    for (std::int32_t i = 0; i < P.nd; ++i) {
      if (rep[i] != i) continue;
      rep_row[i] = std::int32_t(N.W.size());
      N.W.push_back(agg[i]);
      N.zone.push_back(P.zone[i]);
      for (std::int64_t k = P.dcov_off[i]; k < P.dcov_off[i + 1]; ++k) {
        N.cand.push_back(P.dcov_cand[k]);
        N.coef.push_back(agg[i]);
      }
      N.off.push_back(std::int64_t(N.cand.size()));
    }
    for (std::int32_t i = 0; i < P.nd; ++i) {
      if (rep[i] >= 0) N.row_of[i] = rep_row[rep[i]];
    }
  } else {
    for (std::int32_t i = 0; i < P.nd; ++i) {
      if (P.w[i] <= 0) continue;
      N.row_of[i] = std::int32_t(N.W.size());
      N.W.push_back(P.w[i]);
      N.zone.push_back(P.zone[i]);
      for (std::int64_t k = D.off[i]; k < D.off[i + 1]; ++k) {
        N.cand.push_back(D.cand[k]);
        N.sec.push_back(D.sec[k]);
        N.coef.push_back(P.w[i] * double(D.sec[k]));
      }
      N.off.push_back(std::int64_t(N.cand.size()));
    }
  }
  return N;
}

/// x_open == nullptr: the MIP — columns 0..nc-1 the sites, then z per pair; rows: one per network row
/// (Σ z <= 1, p-median = 1), capacity Σ W z − cap x <= 0 per finite capacity, z − x <= 0 per pair (needed for
/// unlimited sites, a tightening otherwise), zone minimums, budget and count. x_open given: the transportation LP
/// of that set of open sites (z columns of open sites only, capacity rows with constant right-hand sides), zone
/// rows only when with_groups.
Mip build_cap_mip(const Prepared& P, const CapNet& N, const std::vector<std::int32_t>* x_open, bool with_groups) {
  Mip m;
  const bool median = P.model == SiteModel::PMedian;
  const std::size_t nr = N.W.size();
  for (std::size_t r = 0; r < nr; ++r) m.add_row(median ? 1.0 : -kInf, 1.0);
  auto usable = [&](std::int32_t j) { return x_open ? (*x_open)[j] > 0 : P.hi[j] > 0; };
  std::vector<int> cap_row(P.nc, -1);
  for (std::int32_t j = 0; j < P.nc; ++j) {
    if (usable(j) && std::isfinite(P.cap[j])) cap_row[j] = m.add_row(-kInf, x_open ? P.cap[j] : 0.0);
  }
  std::vector<int> group_row(P.groups.size(), -1);
  if (with_groups) {
    for (std::size_t g = 0; g < P.groups.size(); ++g) {
      if (P.groups[g].required > 0) group_row[g] = m.add_row(P.groups[g].required * (1 - 1e-12), kInf);
    }
  }
  const int link_base = int(m.rowlb.size());
  if (!x_open) {
    const int budget_row = std::isfinite(P.budget) ? m.add_row(-kInf, P.budget) : -1;
    const int count_row = m.add_row(-kInf, double(P.p));
    const int keep_row = P.min_kept > 0 ? m.add_row(double(P.min_kept), kInf) : -1;
    for (std::size_t k = 0; k < N.cand.size(); ++k) m.add_row(-kInf, 0.0);  // z_k − x_j <= 0
    const int links = link_base + 1 + (budget_row >= 0 ? 1 : 0) + (keep_row >= 0 ? 1 : 0);
    // candidate-major pair lists for the x columns' link entries (counting sort)
    std::vector<std::int64_t> coff(std::size_t(P.nc) + 1, 0);
    for (std::int32_t j : N.cand) ++coff[std::size_t(j) + 1];
    for (std::int32_t j = 0; j < P.nc; ++j) coff[j + 1] += coff[j];
    std::vector<std::int64_t> pairs_of(N.cand.size()), pos(coff.begin(), coff.end() - 1);
    for (std::size_t k = 0; k < N.cand.size(); ++k) pairs_of[pos[N.cand[k]]++] = std::int64_t(k);
    for (std::int32_t j = 0; j < P.nc; ++j) {
      m.add_col(double(P.lo[j]), double(P.hi[j]), 0.0, true);
      if (cap_row[j] >= 0) m.entry(cap_row[j], -P.cap[j]);
      if (budget_row >= 0) m.entry(budget_row, P.cost[j]);
      m.entry(count_row, 1.0);
      if (keep_row >= 0 && P.closable[j]) m.entry(keep_row, 1.0);
      for (std::int64_t q = coff[j]; q < coff[j + 1]; ++q) m.entry(links + int(pairs_of[q]), -1.0);
      m.end_col();
    }
    for (std::size_t r = 0; r < nr; ++r) {
      for (std::int64_t k = N.off[r]; k < N.off[r + 1]; ++k) {
        const std::int32_t j = N.cand[k];
        m.add_col(0.0, 1.0, N.coef[k], P.single_source);
        m.entry(int(r), 1.0);
        if (cap_row[j] >= 0) m.entry(cap_row[j], N.W[r]);
        if (N.zone[r] >= 0 && group_row[N.zone[r]] >= 0) m.entry(group_row[N.zone[r]], N.W[r]);
        m.entry(links + int(k), 1.0);
        m.end_col();
      }
    }
    return m;
  }
  for (std::size_t r = 0; r < nr; ++r) {
    for (std::int64_t k = N.off[r]; k < N.off[r + 1]; ++k) {
      const std::int32_t j = N.cand[k];
      if (!usable(j)) continue;
      m.add_col(0.0, 1.0, N.coef[k], P.single_source);
      m.entry(int(r), 1.0);
      if (cap_row[j] >= 0) m.entry(cap_row[j], N.W[r]);
      if (N.zone[r] >= 0 && group_row[N.zone[r]] >= 0) m.entry(group_row[N.zone[r]], N.W[r]);
      m.end_col();
    }
  }
  return m;
}

/// The best split assignment for a given set of open sites (the transportation LP, solved by CLP): z per pair of
/// the network (0 for closed sites). feasible = the LP has a solution (p-median: all weight served; zones met).
/// failure: CLP / CBC died in both attempts (MipResult::failure): feasible is then false without the set being so.
struct CapFlow {
  bool feasible = false;
  std::vector<double> z;
  std::string failure;
};
CapFlow cap_flow(const Prepared& P, const CapNet& N, const std::vector<std::int32_t>& x, bool with_groups) {
  CapFlow f;
  f.z.assign(N.cand.size(), 0.0);
  const Mip m = build_cap_mip(P, N, &x, with_groups);
  if (m.collb.empty()) {  // no open pair: nothing served
    bool ok = P.model == SiteModel::Mclp || N.W.empty();
    for (std::size_t r = 0; r < m.rowlb.size(); ++r) ok = ok && m.rowlb[r] <= 0.0;
    f.feasible = ok;
    return f;
  }
  // Split demand: the transportation LP (CLP). Single-source: the generalised assignment problem (CBC, 0/1 z).
  const MipResult r =
      solve_mip(m, P.model == SiteModel::Mclp, !P.single_source, kInf, 0.0, P.control, CbcHeuristics::kOff);
  f.failure = r.failure;
  if (!r.proven_optimal) return f;
  f.feasible = true;
  std::size_t col = 0;
  for (std::size_t k = 0; k < N.cand.size(); ++k) {
    if (x[N.cand[k]] > 0) f.z[k] = std::min(1.0, std::max(0.0, r.x[col++]));
  }
  return f;
}

/// Seconds of the pair (i, j) (it exists: j covers i).
float pair_seconds(const SiteCosts& C, std::int32_t i, std::int32_t j) {
  const auto b = C.demand.begin() + C.offsets[j], e = C.demand.begin() + C.offsets[j + 1];
  const auto it = std::lower_bound(b, e, i);
  return it != e && *it == i ? C.seconds[std::size_t(it - C.demand.begin())] : kInfF;
}

/// evaluate_counts, then the served numbers of the capacitated model from the best split assignment. When the
/// solver process died in both attempts (CapFlow::failure) the set reads as infeasible although it may not be: then
/// *failure (if given and still empty) gets the failure, and a caller that reports the evaluation must not use it.
SiteEvaluation evaluate_capacitated(const Prepared& P, const CapNet& N, const std::vector<std::int32_t>& x,
                                    std::string* failure = nullptr) {
  SiteEvaluation ev = evaluate_counts(P, x);
  const bool median = P.model == SiteModel::PMedian;
  CapFlow f = cap_flow(P, N, x, true);
  const bool zones_met = f.feasible;
  if (!f.failure.empty() && failure && failure->empty()) *failure = f.failure;
  if (!f.feasible && !median) f = cap_flow(P, N, x, false);  // report what it serves without the zone rows
  if (!f.failure.empty() && failure && failure->empty()) *failure = f.failure;
  std::vector<double> served_row(N.W.size(), 0.0), load(P.nc, 0.0), in_std(N.W.size(), 0.0);
  std::vector<std::int32_t> top(N.W.size(), -1);
  std::vector<double> top_z(N.W.size(), 0.0);
  std::vector<float> top_s(N.W.size(), kInfF);
  double cost = 0.0;
  for (std::size_t r = 0; r < N.W.size(); ++r) {
    for (std::int64_t k = N.off[r]; k < N.off[r + 1]; ++k) {
      const double z = f.z[k];
      if (z <= 1e-9) continue;
      const std::int32_t j = N.cand[k];
      served_row[r] += z;
      load[j] += N.W[r] * z;
      cost += N.coef[k] * z;
      if (z > top_z[r] + 1e-9 || (z >= top_z[r] - 1e-9 && j < top[r])) top_z[r] = z, top[r] = j;
    }
  }
  ev.covered = 0.0;
  std::fill(ev.zone_covered.begin(), ev.zone_covered.end(), 0.0);
  const std::size_t nz = ev.zone_covered.size();
  for (std::int32_t i = 0; i < P.nd; ++i) {
    const std::int32_t r = N.row_of[i];
    ev.served[i] = 0.0;
    ev.assignment[i] = -1;
    ev.assigned_seconds[i] = kInfF;
    if (r < 0 || P.w[i] <= 0) continue;
    ev.served[i] = std::min(1.0, served_row[r]);
    double cov_share = 0.0;  // share served within the demand's standard
    for (std::int64_t k = N.off[r]; k < N.off[r + 1]; ++k) {
      if (f.z[k] <= 1e-9) continue;
      const double s = median ? double(N.sec[k]) : 0.0;
      if (!median || (P.has_standard && s <= P.stdv[i])) cov_share += f.z[k];
    }
    cov_share = std::min(1.0, cov_share);
    ev.covered += P.w[i] * cov_share;
    if (P.zone[i] >= 0 && std::size_t(P.zone[i]) < nz) ev.zone_covered[P.zone[i]] += P.w[i] * cov_share;
    if (top[r] >= 0) {
      ev.assignment[i] = top[r];
      ev.assigned_seconds[i] = pair_seconds(*P.costs, i, top[r]);
    }
  }
  ev.site_load.clear();
  for (std::int32_t j : ev.sites) ev.site_load.push_back(load[j]);
  std::string why = ev.infeasible_reason;
  // Rebuild the reasons that depend on what is served (zones; p-median: everyone served).
  auto drop = [&](const std::string& prefix) {
    std::string out;
    std::size_t at = 0;
    while (at < why.size()) {
      std::size_t end = why.find("; ", at);
      if (end == std::string::npos) end = why.size();
      const std::string part = why.substr(at, end - at);
      if (part.rfind(prefix, 0) != 0) out += (out.empty() ? "" : "; ") + part;
      at = end + 2;
    }
    why = out;
  };
  drop("zone ");
  drop("some demand has no open site");
  auto add = [&](const std::string& s) { why += (why.empty() ? "" : "; ") + s; };
  bool zone_named = false;
  for (std::size_t z = 0; z < nz; ++z) {
    if (ev.zone_covered[z] < P.groups[z].required - tol_for(P.groups[z].required)) {
      add("zone " + std::to_string(z) + " served " + num(ev.zone_covered[z]) + " < required " +
          num(P.groups[z].required) + " (within the sites' capacities)");
      zone_named = true;
    }
  }
  if (!median && !zones_met && !zone_named) add("zone minimum shares cannot all be met within the capacities");
  if (median) {
    if (!f.feasible) {
      add("the open sites' capacities cannot serve every demand's weight from its pairs");
      ev.weighted_seconds = kInf;
    } else {
      ev.weighted_seconds = cost;
    }
    ev.objective = ev.weighted_seconds;
  } else {
    ev.expected_covered = ev.covered;
    ev.objective = ev.covered;
  }
  ev.infeasible_reason = why;
  ev.feasible = why.empty();
  return ev;
}

/// The error when a capacitated set the caller asked about could not be scored (evaluate_capacitated's failure): no
/// answer exists without it (SolverError, careshed.SolverError: not InputError, the input is not at fault).
[[noreturn]] void throw_unscored(const Prepared& P, const std::string& what, const std::string& failure) {
  throw SolverError(std::string(site_model_name(P.model)) + ": " + what + " could not be scored within the capacities: " +
              failure + ". If the solver process was killed for lack of memory, free memory and run again");
}

/// The marginal-gain curve of a capacitated answer: the order of order_solution (the uncapacitated greedy among
/// the chosen sites), the gains re-measured with capacities (each prefix's best split assignment), in a solver
/// process of its own (the caller's has ended). The answer itself was scored, and its bound proven, before: when a
/// prefix's scoring dies in the solver process (both attempts), the gains it enters (its site's and the next one's)
/// are unknown, NaN, and sol.status says how many and why, while the sites, objective and bound stand. (A died
/// scoring once read as "nothing served": MCLP gains of 0, p-median gains of inf, with nothing said.)
void order_capacitated(const Prepared& P, const CapNet& N, SiteSolution& sol, const std::vector<std::int32_t>& x) {
  cbc::SolverSession gains_session;  // one process for the curve's small LPs
  order_solution(P, sol, x);
  std::vector<std::int32_t> y(P.lo);
  for (std::int32_t j = 0; j < P.nc; ++j) {
    if (P.closable[j]) y[j] = x[j];  // kept existing sites are the start, as in order_solution
  }
  std::string failure;  // the first prefix the solver process could not score
  auto score = [&] {
    std::string failed;
    const double v = evaluate_capacitated(P, N, y, &failed).objective;
    if (failed.empty()) return v;
    if (failure.empty()) failure = failed;
    return std::numeric_limits<double>::quiet_NaN();
  };
  double prev = score();
  sol.marginal_gain.clear();
  std::size_t unknown = 0;
  for (std::int32_t j : sol.added_order) {
    y[j] = 1;
    const double now = score();
    if (std::isnan(prev) || std::isnan(now)) {
      sol.marginal_gain.push_back(std::numeric_limits<double>::quiet_NaN());
      ++unknown;
    } else if (P.model == SiteModel::Mclp) {
      sol.marginal_gain.push_back(now - prev);
    } else {
      sol.marginal_gain.push_back(std::isfinite(prev) ? prev - now : kInf);
    }
    prev = now;
  }
  if (unknown > 0) {
    sol.status += "; " + std::to_string(unknown) + " of the " + std::to_string(sol.added_order.size()) +
                  " marginal gains are unknown (NaN): the solver process could not score the sets they compare (" +
                  failure + "); the sites, the objective and the bound stand";
  }
}

/// Capacitated MCLP / p-median. Heuristic: the uncapacitated greedy + swap answer and the rounded LP relaxation
/// (most-open sites first) as starts, then first-improvement add / swap moves, each scored by its transportation
/// LP (at most kMaxCapEvals LPs, or the deadline). Bound: the LP relaxation when CLP solved it, else the simple
/// bound (MCLP: min(coverable weight, fixed + largest free capacities); p-median: Σ w × nearest allowed site).
/// Exact: CBC on the MIP of build_cap_mip, keeping the heuristic answer unless CBC finds a better one.
constexpr int kMaxCapEvals = 2000;
constexpr int kMaxSingleSourceEvals = 300;  // each a small MIP (the assignment of one set), not an LP

void solve_capacitated(const Prepared& P, const Demand2& D, const SiteOptions& o, Clock::time_point t0,
                       Clock::time_point deadline, SiteSolution& sol) {
  // One solver process for the many small MIPs (cap_flow's) of the search; it ends before the marginal gains, which
  // get one of their own (a fork, ~1-2 ms): they report on a finished answer, so a process lost while measuring them
  // costs the gains only (order_capacitated), and the tests can kill exactly those processes.
  std::optional<cbc::SolverSession> search_session;
  search_session.emplace();
  const CapNet N = cap_net(P, D);
  const bool maxm = P.model == SiteModel::Mclp;
  auto improves = [&](double a, double b) { return maxm ? a > b + tol_for(b) : a < b - tol_for(b); };
  std::vector<std::int32_t> best_x;
  SiteEvaluation best;
  bool have = false;
  int evals = 0, unscored = 0;
  std::string scoring_failure;  // the first set the solver process could not score (counted as not feasible)
  auto consider = [&](const std::vector<std::int32_t>& x) {
    poll(P);
    ++evals;
    std::string failed;
    SiteEvaluation e = evaluate_capacitated(P, N, x, &failed);
    if (!failed.empty()) {
      if (unscored++ == 0) scoring_failure = failed;
      return false;
    }
    if (!e.feasible || (have && !improves(e.objective, best.objective))) return false;
    best = std::move(e);
    best_x = x;
    have = true;
    return true;
  };
  auto time_left = [&]() { return o.time_limit_s - seconds_since(t0); };
  consider(maxm ? heuristic_counts(P, o, deadline) : heuristic_median(P, D, o, deadline));
  // Simple bound.
  double bound = simple_bound(P);
  if (maxm) {
    double caps = 0.0;
    std::int32_t n_fixed = 0;
    std::vector<double> free_caps;
    for (std::int32_t j = 0; j < P.nc; ++j) {
      if (P.lo[j] > 0) caps += P.cap[j], ++n_fixed;
      else if (P.hi[j] > 0) free_caps.push_back(P.cap[j]);
    }
    std::sort(free_caps.begin(), free_caps.end(), std::greater<double>());
    for (std::int32_t k = 0; k < P.p - n_fixed && std::size_t(k) < free_caps.size(); ++k) caps += free_caps[k];
    bound = std::min(bound, caps);
  }
  sol.bound = bound;
  sol.bound_source = "simple";
  const Mip mip = build_cap_mip(P, N, nullptr, true);
  std::vector<double> lp_x(P.nc, 0.0);
  if (time_left() > 0) {
    const MipResult lp = solve_mip(mip, maxm, true, time_left(), 0.0, P.control);
    if (lp.proven_optimal && std::isfinite(lp.bound)) {
      if (maxm ? lp.bound < sol.bound : lp.bound > sol.bound) sol.bound = lp.bound, sol.bound_source = "lp relaxation";
      for (std::int32_t j = 0; j < P.nc; ++j) lp_x[j] = lp.x[j];
      // Rounding: the fixed sites, then the most-open sites of the relaxation (ties lowest index) within p/budget.
      std::vector<std::int32_t> order;
      for (std::int32_t j = 0; j < P.nc; ++j) {
        if (P.lo[j] == 0 && P.hi[j] > 0 && lp_x[j] > 1e-9) order.push_back(j);
      }
      std::stable_sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t b) { return lp_x[a] > lp_x[b]; });
      std::vector<std::int32_t> x(P.lo);
      std::int64_t count = 0;
      double spent = 0.0;
      for (std::int32_t j = 0; j < P.nc; ++j) count += x[j], spent += x[j] ? P.cost[j] : 0.0;
      for (std::int32_t j : order) {
        if (count >= P.p) break;
        if (spent + P.cost[j] > P.budget_tol) continue;
        x[j] = 1, ++count, spent += P.cost[j];
      }
      consider(x);
    }
  }
  // Local search: add a site while under p, or swap an open non-fixed site for a closed one; first improvement.
  if (o.local_search && have) {
    std::vector<std::int32_t> closed_order;
    for (std::int32_t j = 0; j < P.nc; ++j) {
      if (P.hi[j] > 0) closed_order.push_back(j);
    }
    std::stable_sort(closed_order.begin(), closed_order.end(),
                     [&](std::int32_t a, std::int32_t b) { return lp_x[a] > lp_x[b]; });
    bool improved = true;
    const int max_evals = P.single_source ? kMaxSingleSourceEvals : kMaxCapEvals;
    while (improved && evals < max_evals && Clock::now() < deadline) {
      improved = false;
      std::int64_t count = 0;
      double spent = 0.0;
      for (std::int32_t j = 0; j < P.nc; ++j) count += best_x[j], spent += best_x[j] ? P.cost[j] : 0.0;
      for (std::size_t bi = 0; bi < closed_order.size() && !improved; ++bi) {
        const std::int32_t b = closed_order[bi];
        if (best_x[b] > 0) continue;
        if (count < P.p && spent + P.cost[b] <= P.budget_tol) {
          std::vector<std::int32_t> x = best_x;
          x[b] = 1;
          if (consider(x)) improved = true;
        }
        for (std::int32_t a = 0; a < P.nc && !improved; ++a) {
          if (best_x[a] == 0 || P.lo[a] > 0) continue;
          if (spent - P.cost[a] + P.cost[b] > P.budget_tol) continue;
          if (evals >= max_evals || Clock::now() >= deadline) break;
          std::vector<std::int32_t> x = best_x;
          x[a] = 0;
          x[b] = 1;
          if (consider(x)) improved = true;
        }
        if (evals >= max_evals || Clock::now() >= deadline) break;
      }
    }
  }
  // Exact (or no feasible set found yet): CBC on the MIP.
  if ((o.solver == SiteSolver::Exact || !have) && time_left() > 0) {
    const MipResult r = solve_mip(mip, maxm, false, time_left(), o.gap_target, P.control, CbcHeuristics::kOff);
    if (r.proven_infeasible) {
      fail(std::string(site_model_name(P.model)) +
           ": no set of allowed sites meets the constraints within the capacities (p, budget, zone shares, "
           "every demand served" + std::string(P.single_source ? ", each demand wholly by one site" : "") +
           "); relax them or raise capacities" + std::string(P.single_source ? " (or let demand split)" : ""));
    }
    if (r.has_solution) consider(x_from_mip(P, r.x));
    if (std::isfinite(r.bound) && (maxm ? r.bound < sol.bound : r.bound > sol.bound)) {
      sol.bound = r.bound;
      sol.bound_source = "cbc";
    }
    if (have && r.proven_optimal) {
      // CBC proved the optimum; our objective is the same set's LP value, equal up to the LP tolerances.
      const double slack = 1e-7 * std::max(1.0, std::fabs(best.objective));
      if (std::fabs(best.objective - r.bound) <= slack) sol.bound = best.objective;
    }
    if (o.solver == SiteSolver::Exact) sol.status = r.proven_optimal ? "optimal" : (r.stopped ? "time limit" : "");
    if (!r.failure.empty()) {
      if (!have) {  // nothing to fall back on: the solver's failure, not the input's (careshed.SolverError)
        // What the user can change: a set the heuristics find on their own needs no CBC. Running again only helps
        // when the process was killed from outside (memory): an assertion in CBC fails the same way every time.
        const std::string unscored_note =
            unscored == 0 ? "" : " (" + std::to_string(unscored) + " of the " + std::to_string(evals) +
                                     " sets they tried could not be scored either: " + scoring_failure + ")";
        throw SolverError(std::string(site_model_name(P.model)) +
                          ": the heuristics found no set of sites that meets the constraints within the capacities" +
                          unscored_note + ", so CBC had to search for one, and " + r.failure +
                          ". To get an answer, raise the capacities or p, or relax the budget or the zone shares" +
                          std::string(P.single_source ? ", or let demand split" : "") +
                          ", so that the heuristics find a feasible set without CBC; if the solver process was "
                          "killed for lack of memory, free memory and run again");
      }
      sol.status = solver_failed_status(r);
    }
  }
  if (!have) {
    fail(std::string(site_model_name(P.model)) +
         ": no feasible set of sites found within the capacities; relax the budget, the zone shares or p");
  }
  static_cast<SiteEvaluation&>(sol) = best;
  finish_gap(sol);
  if (o.solver == SiteSolver::Exact && sol.proven_optimal && P.costs->n_pairs() <= kTieMaxPairs) {
    const double z = sol.objective;
    auto optimal = [&](const std::vector<std::int32_t>& xx) {
      const SiteEvaluation e = evaluate_capacitated(P, N, xx);
      return e.feasible && std::fabs(e.objective - z) <= 1e-7 * std::max(1.0, std::fabs(z));
    };
    bool complete = false;
    const std::vector<std::int32_t> xl = lex_smallest_optimum(P, mip, maxm, z, best_x, optimal, deadline, &complete);
    std::string failed;
    SiteEvaluation e = xl != best_x ? evaluate_capacitated(P, N, xl, &failed) : SiteEvaluation();
    if (!failed.empty()) {
      complete = false;  // the lower set could not be scored again: keep the optimal set scored before
    } else if (xl != best_x) {
      best_x = xl;
      const double b = sol.bound;
      static_cast<SiteEvaluation&>(sol) = std::move(e);
      sol.bound = b;
      finish_gap(sol);
    }
    sol.ties_resolved = complete;
  }
  if (sol.proven_optimal) sol.status = "optimal";
  else if (sol.status.empty()) sol.status = o.gap_target > 0 && sol.gap <= o.gap_target ? "gap target" : "local optimum";
  search_session.reset();
  order_capacitated(P, N, sol, best_x);
}

}  // namespace

// ---- public ----------------------------------------------------------------------------------------------------

const char* site_model_name(SiteModel model) {
  switch (model) {
    case SiteModel::Lscp: return "lscp";
    case SiteModel::Mclp: return "mclp";
    case SiteModel::Backup: return "backup";
    case SiteModel::Mexclp: return "mexclp";
    case SiteModel::PMedian: return "p-median";
    case SiteModel::PCenter: return "p-center";
  }
  return "?";
}

SiteCosts site_costs_from_pairs(std::int32_t n_demand, std::int32_t n_candidates, const std::int32_t* demand,
                                const std::int32_t* candidate, const double* seconds, std::size_t n_pairs) {
  if (n_demand < 0 || n_candidates < 0) fail("costs: n_demand and n_candidates must be >= 0");
  std::vector<std::int32_t> d(n_pairs), c(n_pairs);
  std::vector<float> s(n_pairs);
  for (std::size_t k = 0; k < n_pairs; ++k) {
    if (demand[k] < 0 || demand[k] >= n_demand) {
      fail("costs: pair " + std::to_string(k) + " names demand " + std::to_string(demand[k]) + " outside 0.." +
           std::to_string(n_demand - 1));
    }
    if (candidate[k] < 0 || candidate[k] >= n_candidates) {
      fail("costs: pair " + std::to_string(k) + " names candidate " + std::to_string(candidate[k]) + " outside 0.." +
           std::to_string(n_candidates - 1));
    }
    if (!(seconds[k] >= 0.0) || !std::isfinite(seconds[k])) {
      fail("costs: pair " + std::to_string(k) + " (demand " + std::to_string(demand[k]) + ", candidate " +
           std::to_string(candidate[k]) + ") has cost " + num(seconds[k]) +
           "; costs must be finite and >= 0 (leave unreachable pairs out)");
    }
    d[k] = demand[k];
    c[k] = candidate[k];
    s[k] = float(seconds[k]);
  }
  return csr_from_triplets(n_demand, n_candidates, std::move(d), std::move(c), std::move(s));
}

namespace {

/// See site_costs_from_compressed in the header: one pass writes the candidate-major arrays (a counting pass first
/// when the input is demand-major), then unsorted candidate lists are sorted.
template <class T>
SiteCosts costs_from_compressed(std::int32_t n_demand, std::int32_t n_candidates, bool by_candidate,
                                const std::int64_t* indptr, std::int64_t indptr_len, const std::int32_t* indices,
                                const T* seconds, std::int64_t n_entries) {
  if (n_demand < 0 || n_candidates < 0) fail("costs: n_demand and n_candidates must be >= 0");
  const std::int32_t n_major = by_candidate ? n_candidates : n_demand;
  const std::int32_t n_minor = by_candidate ? n_demand : n_candidates;
  const char* major = by_candidate ? "column (candidate)" : "row (demand)";
  if (indptr_len != std::int64_t(n_major) + 1) {
    fail(std::string("costs: the sparse matrix's indptr has ") + std::to_string(indptr_len) + " entries; expected " +
         std::to_string(std::int64_t(n_major) + 1) + " (one per " + major + " + 1)");
  }
  if (indptr[0] != 0 || indptr[n_major] != n_entries) {
    fail("costs: the sparse matrix's indptr must start at 0 and end at its number of entries (" +
         std::to_string(n_entries) + ")");
  }
  for (std::int32_t m = 0; m < n_major; ++m) {
    if (indptr[m + 1] < indptr[m]) fail(std::string("costs: the sparse matrix's indptr decreases at ") + major + " " + std::to_string(m));
  }
  auto check = [&](std::int32_t m, std::int64_t k) {
    const std::int32_t o = indices[k];
    const std::int32_t i = by_candidate ? o : m, j = by_candidate ? m : o;
    if (o < 0 || o >= n_minor) {
      fail("costs: entry " + std::to_string(k) + " names " + (by_candidate ? "demand " : "candidate ") +
           std::to_string(o) + " outside 0.." + std::to_string(n_minor - 1));
    }
    const double s = double(seconds[k]);
    if (!(s >= 0.0) || !std::isfinite(s)) {
      fail("costs: the pair (demand " + std::to_string(i) + ", candidate " + std::to_string(j) + ") has cost " +
           num(s) + "; costs must be finite and >= 0 (leave unreachable pairs out of the sparse matrix)");
    }
  };
  SiteCosts c;
  c.n_demand = n_demand;
  c.n_candidates = n_candidates;
  c.demand.resize(std::size_t(n_entries));
  c.seconds.resize(std::size_t(n_entries));
  if (by_candidate) {
    c.offsets.assign(indptr, indptr + indptr_len);
    for (std::int32_t j = 0; j < n_candidates; ++j) {
      for (std::int64_t k = indptr[j]; k < indptr[j + 1]; ++k) {
        check(j, k);
        c.demand[k] = indices[k];
        c.seconds[k] = float(seconds[k]);
      }
    }
  } else {
    c.offsets.assign(std::size_t(n_candidates) + 1, 0);
    for (std::int32_t i = 0; i < n_demand; ++i) {
      for (std::int64_t k = indptr[i]; k < indptr[i + 1]; ++k) {
        check(i, k);
        ++c.offsets[std::size_t(indices[k]) + 1];
      }
    }
    for (std::int32_t j = 0; j < n_candidates; ++j) c.offsets[j + 1] += c.offsets[j];
    std::vector<std::int64_t> pos(c.offsets.begin(), c.offsets.end() - 1);
    for (std::int32_t i = 0; i < n_demand; ++i) {  // rows in order: each candidate's list comes out ascending
      for (std::int64_t k = indptr[i]; k < indptr[i + 1]; ++k) {
        const std::int64_t at = pos[indices[k]]++;
        c.demand[at] = i;
        c.seconds[at] = float(seconds[k]);
      }
    }
  }
  sort_candidate_lists(c);
  return c;
}

}  // namespace

SiteCosts site_costs_from_compressed(std::int32_t n_demand, std::int32_t n_candidates, bool by_candidate,
                                     const std::int64_t* indptr, std::int64_t indptr_len, const std::int32_t* indices,
                                     const float* seconds, std::int64_t n_entries) {
  return costs_from_compressed(n_demand, n_candidates, by_candidate, indptr, indptr_len, indices, seconds, n_entries);
}

SiteCosts site_costs_from_compressed(std::int32_t n_demand, std::int32_t n_candidates, bool by_candidate,
                                     const std::int64_t* indptr, std::int64_t indptr_len, const std::int32_t* indices,
                                     const double* seconds, std::int64_t n_entries) {
  return costs_from_compressed(n_demand, n_candidates, by_candidate, indptr, indptr_len, indices, seconds, n_entries);
}

SiteCosts site_costs_from_reach_lists(const ReachLists& reach, const std::int32_t* cell_demand, std::int64_t n_cells,
                                      std::int32_t n_demand, const double* max_seconds_per_demand) {
  return costs_from_lists(reach.offsets, reach.cells, reach.seconds, cell_demand, n_cells, n_demand,
                          max_seconds_per_demand, "reach lists");
}

SiteCosts site_costs_from_source_reach(const SourceReach& reach, const std::int32_t* node_demand,
                                       std::int64_t n_nodes, std::int32_t n_demand,
                                       const double* max_seconds_per_demand) {
  return costs_from_lists(reach.list_first, reach.nodes, reach.seconds, node_demand, n_nodes, n_demand,
                          max_seconds_per_demand, "source reach");
}

SiteEvaluation evaluate_sites(const SiteCosts& costs, const SiteProblem& problem,
                              const std::vector<std::int32_t>& sites, RunControl* control) {
  ProgressSpan span(control, 0.0, 1.0, "evaluate");
  const Prepared P = prepare(costs, problem, control);
  std::vector<std::int32_t> x(P.lo);
  std::vector<std::int32_t> given(P.nc, 0);
  for (std::int32_t j : sites) {
    if (j < 0 || j >= P.nc) {
      fail("sites: candidate " + std::to_string(j) + " is outside 0.." + std::to_string(P.nc - 1));
    }
    ++given[j];
  }
  for (std::int32_t j = 0; j < P.nc; ++j) {
    if (P.model == SiteModel::Mexclp) x[j] += given[j];
    else x[j] = std::max(x[j], given[j] > 0 ? 1 : 0);
  }
  if (!P.cap.empty()) {
    std::string failure;
    SiteEvaluation ev = evaluate_capacitated(P, cap_net(P, demand_major(P)), x, &failure);
    if (!failure.empty()) throw_unscored(P, "the given sites", failure);
    return ev;
  }
  return evaluate_counts(P, x);
}

MarginalGainCurve marginal_gain_curve(const SiteCosts& costs, const SiteProblem& problem, std::int32_t k,
                                      RunControl* control) {
  ProgressSpan span(control, 0.0, 1.0, "marginal-gain curve");
  // The curve is not limited by p: allow every unit the candidates allow.
  SiteProblem pr = problem;
  if (pr.model != SiteModel::Lscp) {
    std::int64_t units = 0;
    const std::int64_t vmax = pr.model == SiteModel::Mexclp ? std::max(1, pr.max_vehicles_per_site) : 1;
    for (std::int32_t j = 0; j < costs.n_candidates; ++j) {
      units += pr.site_status.empty() || pr.site_status[j] != SiteStatus::Forbidden ? vmax : 0;
    }
    pr.p = std::int32_t(std::min<std::int64_t>(units, std::numeric_limits<std::int32_t>::max()));
  }
  const Prepared P = prepare(costs, pr, control);
  MarginalGainCurve out;
  if (k <= 0) return out;
  if (is_coverage_model(P.model)) {
    // LSCP's curve counts newly covered weight: run it as MCLP on the same coverage.
    Prepared M = P;
    if (P.model == SiteModel::Lscp) {
      M.model = SiteModel::Mclp;
      M.lscp_full = false;
    }
    CountState T(M);
    for (std::int32_t j = 0; j < M.nc; ++j) {
      for (std::int32_t v = 0; v < M.lo[j]; ++v) T.add(j);
      if (M.closable[j]) T.add(j);  // existing sites that may close are open today: the curve starts there
    }
    greedy_counts(T, &out.sites, &out.gain, nullptr, T.units + k);
    double obj = T.obj - std::accumulate(out.gain.begin(), out.gain.end(), 0.0);
    for (double g : out.gain) out.objective.push_back(obj += g);
  } else {
    const Demand2 D = demand_major(P);
    MedianState S(P, D);
    for (std::int32_t j = 0; j < P.nc; ++j) {
      if (P.lo[j] > 0 || P.closable[j]) S.open[j] = 1, ++S.n_open;
    }
    for (std::int32_t i = 0; i < P.nd; ++i) {
      if (P.w[i] > 0) S.refresh(i);
    }
    greedy_median(S, costs, S.n_open + k, nullptr, &out.sites, nullptr);
    std::vector<std::int32_t> x(P.lo);
    for (std::int32_t j = 0; j < P.nc; ++j) x[j] = std::max(x[j], std::int32_t(P.closable[j]));
    double prev = evaluate_counts(P, x).objective;
    for (std::int32_t j : out.sites) {
      x[j] = 1;
      const double now = evaluate_counts(P, x).objective;
      out.gain.push_back(std::isfinite(prev) ? prev - now : kInf);
      out.objective.push_back(now);
      prev = now;
    }
  }
  if (!P.cap.empty()) {  // the greedy order without capacities; the gains re-measured with them
    const CapNet N = cap_net(P, demand_major(P));
    std::vector<std::int32_t> y(P.lo);
    for (std::int32_t j = 0; j < P.nc; ++j) y[j] = std::max(y[j], std::int32_t(P.closable[j]));
    auto score = [&] {
      std::string failure;
      const double v = evaluate_capacitated(P, N, y, &failure).objective;
      if (!failure.empty()) throw_unscored(P, "the curve's sets", failure);
      return v;
    };
    double prev = score();
    out.gain.clear();
    out.objective.clear();
    for (std::int32_t j : out.sites) {
      y[j] = 1;
      const double now = score();
      out.gain.push_back(P.model == SiteModel::Mclp ? now - prev : (std::isfinite(prev) ? prev - now : kInf));
      out.objective.push_back(now);
      prev = now;
    }
  }
  return out;
}

SiteSolution solve_sites(const SiteCosts& costs, const SiteProblem& problem, const SiteOptions& options,
                         RunControl* control) {
  const Clock::time_point t0 = Clock::now();
  ProgressSpan span(control, 0.0, 1.0, "site optimisation");
  if (!(options.time_limit_s > 0)) fail("time_limit_s must be > 0 (or +inf)");
  if (!(options.gap_target >= 0 && options.gap_target < 1)) fail("gap_target must be in [0, 1)");
  const Prepared P = prepare(costs, problem, control);
  const Clock::time_point deadline = deadline_after(t0, options.time_limit_s);
  SiteSolution sol;
  sol.model = P.model;
  sol.solver = options.solver;
  const bool median = P.model == SiteModel::PMedian;
  Demand2 D;
  if (!is_coverage_model(P.model)) {
    D = demand_major(P);
    require_assignable(P, D);
    // The heuristic p-median's refresh and Lagrangian steps stop at the first pairs they need.
    if (median && P.cap.empty() && options.solver == SiteSolver::Heuristic) sort_by_cost(D);
  }
  if (!P.cap.empty()) {
    solve_capacitated(P, D, options, t0, deadline, sol);
    sol.seconds_elapsed = seconds_since(t0);
    return sol;
  }
  if (P.model == SiteModel::PCenter) {
    solve_pcenter(costs, problem, P, options, t0, sol);
    finish_gap(sol);
    sol.status = sol.proven_optimal ? "optimal" : (seconds_since(t0) >= options.time_limit_s ? "time limit" : "local optimum");
    sol.seconds_elapsed = seconds_since(t0);
    return sol;
  }
  std::vector<std::int32_t> x;
  bool search_cut = false;  // the count-based search was stopped by its deadline (its share of the time limit)
  {
    ProgressSpan phase(control, 0.0, 0.4, "greedy + swap");
    // The local search gets half the time limit: the bound that proves the answer's quality needs the rest.
    const Clock::time_point search_deadline = deadline_after(t0, 0.5 * options.time_limit_s);
    x = median ? heuristic_median(P, D, options, search_deadline)
               : heuristic_counts(P, options, search_deadline, &search_cut);
  }
  // CBC reports no fraction: this stage shows its name until it ends.
  ProgressSpan phase(control, 0.4, 1.0, options.solver == SiteSolver::Exact ? "bound, branch and cut" : "bound");
  SiteEvaluation ev = evaluate_counts(P, x);
  const bool maxm = is_max_model(P.model);
  sol.bound = simple_bound(P);
  sol.bound_source = "simple";
  // A bound replaces the one held when it is tighter. In the exact path every bound proven before CBC is kept,
  // even one that does not close the gap: CBC stopped by the time limit before its root LP ends (it checks the
  // limit only between its phases) or killed leaves no bound of its own, and an exact run must not then report
  // the simple bound where a heuristic run proves a far better one (6,400 x 400 MCLP, p = 16, 5 s: 6.46 % against
  // 1.67 %).
  const auto keep_bound = [&](double b, const char* source) {
    if (std::isfinite(b) && (maxm ? b < sol.bound : b > sol.bound)) sol.bound = b, sol.bound_source = source;
  };
  // Plain MCLP: the search guided by an LP relaxation's site values (lp_guided_cover_search), kept when better.
  const auto guide_by_lp = [&](const MipResult& r) {
    if (!incremental_cover_search(P) || !options.local_search || !r.proven_optimal || r.x.size() < std::size_t(P.nc)) {
      return;
    }
    const std::vector<std::int32_t> xg =
        lp_guided_cover_search(P, r.x, options.iterated_search, deadline, &search_cut);
    if (xg.empty()) return;
    SiteEvaluation eg = evaluate_counts(P, xg);
    if (eg.feasible && (!ev.feasible || eg.objective > ev.objective)) {
      ev = std::move(eg);
      x = xg;
    }
  };
  // Covering models: the LP relaxation (solved by CLP) is the tightest bound here but CLP's simplex is slow on
  // large instances; from 200,000 pairs (or without lp_bound) the Lagrangian bound (O(pairs) per step, converging
  // to the LP value without budget) takes its place.
  bool lp_worth_it = true;
  bool median_cut = false;  // the heuristic p-median's phases ran into the deadline
  const bool small = costs.n_pairs() <= 200000;
  // p-median: the Lagrangian heuristic may also find a feasible set where greedy + swap left demand unserved. It
  // runs first at every size: CLP's LP relaxation of a dense 1,000 x 100 p-median did not finish in 60 s on a busy
  // machine; the LP follows on small instances only when the Lagrangian bound leaves a gap above the target.
  if (options.solver == SiteSolver::Heuristic && (ev.feasible || median) && (!small || !options.lp_bound || median)) {
    double lag;
    bool tree = false;
    if (median) {
      // (a phase the deadline stops makes the status "time limit": the answer then depends on the machine's speed)
      std::vector<double> u;
      lag = median_lagrangian(P, D, x, deadline, options.gap_target, options.local_search, &u);
      ev = evaluate_counts(P, x);
      const auto gap_above_target = [&] {
        const double g = ev.feasible ? (ev.objective - lag) / std::max(1.0, std::fabs(ev.objective)) : kInf;
        return g > std::max(options.gap_target, 1e-9);
      };
      // The bound has settled: more iterated search from the incumbent (at scale the incumbent is the weak side),
      // until the gap target, 10 × (60 + 5p) rounds, 60 + 5p rounds without a gain, or (with a time limit) half of
      // the time left — the branch and bound gets the rest.
      if (options.local_search && options.iterated_search && ev.feasible && P.max_closures < 0 && std::isfinite(lag) &&
          gap_above_target() && Clock::now() < deadline) {
        std::vector<std::int32_t> sites;
        for (std::int32_t j = 0; j < P.nc; ++j) {
          if (x[j] > 0) sites.push_back(j);
        }
        const Clock::time_point now = Clock::now();
        const Clock::time_point ils_deadline =
            std::isfinite(options.time_limit_s) ? now + (deadline - now) / 2 : deadline;
        MedianState S(P, D);
        if (median_from(P, sites, ils_deadline, S)) {
          const std::int64_t rounds = kMedianIlsRounds + 5 * std::int64_t(P.p);
          // the gap target met: value - lag <= gap_target × value
          const double stop_at = options.gap_target > 0 ? lag / (1.0 - options.gap_target) : lag;
          iterated_median(S, ils_deadline, 10 * rounds, rounds, stop_at, kMedianSeed + 1);
          const std::vector<std::int32_t> xs(S.open.begin(), S.open.end());
          SiteEvaluation es = evaluate_counts(P, xs);
          if (es.feasible && es.objective < ev.objective) {
            ev = std::move(es);
            x = xs;
          }
        }
      }
      // The subgradient stalls a little below the LP value; the Lagrangian branch and bound closes the rest,
      // within the time limit, or without one within a fixed amount of work (2e9 demand points over its steps: tens
      // of seconds; the answer stays deterministic). Not when max_closures binds (the search does not enforce it).
      const double gap_lag = ev.feasible ? (ev.objective - lag) / std::max(1.0, std::fabs(ev.objective)) : kInf;
      if (options.branch_and_bound && ev.feasible && gap_lag > std::max(options.gap_target, 1e-9) &&
          P.min_kept == 0 && Clock::now() < deadline) {
        const std::int64_t max_work =
            std::isfinite(options.time_limit_s) ? std::numeric_limits<std::int64_t>::max() : std::int64_t(2e9);
        const MedianTree t = median_branch_and_bound(P, D, u, x, deadline, options.gap_target, max_work);
        ev = evaluate_counts(P, x);
        if (t.bound > lag) lag = t.bound, tree = true;
      }
      median_cut = Clock::now() > deadline;
    } else {
      lag = lagrangian_bound(P, ev.objective, deadline, 3000, options.gap_target, &x);
    }
    keep_bound(lag, tree ? "lagrangian branch and bound" : "lagrangian");
    if (std::isfinite(lag)) {
      const double gap_now = ev.feasible ? (ev.objective - sol.bound) / std::max(1.0, std::fabs(ev.objective)) : kInf;
      lp_worth_it = median && small && options.lp_bound && !(gap_now <= std::max(options.gap_target, 1e-9));
    }
  }
  // Exact: first try to prove the heuristic answer optimal without branch and cut — the LP relaxation on small
  // instances, the Lagrangian bound (covering models) on large ones; CBC runs only when that leaves a gap.
  bool closed = false;
  // Exact p-median (uncapacitated, no binding closure limit): the Lagrangian bound and its branch and bound prove
  // the optimum without CBC (on the benchmark's dense 500 x 50 - 1,500 x 150 instances in under a second, where
  // CBC takes seconds to minutes). CBC follows only when the search did not finish within its share: half of the
  // time limit, or without one 2e9 demand points of subgradient steps. The tie rule below is unchanged.
  if (options.solver == SiteSolver::Exact && median && ev.feasible && P.min_kept == 0 && options.branch_and_bound) {
    Demand2 Ds = D;
    sort_by_cost(Ds);
    const Clock::time_point now = Clock::now();
    const bool limited = std::isfinite(options.time_limit_s);
    const Clock::time_point tree_deadline = limited ? now + (deadline - now) / 2 : deadline;
    std::vector<double> u;
    std::vector<std::int32_t> xt = x;
    double lb = median_lagrangian(P, Ds, xt, tree_deadline, 0.0, options.local_search, &u);
    SiteEvaluation et = evaluate_counts(P, xt);
    const auto proves = [&](double bound) {
      return et.feasible && bound >= et.objective - 2e-10 * std::max(1.0, std::fabs(et.objective));
    };
    bool proven = proves(lb);
    if (!proven && et.feasible) {
      const std::int64_t max_work = limited ? std::numeric_limits<std::int64_t>::max() : std::int64_t(2e9);
      const MedianTree t = median_branch_and_bound(P, Ds, u, xt, tree_deadline, 0.0, max_work);
      et = evaluate_counts(P, xt);
      lb = std::max(lb, t.bound);
      proven = t.finished && proves(lb);
    }
    if (et.feasible && et.objective < ev.objective) {
      ev = std::move(et);
      x = xt;
    }
    if (proven) {
      closed = true;
      sol.bound = lb;
      sol.bound_source = "lagrangian branch and bound";
    } else {
      keep_bound(lb, "lagrangian branch and bound");
    }
  }
  if (options.solver == SiteSolver::Exact && ev.feasible && !small) {
    // With a time limit, at most half of the time left: CBC needs the rest.
    const Clock::time_point now = Clock::now();
    const Clock::time_point lag_deadline = std::isfinite(options.time_limit_s) ? now + (deadline - now) / 2 : deadline;
    const double lag = lagrangian_bound(P, ev.objective, lag_deadline);  // +inf for models it does not cover
    keep_bound(lag, "lagrangian");
    if (lag <= ev.objective + 1e-9 * std::max(1.0, std::fabs(ev.objective))) closed = true;
  }
  if (options.solver == SiteSolver::Exact && ev.feasible && options.lp_bound && small && !closed) {
    const double left = options.time_limit_s - seconds_since(t0);
    if (left > 0) {
      const MipResult r = solve_mip(build_mip(P, &D), maxm, true, left, 0.0, P.control);
      guide_by_lp(r);  // a better answer to prove, and CBC's to beat when the time limit cuts it
      const double slack = 1e-9 * std::max(1.0, std::fabs(ev.objective));
      if (r.proven_optimal) keep_bound(r.bound, "lp relaxation");
      if (r.proven_optimal && std::isfinite(r.bound) &&
          (maxm ? r.bound <= ev.objective + slack : r.bound >= ev.objective - slack)) {
        closed = true;
        sol.bound = ev.objective;  // the LP value equals it within the solver's tolerance: proven optimal
        sol.bound_source = "lp relaxation";
      }
    }
  }
  // Exact: CBC on the MIP. Heuristic: the LP relaxation for the bound, and CBC as a fallback only when the greedy
  // and swaps found no set meeting the constraints (a tight budget or zone shares can defeat a greedy).
  for (int pass = 0; pass < 2 && !closed; ++pass) {
    const bool relax = options.solver == SiteSolver::Heuristic && pass == 0;
    if (pass == 0 && relax && (!options.lp_bound || !lp_worth_it)) continue;
    if (pass == 1 && (options.solver == SiteSolver::Exact || ev.feasible)) break;
    const double left = options.time_limit_s - seconds_since(t0);
    if (left <= 0) break;
    const Mip m = build_mip(P, &D);
    MipResult r = solve_mip(m, maxm, relax, left, options.gap_target, P.control);
    if (relax) guide_by_lp(r);
    if (relax && median && r.proven_optimal && r.x.size() >= std::size_t(P.nc)) {
      // The LP relaxation of p-median is often integral or nearly so: its largest site values, polished by the
      // swap, can beat the greedy + swap answer.
      std::vector<std::int32_t> order;
      for (std::int32_t j = 0; j < P.nc; ++j) {
        if (r.x[j] > 1e-6) order.push_back(j);
      }
      std::stable_sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t b) { return r.x[a] > r.x[b]; });
      MedianState S(P, D);
      if (median_from(P, order, deadline, S)) {
        const std::vector<std::int32_t> xm(S.open.begin(), S.open.end());
        SiteEvaluation em = evaluate_counts(P, xm);
        if (em.feasible && (!ev.feasible || em.objective < ev.objective)) {
          ev = std::move(em);
          x = xm;
        }
      }
    }
    if (!relax && r.has_solution) {
      const std::vector<std::int32_t> xm = x_from_mip(P, r.x);
      SiteEvaluation em = evaluate_counts(P, xm);
      const bool better = !ev.feasible || (maxm ? em.objective > ev.objective : em.objective < ev.objective);
      if (em.feasible && better) {
        ev = std::move(em);
        x = xm;
      }
    }
    if (r.proven_infeasible && !relax) {
      fail(std::string(site_model_name(P.model)) +
           ": no set of allowed sites meets the constraints (p, budget, zone shares, cover); relax them");
    }
    // An LP bound is valid only when the LP was solved to optimality; CBC's MIP bound is valid whenever it stops.
    const bool valid = relax ? r.proven_optimal : true;
    if (valid) keep_bound(r.bound, relax ? "lp relaxation" : "cbc");
    if (!relax) sol.status = r.proven_optimal ? "optimal" : (r.stopped ? "time limit" : "");
    if (!relax && !r.failure.empty()) sol.status = solver_failed_status(r);
  }
  if (!ev.feasible) {
    fail(std::string(site_model_name(P.model)) + ": no feasible set of sites found (" + ev.infeasible_reason +
         "); relax the budget, the zone shares or p");
  }
  static_cast<SiteEvaluation&>(sol) = ev;
  finish_gap(sol);
  if (options.solver == SiteSolver::Exact && sol.proven_optimal && costs.n_pairs() <= kTieMaxPairs) {
    const double z = sol.objective;
    auto optimal = [&](const std::vector<std::int32_t>& xx) {
      const SiteEvaluation e = evaluate_counts(P, xx);
      return e.feasible && std::fabs(e.objective - z) <= 1e-9 * std::max(1.0, std::fabs(z));
    };
    bool complete = false;
    const std::vector<std::int32_t> xl =
        lex_smallest_optimum(P, build_mip(P, &D), maxm, z, x, optimal, deadline, &complete);
    if (xl != x) {
      x = xl;
      const double bound = sol.bound;
      static_cast<SiteEvaluation&>(sol) = evaluate_counts(P, x);
      sol.bound = bound;
      finish_gap(sol);
    }
    sol.ties_resolved = complete;
  }
  if (sol.proven_optimal) sol.status = "optimal";
  else if (sol.status.empty()) {
    sol.status = options.gap_target > 0 && sol.gap <= options.gap_target ? "gap target"
                 : search_cut || median_cut                               ? "time limit"
                                                                          : "local optimum";
  }
  order_solution(P, sol, x);
  sol.seconds_elapsed = seconds_since(t0);
  return sol;
}

}  // namespace careshed
