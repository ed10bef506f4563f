// Tests of careshed/catchment.hpp: a hand-worked table (population, cells, per-row areas, mean, p90 on 1-s bins,
// beds per 1000, empty and zero-population catchments, unreached people), ties from a real search, a brute-force
// oracle on random grids (logged seed) and the display polygons (valid, exact areas, > 254 facilities).
#define GEOS_USE_ONLY_R_API
#include "careshed/catchment.hpp"

#include <geos_c.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <cstdio>
#include <limits>
#include <cstdlib>
#include <random>
#include <vector>

#include "careshed/error.hpp"
#include "careshed/raster_search.hpp"
#include "test_seed.hpp"
#include "careshed/progress.hpp"
#include "run_control_checks.hpp"

using careshed_test::fresh_or_replayed_seed;

namespace {

using careshed::CatchmentInputs;
using careshed::CatchmentResult;
using careshed::InputError;

constexpr float kInfF = std::numeric_limits<float>::infinity();

TEST(CatchmentStats, HandWorkedTable) {
  // 2 x 4 grid. Facility 0: cells (0,0) t=0 p=10, (0,1) t=30.5 p=80, (1,0) t=100.25 p=10.
  // Facility 1: cells (0,2), (1,1) with zero population. Facility 2: no cell. Cell (1,2) unreachable, p=5.
  // Cell (0,3) facility 1 with NaN population (no data = 0 people). Cell (1,3) facility 0, p=0.
  const std::vector<float> seconds = {0.0f, 30.5f, 12.0f, 40.0f, 100.25f, 7.0f, kInfF, 3.0f};
  const std::vector<std::int32_t> nearest = {0, 0, 1, 1, 0, 1, -1, 0};
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> pop = {10, 80, 0, nan, 10, 0, 5, 0};
  const std::vector<double> row_area = {1.0, 2.0};
  const std::vector<double> beds = {2.0, 7.0, 3.0, 5.0, 1.0, 1.0};  // 3 facilities x (beds, doctors)
  CatchmentInputs in;
  in.rows = 2;
  in.cols = 4;
  in.seconds = seconds.data();
  in.nearest = nearest.data();
  in.n_facilities = 3;
  in.population_f64 = pop.data();
  in.row_cell_area_km2 = row_area.data();
  in.resources = beds.data();
  in.n_resources = 2;
  const CatchmentResult r = careshed::catchment_stats(in);
  EXPECT_DOUBLE_EQ(r.population[0], 100.0);
  EXPECT_DOUBLE_EQ(r.population[1], 0.0);
  EXPECT_DOUBLE_EQ(r.population[2], 0.0);
  EXPECT_EQ(r.cells[0], 4);
  EXPECT_EQ(r.cells[1], 3);
  EXPECT_EQ(r.cells[2], 0);
  EXPECT_DOUBLE_EQ(r.area_km2[0], 1.0 + 1.0 + 2.0 + 2.0);  // two cells in row 0, two in row 1
  EXPECT_DOUBLE_EQ(r.area_km2[1], 1.0 + 1.0 + 2.0);
  EXPECT_DOUBLE_EQ(r.area_km2[2], 0.0);
  EXPECT_NEAR(r.mean_seconds[0], (0 * 10 + 30.5 * 80 + 100.25 * 10) / 100.0, 1e-9);
  // 90 % of 100 people = 90, reached at t = 30.5 s; the 1-s bin (30, 31] gives 31.
  EXPECT_EQ(r.bin_seconds, 1.0);
  EXPECT_DOUBLE_EQ(r.p90_seconds[0], 31.0);
  EXPECT_TRUE(std::isnan(r.mean_seconds[1]));
  EXPECT_TRUE(std::isnan(r.p90_seconds[1]));
  EXPECT_TRUE(std::isnan(r.p90_seconds[2]));
  EXPECT_DOUBLE_EQ(r.resources_per_1000[0], 20.0);  // 2 beds for 100 people
  EXPECT_DOUBLE_EQ(r.resources_per_1000[1], 70.0);  // 7 doctors for 100 people
  for (int k = 2; k < 6; ++k) EXPECT_TRUE(std::isnan(r.resources_per_1000[k])) << k;
  EXPECT_DOUBLE_EQ(r.total_population, 105.0);
  EXPECT_DOUBLE_EQ(r.reached_population, 100.0);
  EXPECT_DOUBLE_EQ(r.unreached_population, 5.0);
}

TEST(CatchmentStats, P90AtExactlyTheNinetyPercentMark) {
  // 1 x 2: 90 people at t = 10 s exactly and 10 at 50 s: the percentile is 10 s (inclusive bins).
  const std::vector<float> seconds = {10.0f, 50.0f};
  const std::vector<std::int32_t> nearest = {0, 0};
  const std::vector<float> pop = {90.0f, 10.0f};
  CatchmentInputs in;
  in.rows = 1;
  in.cols = 2;
  in.seconds = seconds.data();
  in.nearest = nearest.data();
  in.n_facilities = 1;
  in.population_f32 = pop.data();
  const CatchmentResult r = careshed::catchment_stats(in);
  EXPECT_DOUBLE_EQ(r.p90_seconds[0], 10.0);
  EXPECT_DOUBLE_EQ(r.mean_seconds[0], 14.0);
  EXPECT_TRUE(std::isnan(r.area_km2[0]));  // no areas given
}

TEST(CatchmentStats, BadInputsNameTheProblem) {
  std::vector<float> seconds = {0.0f, kInfF};
  std::vector<std::int32_t> nearest = {0, 0};  // unreachable cell with a facility: inconsistent
  std::vector<double> pop = {1.0, 1.0};
  CatchmentInputs in;
  in.rows = 1;
  in.cols = 2;
  in.seconds = seconds.data();
  in.nearest = nearest.data();
  in.n_facilities = 1;
  in.population_f64 = pop.data();
  EXPECT_THROW(careshed::catchment_stats(in), InputError);
  nearest = {0, -1};
  pop = {-1.0, 0.0};
  EXPECT_THROW(careshed::catchment_stats(in), InputError);
  pop = {1.0, 0.0};
  nearest = {3, -1};  // not a facility
  EXPECT_THROW(careshed::catchment_stats(in), InputError);
  nearest = {0, -1};
  seconds[0] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(careshed::catchment_stats(in), InputError);
  seconds[0] = 0.0f;
  EXPECT_NO_THROW(careshed::catchment_stats(in));
  in.n_facilities = 0;
  EXPECT_THROW(careshed::catchment_stats(in), InputError);
}

TEST(CatchmentStats, TiesFromTheSearchGoToTheLowestIndex) {
  // 1 x 5 uniform row, facilities at both ends: the middle cell is equally far and belongs to facility 0.
  const std::vector<double> friction(5, 1.0);
  careshed::FrictionGrid g;
  g.friction_f64 = friction.data();
  g.rows = 1;
  g.cols = 5;
  g.dx_m = g.dy_m = 10.0;
  const std::vector<std::int64_t> src = {0, 4, 0, 0};  // facility 0 at col 4, facility 1 at col 0
  std::vector<careshed::CellLabel> lab(5);
  careshed::raster_travel_time(g, src.data(), 2, {}, lab.data());
  std::vector<float> seconds(5);
  std::vector<std::int32_t> nearest(5);
  for (int i = 0; i < 5; ++i) {
    seconds[i] = lab[i].seconds;
    nearest[i] = lab[i].nearest;
  }
  const std::vector<double> pop = {1, 2, 4, 8, 16};
  CatchmentInputs in;
  in.rows = 1;
  in.cols = 5;
  in.seconds = seconds.data();
  in.nearest = nearest.data();
  in.n_facilities = 2;
  in.population_f64 = pop.data();
  const CatchmentResult r = careshed::catchment_stats(in);
  EXPECT_DOUBLE_EQ(r.population[0], 4 + 8 + 16);  // middle cell (tie) + its side
  EXPECT_DOUBLE_EQ(r.population[1], 1 + 2);
}

TEST(CatchmentStats, RandomGridsAgainstBruteForce) {
  const auto seed = static_cast<unsigned>(fresh_or_replayed_seed());
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::printf("random seed %u\n", seed);
  std::mt19937 rng(seed);
  for (int trial = 0; trial < 20; ++trial) {
    const std::int64_t rows = 5 + rng() % 20, cols = 5 + rng() % 20, n = rows * cols;
    std::uniform_real_distribution<double> fr(0.01, 0.2), pr(0.0, 100.0);
    std::vector<double> friction(static_cast<std::size_t>(n)), pop(static_cast<std::size_t>(n));
    for (auto& f : friction) f = (rng() % 10 == 0) ? std::numeric_limits<double>::quiet_NaN() : fr(rng);
    for (auto& p : pop) p = (rng() % 4 == 0) ? 0.0 : pr(rng);
    const int nf = 1 + static_cast<int>(rng() % 6);
    std::vector<std::int64_t> src;
    for (int k = 0; k < nf; ++k) {
      src.push_back(static_cast<std::int64_t>(rng() % rows));
      src.push_back(static_cast<std::int64_t>(rng() % cols));
    }
    careshed::FrictionGrid g;
    g.friction_f64 = friction.data();
    g.rows = rows;
    g.cols = cols;
    g.dx_m = g.dy_m = 100.0;
    careshed::RasterSearchOptions so;
    so.max_seconds = (rng() % 2) ? 400.0 : std::numeric_limits<double>::infinity();
    std::vector<careshed::CellLabel> lab(static_cast<std::size_t>(n));
    careshed::raster_travel_time(g, src.data(), static_cast<std::size_t>(nf), so, lab.data());
    std::vector<float> seconds(static_cast<std::size_t>(n));
    std::vector<std::int32_t> nearest(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
      seconds[static_cast<std::size_t>(i)] = lab[static_cast<std::size_t>(i)].seconds;
      nearest[static_cast<std::size_t>(i)] = lab[static_cast<std::size_t>(i)].nearest;
    }
    std::vector<double> area(static_cast<std::size_t>(rows));
    for (std::int64_t r = 0; r < rows; ++r) area[static_cast<std::size_t>(r)] = 0.01 * (1.0 + 0.1 * r);
    CatchmentInputs in;
    in.rows = rows;
    in.cols = cols;
    in.seconds = seconds.data();
    in.nearest = nearest.data();
    in.n_facilities = nf;
    in.population_f64 = pop.data();
    in.row_cell_area_km2 = area.data();
    const CatchmentResult r = careshed::catchment_stats(in);
    double total = 0.0, reachable = 0.0, sum_catch = 0.0;
    for (std::int64_t i = 0; i < n; ++i) {
      total += pop[static_cast<std::size_t>(i)];
      if (std::isfinite(seconds[static_cast<std::size_t>(i)])) reachable += pop[static_cast<std::size_t>(i)];
    }
    for (int f = 0; f < nf; ++f) sum_catch += r.population[static_cast<std::size_t>(f)];
    EXPECT_NEAR(sum_catch, reachable, 1e-9 * (1 + total));  // catchments partition the reachable people
    EXPECT_NEAR(r.reached_population + r.unreached_population, total, 1e-9 * (1 + total));
    for (int f = 0; f < nf; ++f) {
      std::vector<std::pair<double, double>> tp;  // (seconds, people)
      double a = 0.0, p = 0.0, pt = 0.0;
      std::int64_t cells = 0;
      for (std::int64_t i = 0; i < n; ++i) {
        if (nearest[static_cast<std::size_t>(i)] != f) continue;
        ++cells;
        a += area[static_cast<std::size_t>(i / cols)];
        const double pp = pop[static_cast<std::size_t>(i)], t = seconds[static_cast<std::size_t>(i)];
        p += pp;
        pt += pp * t;
        tp.emplace_back(t, pp);
      }
      const std::size_t fi = static_cast<std::size_t>(f);
      EXPECT_EQ(r.cells[fi], cells);
      EXPECT_NEAR(r.area_km2[fi], a, 1e-9);
      EXPECT_NEAR(r.population[fi], p, 1e-9 * (1 + p));
      if (p > 0) {
        EXPECT_NEAR(r.mean_seconds[fi], pt / p, 1e-6 * (1 + pt / p));
        // Exact weighted percentile by sorting, then the 1-s bin's upper edge (coverage.hpp's definition).
        std::sort(tp.begin(), tp.end());
        double cum = 0.0, exact = 0.0;
        for (const auto& x : tp) {
          cum += x.second;
          if (cum >= 0.9 * p * (1 - 1e-12)) {
            exact = x.first;
            break;
          }
        }
        ASSERT_EQ(r.bin_seconds, 1.0);
        EXPECT_DOUBLE_EQ(r.p90_seconds[fi], std::ceil(exact)) << "facility " << f;
      } else {
        EXPECT_TRUE(std::isnan(r.mean_seconds[fi]));
      }
    }
  }
}

// ---- polygons --------------------------------------------------------------------------------------------------

struct Geos {
  GEOSContextHandle_t h = GEOS_init_r();
  ~Geos() { GEOS_finish_r(h); }
};

void check_polygon(Geos& geos, const careshed::CatchmentPolygon& p, double cell_area) {
  GEOSWKBReader* rd = GEOSWKBReader_create_r(geos.h);
  GEOSGeometry* g = GEOSWKBReader_read_r(geos.h, rd, p.wkb.data(), p.wkb.size());
  GEOSWKBReader_destroy_r(geos.h, rd);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(GEOSGeomTypeId_r(geos.h, g), GEOS_MULTIPOLYGON);
  EXPECT_EQ(GEOSisValid_r(geos.h, g), 1);
  double a = 0.0;
  GEOSArea_r(geos.h, g, &a);
  EXPECT_NEAR(a, static_cast<double>(p.cells) * cell_area, 1e-6 * (1 + a));
  EXPECT_NEAR(p.area, a, 1e-6 * (1 + a));
  GEOSGeom_destroy_r(geos.h, g);
}

TEST(CatchmentPolygons, DissolvedPerFacilityWithHoles) {
  // 4 x 4, 100 m cells. Facility 0 surrounds facility 1's single cell (a hole); facility 2 has no cell;
  // one unreachable cell (-1).
  careshed::GridSpec grid;
  grid.width = 4;
  grid.height = 4;
  grid.geotransform = {500000.0, 100.0, 0.0, 3200000.0, 0.0, -100.0};
  const std::vector<std::int32_t> nearest = {0, 0, 0, 3,  //
                                             0, 1, 0, 3,  //
                                             0, 0, 0, 3,  //
                                             -1, 3, 3, 3};
  const auto polys = careshed::catchment_polygons(nearest.data(), grid, 4);
  ASSERT_EQ(polys.size(), 4u);
  EXPECT_EQ(polys[0].cells, 8);
  EXPECT_EQ(polys[1].cells, 1);
  EXPECT_EQ(polys[2].cells, 0);
  EXPECT_EQ(polys[3].cells, 6);
  Geos geos;
  for (const auto& p : polys) check_polygon(geos, p, 1e4);
  EXPECT_EQ(polys[2].area, 0.0);
  EXPECT_THROW(careshed::catchment_polygons(nearest.data(), grid, 3), InputError);  // label 3 >= 3
}

TEST(CatchmentPolygons, MoreThan254FacilitiesInOnePass) {
  // label_polygons polygonizes an Int32 label grid, so facility ids need no byte-sized batches.
  careshed::GridSpec grid;
  grid.width = 300;
  grid.height = 2;
  grid.geotransform = {0.0, 10.0, 0.0, 20.0, 0.0, -10.0};
  std::vector<std::int32_t> nearest(600);
  for (int c = 0; c < 300; ++c) {
    nearest[static_cast<std::size_t>(c)] = c;            // row 0: facility c
    nearest[static_cast<std::size_t>(300 + c)] = 299 - c;  // row 1: reversed
  }
  const auto polys = careshed::catchment_polygons(nearest.data(), grid, 300);
  ASSERT_EQ(polys.size(), 300u);
  Geos geos;
  for (int f = 0; f < 300; ++f) {
    EXPECT_EQ(polys[static_cast<std::size_t>(f)].facility, f);
    EXPECT_EQ(polys[static_cast<std::size_t>(f)].cells, 2) << f;
    check_polygon(geos, polys[static_cast<std::size_t>(f)], 100.0);
  }
  // Facility 0 is at (row 0, col 0) and (row 1, col 299): two separate squares, x from 0..10 and 2990..3000.
  GEOSWKBReader* rd = GEOSWKBReader_create_r(geos.h);
  GEOSGeometry* g = GEOSWKBReader_read_r(geos.h, rd, polys[0].wkb.data(), polys[0].wkb.size());
  GEOSWKBReader_destroy_r(geos.h, rd);
  EXPECT_EQ(GEOSGetNumGeometries_r(geos.h, g), 2);
  double xmin = 0, xmax = 0;
  GEOSGeom_getXMin_r(geos.h, g, &xmin);
  GEOSGeom_getXMax_r(geos.h, g, &xmax);
  EXPECT_DOUBLE_EQ(xmin, 0.0);
  EXPECT_DOUBLE_EQ(xmax, 3000.0);
  GEOSGeom_destroy_r(geos.h, g);
}

TEST(CatchmentRowAreas, ProjectedGridIsTheCellArea) {
  careshed::GridSpec grid;
  grid.width = 3;
  grid.height = 2;
  grid.geotransform = {500000.0, 250.0, 0.0, 3200000.0, 0.0, -250.0};
  grid.crs_wkt = "EPSG:32650";
  const auto a = careshed::catchment_row_areas_km2(grid);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_DOUBLE_EQ(a[0], 0.0625);  // 250 m x 250 m = 62,500 m^2 = 0.0625 km^2 on every row of a UTM grid
  EXPECT_DOUBLE_EQ(a[1], 0.0625);
}

}  // namespace

// ---- cancellation and progress (careshed/progress.hpp) ------------------------------------------------
namespace {

// A nearest-facility field of side x side cells from a real search over random friction (seeded).
struct CatchmentField {
  std::int64_t side;
  int n_facilities;
  std::vector<careshed::CellLabel> labels;
  std::vector<float> seconds, population;
  std::vector<std::int32_t> nearest;
  CatchmentField(std::int64_t s, int n, std::uint64_t seed) : side(s), n_facilities(n) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::vector<double> f(static_cast<std::size_t>(s * s));
    for (auto& v : f) v = u(rng) < 0.02 ? std::nan("") : 0.05 + 0.5 * u(rng);
    std::vector<std::int64_t> src;
    for (int i = 0; i < n; ++i) {
      src.push_back(static_cast<std::int64_t>(u(rng) * s));
      src.push_back(static_cast<std::int64_t>(u(rng) * s));
    }
    careshed::FrictionGrid g;
    g.friction_f64 = f.data();
    g.rows = g.cols = s;
    g.dx_m = g.dy_m = 100;
    labels.resize(f.size());
    careshed::raster_travel_time(g, src.data(), static_cast<std::size_t>(n), careshed::RasterSearchOptions{}, labels.data());
    for (const auto& l : labels) {
      seconds.push_back(l.seconds);
      nearest.push_back(l.nearest);
      population.push_back(static_cast<float>(10.0 * u(rng)));
    }
  }
  CatchmentInputs inputs() const {
    CatchmentInputs in;
    in.rows = in.cols = side;
    in.seconds = seconds.data();
    in.nearest = nearest.data();
    in.n_facilities = n_facilities;
    in.population_f32 = population.data();
    return in;
  }
};

TEST(CatchmentControl, SameResultsWithAControlAndProgressReachesOne) {
  const std::uint64_t seed = fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  const CatchmentField field(150, 6, seed);
  const CatchmentResult a = careshed::catchment_stats(field.inputs());
  CatchmentResult b;
  careshed_test::watch_progress([&](careshed::RunControl* c) { b = careshed::catchment_stats(field.inputs(), {}, c); },
                                "catchment_stats");
  EXPECT_EQ(a.population, b.population);
  EXPECT_EQ(a.cells, b.cells);
  // Bit for bit (NaN for empty catchments compares equal this way).
  auto same_bits = [](const std::vector<double>& x, const std::vector<double>& y) {
    return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(double)) == 0;
  };
  EXPECT_TRUE(same_bits(a.mean_seconds, b.mean_seconds));
  EXPECT_TRUE(same_bits(a.p90_seconds, b.p90_seconds));
  careshed::GridSpec grid;
  grid.width = grid.height = field.side;
  grid.geotransform = {500000.0, 100.0, 0.0, 3300000.0, 0.0, -100.0};
  const auto pa = careshed::catchment_polygons(field.nearest.data(), grid, field.n_facilities);
  std::vector<careshed::CatchmentPolygon> pb;
  careshed_test::watch_progress(
      [&](careshed::RunControl* c) {
        pb = careshed::catchment_polygons(field.nearest.data(), grid, field.n_facilities, false, false, c);
      },
      "catchment_polygons");
  ASSERT_EQ(pa.size(), pb.size());
  for (std::size_t k = 0; k < pa.size(); ++k) EXPECT_EQ(pa[k].wkb, pb[k].wkb) << "facility " << k;
  careshed_test::expect_stops_when_cancelled_before(
      [&](careshed::RunControl* c) {
        careshed::catchment_polygons(field.nearest.data(), grid, field.n_facilities, false, false, c);
      },
      "catchment_polygons");
}

TEST(CatchmentControl, CancelStopsTheStatistics) {
  const CatchmentField field(1500, 20, 4);
  careshed_test::expect_stops_when_cancelled_midway(
      [&](careshed::RunControl* c) { careshed::catchment_stats(field.inputs(), {}, c); }, "catchment_stats");
  careshed_test::expect_stops_when_cancelled_before(
      [&](careshed::RunControl* c) { careshed::catchment_stats(field.inputs(), {}, c); }, "catchment_stats");
}

}  // namespace
