// Floating catchment accessibility (careshed/access.hpp) against hand-computed cases and against a
// brute-force reference written here from the published formulas (loops over the pair list, no sorting,
// no chunks), on random sparse tables with logged seeds. Also: the conservation invariant, input-order
// independence (bitwise), the grid path against the table path on the same reach lists, and errors.
#include "careshed/access.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "careshed/error.hpp"
#include "careshed/raster_search.hpp"
#include "careshed/progress.hpp"
#include "run_control_checks.hpp"
#include "test_seed.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

using careshed::DecayWeights;
using careshed::FcaMethod;
using careshed::FcaOptions;
using careshed::FcaResult;

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();

struct Table {
  std::vector<double> P, S;
  std::vector<std::int64_t> o, d;
  std::vector<double> c;
};

FcaResult run(const Table& t, const FcaOptions& opt) {
  return careshed::fca(t.P.data(), t.P.size(), t.S.data(), t.S.size(), t.o.data(), t.d.data(), t.c.data(), t.o.size(),
                       opt);
}

// Reference: the formulas written directly over the pair list.
std::vector<double> reference(const Table& t, double max_cost, const std::function<double(double)>& w, bool three,
                              std::vector<double>* ratio = nullptr) {
  const std::size_t n = t.P.size(), m = t.S.size();
  std::vector<double> wsum(n, 0.0), D(m, 0.0), A(n, 0.0);
  std::vector<bool> reached(n, false);
  for (std::size_t k = 0; k < t.o.size(); ++k)
    if (t.c[k] <= max_cost) wsum[t.o[k]] += w(t.c[k]), reached[t.o[k]] = true;
  auto g = [&](std::size_t k) { return three ? (wsum[t.o[k]] > 0 ? w(t.c[k]) / wsum[t.o[k]] : 0.0) : 1.0; };
  for (std::size_t k = 0; k < t.o.size(); ++k)
    if (t.c[k] <= max_cost) D[t.d[k]] += g(k) * t.P[t.o[k]] * w(t.c[k]);
  std::vector<double> R(m);
  for (std::size_t j = 0; j < m; ++j) R[j] = D[j] > 0 ? t.S[j] / D[j] : std::nan("");
  for (std::size_t k = 0; k < t.o.size(); ++k)
    if (t.c[k] <= max_cost && D[t.d[k]] > 0) A[t.o[k]] += g(k) * R[t.d[k]] * w(t.c[k]);
  for (std::size_t i = 0; i < n; ++i)
    if (!reached[i]) A[i] = std::nan("");
  if (ratio) *ratio = R;
  return A;
}

void expect_close(const std::vector<double>& a, const std::vector<double>& b, double rtol) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(b[i])) {
      EXPECT_TRUE(std::isnan(a[i])) << "index " << i << ": got " << a[i] << ", expected NaN";
    } else {
      EXPECT_NEAR(a[i], b[i], rtol * std::abs(b[i]) + 1e-300) << "index " << i;
    }
  }
}

Table random_table(std::mt19937_64& rng, int n, int m, double density) {
  Table t;
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < n; ++i) t.P.push_back(u(rng) < 0.1 ? 0.0 : std::floor(u(rng) * 5000));
  for (int j = 0; j < m; ++j) t.S.push_back(std::floor(u(rng) * 40));
  const double bounds[] = {0.0, 10.0, 20.0, 30.0};
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < m; ++j)
      if (u(rng) < density) {
        t.o.push_back(i), t.d.push_back(j);
        t.c.push_back(u(rng) < 0.05 ? bounds[static_cast<int>(u(rng) * 4)] : u(rng) * 40.0);
      }
  // shuffle the rows: any order must give the same result
  std::vector<std::size_t> p(t.o.size());
  std::iota(p.begin(), p.end(), 0);
  std::shuffle(p.begin(), p.end(), rng);
  Table s = t;
  for (std::size_t k = 0; k < p.size(); ++k) s.o[k] = t.o[p[k]], s.d[k] = t.d[p[k]], s.c[k] = t.c[p[k]];
  return s;
}

double luo_qi(double d) { return d <= 10 ? 1.0 : d <= 20 ? 0.68 : d <= 30 ? 0.22 : 0.0; }
double gauss30(double d) {
  const double e = std::exp(-0.5);
  return d <= 30 ? (std::exp(-0.5 * (d / 30) * (d / 30)) - e) / (1 - e) : 0.0;
}

}  // namespace

TEST(Access, TwoStepHandCase) {
  // P = [100, 200, 300], S = [10, 20]; pairs (0,0,5) (1,0,10) (1,1,20) (2,1,31), catchment 30.
  // R0 = 10/300, R1 = 20/200; A = [1/30, 1/30 + 0.1, NaN].
  Table t{{100, 200, 300}, {10, 20}, {0, 1, 1, 2}, {0, 0, 1, 1}, {5, 10, 20, 31}};
  FcaOptions o;
  o.max_cost = 30;
  FcaResult r = run(t, o);
  EXPECT_NEAR(r.score[0], 1.0 / 30, 1e-16);
  EXPECT_NEAR(r.score[1], 1.0 / 30 + 0.1, 1e-16);
  EXPECT_TRUE(std::isnan(r.score[2]));
  EXPECT_EQ(r.empty_catchments, 1u);
  EXPECT_EQ(r.pairs_in_catchment, 3u);
  EXPECT_NEAR(r.demand_times_score, 30.0, 1e-12);
}

TEST(Access, StepBoundsAndCatchmentAreInclusive) {
  // Luo & Qi for max_cost 30: d = 10 -> 1.00, nextafter(10) -> 0.68, d = 30 -> 0.22, nextafter(30) -> out.
  Table t{{1, 1, 1, 1},
          {1},
          {0, 1, 2, 3},
          {0, 0, 0, 0},
          {10.0, std::nextafter(10.0, 20.0), 30.0, std::nextafter(30.0, 40.0)}};
  FcaOptions o;
  o.max_cost = 30;
  o.weights = DecayWeights::luo_qi(30);
  FcaResult r = run(t, o);
  const double R = 1.0 / (1.0 + 0.68 + 0.22);
  EXPECT_DOUBLE_EQ(r.score[0], R);
  EXPECT_DOUBLE_EQ(r.score[1], 0.68 * R);
  EXPECT_DOUBLE_EQ(r.score[2], 0.22 * R);
  EXPECT_TRUE(std::isnan(r.score[3]));
}

TEST(Access, ZeroDemandCatchmentAndFacilityWithNoPairs) {
  // Supply 0 reaches only demand 1 (P = 0): ratio NaN, nothing contributed, demand 1 scores 0.
  // Supply 2 has no pair at all. Supply 1 reaches demand 0 (P = 3): R = 3.
  Table t{{3, 0}, {4, 9, 5}, {1, 0}, {0, 1}, {1, 1}};
  FcaOptions o;
  o.max_cost = 10;
  FcaResult r = run(t, o);
  EXPECT_EQ(r.score[0], 3.0);
  EXPECT_EQ(r.score[1], 0.0);
  EXPECT_TRUE(std::isnan(r.supply_ratio[0]));
  EXPECT_TRUE(std::isnan(r.supply_ratio[2]));
  EXPECT_EQ(r.zero_demand_supplies, 2u);
  EXPECT_EQ(r.supply_with_demand, 9.0);
  EXPECT_EQ(r.conservation_relative_error, 0.0);
}

TEST(Access, TiesCountInBothCatchments) {
  Table t{{50}, {2, 3}, {0, 0}, {0, 1}, {7, 7}};
  FcaOptions o;
  o.max_cost = 10;
  EXPECT_NEAR(run(t, o).score[0], 0.1, 1e-16);
}

TEST(Access, GaussianReachesZeroAtCatchment) {
  const double e = std::exp(-0.5);
  const double w10 = (std::exp(-0.125) - e) / (1 - e);
  Table t{{10, 30, 7}, {4}, {0, 1, 2}, {0, 0, 0}, {0, 10, 20}};
  FcaOptions o;
  o.max_cost = 20;
  o.weights = DecayWeights::gaussian();
  FcaResult r = run(t, o);
  const double R = 4 / (10 + 30 * w10);
  EXPECT_NEAR(r.score[0], R, 1e-15);
  EXPECT_NEAR(r.score[1], R * w10, 1e-15);
  EXPECT_EQ(r.score[2], 0.0);
  EXPECT_EQ(o.weights(20.0, 20.0), 0.0);
  EXPECT_EQ(o.weights(0.0, 20.0), 1.0);
}

TEST(Access, ThreeStepHandCase) {
  // See tests/python/test_access.py::test_3sfca_hand_case for the arithmetic: A = [0.7, 0.6].
  Table t{{10, 20}, {6, 13}, {0, 0, 1}, {0, 1, 1}, {5, 15, 5}};
  FcaOptions o;
  o.method = FcaMethod::ThreeStep;
  o.max_cost = 20;
  o.weights = DecayWeights::steps({10, 20}, {1.0, 0.5});
  FcaResult r = run(t, o);
  EXPECT_NEAR(r.score[0], 0.7, 1e-15);
  EXPECT_NEAR(r.score[1], 0.6, 1e-15);
  EXPECT_NEAR(r.supply_ratio[0], 0.9, 1e-15);
  EXPECT_NEAR(r.supply_ratio[1], 0.6, 1e-15);
}

TEST(Access, GravityClampsZeroDistance) {
  // W = max(d, 1)^-2: V = 4*1 + 1/4 = 4.25; A = [9/4.25, 9/4.25/4].
  Table t{{4, 1}, {9}, {0, 1}, {0, 0}, {0, 2}};
  FcaOptions o;
  o.weights = DecayWeights::power(2.0, 1.0);
  FcaResult r = run(t, o);
  EXPECT_NEAR(r.score[0], 9 / 4.25, 1e-15);
  EXPECT_NEAR(r.score[1], 9 / 4.25 / 4, 1e-15);
}

TEST(Access, AllInEveryCatchmentGivesSupplyOverDemand) {
  std::mt19937_64 rng(11);
  Table t = random_table(rng, 30, 6, 1.0);
  double sp = 0, ss = 0;
  for (double p : t.P) sp += p;
  for (double s : t.S) ss += s;
  FcaOptions o;  // max_cost = inf: everything is in every catchment
  FcaResult r = run(t, o);
  for (double a : r.score) EXPECT_NEAR(a, ss / sp, 1e-13 * ss / sp);
}

TEST(Access, RandomTablesAgainstReference) {
  for (int trial = 0; trial < 40; ++trial) {
    const std::uint64_t seed = 1000 + trial;
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int> nd(1, 200), ns(1, 30);
    Table t = random_table(rng, nd(rng), ns(rng), std::uniform_real_distribution<double>(0.02, 0.5)(rng));
    struct Case {
      FcaMethod m;
      DecayWeights w;
      std::function<double(double)> ref;
      bool three;
    };
    const std::vector<Case> cases = {
        {FcaMethod::TwoStep, DecayWeights::binary(), [](double) { return 1.0; }, false},
        {FcaMethod::TwoStep, DecayWeights::luo_qi(30), luo_qi, false},
        {FcaMethod::TwoStep, DecayWeights::gaussian(), gauss30, false},
        {FcaMethod::ThreeStep, DecayWeights::luo_qi(30), luo_qi, true},
        {FcaMethod::TwoStep, DecayWeights::power(1.5, 2.0), [](double d) { return std::pow(std::max(d, 2.0), -1.5); },
         false},
    };
    for (const Case& c : cases) {
      FcaOptions o;
      o.method = c.m;
      o.max_cost = 30;
      o.weights = c.w;
      FcaResult r = run(t, o);
      std::vector<double> R;
      expect_close(r.score, reference(t, 30, c.ref, c.three, &R), 1e-11);
      expect_close(r.supply_ratio, R, 1e-12);
      // conservation: sum P_i A_i = sum of S_j over supplies with demand
      double pa = 0, target = 0;
      for (std::size_t i = 0; i < t.P.size(); ++i)
        if (!std::isnan(r.score[i])) pa += t.P[i] * r.score[i];
      for (std::size_t j = 0; j < t.S.size(); ++j)
        if (!std::isnan(R[j])) target += t.S[j];
      EXPECT_NEAR(pa, target, 1e-10 * std::max(1.0, target));
      EXPECT_LT(r.conservation_relative_error, 1e-10);
      // per-pair weights equal to the decay function give the same scores bit for bit
      std::vector<double> pw(t.c.size());
      for (std::size_t k = 0; k < pw.size(); ++k) pw[k] = c.ref(t.c[k]);
      o.pair_weights = pw.data();
      FcaResult r2 = run(t, o);
      for (std::size_t i = 0; i < r.score.size(); ++i)
        EXPECT_TRUE(r.score[i] == r2.score[i] || (std::isnan(r.score[i]) && std::isnan(r2.score[i])));
    }
  }
}

TEST(Access, RowOrderDoesNotChangeResultsBitwise) {
  std::mt19937_64 rng(77);
  Table t = random_table(rng, 500, 20, 0.3);
  Table rev = t;
  std::reverse(rev.o.begin(), rev.o.end());
  std::reverse(rev.d.begin(), rev.d.end());
  std::reverse(rev.c.begin(), rev.c.end());
  FcaOptions o;
  o.max_cost = 30;
  o.weights = DecayWeights::luo_qi(30);
  FcaResult a = run(t, o), b = run(rev, o);
  for (std::size_t i = 0; i < a.score.size(); ++i)
    EXPECT_TRUE(a.score[i] == b.score[i] || (std::isnan(a.score[i]) && std::isnan(b.score[i]))) << i;
}

#ifdef _OPENMP
bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Issue 8: the population-weighted mean (and with it the normalised scores) and the zone means are sums over
// every demand point; they must not depend on how the points are split over threads.
TEST(Access, BitForBitTheSameWithOneTwoAndFourThreads) {
  const std::uint64_t seed = careshed_test::fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::printf("access thread-count seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  Table t = random_table(rng, 200000, 8, 0.25);  // > 65536 demand points: several blocks
  for (double& p : t.P) p *= 0.1 + 3.7 * u(rng);  // non-integers: a different grouping would round differently
  std::vector<std::int32_t> zones(t.P.size());
  for (auto& z : zones) z = static_cast<std::int32_t>(u(rng) * 6) - 1;  // -1 (none) .. 4
  FcaOptions o;
  o.max_cost = 30;
  o.weights = DecayWeights::luo_qi(30);
  o.normalize = true;
  const int saved = omp_get_max_threads();
  std::vector<FcaResult> runs;
  std::vector<std::vector<double>> zone_means;
  for (int threads : {1, 2, 4}) {
    omp_set_num_threads(threads);
    runs.push_back(run(t, o));
    std::vector<double> zs, zp, zq;
    careshed::zone_weighted_mean(runs.back().score.data(), t.P.data(), zones.data(), t.P.size(), 5, zs, zp, zq);
    zs.insert(zs.end(), zp.begin(), zp.end());
    zs.insert(zs.end(), zq.begin(), zq.end());
    zone_means.push_back(zs);
  }
  omp_set_num_threads(saved);
  for (std::size_t k = 1; k < runs.size(); ++k) {
    SCOPED_TRACE("thread run " + std::to_string(k));
    EXPECT_TRUE(same_bits(runs[0].mean_score, runs[k].mean_score)) << runs[0].mean_score << " " << runs[k].mean_score;
    EXPECT_TRUE(same_bits(runs[0].demand_times_score, runs[k].demand_times_score));
    EXPECT_EQ(runs[0].empty_catchments, runs[k].empty_catchments);
    std::size_t differing = 0;
    for (std::size_t i = 0; i < runs[0].score.size(); ++i) differing += same_bits(runs[0].score[i], runs[k].score[i]) ? 0 : 1;
    EXPECT_EQ(differing, 0u);
    ASSERT_EQ(zone_means[0].size(), zone_means[k].size());
    for (std::size_t i = 0; i < zone_means[0].size(); ++i) EXPECT_TRUE(same_bits(zone_means[0][i], zone_means[k][i])) << i;
  }
}
#endif

TEST(Access, NormalizeDividesByPopulationWeightedMean) {
  std::mt19937_64 rng(5);
  Table t = random_table(rng, 80, 8, 0.3);
  FcaOptions o;
  o.max_cost = 30;
  FcaResult raw = run(t, o);
  o.normalize = true;
  FcaResult n = run(t, o);
  double pa = 0, pp = 0;
  for (std::size_t i = 0; i < t.P.size(); ++i)
    if (!std::isnan(n.score[i])) pa += t.P[i] * n.score[i], pp += t.P[i];
  EXPECT_NEAR(pa / pp, 1.0, 1e-12);
  EXPECT_TRUE(n.normalized);
  for (std::size_t i = 0; i < t.P.size(); ++i)
    if (!std::isnan(raw.score[i])) EXPECT_NEAR(n.score[i], raw.score[i] / raw.mean_score, 1e-12 * n.score[i]);
}

TEST(Access, GridLineHandCase) {
  // 1 x 6 row of 100 m cells, friction 0.125 s/m (exact in binary): neighbour steps cost 12.5 s. Facility
  // at col 0 (S = 12), catchment 37.5 s -> cols 0..3 (col 3 at exactly 37.5 s, inclusive).
  // Population 1, 2, 0, 3, 5, NaN.
  // R = 12 / (1 + 2 + 0 + 3) = 2; scores [2, 2, NaN (no population), 2, NaN (out of reach), NaN].
  std::vector<float> f(6, 0.125f);
  std::vector<double> pop = {1, 2, 0, 3, 5, std::nan("")};
  std::vector<std::int64_t> rc = {0, 0};
  std::vector<double> S = {12};
  std::vector<std::int32_t> zones = {0, 0, 0, 1, 1, -1};
  careshed::GridFcaInput in;
  in.grid.friction_f32 = f.data();
  in.grid.rows = 1;
  in.grid.cols = 6;
  in.grid.dx_m = in.grid.dy_m = 100;
  in.population = pop.data();
  in.facilities_rc = rc.data();
  in.n_facilities = 1;
  in.supply = S.data();
  in.zones = zones.data();
  in.n_zones = 2;
  FcaOptions o;
  o.max_cost = 37.5;
  careshed::GridFcaResult r = careshed::grid_fca(in, o);
  EXPECT_EQ(r.pairs, 4u);
  EXPECT_EQ(r.fca.score[0], 2.0);
  EXPECT_EQ(r.fca.score[1], 2.0);
  EXPECT_TRUE(std::isnan(r.fca.score[2]));
  EXPECT_EQ(r.fca.score[3], 2.0);
  EXPECT_TRUE(std::isnan(r.fca.score[4]));
  EXPECT_TRUE(std::isnan(r.fca.score[5]));
  EXPECT_EQ(r.fca.empty_catchments, 1u);  // col 4: populated, out of reach
  EXPECT_EQ(r.zone_score[0], 2.0);
  EXPECT_EQ(r.zone_population[1], 8.0);
  EXPECT_EQ(r.zone_population_no_access[1], 5.0);
  EXPECT_EQ(r.zone_score[1], 2.0);  // mean over the zone's people with access
}

TEST(Access, GridMatchesTableOnSameReachLists) {
  const std::uint64_t seed = 4242;
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  const int H = 40, W = 50;
  std::vector<double> f(H * W), pop(H * W);
  for (int k = 0; k < H * W; ++k) {
    f[k] = u(rng) < 0.05 ? std::nan("") : 0.05 + 0.3 * u(rng);
    pop[k] = u(rng) < 0.3 ? 0.0 : 100 * u(rng);
  }
  std::vector<std::int64_t> rc;
  std::vector<double> S;
  for (int j = 0; j < 12; ++j) {
    rc.push_back(static_cast<std::int64_t>(u(rng) * H)), rc.push_back(static_cast<std::int64_t>(u(rng) * W));
    S.push_back(1 + std::floor(20 * u(rng)));
  }
  careshed::GridFcaInput in;
  in.grid.friction_f64 = f.data();
  in.grid.rows = H;
  in.grid.cols = W;
  in.grid.dx_m = in.grid.dy_m = 10;
  in.population = pop.data();
  in.facilities_rc = rc.data();
  in.n_facilities = S.size();
  in.supply = S.data();
  for (FcaMethod m : {FcaMethod::TwoStep, FcaMethod::ThreeStep}) {
    FcaOptions o;
    o.method = m;
    o.max_cost = 120;
    o.weights = DecayWeights::luo_qi(120);
    careshed::GridFcaResult g = careshed::grid_fca(in, o);
    careshed::RasterSearchOptions so;
    so.max_seconds = 120;
    careshed::ReachLists L = careshed::raster_reach_lists(in.grid, rc.data(), S.size(), so);
    Table t;
    t.P = pop;
    t.S = S;
    for (std::size_t j = 0; j < S.size(); ++j)
      for (std::int64_t k = L.offsets[j]; k < L.offsets[j + 1]; ++k)
        t.o.push_back(L.cells[k]), t.d.push_back(static_cast<std::int64_t>(j)), t.c.push_back(L.seconds[k]);
    std::vector<double> ref = reference(
        t, 120, [](double d) { return luo_qi(d / 4); }, m == FcaMethod::ThreeStep);
    for (int k = 0; k < H * W; ++k)
      if (!(pop[k] > 0)) ref[k] = std::nan("");
    expect_close(g.fca.score, ref, 1e-12);
    EXPECT_EQ(g.pairs, t.o.size());
    EXPECT_LT(g.fca.conservation_relative_error, 1e-12);
  }
}

TEST(Access, BadInputsThrowInputError) {
  Table dup{{1, 2}, {1}, {0, 0}, {0, 0}, {1, 2}};
  FcaOptions o;
  o.max_cost = 10;
  EXPECT_THROW(run(dup, o), careshed::InputError);
  Table bad_idx{{1, 2}, {1}, {0, 5}, {0, 0}, {1, 2}};
  EXPECT_THROW(run(bad_idx, o), careshed::InputError);
  Table neg{{1, -2}, {1}, {0, 1}, {0, 0}, {1, 2}};
  EXPECT_THROW(run(neg, o), careshed::InputError);
  Table nan_cost{{1, 2}, {1}, {0, 1}, {0, 0}, {1, std::nan("")}};
  EXPECT_THROW(run(nan_cost, o), careshed::InputError);
  Table ok{{1, 2}, {1}, {0, 1}, {0, 0}, {1, 2}};
  o.weights = DecayWeights::steps({5, 3}, {1, 1});  // not ascending
  EXPECT_THROW(run(ok, o), careshed::InputError);
  o.weights = DecayWeights::gaussian();
  o.max_cost = kInf;  // Gaussian needs a finite size
  EXPECT_THROW(run(ok, o), careshed::InputError);
  o.weights = DecayWeights::power(1, 0);  // clamp must be > 0
  EXPECT_THROW(run(ok, o), careshed::InputError);
  o = FcaOptions{};
  o.max_cost = -1;
  EXPECT_THROW(run(ok, o), careshed::InputError);
  EXPECT_THROW(DecayWeights::luo_qi(kInf), careshed::InputError);
  Table zero{{0, 0}, {1}, {0, 1}, {0, 0}, {1, 2}};  // normalise with no demand: refused
  o = FcaOptions{};
  o.normalize = true;
  EXPECT_THROW(run(zero, o), careshed::InputError);
}

// ---- cancellation and progress (careshed/progress.hpp) ------------------------------------------------
namespace {

// side x side cells of 100 m with random friction and population, n facilities (seeded).
struct AccessCase {
  std::int64_t side;
  std::vector<float> friction;
  std::vector<double> population, supply;
  std::vector<std::int64_t> rc;
  AccessCase(std::int64_t s, int n, std::uint64_t seed) : side(s) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for (std::int64_t i = 0; i < s * s; ++i) {
      friction.push_back(static_cast<float>(0.02 + 0.5 * u(rng)));
      population.push_back(u(rng) < 0.2 ? 0.0 : 50.0 * u(rng));
    }
    for (int i = 0; i < n; ++i) {
      rc.push_back(static_cast<std::int64_t>(u(rng) * s));
      rc.push_back(static_cast<std::int64_t>(u(rng) * s));
      supply.push_back(1.0 + 10.0 * u(rng));
    }
  }
  careshed::GridFcaInput input() const {
    careshed::GridFcaInput in;
    in.grid.friction_f32 = friction.data();
    in.grid.rows = in.grid.cols = side;
    in.grid.dx_m = in.grid.dy_m = 100;
    in.population = population.data();
    in.facilities_rc = rc.data();
    in.n_facilities = supply.size();
    in.supply = supply.data();
    return in;
  }
};

TEST(AccessControl, SameResultsWithAControlAndProgressReachesOne) {
  const AccessCase cs(200, 10, 21);
  for (FcaMethod method : {FcaMethod::TwoStep, FcaMethod::ThreeStep}) {
    FcaOptions o;
    o.method = method;
    o.max_cost = 1200;
    const careshed::GridFcaResult a = careshed::grid_fca(cs.input(), o);
    careshed::GridFcaResult b;
    careshed_test::watch_progress([&](careshed::RunControl* c) { b = careshed::grid_fca(cs.input(), o, c); }, "grid_fca");
    ASSERT_EQ(a.fca.score.size(), b.fca.score.size());
    for (std::size_t i = 0; i < a.fca.score.size(); ++i)
      ASSERT_TRUE(a.fca.score[i] == b.fca.score[i] || (std::isnan(a.fca.score[i]) && std::isnan(b.fca.score[i])))
          << "cell " << i;
    EXPECT_EQ(a.fca.supply_ratio.size(), b.fca.supply_ratio.size());
  }
}

TEST(AccessControl, CancelStopsGridAndTableModels) {
  const AccessCase big(1500, 64, 5);
  FcaOptions o;
  o.max_cost = 3000;
  careshed_test::expect_stops_when_cancelled_midway(
      [&](careshed::RunControl* c) { careshed::grid_fca(big.input(), o, c); }, "grid_fca");
  const double demand[] = {1, 2}, supply[] = {3};
  const std::int64_t origin[] = {0, 1}, dest[] = {0, 0};
  const double cost[] = {10, 20};
  careshed_test::expect_stops_when_cancelled_before(
      [&](careshed::RunControl* c) { careshed::fca(demand, 2, supply, 1, origin, dest, cost, 2, o, c); }, "fca");
  const std::int64_t first[] = {0, 2};
  const std::uint32_t di[] = {0, 1};
  const float fcost[] = {10, 20};
  careshed_test::expect_stops_when_cancelled_before(
      [&](careshed::RunControl* c) { careshed::fca_reach(demand, 2, supply, 1, first, di, fcost, o, c); }, "fca_reach");
}

}  // namespace
