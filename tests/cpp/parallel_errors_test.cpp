// Tests of core/src/parallel_errors.hpp and of every OpenMP parallel region that allocates (issue 8): an
// exception may not leave a parallel region (the runtime would call std::terminate and abort the Python
// process), so each region keeps the first one and rethrows it after the region.
//
// How allocation failure is made to happen inside the regions: this test binary replaces the global operator
// new (allowed by the standard; it applies to the careshed library linked into this binary) with one that,
// while `fail_in_parallel` is set, throws std::bad_alloc for every allocation made inside an active OpenMP
// parallel region (omp_in_parallel()) and allocates normally elsewhere. Each case checks that the call throws
// std::bad_alloc (without the fix the process aborts and the test binary dies), that an allocation really
// failed inside a region, and that the same call succeeds afterwards (nothing was left broken).
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <new>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "careshed/access.hpp"
#include "careshed/coverage.hpp"
#include "careshed/geometry.hpp"
#include "careshed/graph_search.hpp"
#include "careshed/raster_search.hpp"
#include "careshed/referral.hpp"
#include "careshed/snap.hpp"
#include "careshed/straight_line.hpp"
#include "careshed/zonal.hpp"
#include "exact_sum.hpp"
#include "parallel_errors.hpp"
#include "vector_test_util.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace {
std::atomic<bool> fail_in_parallel{false};
std::atomic<long> failed_in_parallel{0};

void* allocate(std::size_t n) {
#ifdef _OPENMP
  if (fail_in_parallel.load(std::memory_order_relaxed) && omp_in_parallel()) {
    failed_in_parallel.fetch_add(1);
    throw std::bad_alloc();
  }
#endif
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t n) { return allocate(n); }
void* operator new[](std::size_t n) { return allocate(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
// The nothrow forms too (std::stable_sort's temporary buffer, e.g. in RoadGraph::from_road_lines, takes
// operator new(n, nothrow) and gives it back through the plain operator delete above): left to the runtime's
// own nothrow new, that memory was freed here with free(), an alloc-dealloc mismatch under AddressSanitizer.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return allocate(n);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace {

using careshed::detail::FirstException;

TEST(FirstException, KeepsTheFirstAndRethrowsItAfterTheRegion) {
  FirstException errors;
  EXPECT_FALSE(errors.failed());
  EXPECT_NO_THROW(errors.rethrow_if_failed());
  errors.run([] { throw std::runtime_error("first"); });
  EXPECT_TRUE(errors.failed());
  bool ran = false;
  errors.run([&] { ran = true; });  // skipped once failed
  EXPECT_FALSE(ran);
  try {
    throw std::logic_error("second");
  } catch (...) {
    errors.capture();
  }
  try {
    errors.rethrow_if_failed();
    FAIL() << "nothing thrown";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "first");
  }
}

#ifdef _OPENMP
TEST(FirstException, ManyThreadsThrowingOneIsRethrown) {
  FirstException errors;
  std::atomic<int> thrown{0};
#pragma omp parallel num_threads(4)
  {
#pragma omp for
    for (int i = 0; i < 1000; ++i) {
      errors.run([&] {
        thrown.fetch_add(1);
        throw std::runtime_error("iteration " + std::to_string(i));
      });
    }
  }
  EXPECT_GE(thrown.load(), 1);
  EXPECT_THROW(errors.rethrow_if_failed(), std::runtime_error);
}

/// Runs `call` with allocations failing inside parallel regions (with 2 threads): it must throw
/// std::bad_alloc after at least one failed allocation in a region; then it must succeed normally.
template <class Call>
void expect_bad_alloc_then_success(const char* what, Call call) {
  SCOPED_TRACE(what);
  const int saved = omp_get_max_threads();
  omp_set_num_threads(2);
  failed_in_parallel = 0;
  fail_in_parallel = true;
  bool threw_bad_alloc = false;
  try {
    call();
  } catch (const std::bad_alloc&) {
    threw_bad_alloc = true;
  } catch (...) {
    fail_in_parallel = false;
    omp_set_num_threads(saved);
    FAIL() << "another exception than std::bad_alloc";
  }
  fail_in_parallel = false;
  EXPECT_TRUE(threw_bad_alloc);
  EXPECT_GT(failed_in_parallel.load(), 0) << "no allocation was made inside a parallel region";
  EXPECT_NO_THROW(call());
  omp_set_num_threads(saved);
}

TEST(BadAllocInParallelRegions, CoverageByZone) {
  const std::int64_t rows = 300, cols = 250, n = rows * cols;  // above the size where the pass uses threads
  std::vector<float> seconds(n), pop(n, 2.0f);
  std::vector<std::int32_t> zone(n);
  for (std::int64_t i = 0; i < n; ++i) {
    seconds[i] = static_cast<float>(i % 3600);
    zone[i] = static_cast<std::int32_t>(i % 3);
  }
  careshed::CoverageInputs in;
  in.rows = rows;
  in.cols = cols;
  in.seconds = seconds.data();
  in.population_f32 = pop.data();
  in.zones.zone = zone.data();
  in.zones.n_zones = 3;
  careshed::CoverageOptions o;
  o.thresholds_s = {600};
  expect_bad_alloc_then_success("coverage_by_zone", [&] { careshed::coverage_by_zone(in, o); });
}

TEST(BadAllocInParallelRegions, AccessScatterAndZoneMeans) {
  const std::size_t n = 200000, m = 4;  // several fixed blocks
  std::vector<double> P(n, 3.0), S(m, 10.0), c;
  std::vector<std::int64_t> o, d;
  for (std::size_t i = 0; i < n; ++i) {
    o.push_back(static_cast<std::int64_t>(i));
    d.push_back(static_cast<std::int64_t>(i % m));
    c.push_back(static_cast<double>(i % 30));
  }
  careshed::FcaOptions opt;
  opt.max_cost = 20;
  expect_bad_alloc_then_success("fca", [&] {
    careshed::fca(P.data(), n, S.data(), m, o.data(), d.data(), c.data(), o.size(), opt);
  });
  std::vector<double> score(n, 1.5);
  std::vector<std::int32_t> zones(n);
  for (std::size_t i = 0; i < n; ++i) zones[i] = static_cast<std::int32_t>(i % 7);
  expect_bad_alloc_then_success("zone_weighted_mean", [&] {
    std::vector<double> zs, zp, zq;
    careshed::zone_weighted_mean(score.data(), P.data(), zones.data(), n, 7, zs, zp, zq);
  });
}

careshed::FrictionGrid uniform_grid(std::vector<float>& f, std::int64_t rows, std::int64_t cols) {
  f.assign(static_cast<std::size_t>(rows * cols), 0.1f);
  careshed::FrictionGrid g;
  g.friction_f32 = f.data();
  g.rows = rows;
  g.cols = cols;
  g.dx_m = g.dy_m = 100;
  return g;
}

TEST(BadAllocInParallelRegions, RasterReachListsAndThreadedTravelTime) {
  std::vector<float> f;
  const careshed::FrictionGrid g = uniform_grid(f, 1100, 1000);  // >= 2^20 cells: threads are used
  const std::vector<std::int64_t> sources = {10, 10, 500, 600, 1000, 900};
  careshed::RasterSearchOptions o;
  o.max_seconds = 2000;
  expect_bad_alloc_then_success("raster_reach_lists",
                                [&] { careshed::raster_reach_lists(g, sources.data(), 3, o); });
  careshed::RasterSearchOptions all;
  all.threads = 2;
  for (careshed::ThreadPolicy policy : {careshed::ThreadPolicy::fixed, careshed::ThreadPolicy::alternate}) {
    all.thread_policy = policy;
    std::vector<careshed::CellLabel> out(static_cast<std::size_t>(g.rows * g.cols));
    expect_bad_alloc_then_success("raster_travel_time with 2 threads", [&] {
      careshed::raster_travel_time(g, sources.data(), 3, all, out.data());
    });
  }
}

TEST(BadAllocInParallelRegions, BoundedGraphSearchPerSource) {
  const std::int64_t n = 5000;
  std::vector<std::int64_t> tails, heads;
  std::vector<double> secs;
  for (std::int64_t v = 0; v + 1 < n; ++v) {
    tails.push_back(v), heads.push_back(v + 1), secs.push_back(1.0);
    tails.push_back(v + 1), heads.push_back(v), secs.push_back(1.0);
  }
  const careshed::CsrGraph g = careshed::CsrGraph::from_edges(n, tails.data(), heads.data(), secs.data(), tails.size());
  const std::vector<std::int64_t> src = {0, 1000, 2000, 3000, 4000};
  careshed::GraphSearchOptions o;
  o.max_seconds = 300;
  expect_bad_alloc_then_success("bounded_search_per_source", [&] {
    careshed::bounded_search_per_source(g, src.data(), src.size(), o);
  });
}

TEST(BadAllocInParallelRegions, StraightLineKNearest) {
  const std::size_t n = 30000;  // above the size where threads start
  std::vector<double> fx = {0, 1000, 2000}, fy = {0, 0, 0}, px(n), py(n, 50.0);
  for (std::size_t i = 0; i < n; ++i) px[i] = static_cast<double>(i % 2000);
  std::vector<double> secs(n * 2);
  std::vector<std::int32_t> nearest(n * 2);
  careshed::StraightLineOptions o;
  expect_bad_alloc_then_success("straight_line_k_nearest", [&] {
    careshed::straight_line_k_nearest(fx.data(), fy.data(), 3, px.data(), py.data(), n, 2, o, secs.data(),
                                      nearest.data());
  });
}

TEST(BadAllocInParallelRegions, ZonesOnTheGridAndPointsInZones) {
  std::vector<careshed::Wkb> zones = {
      careshed::testing::wkb_from_wkt("POLYGON ((0 0, 50.5 0, 50.5 100, 0 100, 0 0))"),
      careshed::testing::wkb_from_wkt("POLYGON ((50.5 0, 100 0, 100 100, 50.5 100, 50.5 0))")};
  careshed::GridSpec grid;
  grid.width = grid.height = 100;
  grid.geotransform = {0.0, 1.0, 0.0, 100.0, 0.0, -1.0};
  expect_bad_alloc_then_success("rasterize_zones", [&] {
    careshed::rasterize_zones(zones, grid, careshed::ZoneRaster::Rule::AreaFraction);
  });
  const std::size_t n = 30000;  // above the size where threads start
  std::vector<double> x(n), y(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = static_cast<double>(i % 100) + 0.25, y[i] = static_cast<double>(i % 97);
  expect_bad_alloc_then_success("assign_points_to_zones", [&] { careshed::assign_points_to_zones(zones, x, y); });
}

// Referral on a grid retraces each facility's route in a parallel loop; with keep_routes the route's cells
// grow a vector there.
TEST(BadAllocInParallelRegions, ReferralRoutes) {
  std::vector<float> f;
  const careshed::FrictionGrid g = uniform_grid(f, 40, 60);
  std::vector<std::int64_t> rc;
  std::vector<std::int32_t> level;
  for (int i = 0; i < 40; ++i) {  // 40 village posts (level 0) and two hospitals (level 1)
    rc.push_back(i), rc.push_back((7 * i) % 60), level.push_back(0);
  }
  rc.insert(rc.end(), {5, 5, 30, 50});
  level.insert(level.end(), {1, 1});
  careshed::FacilityLevels levels;
  levels.level = level.data();
  levels.n_levels = 2;
  careshed::ReferralOptions o;
  o.keep_routes = true;
  std::vector<careshed::CellLabel> out(2 * static_cast<std::size_t>(g.rows * g.cols));
  expect_bad_alloc_then_success("referral_on_grid with routes", [&] {
    careshed::referral_on_grid(g, rc.data(), level.size(), levels, o, out.data());
  });
}

// The snapper's parallel loop allocates nothing (its kd-tree lookups use fixed-size state): with every
// allocation inside a parallel region failing, it still succeeds and gives the answer of a normal run. An
// exception there (e.g. from a future allocation) is carried out of the region and rethrown, never std::terminate.
TEST(BadAllocInParallelRegions, SnapOutsideAnyAllocation) {
  std::vector<careshed::RoadLine> lines;
  for (int i = 0; i < 30; ++i)
    lines.push_back({{100.0 * i, 0.0, 100.0 * i, 1000.0}, 30.0, careshed::Direction::kBoth, i});
  const careshed::RoadGraph graph = careshed::RoadGraph::from_road_lines(lines, false);
  const careshed::NodeSnapper snapper(graph);
  const std::size_t n = 30000;  // above the size where threads start
  std::vector<double> x(n), y(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = static_cast<double>(i % 3000), y[i] = static_cast<double>(i % 1100);
  const careshed::SnapResult want = snapper.snap(x.data(), y.data(), n, 200.0);
  const int saved = omp_get_max_threads();
  omp_set_num_threads(2);
  fail_in_parallel = true;
  careshed::SnapResult got;
  try {
    got = snapper.snap(x.data(), y.data(), n, 200.0);
  } catch (const std::bad_alloc&) {
    fail_in_parallel = false;
    omp_set_num_threads(saved);
    FAIL() << "snap allocated inside its parallel loop";
  }
  fail_in_parallel = false;
  omp_set_num_threads(saved);
  EXPECT_EQ(got.node, want.node);
  EXPECT_EQ(got.distance_m, want.distance_m);
}
#endif

}  // namespace
