// Floating catchment accessibility (see careshed/access.hpp for the formulas and rules).
//
// Layout: every computation runs on supply-major sparse lists (the ReachLists layout): the pairs of
// supply j are entries [first[j], first[j+1]) with demand indices ascending. Two kinds of passes:
//  * gather (per supply, parallel over supplies): the weighted demand D_j = Σ_i P_i W_ij;
//  * scatter (per demand point): A_i = Σ_j R_j W_ij. Writing A_i from many supplies in parallel would
//    race, so the demand range is cut into chunks and each thread sums ITS chunks over all supplies,
//    walking each supply's list with a cursor (lists are sorted by demand index, and a thread's chunks
//    are contiguous, so cursors only move forward: no binary search after the first chunk).
// Both passes sum in a fixed order (demand ascending per supply; supply ascending per demand point), so
// the results are identical for any number of threads.
#include "careshed/access.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <sstream>
#include <string>

#include "careshed/error.hpp"
#include "careshed/progress.hpp"
#include "exact_sum.hpp"

#ifdef CARESHED_HAVE_OPENMP
#include <omp.h>
#endif

namespace careshed {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

int max_threads() {
#ifdef CARESHED_HAVE_OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

template <typename... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  throw InputError(os.str());
}

// The weight function resolved for one call: a small value type the kernels copy into registers.
struct WeightEval {
  DecayWeights::Kind kind = DecayWeights::Kind::Binary;
  const double* upper = nullptr;
  const double* weight = nullptr;
  int n_steps = 0;
  double d0 = 0.0;
  double beta = 1.0;
  double min_cost = 1.0;

  double operator()(double d) const {
    switch (kind) {
      case DecayWeights::Kind::Binary:
        return 1.0;
      case DecayWeights::Kind::Steps:
        for (int k = 0; k < n_steps; ++k)
          if (d <= upper[k]) return weight[k];
        return 0.0;
      case DecayWeights::Kind::Gaussian: {
        if (!(d <= d0)) return 0.0;
        const double z = d / d0;
        // (e^{-z²/2} − e^{-1/2}) / (1 − e^{-1/2}); clamped at 0 against rounding at z = 1.
        static const double e_half = std::exp(-0.5);
        return std::max(0.0, (std::exp(-0.5 * z * z) - e_half) / (1.0 - e_half));
      }
      case DecayWeights::Kind::Power: {
        const double x = std::max(d, min_cost);
        return beta == 1.0 ? 1.0 / x : std::pow(x, -beta);
      }
    }
    return 0.0;
  }
};

void check_finite_nonneg(const double* v, std::size_t n, const char* what, const char* fix) {
  for (std::size_t i = 0; i < n; ++i)
    if (!(std::isfinite(v[i]) && v[i] >= 0.0)) fail(what, "[", i, "] = ", v[i], ": must be finite and >= 0; ", fix);
}

void check_max_cost(double max_cost) {
  if (std::isnan(max_cost) || max_cost < 0.0)
    fail("max_cost = ", max_cost, ": the catchment size must be >= 0 (use +inf for no limit)");
}

WeightEval resolve_weights(const DecayWeights& w, double max_cost) {
  WeightEval e;
  e.kind = w.kind;
  switch (w.kind) {
    case DecayWeights::Kind::Binary:
      break;
    case DecayWeights::Kind::Steps: {
      if (w.step_upper.empty() || w.step_upper.size() != w.step_weight.size())
        fail("step weights: need one weight per upper bound and at least one bound (got ", w.step_upper.size(),
             " bounds, ", w.step_weight.size(), " weights)");
      for (std::size_t k = 0; k < w.step_upper.size(); ++k) {
        if (std::isnan(w.step_upper[k]) || w.step_upper[k] < 0.0)
          fail("step weights: upper bound #", k, " = ", w.step_upper[k], " must be a cost >= 0");
        if (k > 0 && !(w.step_upper[k] > w.step_upper[k - 1]))
          fail("step weights: upper bounds must be strictly ascending (bound #", k, " = ", w.step_upper[k], " after ",
               w.step_upper[k - 1], ")");
        if (!(std::isfinite(w.step_weight[k]) && w.step_weight[k] >= 0.0))
          fail("step weights: weight #", k, " = ", w.step_weight[k], " must be finite and >= 0");
      }
      e.upper = w.step_upper.data();
      e.weight = w.step_weight.data();
      e.n_steps = static_cast<int>(w.step_upper.size());
      break;
    }
    case DecayWeights::Kind::Gaussian: {
      const double d0 = w.gaussian_size > 0.0 ? w.gaussian_size : max_cost;
      if (!(std::isfinite(d0) && d0 > 0.0))
        fail("Gaussian weights: the size d0 (gaussian_size, or max_cost when 0) = ", d0,
             " must be finite and > 0; give a finite catchment size");
      e.d0 = d0;
      break;
    }
    case DecayWeights::Kind::Power:
      if (!(std::isfinite(w.power_beta) && w.power_beta >= 0.0))
        fail("gravity weights: beta = ", w.power_beta, " must be finite and >= 0");
      if (!(std::isfinite(w.power_min_cost) && w.power_min_cost > 0.0))
        fail("gravity weights: min_cost = ", w.power_min_cost,
             " must be finite and > 0 (costs below it are clamped to it so that d = 0 stays finite)");
      e.beta = w.power_beta;
      e.min_cost = w.power_min_cost;
      break;
  }
  return e;
}

// Supply-major sparse lists.
template <typename Cost>
struct Lists {
  const std::int64_t* first;
  const std::uint32_t* dem;
  const Cost* cost;
  std::size_t n_supply;
  std::size_t n_demand;
};

// Scatter: out[i] = Σ_j f(j, k) over the pairs k = (i, j) in the catchment, supply order ascending;
// out[i] = NaN where demand point i has no such pair. `in_catch(k)` filters pairs.
// Both passes skip their remaining chunks once `control` is cancelled; run_model throws after each pass.
template <typename Cost, typename InCatch, typename F>
void scatter(const Lists<Cost>& L, InCatch in_catch, F f, double* out, RunControl* control) {
  const std::size_t n = L.n_demand;
  if (n == 0) return;
  const std::uint64_t pairs = static_cast<std::uint64_t>(L.first[L.n_supply] - L.first[0]);
  const int threads = max_threads();
  // Chunks of ~8192 demand points keep the accumulators in L2; each chunk costs O(n_supply) to walk
  // the cursors, so with many supplies and few pairs the chunks get larger.
  std::size_t n_chunks = (n + 8191) / 8192;
  const std::size_t by_overhead = std::max<std::uint64_t>(1, (pairs + n) / std::max<std::size_t>(1, L.n_supply));
  n_chunks = std::min(n_chunks, by_overhead);
  n_chunks = std::max<std::size_t>(n_chunks, std::min<std::size_t>(n, static_cast<std::size_t>(threads)));
  n_chunks = std::max<std::size_t>(n_chunks, 1);
  const std::size_t chunk = (n + n_chunks - 1) / n_chunks;
  n_chunks = (n + chunk - 1) / chunk;

  detail::FirstException errors;  // std::bad_alloc of the scratch must not leave the parallel region
#pragma omp parallel
  {
    std::vector<std::int64_t> cur;
    std::vector<unsigned char> hit;
    errors.run([&] {
      cur.resize(L.n_supply);
      hit.resize(chunk);
    });
    long long prev = -2;
#pragma omp for schedule(static)
    for (long long c = 0; c < static_cast<long long>(n_chunks); ++c) {
      if (errors.failed() || cancel_requested(control)) continue;
      const std::uint32_t lo = static_cast<std::uint32_t>(c * chunk);
      const std::uint32_t hi = static_cast<std::uint32_t>(std::min<std::size_t>(n, (c + 1) * chunk));
      if (c != prev + 1) {  // first chunk of this thread: position every cursor
        for (std::size_t j = 0; j < L.n_supply; ++j)
          cur[j] = std::lower_bound(L.dem + L.first[j], L.dem + L.first[j + 1], lo) - L.dem;
      }
      prev = c;
      double* acc = out + lo;
      std::fill(acc, acc + (hi - lo), 0.0);
      std::fill(hit.begin(), hit.begin() + (hi - lo), 0);
      for (std::size_t j = 0; j < L.n_supply; ++j) {
        std::int64_t k = cur[j];
        const std::int64_t end = L.first[j + 1];
        for (; k < end && L.dem[k] < hi; ++k) {
          if (!in_catch(k)) continue;
          const std::uint32_t i = L.dem[k] - lo;
          acc[i] += f(j, k);
          hit[i] = 1;
        }
        cur[j] = k;
      }
      for (std::uint32_t i = 0; i < hi - lo; ++i)
        if (!hit[i]) acc[i] = kNaN;
    }
  }
  errors.rethrow_if_failed();
}

// Gather: out[j] = Σ_i g(j, k) over supply j's pairs in the catchment (demand order ascending).
template <typename Cost, typename InCatch, typename G>
void gather(const Lists<Cost>& L, InCatch in_catch, G g, double* out, RunControl* control) {
#pragma omp parallel for schedule(dynamic, 16)
  for (long long jj = 0; jj < static_cast<long long>(L.n_supply); ++jj) {
    if (cancel_requested(control)) continue;
    const std::size_t j = static_cast<std::size_t>(jj);
    double s = 0.0;
    for (std::int64_t k = L.first[j]; k < L.first[j + 1]; ++k)
      if (in_catch(k)) s += g(j, k);
    out[j] = s;
  }
}

// A pair is in the catchment when its cost is finite and <= max_cost (inclusive). An infinite cost means
// "unreachable" (DESIGN.md), so it is never in a catchment, not even with max_cost = +inf.
inline bool in_catchment(double cost, double max_cost) { return cost <= max_cost && cost < kInf; }

inline double pop(const double* P, std::uint32_t i) {
  const double p = P[i];
  return p > 0.0 ? p : 0.0;  // NaN (no data) and 0 are no demand
}

// The whole model on supply-major lists. `wk(k)` gives the weight of pair k; `in_catch(k)` whether
// pair k is inside the catchment.
template <typename Cost, typename InCatch, typename WK>
FcaResult run_model(const Lists<Cost>& L, const double* P, const double* S, InCatch in_catch, WK wk, FcaMethod method,
                    bool normalize, bool all_in, RunControl* control) {
  // Progress: one step per pass over the pairs (2 for 2SFCA, 3 for 3SFCA).
  const double pass_share = method == FcaMethod::TwoStep ? 0.5 : 1.0 / 3.0;
  int passes = 0;
  auto pass_done = [&] {
    throw_if_cancelled(control);
    report_progress(control, pass_share * ++passes);
  };
  FcaResult r;
  r.score.assign(L.n_demand, kNaN);
  r.supply_ratio.assign(L.n_supply, kNaN);
  r.weighted_demand.assign(L.n_supply, 0.0);

  const std::int64_t n_pairs = L.first[L.n_supply] - L.first[0];
  if (all_in) {  // the lists hold exactly the catchment (bounded searches, pre-filtered tables)
    r.pairs_in_catchment = static_cast<std::uint64_t>(n_pairs);
  } else {
    std::uint64_t in = 0;
#pragma omp parallel for reduction(+ : in) schedule(static)
    for (std::int64_t k = L.first[0]; k < L.first[0] + n_pairs; ++k) in += in_catch(k) ? 1 : 0;
    r.pairs_in_catchment = in;
  }

  if (method == FcaMethod::TwoStep) {
    gather(
        L, in_catch, [&](std::size_t, std::int64_t k) { return pop(P, L.dem[k]) * wk(k); }, r.weighted_demand.data(),
        control);
    pass_done();
  } else {
    // 3SFCA: selection weight G_ij = W_ij / Σ_{k in catchment of i} W_ik (0 when that sum is 0).
    std::vector<double> wsum(L.n_demand);
    scatter(
        L, in_catch, [&](std::size_t, std::int64_t k) { return wk(k); }, wsum.data(), control);
    pass_done();
    auto gw = [&, ws = wsum.data()](std::int64_t k) {
      const double w = wk(k);
      const double t = ws[L.dem[k]];
      return t > 0.0 ? w * w / t : 0.0;  // G_ij * W_ij
    };
    gather(
        L, in_catch, [&](std::size_t, std::int64_t k) { return pop(P, L.dem[k]) * gw(k); }, r.weighted_demand.data(),
        control);
    pass_done();
    std::vector<double> ratio(L.n_supply);
    for (std::size_t j = 0; j < L.n_supply; ++j)
      ratio[j] = r.weighted_demand[j] > 0.0 ? S[j] / r.weighted_demand[j] : 0.0;
    scatter(
        L, in_catch, [&](std::size_t j, std::int64_t k) { return ratio[j] * gw(k); }, r.score.data(), control);
    pass_done();
  }
  long double s_total = 0, s_with = 0;
  std::uint64_t zero_dem = 0;
  std::vector<double> ratio0(L.n_supply);
  for (std::size_t j = 0; j < L.n_supply; ++j) {
    s_total += S[j];
    if (r.weighted_demand[j] > 0.0) {
      r.supply_ratio[j] = S[j] / r.weighted_demand[j];
      ratio0[j] = r.supply_ratio[j];
      s_with += S[j];
    } else {
      ++zero_dem;  // contributes nothing (ratio 0 in the scatter, NaN reported)
    }
  }
  if (method == FcaMethod::TwoStep) {
    scatter(
        L, in_catch, [&](std::size_t j, std::int64_t k) { return ratio0[j] * wk(k); }, r.score.data(), control);
    pass_done();
  }

  r.supply_total = static_cast<double>(s_total);
  r.supply_with_demand = static_cast<double>(s_with);
  r.zero_demand_supplies = zero_dem;

  // Fixed blocks reduced in block order: the mean (and the normalised scores) do not depend on the threads.
  struct Sums {
    double pa = 0.0, pp = 0.0;
    std::uint64_t empty = 0;
  };
  const long long n = static_cast<long long>(L.n_demand);
  const std::vector<Sums> blocks = detail::fixed_block_partials<Sums>(n, [&](std::int64_t lo, std::int64_t hi) {
    Sums s;
    for (std::int64_t i = lo; i < hi; ++i) {
      const double a = r.score[i];
      if (std::isnan(a)) {
        ++s.empty;
        continue;
      }
      const double p = pop(P, static_cast<std::uint32_t>(i));
      s.pa += p * a;
      s.pp += p;
    }
    return s;
  });
  double pa = 0.0, pp = 0.0;
  std::uint64_t empty = 0;
  for (const Sums& s : blocks) {
    pa += s.pa;
    pp += s.pp;
    empty += s.empty;
  }
  r.empty_catchments = empty;
  r.demand_times_score = pa;
  r.conservation_relative_error = r.supply_with_demand > 0.0
                                      ? std::abs(pa - r.supply_with_demand) / r.supply_with_demand
                                      : (pa == 0.0 ? 0.0 : kNaN);
  r.mean_score = pp > 0.0 ? pa / pp : kNaN;
  if (normalize) {
    if (!(r.mean_score > 0.0 && std::isfinite(r.mean_score)))
      fail("normalize: the population-weighted mean score is ", r.mean_score,
           " (no demand with supply in reach, or no supply); scores cannot be normalised — pass normalize=False");
    const double m = r.mean_score;
#pragma omp parallel for schedule(static)
    for (long long i = 0; i < n; ++i) r.score[i] /= m;
    r.normalized = true;
  }
  return r;
}

template <typename Cost>
FcaResult dispatch(const Lists<Cost>& L, const double* P, const double* S, const FcaOptions& o, const double* pair_w,
                   bool filter, RunControl* control) {
  const double mc = o.max_cost;
  const Cost* cost = L.cost;
  auto in_table = [cost, mc](std::int64_t k) { return in_catchment(static_cast<double>(cost[k]), mc); };
  if (pair_w) {
    auto wk = [pair_w](std::int64_t k) { return pair_w[k]; };
    if (filter) return run_model(L, P, S, in_table, wk, o.method, o.normalize, false, control);
    return run_model(
        L, P, S, [](std::int64_t) { return true; }, wk, o.method, o.normalize, true, control);
  }
  const WeightEval we = resolve_weights(o.weights, mc);
  auto wk = [we, cost](std::int64_t k) { return we(static_cast<double>(cost[k])); };
  if (filter) return run_model(L, P, S, in_table, wk, o.method, o.normalize, false, control);
  return run_model(
      L, P, S, [](std::int64_t) { return true; }, wk, o.method, o.normalize, true, control);
}

}  // namespace

DecayWeights DecayWeights::binary() { return DecayWeights{}; }

DecayWeights DecayWeights::steps(std::vector<double> upper_bounds, std::vector<double> weights) {
  DecayWeights w;
  w.kind = Kind::Steps;
  w.step_upper = std::move(upper_bounds);
  w.step_weight = std::move(weights);
  return w;
}

DecayWeights DecayWeights::luo_qi(double max_cost) {
  if (!(std::isfinite(max_cost) && max_cost > 0.0))
    fail("Luo & Qi step weights: max_cost = ", max_cost,
         " must be finite and > 0 (the three zones are thirds of the catchment); give explicit steps otherwise");
  return steps({max_cost / 3.0, 2.0 * max_cost / 3.0, max_cost}, {1.0, 0.68, 0.22});
}

DecayWeights DecayWeights::gaussian(double size) {
  DecayWeights w;
  w.kind = Kind::Gaussian;
  w.gaussian_size = size;
  return w;
}

DecayWeights DecayWeights::power(double beta, double min_cost) {
  DecayWeights w;
  w.kind = Kind::Power;
  w.power_beta = beta;
  w.power_min_cost = min_cost;
  return w;
}

double DecayWeights::operator()(double cost, double max_cost) const { return resolve_weights(*this, max_cost)(cost); }

FcaResult fca(const double* demand, std::size_t n_demand, const double* supply, std::size_t n_supply,
              const std::int64_t* origin, const std::int64_t* dest, const double* cost, std::size_t n_pairs,
              const FcaOptions& options, RunControl* control) {
  ProgressSpan span(control, 0.0, 1.0, "access");
  check_max_cost(options.max_cost);
  if (n_demand >= (std::size_t{1} << 32)) fail("demand: ", n_demand, " demand points; at most 2^32 - 1 supported");
  check_finite_nonneg(demand, n_demand, "demand", "give a population / demand amount per demand point");
  check_finite_nonneg(supply, n_supply, "supply", "give a capacity / supply amount per supply point");
  if (!options.pair_weights) resolve_weights(options.weights, options.max_cost);  // validate early

  // Keep the pairs inside the catchment, validating every row.
  if (n_pairs >= (std::size_t{1} << 32)) fail("cost table: ", n_pairs, " rows; at most 2^32 - 1 supported");
  std::vector<std::uint64_t> cnt_d(n_demand + 1, 0);
  std::size_t kept = 0;
  for (std::size_t r = 0; r < n_pairs; ++r) {
    if (origin[r] < 0 || static_cast<std::uint64_t>(origin[r]) >= n_demand)
      fail("origin[", r, "] = ", origin[r], ": demand index out of range [0, ", n_demand, ")");
    if (dest[r] < 0 || static_cast<std::uint64_t>(dest[r]) >= n_supply)
      fail("dest[", r, "] = ", dest[r], ": supply index out of range [0, ", n_supply, ")");
    if (std::isnan(cost[r]) || cost[r] < 0.0)
      fail("cost[", r, "] = ", cost[r], ": costs must be >= 0 (use +inf for unreachable pairs, or drop the row)");
    if (options.pair_weights && !(std::isfinite(options.pair_weights[r]) && options.pair_weights[r] >= 0.0))
      fail("weights[", r, "] = ", options.pair_weights[r], ": per-pair weights must be finite and >= 0");
    if (in_catchment(cost[r], options.max_cost)) {
      ++kept;
      ++cnt_d[origin[r] + 1];
    }
  }
  // Two stable counting sorts (by demand, then by supply) give supply-major order with demand
  // ascending inside each supply, in O(n_pairs + n_demand + n_supply).
  std::vector<std::uint32_t> by_demand(kept);
  {
    std::vector<std::uint64_t> pos(n_demand + 1, 0);
    for (std::size_t i = 0; i < n_demand; ++i) pos[i + 1] = pos[i] + cnt_d[i + 1];
    for (std::size_t r = 0; r < n_pairs; ++r)
      if (in_catchment(cost[r], options.max_cost)) by_demand[pos[origin[r]]++] = static_cast<std::uint32_t>(r);
  }
  std::vector<std::int64_t> first(n_supply + 1, 0);
  for (std::uint32_t r : by_demand) ++first[dest[r] + 1];
  for (std::size_t j = 0; j < n_supply; ++j) first[j + 1] += first[j];
  std::vector<std::uint32_t> rows(kept);
  {
    std::vector<std::int64_t> pos(first.begin(), first.end() - 1);
    for (std::uint32_t r : by_demand) rows[pos[dest[r]]++] = r;
  }
  by_demand = {};
  std::vector<std::uint32_t> dem(kept);
  std::vector<double> cst(kept), pw;
  if (options.pair_weights) pw.resize(kept);
  for (std::size_t k = 0; k < kept; ++k) {
    const std::uint32_t r = rows[k];
    dem[k] = static_cast<std::uint32_t>(origin[r]);
    cst[k] = cost[r];
    if (options.pair_weights) pw[k] = options.pair_weights[r];
  }
  for (std::size_t j = 0; j < n_supply; ++j)
    for (std::int64_t k = first[j] + 1; k < first[j + 1]; ++k)
      if (dem[k] == dem[k - 1])
        fail("cost table rows ", rows[k - 1], " and ", rows[k], " both give the pair (demand ", dem[k], ", supply ", j,
             "); each pair may appear once — keep the shortest cost");
  Lists<double> L{first.data(), dem.data(), cst.data(), n_supply, n_demand};
  return dispatch(L, demand, supply, options, options.pair_weights ? pw.data() : nullptr, false, control);
}

FcaResult fca_reach(const double* demand, std::size_t n_demand, const double* supply, std::size_t n_supply,
                    const std::int64_t* first, const std::uint32_t* demand_index, const float* cost,
                    const FcaOptions& options, RunControl* control) {
  ProgressSpan span(control, 0.0, 1.0, "access");
  check_max_cost(options.max_cost);
  check_finite_nonneg(demand, n_demand, "demand", "give a population / demand amount per demand point");
  check_finite_nonneg(supply, n_supply, "supply", "give a capacity / supply amount per supply point");
  if (first[0] != 0) fail("first[0] = ", first[0], ": the list offsets must start at 0");
  for (std::size_t j = 0; j < n_supply; ++j) {
    if (first[j + 1] < first[j]) fail("first[", j + 1, "] < first[", j, "]: list offsets must not decrease");
    for (std::int64_t k = first[j]; k < first[j + 1]; ++k) {
      if (demand_index[k] >= n_demand)
        fail("demand_index[", k, "] = ", demand_index[k], ": out of range [0, ", n_demand, ")");
      if (k > first[j] && demand_index[k] <= demand_index[k - 1])
        fail("demand_index[", k, "]: the entries of supply ", j, " must be strictly ascending");
      if (std::isnan(cost[k]) || cost[k] < 0.0f) fail("cost[", k, "] = ", cost[k], ": must be >= 0");
      if (options.pair_weights && !(std::isfinite(options.pair_weights[k]) && options.pair_weights[k] >= 0.0))
        fail("weights[", k, "] = ", options.pair_weights[k], ": per-pair weights must be finite and >= 0");
    }
  }
  Lists<float> L{first, demand_index, cost, n_supply, n_demand};
  return dispatch(L, demand, supply, options, options.pair_weights, true, control);
}

void zone_weighted_mean(const double* score, const double* population, const std::int32_t* zones, std::size_t n_cells,
                        std::int32_t n_zones, std::vector<double>& zone_score, std::vector<double>& zone_population,
                        std::vector<double>& zone_population_no_access) {
  if (n_zones < 0) fail("n_zones = ", n_zones, ": must be >= 0");
  const std::size_t nz = static_cast<std::size_t>(n_zones);
  // Per-block partial sums (zones are few; a cell grid is many) over fixed blocks, combined in block order: the
  // same bits with any number of threads. A block's first bad cell; the lowest wins.
  struct Sums {
    std::vector<double> a, p, q;
    long long bad = -1;
  };
  const std::int64_t by_memory = (std::int64_t(1) << 22) / static_cast<std::int64_t>(std::max<std::size_t>(nz, 1));
  const std::int64_t max_blocks = std::max<std::int64_t>(1, std::min<std::int64_t>(64, by_memory));
  const std::vector<Sums> blocks = detail::fixed_block_partials<Sums>(
      static_cast<std::int64_t>(n_cells),
      [&](std::int64_t lo, std::int64_t hi) {
        Sums s;
        s.a.assign(nz, 0.0);
        s.p.assign(nz, 0.0);
        s.q.assign(nz, 0.0);
        for (std::int64_t c = lo; c < hi; ++c) {
          const std::int32_t z = zones[c];
          if (z < 0) continue;
          if (z >= n_zones) {
            if (s.bad < 0) s.bad = c;
            continue;
          }
          const double w = population[c];
          if (!(w > 0.0)) continue;
          s.p[z] += w;
          if (std::isnan(score[c]))
            s.q[z] += w;
          else
            s.a[z] += w * score[c];
        }
        return s;
      },
      max_blocks);
  long long bad = -1;
  for (const Sums& s : blocks) {
    if (s.bad >= 0) {
      bad = s.bad;
      break;
    }
  }
  if (bad >= 0) fail("zones[", bad, "] = ", zones[bad], ": zone index must be -1 (none) or in [0, ", n_zones, ")");
  zone_score.assign(nz, kNaN);
  zone_population.assign(nz, 0.0);
  zone_population_no_access.assign(nz, 0.0);
  for (std::size_t z = 0; z < nz; ++z) {
    double a = 0, p = 0, q = 0;
    for (const Sums& s : blocks) a += s.a[z], p += s.p[z], q += s.q[z];
    zone_population[z] = p;
    zone_population_no_access[z] = q;
    if (p - q > 0.0) zone_score[z] = a / (p - q);
  }
}

namespace {

// The checks grid_fca and grid_fca_on_reach share: catchment, weights, grid size, population, supply.
void check_grid_fca(const GridFcaInput& in, const FcaOptions& options) {
  if (!(std::isfinite(options.max_cost) && options.max_cost >= 0.0))
    fail("max_cost = ", options.max_cost, " s: the catchment of a grid analysis must be finite and >= 0");
  if (options.pair_weights)
    fail("grid_fca: per-pair weights are not accepted here (use steps, Gaussian or power weights)");
  const std::size_t n_cells = static_cast<std::size_t>(in.grid.rows) * static_cast<std::size_t>(in.grid.cols);
  if (in.grid.rows <= 0 || in.grid.cols <= 0) fail("grid: rows and cols must be > 0");
  if (n_cells >= (std::size_t{1} << 32)) fail("grid: ", n_cells, " cells; at most 2^32 - 1 supported");
  if (!in.population) fail("population: required (rows * cols residents per cell)");
  check_finite_nonneg(in.supply, in.n_facilities, "supply", "give a capacity / supply amount per facility");
  resolve_weights(options.weights, options.max_cost);
  long long bad = -1;
#pragma omp parallel for schedule(static)
  for (long long c = 0; c < static_cast<long long>(n_cells); ++c) {
    const double p = in.population[c];
    if (!std::isnan(p) && !(p >= 0.0 && std::isfinite(p))) {
#pragma omp critical
      if (bad < 0 || c < bad) bad = c;  // the lowest bad cell, whatever the threads: a deterministic message
    }
  }
  if (bad >= 0)
    fail("population at row ", bad / in.grid.cols, ", col ", bad % in.grid.cols, " = ", in.population[bad],
         ": must be >= 0 and finite (NaN = no data, no demand)");
}

// The model half of grid_fca on the reach lists of its facilities (offsets n_facilities + 1, cells, seconds).
GridFcaResult model_on_reach(const GridFcaInput& in, const std::int64_t* first, const std::uint32_t* cells,
                             const float* seconds, const FcaOptions& options, RunControl* control) {
  const std::size_t n_cells = static_cast<std::size_t>(in.grid.rows) * static_cast<std::size_t>(in.grid.cols);
  GridFcaResult out;
  const std::size_t n_pairs = static_cast<std::size_t>(first[in.n_facilities]);
  out.pairs = n_pairs;
  out.reach_bytes = n_pairs * (sizeof(std::uint32_t) + sizeof(float)) + (in.n_facilities + 1) * sizeof(std::int64_t);
  Lists<float> L{first, cells, seconds, in.n_facilities, n_cells};
  // The reach lists hold exactly the catchment (the search is bounded by max_seconds, inclusive):
  // no second filter on rounded float seconds.
  FcaOptions o = options;
  o.normalize = false;  // normalised after unpopulated cells are masked (same mean either way)
  out.fca = dispatch(L, in.population, in.supply, o, nullptr, false, control);
  FcaResult& r = out.fca;
  std::uint64_t empty = 0;
  const long long n = static_cast<long long>(n_cells);
#pragma omp parallel for reduction(+ : empty) schedule(static)
  for (long long c = 0; c < n; ++c) {
    if (!(in.population[c] > 0.0)) {
      r.score[c] = kNaN;  // not a demand point
    } else if (std::isnan(r.score[c])) {
      ++empty;
    }
  }
  r.empty_catchments = empty;
  if (options.normalize) {
    if (!(r.mean_score > 0.0 && std::isfinite(r.mean_score)))
      fail("normalize: the population-weighted mean score is ", r.mean_score, "; scores cannot be normalised");
    const double m = r.mean_score;
#pragma omp parallel for schedule(static)
    for (long long c = 0; c < n; ++c) r.score[c] /= m;
    r.normalized = true;
  }
  if (in.zones)
    zone_weighted_mean(r.score.data(), in.population, in.zones, n_cells, in.n_zones, out.zone_score,
                       out.zone_population, out.zone_population_no_access);
  return out;
}

}  // namespace

GridFcaResult grid_fca(const GridFcaInput& in, const FcaOptions& options, RunControl* control) {
  check_grid_fca(in, options);
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  RasterSearchOptions so;
  so.neighbours = in.neighbours;
  so.max_seconds = options.max_cost;
  so.source_offsets_s = in.facility_offsets_s;
  // Progress: the searches are most of the work; 80 % of the bar is an estimate, not a measurement.
  ReachLists reach;
  {
    ProgressSpan search(control, 0.0, 0.8, "reach lists");
    reach = raster_reach_lists(in.grid, in.facilities_rc, in.n_facilities, so, nullptr, control);
  }
  ProgressSpan model(control, 0.8, 1.0, "access");
  const auto t1 = clock::now();
  GridFcaResult out = model_on_reach(in, reach.offsets.data(), reach.cells.data(), reach.seconds.data(), options,
                                     control);
  const auto t2 = clock::now();
  out.search_seconds = std::chrono::duration<double>(t1 - t0).count();
  out.model_seconds = std::chrono::duration<double>(t2 - t1).count();
  return out;
}

GridFcaResult grid_fca_on_reach(const GridFcaInput& in, const std::int64_t* first, const std::uint32_t* cells,
                                const float* seconds, const FcaOptions& options, RunControl* control) {
  check_grid_fca(in, options);
  const std::int64_t n_cells = in.grid.rows * in.grid.cols;
  if (first[0] != 0) fail("reach lists: first[0] = ", first[0], "; the list offsets must start at 0");
  for (std::size_t j = 0; j < in.n_facilities; ++j) {
    if (first[j + 1] < first[j]) fail("reach lists: first[", j + 1, "] < first[", j, "]; offsets must not decrease");
    for (std::int64_t k = first[j]; k < first[j + 1]; ++k) {
      if (static_cast<std::int64_t>(cells[k]) >= n_cells)
        fail("reach lists: cells[", k, "] = ", cells[k], " is outside the grid of ", n_cells, " cells");
      if (k > first[j] && cells[k] <= cells[k - 1])
        fail("reach lists: the cells of facility ", j, " must be strictly ascending (entry ", k, ")");
      if (!(seconds[k] >= 0.0f && std::isfinite(seconds[k])))
        fail("reach lists: seconds[", k, "] = ", seconds[k], " must be a finite time >= 0");
    }
  }
  ProgressSpan model(control, 0.0, 1.0, "access");
  using clock = std::chrono::steady_clock;
  const auto t1 = clock::now();
  GridFcaResult out = model_on_reach(in, first, cells, seconds, options, control);
  out.model_seconds = std::chrono::duration<double>(clock::now() - t1).count();
  return out;
}

}  // namespace careshed
