// Tests of careshed/population.hpp: population rasters onto grids (totals, nodata, negatives) and zone totals
// spread over cells (uniform, weights, class shares, fall-backs), reconciled under both counting rules.
// Expected values are worked out by hand in the comments; reconciliation is checked with zonal_sum.
#include <gdal.h>
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>
#include <sstream>

#include "careshed/crs.hpp"
#include "careshed/population.hpp"
#include "careshed/zonal.hpp"
#include "vector_test_util.hpp"

namespace careshed {
namespace {

using testing::ScratchDir;
using testing::test_seed;
using testing::wkb_from_wkt;

GridSpec utm_grid(int w, int h, double cell, double x0 = 500000.0, double y0 = 1000000.0) {
  GridSpec g;
  g.width = w;
  g.height = h;
  g.geotransform = {x0, cell, 0.0, y0 + h * cell, 0.0, -cell};
  g.crs_wkt = crs_to_wkt("EPSG:32631");
  return g;
}

/// A float32 GeoTIFF written with GDAL directly (independent of careshed's writer).
void write_tif(const std::string& path, const GridSpec& g, const std::vector<float>& v, double nodata) {
  GDALAllRegister();
  GDALDriverH drv = GDALGetDriverByName("GTiff");
  GDALDatasetH ds = GDALCreate(drv, path.c_str(), int(g.width), int(g.height), 1, GDT_Float32, nullptr);
  ASSERT_NE(ds, nullptr);
  double gt[6];
  std::copy(g.geotransform.begin(), g.geotransform.end(), gt);
  GDALSetGeoTransform(ds, gt);
  GDALSetProjection(ds, g.crs_wkt.c_str());
  GDALRasterBandH b = GDALGetRasterBand(ds, 1);
  GDALSetRasterNoDataValue(b, nodata);
  ASSERT_EQ(GDALRasterIO(b, GF_Write, 0, 0, int(g.width), int(g.height), const_cast<float*>(v.data()), int(g.width),
                         int(g.height), GDT_Float32, 0, 0),
            CE_None);
  GDALClose(ds);
}

TEST(PopulationRaster, NodataIgnoredTotalPreservedOnCoarserGrid) {
  ScratchDir dir;
  // 4 × 4 source cells of 100 m, two nodata (-99999) cells; onto 2 × 2 cells of 200 m: each target cell sums
  // its 2 × 2 sources.
  const GridSpec src = utm_grid(4, 4, 100.0);
  std::vector<float> v = {1, 2, 3, 4,  //
                          5, -99999, 7, 8,  //
                          9, 10, 11, 12,  //
                          13, 14, 15, -99999};
  write_tif(dir.path("pop.tif"), src, v, -99999);
  const GridSpec dst = utm_grid(2, 2, 200.0);
  const Raster r = population_from_raster(dir.path("pop.tif"), dst);
  ASSERT_EQ(r.values.size(), 4u);
  EXPECT_NEAR(r.values[0], 1 + 2 + 5, 1e-9);
  EXPECT_NEAR(r.values[1], 3 + 4 + 7 + 8, 1e-9);
  EXPECT_NEAR(r.values[2], 9 + 10 + 13 + 14, 1e-9);
  EXPECT_NEAR(r.values[3], 11 + 12 + 15, 1e-9);
  EXPECT_NEAR(r.report.result_total, 114.0, 1e-9);  // 1 + ... + 16 minus the nodata cells 6 and 16
}

TEST(PopulationRaster, NegativeValueRefusedWithFileAndPixel) {
  ScratchDir dir;
  const GridSpec src = utm_grid(3, 2, 100.0);
  write_tif(dir.path("neg.tif"), src, {1, 2, 3, 4, -5, 6}, -99999);
  // pixel (row 1, col 1): centre x = 500000 + 150, y = 1000200 - 150
  EXPECT_THROW_MSG(population_from_raster(dir.path("neg.tif"), utm_grid(1, 1, 300.0)), InputError, "neg.tif",
                   "row 1, col 1", "500150.000000", "1000050.000000", "negative");
  EXPECT_THROW_MSG(check_population_raster(dir.path("missing.tif")), DataIOError, "missing.tif");
}

TEST(PopulationRaster, OnlyPixelsReachingTheGridAreScannedForNegatives) {
  ScratchDir dir;
  // 20 × 20 pixels of 100 m with one negative pixel at (row 15, col 15); a grid over pixels (0..3, 0..3)
  // never reads it, so the read succeeds; a grid over the whole raster is refused.
  const GridSpec src = utm_grid(20, 20, 100.0);
  std::vector<float> v(400, 1.0f);
  v[15 * 20 + 15] = -1.0f;
  write_tif(dir.path("big.tif"), src, v, -99999);
  const GridSpec corner = utm_grid(2, 2, 200.0, 500000.0, 1000000.0 + 1600.0);  // top-left 400 m × 400 m
  const Raster r = population_from_raster(dir.path("big.tif"), corner);
  EXPECT_NEAR(r.report.result_total, 16.0, 1e-9);
  EXPECT_THROW_MSG(population_from_raster(dir.path("big.tif"), utm_grid(4, 4, 500.0)), InputError,
                   "row 15, col 15");
  EXPECT_THROW_MSG(check_population_raster(dir.path("big.tif")), InputError, "row 15, col 15");
}

ZoneRaster two_zones(ZoneRaster::Rule rule) {
  // 4 × 2 cells of 1 m: zone 0 = [0,2]×[0,2], zone 1 = [2,4]×[0,2] (cells on whole cell edges; no splits)
  GridSpec g;
  g.width = 4;
  g.height = 2;
  g.geotransform = {0.0, 1.0, 0.0, 2.0, 0.0, -1.0};
  return rasterize_zones({wkb_from_wkt("POLYGON((0 0,2 0,2 2,0 2,0 0))"), wkb_from_wkt("POLYGON((2 0,4 0,4 2,2 2,2 0))")},
                         g, rule);
}

TEST(SpreadZoneTotals, UniformAndWeighted) {
  const ZoneRaster zr = two_zones(ZoneRaster::Rule::CellCentre);
  // uniform: 100 people over 4 cells → 25 each; 40 → 10 each
  auto u = spread_zone_totals(zr, {100.0, 40.0});
  for (int i : {0, 1, 4, 5}) EXPECT_DOUBLE_EQ(u.people[static_cast<std::size_t>(i)], 25.0);
  for (int i : {2, 3, 6, 7}) EXPECT_DOUBLE_EQ(u.people[static_cast<std::size_t>(i)], 10.0);
  // weights 1, 3, 0, NaN in zone 0 → 100 × (1/4, 3/4, 0, 0); zone 1 weights all zero → uniform + a note
  const std::vector<double> w = {1, 3, 0, 0, 0, std::nan(""), 0, 0};
  SpreadOptions opt;
  opt.weights = w.data();
  auto r = spread_zone_totals(zr, {100.0, 40.0}, opt);
  EXPECT_DOUBLE_EQ(r.people[0], 25.0);
  EXPECT_DOUBLE_EQ(r.people[1], 75.0);
  EXPECT_DOUBLE_EQ(r.people[4], 0.0);
  EXPECT_DOUBLE_EQ(r.people[5], 0.0);
  for (int i : {2, 3, 6, 7}) EXPECT_DOUBLE_EQ(r.people[static_cast<std::size_t>(i)], 10.0);
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_NE(r.notes[0].find("zone 1"), std::string::npos);
  EXPECT_NE(r.notes[0].find("uniformly"), std::string::npos);
}

TEST(SpreadZoneTotals, ClassSharesWithMissingClassFallBack) {
  const ZoneRaster zr = two_zones(ZoneRaster::Rule::CellCentre);
  // cell classes (row-major 4 × 2): zone 0 cells 0,1,4,5 = 30, 30, 11, 11; zone 1 cells 2,3,6,7 = 30, 11, 11, -1
  const std::vector<std::int32_t> cls = {30, 30, 30, 11, 11, 11, 11, -1};
  SpreadOptions opt;
  opt.cell_class = cls.data();
  opt.class_codes = {30, 11, 12};
  // zone 0: 80 % class 30, 20 % class 11 → 1000 × 0.8 / 2 = 400 on each 30-cell, 100 on each 11-cell.
  // zone 1: 50 % class 30, 50 % class 12 (no 12-cell): 12's share is spread over the whole zone (4 cells):
  //   class-30 cell: 200 × 0.5 + 200 × 0.5 / 4 = 125; the others 25 (also the cell with no class).
  opt.class_shares = {0.8, 0.2, 0.0,  //
                      0.5, 0.0, 0.5};
  auto r = spread_zone_totals(zr, {1000.0, 200.0}, opt);
  EXPECT_DOUBLE_EQ(r.people[0], 400.0);
  EXPECT_DOUBLE_EQ(r.people[1], 400.0);
  EXPECT_DOUBLE_EQ(r.people[4], 100.0);
  EXPECT_DOUBLE_EQ(r.people[5], 100.0);
  EXPECT_DOUBLE_EQ(r.people[2], 125.0);
  EXPECT_DOUBLE_EQ(r.people[3], 25.0);
  EXPECT_DOUBLE_EQ(r.people[6], 25.0);
  EXPECT_DOUBLE_EQ(r.people[7], 25.0);
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_NE(r.notes[0].find("zone 1"), std::string::npos);
  EXPECT_NE(r.notes[0].find("class 12"), std::string::npos);
  const auto s = zonal_sum(zr, r.people.data());
  EXPECT_NEAR(s[0], 1000.0, 1e-9);
  EXPECT_NEAR(s[1], 200.0, 1e-9);
}

TEST(SpreadZoneTotals, ReconcilesUnderBothRulesOnRandomZones) {
  const unsigned seed = test_seed();
  std::mt19937 rng(seed);
  const GridSpec g = utm_grid(60, 50, 10.0);
  // Four quadrants cut at a random point (not on cell edges) plus a small zone straddling cells.
  std::uniform_real_distribution<double> ux(500150, 500450), uy(1000150, 1000350);
  const double cx = ux(rng), cy = uy(rng);
  auto rect = [](double x0, double y0, double x1, double y1) {
    std::ostringstream s;
    s.precision(17);
    s << "POLYGON((" << x0 << " " << y0 << "," << x1 << " " << y0 << "," << x1 << " " << y1 << "," << x0 << " " << y1
      << "," << x0 << " " << y0 << "))";
    return wkb_from_wkt(s.str());
  };
  const double X0 = 500013.3, Y0 = 1000017.7, X1 = 500588.1, Y1 = 1000491.9;
  const std::vector<Wkb> zones = {rect(X0, Y0, cx, cy), rect(cx, Y0, X1, cy), rect(X0, cy, cx, Y1), rect(cx, cy, X1, Y1)};
  // Totals within a factor 5 of each other: per-zone scaling can then always reconcile (see the next test for
  // the case it cannot, a sparse zone whose cut cells already hold more than its total from denser neighbours).
  std::uniform_real_distribution<double> ut(20000, 100000), uw(0, 5);
  std::vector<double> totals(4);
  for (auto& t : totals) t = ut(rng);
  std::vector<double> w(static_cast<std::size_t>(g.size()));
  for (auto& x : w) x = uw(rng);
  std::vector<std::int32_t> cls(static_cast<std::size_t>(g.size()));
  std::uniform_int_distribution<int> uc(0, 2);
  for (auto& c : cls) c = std::vector<int>{30, 13, 11}[static_cast<std::size_t>(uc(rng))];
  for (auto rule : {ZoneRaster::Rule::CellCentre, ZoneRaster::Rule::AreaFraction}) {
    const ZoneRaster zr = rasterize_zones(zones, g, rule);
    SpreadOptions opt;
    opt.weights = w.data();
    opt.cell_class = cls.data();
    opt.class_codes = {30, 13, 11};
    opt.class_shares = {0.6, 0.3, 0.1, 0.2, 0.2, 0.6, 1.0, 0.0, 0.0, 0.3, 0.3, 0.4};
    for (bool with_classes : {false, true}) {
      SpreadOptions o = with_classes ? opt : SpreadOptions{};
      if (!with_classes) o.weights = w.data();
      const SpreadResult r = spread_zone_totals(zr, totals, o);
      const auto s = zonal_sum(zr, r.people.data());
      for (int z = 0; z < 4; ++z) {
        EXPECT_NEAR(s[static_cast<std::size_t>(z)], totals[static_cast<std::size_t>(z)], 1e-9 * totals[static_cast<std::size_t>(z)])
            << "zone " << z << " rule " << zone_rule_name(rule) << " classes " << with_classes << " seed " << seed;
      }
      EXPECT_LE(r.max_relative_residual, 1e-12);
      for (double p : r.people) EXPECT_GE(p, 0.0);
      if (rule == ZoneRaster::Rule::CellCentre) {
        EXPECT_EQ(r.iterations, 0);  // exact in one scaling
        EXPECT_NEAR(std::accumulate(r.people.begin(), r.people.end(), 0.0),
                    std::accumulate(totals.begin(), totals.end(), 0.0), 1e-6);
      }
    }
  }
}

TEST(SpreadZoneTotals, SparseZoneBesideDenseOnesIsReportedNotHidden) {
  // Zone 1 (right half) wants 5 people; zone 0 (left half) 100,000. The cut runs through the middle of a column
  // of cells, so each cut cell counts half in each zone: at zone 0's density those halves alone exceed zone 1's
  // total even with zone 1's own multiplier at 0, and no per-zone scaling reconciles. The fit must say so (a
  // note and the residual), not claim success.
  const GridSpec g = utm_grid(20, 10, 10.0);
  auto rect = [](double x0, double y0, double x1, double y1) {
    std::ostringstream s;
    s.precision(17);
    s << "POLYGON((" << x0 << " " << y0 << "," << x1 << " " << y0 << "," << x1 << " " << y1 << "," << x0 << " " << y1
      << "," << x0 << " " << y0 << "))";
    return wkb_from_wkt(s.str());
  };
  const double x0 = g.col_center_x(0) - 5, x1 = g.col_center_x(19) + 5, y0 = g.row_center_y(9) - 5,
               y1 = g.row_center_y(0) + 5, cut = g.col_center_x(9);
  const ZoneRaster zr = rasterize_zones({rect(x0, y0, cut, y1), rect(cut, y0, x1, y1)}, g, ZoneRaster::Rule::AreaFraction);
  ASSERT_FALSE(zr.splits.empty());
  const SpreadResult r = spread_zone_totals(zr, {100000.0, 5.0});
  EXPECT_GT(r.max_relative_residual, 1e-9);
  ASSERT_FALSE(r.notes.empty());
  EXPECT_NE(r.notes.back().find("reconciliation stopped"), std::string::npos) << r.notes.back();
  const auto s = zonal_sum(zr, r.people.data());
  EXPECT_GT(s[1], 5.0 * (1.0 + 1e-9));  // the overshoot the note reports is real
  for (double p : r.people) EXPECT_GE(p, 0.0);
}

TEST(SpreadZoneTotals, BadInputs) {
  const ZoneRaster zr = two_zones(ZoneRaster::Rule::CellCentre);
  EXPECT_THROW_MSG(spread_zone_totals(zr, {1.0}), InputError, "1 zone totals for 2 zones");
  EXPECT_THROW_MSG(spread_zone_totals(zr, {1.0, -2.0}), InputError, "zone 1", ">= 0");
  const std::vector<double> w = {1, 1, 1, -1, 1, 1, 1, 1};
  SpreadOptions o;
  o.weights = w.data();
  EXPECT_THROW_MSG(spread_zone_totals(zr, {1.0, 2.0}, o), InputError, "row 0, col 3");
  // A zone whose centre-rule raster is empty (smaller than a cell) cannot hold people.
  GridSpec g;
  g.width = 4;
  g.height = 4;
  g.geotransform = {0.0, 1.0, 0.0, 4.0, 0.0, -1.0};
  const Wkb tiny = wkb_from_wkt("POLYGON((1.1 1.1,1.3 1.1,1.3 1.3,1.1 1.3,1.1 1.1))");
  const ZoneRaster centre = rasterize_zones({tiny}, g, ZoneRaster::Rule::CellCentre);
  EXPECT_THROW_MSG(spread_zone_totals(centre, {10.0}), InputError, "zone 0", "area-fraction rule");
  // ... the fraction rule places it in the one cell it cuts: 10 people counted by 0.04 → cell holds 250.
  const ZoneRaster frac = rasterize_zones({tiny}, g, ZoneRaster::Rule::AreaFraction);
  const SpreadResult r = spread_zone_totals(frac, {10.0});
  EXPECT_NEAR(zonal_sum(frac, r.people.data())[0], 10.0, 1e-9);
  EXPECT_NEAR(r.people[2 * 4 + 1], 250.0, 1e-6);
}

}  // namespace
}  // namespace careshed
