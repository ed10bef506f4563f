// Tests of careshed/capacity.hpp: hand-worked cases (fractional last band, exact-time bands, inclusive maximum
// time at exactly 60 minutes, order by population vs index order giving different answers, zero capacity, a
// facility that reaches nothing, zones with a split cell), the reach-lists entry point, bad inputs, and invariants
// on random grids (logged seed). The independent AccessMod reference (plain Dijkstra) is in
// tests/python/test_catchment.py.
#include "careshed/capacity.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <cstdlib>
#include <random>
#include <vector>

#include "careshed/error.hpp"
#include "test_seed.hpp"
#include "careshed/progress.hpp"
#include "run_control_checks.hpp"

using careshed_test::fresh_or_replayed_seed;

namespace {

using careshed::CapacityInputs;
using careshed::CapacityOptions;
using careshed::CapacityOrder;
using careshed::CapacityResult;
using careshed::InputError;

constexpr double kInf = std::numeric_limits<double>::infinity();

/// Owns a uniform-friction problem: rows x cols cells of cell_m metres, friction s/m.
struct Problem {
  std::int64_t rows, cols;
  std::vector<double> friction, pop, capacity;
  std::vector<std::int64_t> src;
  std::vector<double> uncovered;
  Problem(std::int64_t r, std::int64_t c, double f) : rows(r), cols(c), friction(r * c, f), pop(r * c, 0.0) {}
  void add(std::int64_t row, std::int64_t col, double cap) {
    src.push_back(row);
    src.push_back(col);
    capacity.push_back(cap);
  }
  CapacityResult run(const CapacityOptions& o, double cell_m) {
    CapacityInputs in;
    in.friction.friction_f64 = friction.data();
    in.friction.rows = rows;
    in.friction.cols = cols;
    in.friction.dx_m = in.friction.dy_m = cell_m;
    in.sources_rc = src.data();
    in.n_facilities = static_cast<std::int32_t>(capacity.size());
    in.population_f64 = pop.data();
    in.capacity = capacity.data();
    uncovered.assign(static_cast<std::size_t>(rows * cols), -1.0);
    return careshed::capacity_coverage(in, o, uncovered.data());
  }
  double& p(std::int64_t r, std::int64_t c) { return pop[static_cast<std::size_t>(r * cols + c)]; }
  double u(std::int64_t r, std::int64_t c) const { return uncovered[static_cast<std::size_t>(r * cols + c)]; }
};

// 3 x 3, 100 m cells, friction 0.5 s/m: centre 0 s, rook neighbours 50 s, diagonals 50·√2 = 70.7 s.
Problem plus_problem() {
  Problem pr(3, 3, 0.5);
  pr.p(1, 1) = 10;
  pr.p(0, 1) = 10;
  pr.p(1, 0) = 20;
  pr.p(1, 2) = 30;
  pr.p(2, 1) = 40;
  pr.p(0, 0) = pr.p(0, 2) = pr.p(2, 0) = pr.p(2, 2) = 5;
  pr.add(1, 1, 60.0);   // facility 0
  pr.add(1, 1, 100.0);  // facility 1, same cell, processed second
  return pr;
}

TEST(CapacityCoverage, FractionalLastBandWorkedByHand) {
  Problem pr = plus_problem();
  CapacityOptions o;
  o.max_seconds = 3600;
  o.band_seconds = 60;
  const CapacityResult r = pr.run(o, 100.0);
  // Facility 0: band 0 (t = 0) takes the centre's 10 → 50 left; band 1 ((0, 60] s) holds the four rook cells with
  // 100 people > 50 → each gives half: 5, 10, 15, 20 remain. Capacity runs out in band 1: time 60 s.
  EXPECT_DOUBLE_EQ(r.covered[0], 60.0);
  EXPECT_EQ(r.exhausted[0], 1);
  EXPECT_DOUBLE_EQ(r.exhausted_seconds[0], 60.0);
  EXPECT_DOUBLE_EQ(r.capacity_remaining[0], 0.0);
  // Facility 1: band 1 has 50 left (≤ 100) → all, band 2 ((60, 120] s) the diagonals' 20 → all; 70 covered,
  // 30 left.
  EXPECT_DOUBLE_EQ(r.covered[1], 70.0);
  EXPECT_EQ(r.exhausted[1], 0);
  EXPECT_DOUBLE_EQ(r.exhausted_seconds[1], 3600.0);
  EXPECT_DOUBLE_EQ(r.capacity_remaining[1], 30.0);
  for (double u : pr.uncovered) EXPECT_DOUBLE_EQ(u, 0.0);
  EXPECT_DOUBLE_EQ(r.total_population, 130.0);
  EXPECT_DOUBLE_EQ(r.total_covered, 130.0);
  EXPECT_DOUBLE_EQ(r.reachable_population[0], 130.0);
  EXPECT_EQ(r.cells_reached[0], 9);

  // Only facility 0: the half-taken rook cells stay half uncovered.
  pr.capacity = {60.0};
  pr.src.resize(2);
  const CapacityResult r0 = pr.run(o, 100.0);
  EXPECT_DOUBLE_EQ(pr.u(1, 1), 0.0);
  EXPECT_DOUBLE_EQ(pr.u(0, 1), 5.0);
  EXPECT_DOUBLE_EQ(pr.u(1, 0), 10.0);
  EXPECT_DOUBLE_EQ(pr.u(1, 2), 15.0);
  EXPECT_DOUBLE_EQ(pr.u(2, 1), 20.0);
  EXPECT_DOUBLE_EQ(pr.u(0, 0), 5.0);
  EXPECT_DOUBLE_EQ(r0.total_covered, 60.0);
}

TEST(CapacityCoverage, ExactTimeBandsReportTheCellTime) {
  Problem pr = plus_problem();
  CapacityOptions o;
  o.max_seconds = 3600;
  o.band_seconds = 0;  // one band per distinct time
  const CapacityResult r = pr.run(o, 100.0);
  EXPECT_DOUBLE_EQ(r.covered[0], 60.0);
  EXPECT_DOUBLE_EQ(r.exhausted_seconds[0], 50.0);  // ran out in the band of the rook cells, t = 50 s
  EXPECT_DOUBLE_EQ(r.covered[1], 70.0);
}

TEST(CapacityCoverage, MaxTimeCutsTheLastBand) {
  Problem pr = plus_problem();
  CapacityOptions o;
  o.max_seconds = 60;  // diagonals at 70.7 s are out of reach
  const CapacityResult r = pr.run(o, 100.0);
  EXPECT_DOUBLE_EQ(r.covered[1], 50.0);
  EXPECT_EQ(r.exhausted[1], 0);
  EXPECT_DOUBLE_EQ(r.exhausted_seconds[1], 60.0);
  EXPECT_EQ(r.cells_reached[1], 5);
  EXPECT_DOUBLE_EQ(pr.u(0, 0), 5.0);
}

TEST(CapacityCoverage, SixtyMinutesIncludesACellAtExactlySixtyMinutes) {
  // 1 x 62 row, 120 m cells at 0.5 s/m: cell j is at exactly 60·j seconds; cell 60 at 3600 s = 60 min.
  Problem pr(1, 62, 0.5);
  for (auto& p : pr.pop) p = 1.0;
  pr.add(0, 0, kInf);
  CapacityOptions o;
  o.max_seconds = 60 * 60.0;
  for (double band : {60.0, 0.0, 7.0}) {
    o.band_seconds = band;
    const CapacityResult r = pr.run(o, 120.0);
    EXPECT_DOUBLE_EQ(r.covered[0], 61.0) << "band " << band;  // cells 0..60
    EXPECT_DOUBLE_EQ(pr.u(0, 60), 0.0) << "band " << band;
    EXPECT_DOUBLE_EQ(pr.u(0, 61), 1.0) << "band " << band;
    EXPECT_EQ(r.cells_reached[0], 61);
    EXPECT_EQ(r.capacity_remaining[0], kInf);
  }
  // Capacity 60.5 with one-minute bands: bands 0..59 (cells 0..59) take 60 people, band 60 ((3540, 3600] s: cell 60)
  // gets the last half person fractionally; the capacity runs out at 3600 s.
  pr.capacity = {60.5};
  o.band_seconds = 60;
  const CapacityResult r = pr.run(o, 120.0);
  EXPECT_DOUBLE_EQ(r.covered[0], 60.5);
  EXPECT_DOUBLE_EQ(pr.u(0, 59), 0.0);
  EXPECT_DOUBLE_EQ(pr.u(0, 60), 0.5);
  EXPECT_EQ(r.exhausted[0], 1);
  EXPECT_DOUBLE_EQ(r.exhausted_seconds[0], 3600.0);
  // With 7-s bands the band of cell 60 is k = ceil(3600/7) = 515, edge 3605 s, cut to max_seconds.
  o.band_seconds = 7;
  const CapacityResult r7 = pr.run(o, 120.0);
  EXPECT_DOUBLE_EQ(r7.exhausted_seconds[0], 3600.0);
}

TEST(CapacityCoverage, OrderByPopulationChangesTheAnswer) {
  // 1 x 5 row, 60 s per step, max 120 s. A at col 0 (capacity 40), B at col 4 (capacity 20).
  Problem pr(1, 5, 0.5);
  pr.pop = {1, 2, 30, 4, 5};
  pr.add(0, 0, 40.0);  // A: 33 people within 120 s
  pr.add(0, 4, 20.0);  // B: 39 people within 120 s
  CapacityOptions o;
  o.max_seconds = 120;
  // Index order: A takes 1 + 2 + 30 = 33; B then finds 5 + 4 + 0 = 9.
  CapacityResult r = pr.run(o, 120.0);
  EXPECT_DOUBLE_EQ(r.covered[0], 33.0);
  EXPECT_DOUBLE_EQ(r.covered[1], 9.0);
  EXPECT_EQ(r.processing_order, (std::vector<std::int32_t>{0, 1}));
  // Population order: B first (39 > 33): 5, 4, then 11 of the 30 (fraction 11/30) → 19 left at col 2; A: 1 + 2 + 19.
  o.order_by = CapacityOrder::Population;
  r = pr.run(o, 120.0);
  EXPECT_EQ(r.processing_order, (std::vector<std::int32_t>{1, 0}));
  EXPECT_EQ(r.rank, (std::vector<std::int32_t>{1, 0}));
  EXPECT_DOUBLE_EQ(r.order_population[0], 33.0);
  EXPECT_DOUBLE_EQ(r.order_population[1], 39.0);
  EXPECT_DOUBLE_EQ(r.covered[1], 20.0);
  EXPECT_EQ(r.exhausted[1], 1);
  EXPECT_DOUBLE_EQ(r.exhausted_seconds[1], 120.0);
  EXPECT_NEAR(r.covered[0], 22.0, 1e-12);
  EXPECT_NEAR(pr.u(0, 2), 0.0, 1e-12);
  // Population counted within 60 s only: A 1 + 2 = 3, B 4 + 5 = 9 → still B first; within 0 s: A 1 < B 5.
  o.order_max_seconds = 0;
  r = pr.run(o, 120.0);
  EXPECT_EQ(r.processing_order, (std::vector<std::int32_t>{1, 0}));
  // Given order.
  o.order_by = CapacityOrder::Given;
  o.order = {1, 0};
  r = pr.run(o, 120.0);
  EXPECT_DOUBLE_EQ(r.covered[1], 20.0);
  // Ties in population order: lowest index first.
  pr.pop = {5, 0, 0, 0, 5};
  o.order_by = CapacityOrder::Population;
  o.order_max_seconds = std::numeric_limits<double>::quiet_NaN();
  r = pr.run(o, 120.0);
  EXPECT_EQ(r.processing_order, (std::vector<std::int32_t>{0, 1}));
}

TEST(CapacityCoverage, ZeroCapacityAndUnreachableFacility) {
  Problem pr(1, 4, 0.5);
  pr.pop = {3, 3, 3, 3};
  pr.friction[3] = std::numeric_limits<double>::quiet_NaN();  // facility 1's cell is impassable: reaches nothing
  pr.add(0, 0, 0.0);
  pr.add(0, 3, 10.0);
  CapacityOptions o;
  o.max_seconds = 600;
  const CapacityResult r = pr.run(o, 120.0);
  EXPECT_DOUBLE_EQ(r.covered[0], 0.0);
  EXPECT_EQ(r.exhausted[0], 1);
  EXPECT_DOUBLE_EQ(r.exhausted_seconds[0], 0.0);
  EXPECT_DOUBLE_EQ(r.covered[1], 0.0);
  EXPECT_EQ(r.exhausted[1], 0);
  EXPECT_EQ(r.cells_reached[1], 0);
  EXPECT_DOUBLE_EQ(r.capacity_remaining[1], 10.0);
  for (double u : pr.uncovered) EXPECT_DOUBLE_EQ(u, 3.0);
}

TEST(CapacityCoverage, ZonesWithASplitCell) {
  Problem pr(1, 5, 0.5);
  pr.pop = {10, 10, 10, 10, 10};
  pr.add(0, 0, 25.0);  // covers cells 0, 1 fully and half of cell 2
  std::vector<std::int32_t> zone = {0, 0, -2, 1, -1};
  std::vector<std::int64_t> sc = {2, 2};
  std::vector<std::int32_t> sz = {0, 1};
  std::vector<double> sf = {0.25, 0.75};
  CapacityInputs in;
  in.friction.friction_f64 = pr.friction.data();
  in.friction.rows = 1;
  in.friction.cols = 5;
  in.friction.dx_m = in.friction.dy_m = 120.0;
  in.sources_rc = pr.src.data();
  in.n_facilities = 1;
  in.population_f64 = pr.pop.data();
  in.capacity = pr.capacity.data();
  in.zones.zone = zone.data();
  in.zones.n_zones = 2;
  in.zones.split_cell = sc.data();
  in.zones.split_zone = sz.data();
  in.zones.split_fraction = sf.data();
  in.zones.n_splits = 2;
  CapacityOptions o;
  o.max_seconds = 3600;
  std::vector<double> unc(5);
  const CapacityResult r = careshed::capacity_coverage(in, o, unc.data());
  EXPECT_DOUBLE_EQ(unc[2], 5.0);
  // Zone 0: cells 0, 1 and a quarter of cell 2 → population 22.5, covered 20 + 1.25.
  EXPECT_DOUBLE_EQ(r.zone_population[0], 22.5);
  EXPECT_DOUBLE_EQ(r.zone_covered[0], 21.25);
  EXPECT_DOUBLE_EQ(r.zone_covered_share[0], 21.25 / 22.5);
  // Zone 1: three quarters of cell 2 and cell 3 → 17.5 people, 3.75 covered.
  EXPECT_DOUBLE_EQ(r.zone_population[1], 17.5);
  EXPECT_DOUBLE_EQ(r.zone_covered[1], 3.75);
}

TEST(CapacityCoverage, ReachListsEntryPoint) {
  // A road-graph style input: facility 0 reaches cells 3 (10 s), 1 (10 s), 0 (70 s); facility 1 reaches cell 0.
  careshed::ReachLists rl;
  rl.offsets = {0, 3, 4};
  rl.cells = {3, 1, 0, 0};
  rl.seconds = {10.0f, 10.0f, 70.0f, 5.0f};
  const std::vector<double> pop = {8, 6, 100, 2};
  const std::vector<double> cap = {5, 100};
  CapacityInputs in;
  in.n_facilities = 2;
  in.population_f64 = pop.data();
  in.capacity = cap.data();
  CapacityOptions o;
  o.max_seconds = 600;
  std::vector<double> unc(4);
  const CapacityResult r = careshed::capacity_coverage_lists(rl, 4, in, o, unc.data());
  // Facility 0: band 1 = cells 1 and 3 (8 people) > 5: each gives 5/8 → 6·3/8 and 2·3/8 remain.
  EXPECT_DOUBLE_EQ(unc[1], 6.0 * 3.0 / 8.0);
  EXPECT_DOUBLE_EQ(unc[3], 2.0 * 3.0 / 8.0);
  EXPECT_DOUBLE_EQ(r.covered[0], 5.0);
  EXPECT_DOUBLE_EQ(r.covered[1], 8.0);
  EXPECT_DOUBLE_EQ(unc[0], 0.0);
  EXPECT_DOUBLE_EQ(unc[2], 100.0);
  rl.cells[0] = 9;  // outside the grid
  EXPECT_THROW(careshed::capacity_coverage_lists(rl, 4, in, o, unc.data()), InputError);
}

TEST(CapacityCoverage, BadInputs) {
  Problem pr(2, 2, 0.5);
  pr.add(0, 0, -1.0);
  CapacityOptions o;
  EXPECT_THROW(pr.run(o, 100.0), InputError);  // negative capacity
  pr.capacity = {std::numeric_limits<double>::quiet_NaN()};
  EXPECT_THROW(pr.run(o, 100.0), InputError);
  pr.capacity = {1.0};
  o.max_seconds = kInf;
  EXPECT_THROW(pr.run(o, 100.0), InputError);
  o.max_seconds = 60;
  o.band_seconds = -1;
  EXPECT_THROW(pr.run(o, 100.0), InputError);
  o.band_seconds = 60;
  o.order_by = CapacityOrder::Given;
  o.order = {1};
  EXPECT_THROW(pr.run(o, 100.0), InputError);
  o.order = {0};
  EXPECT_NO_THROW(pr.run(o, 100.0));
  pr.pop[1] = -2;
  EXPECT_THROW(pr.run(o, 100.0), InputError);
}

TEST(CapacityCoverage, RandomInvariants) {
  const auto seed = static_cast<unsigned>(fresh_or_replayed_seed());
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::printf("random seed %u\n", seed);
  std::mt19937 rng(seed);
  for (int trial = 0; trial < 30; ++trial) {
    const std::int64_t rows = 4 + rng() % 25, cols = 4 + rng() % 25;
    Problem pr(rows, cols, 0.0);
    std::uniform_real_distribution<double> fr(0.01, 0.1), pu(0.0, 50.0), cu(0.0, 2000.0);
    for (auto& f : pr.friction) f = (rng() % 8 == 0) ? std::numeric_limits<double>::quiet_NaN() : fr(rng);
    for (auto& p : pr.pop) p = (rng() % 5 == 0) ? std::numeric_limits<double>::quiet_NaN() : pu(rng);
    const int nf = 1 + static_cast<int>(rng() % 8);
    for (int k = 0; k < nf; ++k) pr.add(rng() % rows, rng() % cols, (rng() % 10 == 0) ? kInf : cu(rng));
    CapacityOptions o;
    o.max_seconds = 60.0 * (1 + rng() % 10);
    o.band_seconds = (rng() % 3 == 0) ? 0.0 : 60.0;
    o.order_by = (rng() % 2) ? CapacityOrder::Population : CapacityOrder::Index;
    const CapacityResult r = pr.run(o, 100.0);
    double total = 0.0, covered_cells = 0.0, covered_fac = 0.0;
    for (std::size_t i = 0; i < pr.pop.size(); ++i) {
      const double p = pr.pop[i], u = pr.uncovered[i];
      if (std::isnan(p)) {
        EXPECT_TRUE(std::isnan(u));
        continue;
      }
      EXPECT_GE(u, 0.0);
      EXPECT_LE(u, p);
      total += p;
      covered_cells += p - u;  // covered + uncovered = population by construction of "covered"
    }
    for (int f = 0; f < nf; ++f) {
      const std::size_t fi = static_cast<std::size_t>(f);
      EXPECT_LE(r.covered[fi], pr.capacity[fi] * (1 + 1e-12));
      EXPECT_LE(r.covered[fi], r.reachable_population[fi] * (1 + 1e-12) + 1e-9);
      if (r.exhausted[fi]) {
        EXPECT_NEAR(r.covered[fi], pr.capacity[fi], 1e-9 * (1 + pr.capacity[fi]));
        EXPECT_LE(r.exhausted_seconds[fi], o.max_seconds);
      } else {
        EXPECT_DOUBLE_EQ(r.exhausted_seconds[fi], o.max_seconds);
      }
      covered_fac += r.covered[fi];
    }
    // What the facilities say they covered is what left the cells.
    EXPECT_NEAR(covered_fac, covered_cells, 1e-9 * (1 + total));
    EXPECT_NEAR(r.total_covered, covered_fac, 1e-9 * (1 + total));
    EXPECT_NEAR(r.total_population, total, 1e-9 * (1 + total));
    if (o.order_by == CapacityOrder::Population) {
      for (int k = 1; k < nf; ++k) {
        const auto a = static_cast<std::size_t>(r.processing_order[static_cast<std::size_t>(k - 1)]);
        const auto b = static_cast<std::size_t>(r.processing_order[static_cast<std::size_t>(k)]);
        EXPECT_TRUE(r.order_population[a] > r.order_population[b] ||
                    (r.order_population[a] == r.order_population[b] && a < b));
      }
    }
  }
}

}  // namespace

// ---- cancellation and progress (careshed/progress.hpp) ------------------------------------------------
namespace {

// side x side cells of 100 m, random friction, population and capacities, n facilities (seeded).
struct CapacityCase {
  std::int64_t side;
  std::vector<double> friction, population, capacity;
  std::vector<std::int64_t> src;
  CapacityCase(std::int64_t s, int n, std::uint64_t seed) : side(s) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    friction.resize(static_cast<std::size_t>(s * s));
    population.resize(friction.size());
    for (auto& f : friction) f = 0.02 + 0.5 * u(rng);
    for (auto& p : population) p = 20.0 * u(rng);
    for (int i = 0; i < n; ++i) {
      src.push_back(static_cast<std::int64_t>(u(rng) * s));
      src.push_back(static_cast<std::int64_t>(u(rng) * s));
      capacity.push_back(5000.0 * u(rng));
    }
  }
  CapacityInputs inputs() const {
    CapacityInputs in;
    in.friction.friction_f64 = friction.data();
    in.friction.rows = in.friction.cols = side;
    in.friction.dx_m = in.friction.dy_m = 100;
    in.sources_rc = src.data();
    in.n_facilities = static_cast<std::int32_t>(capacity.size());
    in.population_f64 = population.data();
    in.capacity = capacity.data();
    return in;
  }
};

TEST(CapacityControl, SameResultsWithAControlAndProgressReachesOne) {
  const std::uint64_t seed = fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  const CapacityCase cs(200, 12, seed);
  CapacityOptions o;
  o.max_seconds = 1200;
  o.order_by = CapacityOrder::Population;
  std::vector<double> u1(cs.friction.size()), u2(cs.friction.size());
  const CapacityResult a = careshed::capacity_coverage(cs.inputs(), o, u1.data());
  CapacityResult b;
  const std::vector<double> samples = careshed_test::watch_progress(
      [&](careshed::RunControl* c) { b = careshed::capacity_coverage(cs.inputs(), o, u2.data(), c); },
      "capacity_coverage");
  EXPECT_EQ(u1, u2);
  EXPECT_EQ(a.covered, b.covered);
  EXPECT_EQ(a.processing_order, b.processing_order);
  EXPECT_EQ(a.exhausted_seconds, b.exhausted_seconds);
}

// Issue 8: capacity coverage never checked for Ctrl-C. Both stages poll now.
TEST(CapacityControl, CancelStopsTheSearchesAndTheAllocation) {
  const CapacityCase cs(1500, 64, 9);
  CapacityOptions o;
  o.max_seconds = 3000;
  std::vector<double> uncovered(cs.friction.size());
  careshed_test::expect_stops_when_cancelled_midway(
      [&](careshed::RunControl* c) { careshed::capacity_coverage(cs.inputs(), o, uncovered.data(), c); },
      "capacity_coverage (searches)");
  // The allocation stage alone, on precomputed lists: cancelled before it starts, it stops at once.
  const CapacityCase small(200, 12, 9);
  careshed::RasterSearchOptions so;
  so.max_seconds = o.max_seconds;
  const CapacityInputs in = small.inputs();
  const careshed::ReachLists reach =
      careshed::raster_reach_lists(in.friction, in.sources_rc, static_cast<std::size_t>(in.n_facilities), so);
  careshed_test::expect_stops_when_cancelled_before(
      [&](careshed::RunControl* c) {
        careshed::capacity_coverage_lists(reach, small.side * small.side, in, o, uncovered.data(), c);
      },
      "capacity_coverage_lists");
}

}  // namespace
