// Tests of careshed/urban_rural.hpp on hand-made grids: codes, breaks (inclusive), density clusters with 4 vs 8
// connectivity and inclusive thresholds, classes from zones (split cells by largest fraction).
#include <gtest/gtest.h>

#include <cmath>

#include "careshed/crs.hpp"
#include "careshed/urban_rural.hpp"
#include "careshed/zonal.hpp"
#include "vector_test_util.hpp"

namespace careshed {
namespace {

using testing::wkb_from_wkt;

/// W × H cells of 1 km (1 km² each) in UTM 31N.
GridSpec km_grid(int w, int h) {
  GridSpec g;
  g.width = w;
  g.height = h;
  g.geotransform = {500000.0, 1000.0, 0.0, 1000000.0 + h * 1000.0, 0.0, -1000.0};
  g.crs_wkt = crs_to_wkt("EPSG:32631");
  return g;
}

TEST(ClassesFromCodes, TableUnlistedAndNaN) {
  const std::vector<double> v = {30, 23, 11, 10, std::nan(""), 99, 0};
  const auto c = classes_from_codes(v.data(), 7, {30, 23, 11, 10, -0.0}, {2, 1, 0, kNoClass, 7}, 5);
  EXPECT_EQ(c, (std::vector<std::uint8_t>{2, 1, 0, kNoClass, kNoClass, 5, 7}));
  EXPECT_THROW_MSG(classes_from_codes(v.data(), 7, {1, 1}, {0, 1}), InputError, "twice");
  EXPECT_THROW_MSG(classes_from_codes(v.data(), 7, {1, 2}, {0}), InputError, "one class per code");
}

TEST(ClassesFromBreaks, InclusiveAtBreaks) {
  const std::vector<double> v = {0.0, 0.49, 0.5, 0.8, 0.9, 1.0, std::nan("")};
  const auto c = classes_from_breaks(v.data(), 7, {0.5, 0.9});
  EXPECT_EQ(c, (std::vector<std::uint8_t>{0, 0, 1, 1, 2, 2, kNoClass}));
  EXPECT_THROW_MSG(classes_from_breaks(v.data(), 7, {0.5, 0.5}), InputError, "ascending");
}

TEST(DensityClasses, FourVersusEightConnectivity) {
  // 5 × 5 km grid; two dense cells touching only at a corner, 3000 people each (3000 /km²).
  const GridSpec g = km_grid(5, 5);
  std::vector<double> p(25, 10.0);
  p[1 * 5 + 1] = 3000.0;
  p[2 * 5 + 2] = 3000.0;
  // 8-connected: one cluster of 6000 >= 5000 → class 1; 4-connected: two clusters of 3000 → none.
  const auto c8 = density_classes(p.data(), g, {{300.0, 5000.0, 8}});
  const auto c4 = density_classes(p.data(), g, {{300.0, 5000.0, 4}});
  for (int i = 0; i < 25; ++i) {
    const bool dense = i == 6 || i == 12;
    EXPECT_EQ(c8[static_cast<std::size_t>(i)], dense ? 1 : 0) << i;
    EXPECT_EQ(c4[static_cast<std::size_t>(i)], 0) << i;
  }
}

TEST(DensityClasses, ThresholdsInclusiveAndHighestRuleWins) {
  const GridSpec g = km_grid(4, 3);
  // row 0: a cluster of 300 + 300 + 4400 = 5000 exactly (density 300 inclusive, total 5000 inclusive);
  // row 2: 299.999 is not dense; a lone 1500 cell of 1500 people: dense for both rules but too small;
  // cell (1, 3) is NaN → 255.
  std::vector<double> p = {300, 300, 4400, 0,  //
                           0, 0, 0, std::nan(""),  //
                           299.999, 1500, 0, 0};
  std::vector<std::int64_t> clusters;
  const auto c = density_classes(p.data(), g, {ghsl_urban_cluster(), {1500.0, 4400.0, 4}}, &clusters);
  EXPECT_EQ(c, (std::vector<std::uint8_t>{1, 1, 2, 0, 0, 0, 0, kNoClass, 0, 0, 0, 0}));
  EXPECT_EQ(clusters, (std::vector<std::int64_t>{1, 1}));
  // GHSL defaults as documented
  EXPECT_EQ(ghsl_urban_cluster().min_density_per_km2, 300.0);
  EXPECT_EQ(ghsl_urban_cluster().min_cluster_people, 5000.0);
  EXPECT_EQ(ghsl_urban_cluster().connectivity, 8);
  EXPECT_EQ(ghsl_urban_centre().min_density_per_km2, 1500.0);
  EXPECT_EQ(ghsl_urban_centre().min_cluster_people, 50000.0);
  EXPECT_EQ(ghsl_urban_centre().connectivity, 4);
}

TEST(DensityClasses, CellAreaScalesDensity) {
  // 500 m cells are 0.25 km²: 100 people per cell = 400 /km² (dense at 300), 70 = 280 /km² (not).
  GridSpec g = km_grid(3, 1);
  g.geotransform[1] = 500.0;
  g.geotransform[5] = -500.0;
  const std::vector<double> p = {100, 70, 100};
  const auto c = density_classes(p.data(), g, {{300.0, 100.0, 8}});
  EXPECT_EQ(c, (std::vector<std::uint8_t>{1, 0, 1}));
}

TEST(DensityClasses, BadRules) {
  const GridSpec g = km_grid(2, 2);
  const std::vector<double> p(4, 1.0);
  EXPECT_THROW_MSG(density_classes(p.data(), g, {{300.0, 5000.0, 6}}), InputError, "connectivity 6");
  EXPECT_THROW_MSG(density_classes(p.data(), g, {{-1.0, 5000.0, 4}}), InputError, "rule 0");
}

TEST(ClassesFromZones, SplitCellsTakeTheLargestShare) {
  GridSpec g;
  g.width = 4;
  g.height = 1;
  g.geotransform = {0.0, 1.0, 0.0, 1.0, 0.0, -1.0};
  // zone 0 = [0, 1.7], zone 1 = [1.7, 3.5]; cell 1 is 0.7 / 0.3 → zone 0's class; cell 3 is 0.5 zone 1 only.
  const auto zr = rasterize_zones({wkb_from_wkt("POLYGON((0 0,1.7 0,1.7 1,0 1,0 0))"),
                                   wkb_from_wkt("POLYGON((1.7 0,3.5 0,3.5 1,1.7 1,1.7 0))")},
                                  g, ZoneRaster::Rule::AreaFraction);
  const auto c = classes_from_zones(zr, {1, 0});
  EXPECT_EQ(c, (std::vector<std::uint8_t>{1, 1, 0, 0}));
  const auto cc = classes_from_zones(rasterize_zones({wkb_from_wkt("POLYGON((0 0,1.7 0,1.7 1,0 1,0 0))")}, g,
                                                     ZoneRaster::Rule::CellCentre),
                                     {3});
  EXPECT_EQ(cc, (std::vector<std::uint8_t>{3, 3, kNoClass, kNoClass}));
  EXPECT_THROW_MSG(classes_from_zones(zr, {1}), InputError, "1 zone classes for 2 zones");
}

}  // namespace
}  // namespace careshed
