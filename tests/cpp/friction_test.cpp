// Tests of careshed/friction.hpp on tiny hand-made rasters and line/polygon layers (written with GDAL/OGR
// directly), with every expected friction worked out by hand as 3.6 / speed_kmh.
#include <cpl_conv.h>
#include <gdal.h>
#include <gtest/gtest.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "careshed/crs.hpp"
#include "careshed/error.hpp"
#include "careshed/friction.hpp"
#include "careshed/raster_io.hpp"
#include "careshed/raster_search.hpp"
#include "test_seed.hpp"
#include "careshed/progress.hpp"
#include "run_control_checks.hpp"

namespace fs = std::filesystem;
using careshed::GridSpec;

namespace {

std::string temp_dir() {
  static std::string dir = [] {
    fs::path p = fs::temp_directory_path() / ("careshed_friction_test_" + std::to_string(getpid()));
    fs::create_directories(p);
    return p.string();
  }();
  return dir;
}

OGRSpatialReferenceH srs_of(int epsg) {
  OGRSpatialReferenceH s = OSRNewSpatialReference(nullptr);
  OSRImportFromEPSG(s, epsg);
  OSRSetAxisMappingStrategy(s, OAMS_TRADITIONAL_GIS_ORDER);
  return s;
}

void write_raster(const std::string& path, int w, int h, const std::vector<double>& v, const double gt[6], int epsg,
                  std::optional<double> nodata) {
  GDALAllRegister();
  GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path.c_str(), w, h, 1, GDT_Float64, nullptr);
  ASSERT_NE(ds, nullptr);
  GDALSetGeoTransform(ds, const_cast<double*>(gt));
  OGRSpatialReferenceH s = srs_of(epsg);
  GDALSetSpatialRef(ds, s);
  OSRDestroySpatialReference(s);
  GDALRasterBandH b = GDALGetRasterBand(ds, 1);
  if (nodata) GDALSetRasterNoDataValue(b, *nodata);
  ASSERT_EQ(GDALRasterIO(b, GF_Write, 0, 0, w, h, const_cast<double*>(v.data()), w, h, GDT_Float64, 0, 0), CE_None);
  GDALClose(ds);
}

struct Feature {
  std::string wkt;
  std::vector<std::pair<std::string, std::string>> fields;
};

/// A GeoPackage layer "layer" in EPSG `epsg` with string fields `field_names`.
void write_layer(const std::string& path, int epsg, const std::vector<std::string>& field_names,
                 const std::vector<Feature>& features) {
  GDALAllRegister();
  fs::remove(path);
  GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GPKG"), path.c_str(), 0, 0, 0, GDT_Unknown, nullptr);
  ASSERT_NE(ds, nullptr);
  OGRSpatialReferenceH s = srs_of(epsg);
  OGRLayerH l = GDALDatasetCreateLayer(ds, "layer", s, wkbUnknown, nullptr);
  OSRDestroySpatialReference(s);
  for (const auto& f : field_names) {
    OGRFieldDefnH fd = OGR_Fld_Create(f.c_str(), OFTString);
    OGR_L_CreateField(l, fd, TRUE);
    OGR_Fld_Destroy(fd);
  }
  for (const auto& feat : features) {
    OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(l));
    for (const auto& [k, v] : feat.fields) OGR_F_SetFieldString(f, OGR_F_GetFieldIndex(f, k.c_str()), v.c_str());
    OGRGeometryH g = nullptr;
    char* text = const_cast<char*>(feat.wkt.c_str());
    ASSERT_EQ(OGR_G_CreateFromWkt(&text, nullptr, &g), OGRERR_NONE) << feat.wkt;
    OGR_F_SetGeometryDirectly(f, g);
    ASSERT_EQ(OGR_L_CreateFeature(l, f), OGRERR_NONE);
    OGR_F_Destroy(f);
  }
  GDALClose(ds);
}

/// 10 x 10 grid of 100 m cells, x 500000..501000, y 8800000..8801000 (UTM 38S).
GridSpec small_grid() {
  GridSpec g;
  g.width = 10;
  g.height = 10;
  g.geotransform = {500000, 100, 0, 8801000, 0, -100};
  g.crs_wkt = careshed::epsg_to_wkt(32738);
  return g;
}
double cx(int col) { return 500000 + 100 * (col + 0.5); }
double cy(int row) { return 8801000 - 100 * (row + 0.5); }
std::string hline(int row) {  // along the centres of one row
  return "LINESTRING (500000 " + std::to_string(cy(row)) + ", 501000 " + std::to_string(cy(row)) + ")";
}
std::string vline(int col) {
  return "LINESTRING (" + std::to_string(cx(col)) + " 8800000, " + std::to_string(cx(col)) + " 8801000)";
}

careshed::FrictionInputs walking_background() {
  careshed::FrictionInputs in;
  in.background_speed_kmh = 5.0;
  return in;
}

}  // namespace

TEST(FrictionUnits, ConversionsAndNames) {
  EXPECT_DOUBLE_EQ(careshed::speed_kmh_to_seconds_per_metre(36.0), 0.1);
  EXPECT_TRUE(std::isnan(careshed::speed_kmh_to_seconds_per_metre(0.0)));
  EXPECT_TRUE(std::isnan(careshed::speed_kmh_to_seconds_per_metre(std::nan(""))));
  EXPECT_EQ(careshed::speed_kmh_to_seconds_per_metre(INFINITY), 0.0);
  EXPECT_EQ(careshed::friction_unit_from_string("min/m"), careshed::FrictionUnit::MinutesPerMetre);
  EXPECT_DOUBLE_EQ(careshed::seconds_per_metre_per_unit(careshed::FrictionUnit::MinutesPerMetre), 60.0);
  EXPECT_DOUBLE_EQ(careshed::seconds_per_metre_per_unit(careshed::FrictionUnit::MinutesPerKilometre), 0.06);
  EXPECT_THROW(careshed::friction_unit_from_string("furlongs/fortnight"), careshed::InputError);
}

TEST(Friction, LandcoverClassesMapToThreePointSixOverSpeed) {
  // 4 x 3 class raster of 250 m cells on the same CRS; the grid has 125 m cells (each class cell -> 2 x 2).
  std::string path = temp_dir() + "/classes.tif";
  std::vector<double> cls{1, 1, 2, 3,  //
                          2, 9, 1, 1,  //
                          3, 3, 2, 255};
  double gt[6] = {500000, 250, 0, 8801000, 0, -250};
  write_raster(path, 4, 3, cls, gt, 32738, 255.0);
  GridSpec g;
  g.width = 8;
  g.height = 6;
  g.geotransform = {500000, 125, 0, 8801000, 0, -125};
  g.crs_wkt = careshed::epsg_to_wkt(32738);
  careshed::FrictionInputs in;
  careshed::LandcoverClasses lc;
  lc.path = path;
  lc.speed_kmh = {{1, 5.0}, {2, 2.0}, {3, 0.0}, {9, 36.0}};
  in.landcover = lc;
  auto fs = careshed::build_friction_surface(g, in);
  auto expect_of = [](double c) -> double {
    if (c == 1) return 3.6 / 5.0;
    if (c == 2) return 3.6 / 2.0;
    if (c == 9) return 0.1;
    return std::nan("");  // class 3 (speed 0) and nodata 255
  };
  for (int r = 0; r < 6; ++r) {
    for (int c = 0; c < 8; ++c) {
      double want = expect_of(cls[(r / 2) * 4 + c / 2]);
      double got = fs.seconds_per_metre[r * 8 + c];
      if (std::isnan(want)) EXPECT_TRUE(std::isnan(got)) << r << "," << c;
      else EXPECT_DOUBLE_EQ(got, want) << r << "," << c;
    }
  }
  EXPECT_EQ(fs.report.impassable_cells, 4 * 4);  // three class-3 cells and one nodata cell, 4 grid cells each
}

TEST(Friction, UnknownClassesAreListedOrGetTheDefault) {
  std::string path = temp_dir() + "/classes2.tif";
  double gt[6] = {500000, 500, 0, 8801000, 0, -500};
  write_raster(path, 2, 2, {1, 7, 8, 7}, gt, 32738, std::nullopt);
  GridSpec g = small_grid();
  careshed::FrictionInputs in;
  careshed::LandcoverClasses lc;
  lc.path = path;
  lc.speed_kmh = {{1, 4.0}};
  in.landcover = lc;
  try {
    careshed::build_friction_surface(g, in);
    FAIL() << "unknown classes accepted";
  } catch (const careshed::InputError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("7 (50 cells)"), std::string::npos) << m;
    EXPECT_NE(m.find("8 (25 cells)"), std::string::npos) << m;
    EXPECT_NE(m.find("classes2.tif"), std::string::npos) << m;
  }
  in.landcover->default_speed_kmh = 2.0;
  auto fs = careshed::build_friction_surface(g, in);
  EXPECT_DOUBLE_EQ(fs.seconds_per_metre[0], 3.6 / 4.0);  // class 1 (top-left quarter)
  EXPECT_DOUBLE_EQ(fs.seconds_per_metre[9], 3.6 / 2.0);  // class 7 (top-right)
  EXPECT_DOUBLE_EQ(fs.seconds_per_metre[99], 3.6 / 2.0);
  // Non-integer class values: not a class raster.
  std::string frac = temp_dir() + "/notclasses.tif";
  write_raster(frac, 2, 2, {1.5, 1, 1, 1}, gt, 32738, std::nullopt);
  in.landcover->path = frac;
  EXPECT_THROW(careshed::build_friction_surface(g, in), careshed::InputError);
}

TEST(Friction, CrossingRoadsKeepTheFastestWhateverTheirOrder) {
  GridSpec g = small_grid();
  // primary (car profile 70 km/h) along row 5, residential (30 km/h) along column 3, a footway (not in the
  // car profile) along row 8, a primary with maxspeed 50 along row 1.
  for (int order = 0; order < 2; ++order) {
    std::vector<Feature> feats{{hline(5), {{"highway", "primary"}}},
                               {vline(3), {{"highway", "residential"}}},
                               {hline(8), {{"highway", "footway"}}},
                               {hline(1), {{"highway", "primary"}, {"maxspeed", "50"}}}};
    if (order == 1) std::reverse(feats.begin(), feats.end());
    std::string path = temp_dir() + "/roads" + std::to_string(order) + ".gpkg";
    write_layer(path, 32738, {"highway", "maxspeed"}, feats);
    careshed::FrictionInputs in = walking_background();
    careshed::RoadLayer rl;
    rl.path = path;
    in.roads.push_back(rl);
    auto fs = careshed::build_friction_surface(g, in);
    for (int r = 0; r < 10; ++r) {
      for (int c = 0; c < 10; ++c) {
        double speed = 5.0;
        if (c == 3) speed = 30.0;
        if (r == 1) speed = 50.0;  // maxspeed beats the class speed (70), and 50 > 30 at the crossing
        if (r == 5) speed = 70.0;
        EXPECT_DOUBLE_EQ(fs.seconds_per_metre[r * 10 + c], 3.6 / speed) << "order " << order << " " << r << "," << c;
      }
    }
    EXPECT_EQ(fs.report.road_features, 3);
    EXPECT_EQ(fs.report.road_features_skipped, 1);
    EXPECT_EQ(fs.report.skipped_classes.at("footway"), 1);
  }
}

TEST(Friction, RoadsAreReprojectedAndReadFromOsmOtherTags) {
  GridSpec g = small_grid();
  // The same horizontal line along row 2, written in lon/lat; class and maxspeed only in other_tags.
  std::vector<double> x{500000, 501000}, y{cy(2), cy(2)};
  careshed::transform_xy(x, y, g.crs_wkt, "EPSG:4326");
  char buf[256];
  std::snprintf(buf, sizeof buf, "LINESTRING (%.10f %.10f, %.10f %.10f)", x[0], y[0], x[1], y[1]);
  std::string path = temp_dir() + "/osmlike.gpkg";
  write_layer(path, 4326, {"name", "other_tags"},
              {{buf, {{"name", "RN1"}, {"other_tags", "\"lanes\"=>\"2\",\"highway\"=>\"secondary\",\"maxspeed\"=>\"30 mph\""}}}});
  careshed::FrictionInputs in = walking_background();
  careshed::RoadLayer rl;
  rl.path = path;
  in.roads.push_back(rl);
  auto fs = careshed::build_friction_surface(g, in);
  const double mph30 = 30 * 1.609344;
  for (int c = 0; c < 10; ++c) EXPECT_NEAR(fs.seconds_per_metre[2 * 10 + c], 3.6 / mph30, 1e-12) << c;
  EXPECT_DOUBLE_EQ(fs.seconds_per_metre[3 * 10 + 4], 3.6 / 5.0);
  // Without maxspeed use: the class speed of 'secondary' in the car profile (60 km/h).
  in.roads[0].profile.set_use_maxspeed(false);
  fs = careshed::build_friction_surface(g, in);
  EXPECT_DOUBLE_EQ(fs.seconds_per_metre[2 * 10 + 7], 3.6 / 60.0);
  // A class field that does not exist, in a layer without other_tags: the error lists the fields.
  std::string plain = temp_dir() + "/plain.gpkg";
  write_layer(plain, 32738, {"kind"}, {{hline(0), {{"kind", "primary"}}}});
  in.roads[0].path = plain;
  try {
    careshed::build_friction_surface(g, in);
    FAIL();
  } catch (const careshed::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("kind"), std::string::npos) << e.what();
  }
  in.roads[0].class_field = "kind";
  fs = careshed::build_friction_surface(g, in);
  EXPECT_DOUBLE_EQ(fs.seconds_per_metre[4], 3.6 / 70.0);
}

TEST(Friction, BarriersWinOverRoadsAndLandcover) {
  GridSpec g = small_grid();
  std::string roads = temp_dir() + "/roads_b.gpkg";
  write_layer(roads, 32738, {"highway"}, {{vline(6), {{"highway", "trunk"}}}});
  // A lake covering the centres of rows 0-1, columns 4-8 (x 500400..500900, y 8800800..8801000).
  std::string lake = temp_dir() + "/lake.gpkg";
  write_layer(lake, 32738, {},
              {{"POLYGON ((500400 8800800, 500900 8800800, 500900 8801000, 500400 8801000, 500400 8800800))", {}}});
  careshed::FrictionInputs in = walking_background();
  careshed::RoadLayer rl;
  rl.path = roads;
  in.roads.push_back(rl);
  careshed::Barrier b;
  b.path = lake;
  in.barriers.push_back(b);
  // And a raster mask marking the bottom-left cell.
  std::string mask = temp_dir() + "/mask.tif";
  std::vector<double> m(100, 0.0);
  m[9 * 10 + 0] = 1;
  double gt[6] = {500000, 100, 0, 8801000, 0, -100};
  write_raster(mask, 10, 10, m, gt, 32738, std::nullopt);
  careshed::Barrier mb;
  mb.path = mask;
  mb.is_raster = true;
  in.barriers.push_back(mb);
  auto fs = careshed::build_friction_surface(g, in);
  for (int r = 0; r < 10; ++r) {
    for (int c = 0; c < 10; ++c) {
      bool barrier = (r <= 1 && c >= 4 && c <= 8) || (r == 9 && c == 0);
      double got = fs.seconds_per_metre[r * 10 + c];
      if (barrier) EXPECT_TRUE(std::isnan(got)) << r << "," << c;
      else EXPECT_DOUBLE_EQ(got, 3.6 / (c == 6 ? 90.0 : 5.0)) << r << "," << c;
    }
  }
  EXPECT_EQ(fs.report.barrier_cells, 11);
  EXPECT_EQ(fs.report.impassable_cells, 11);
}

TEST(Friction, SpeedAndFrictionRastersWithUnits) {
  GridSpec g = small_grid();
  double gt[6] = {500000, 500, 0, 8801000, 0, -500};
  std::string speed = temp_dir() + "/speed.tif";
  write_raster(speed, 2, 2, {10, 20, -1, 0}, gt, 32738, -1.0);
  std::string fric = temp_dir() + "/fric_min_per_m.tif";
  // MAP-style minutes per metre: 0.001 min/m = 0.06 s/m = 60 km/h; 0.01 min/m = 6 km/h.
  write_raster(fric, 2, 2, {0.01, 0.001, 0.01, -9999}, gt, 32738, -9999.0);
  careshed::FrictionInputs in;
  in.speed_raster = careshed::SpeedRaster{speed, 1, careshed::Resampling::Nearest};
  auto a = careshed::build_friction_surface(g, in);
  EXPECT_DOUBLE_EQ(a.seconds_per_metre[0], 0.36);
  EXPECT_DOUBLE_EQ(a.seconds_per_metre[9], 0.18);
  EXPECT_TRUE(std::isnan(a.seconds_per_metre[90]));  // nodata
  EXPECT_TRUE(std::isnan(a.seconds_per_metre[99]));  // speed 0
  careshed::FrictionInputs f;
  f.friction_raster = careshed::FrictionRaster{fric, 1, careshed::FrictionUnit::MinutesPerMetre,
                                               careshed::Resampling::Nearest};
  auto b = careshed::build_friction_surface(g, f);
  EXPECT_NEAR(b.seconds_per_metre[0], 0.6, 1e-12);
  EXPECT_NEAR(b.seconds_per_metre[9], 0.06, 1e-12);
  EXPECT_TRUE(std::isnan(b.seconds_per_metre[99]));
  // Both: fastest per cell.
  in.friction_raster = f.friction_raster;
  auto c = careshed::build_friction_surface(g, in);
  EXPECT_NEAR(c.seconds_per_metre[0], 0.36, 1e-12);   // 10 km/h beats 6 km/h
  EXPECT_NEAR(c.seconds_per_metre[9], 0.06, 1e-12);   // 60 km/h beats 20 km/h
  EXPECT_NEAR(c.seconds_per_metre[90], 0.6, 1e-12);   // only the friction raster
  // Negative speeds are refused, naming the file.
  std::string bad = temp_dir() + "/badspeed.tif";
  write_raster(bad, 2, 2, {10, -3, 1, 1}, gt, 32738, std::nullopt);
  careshed::FrictionInputs nb;
  nb.speed_raster = careshed::SpeedRaster{bad, 1, careshed::Resampling::Nearest};
  try {
    careshed::build_friction_surface(g, nb);
    FAIL();
  } catch (const careshed::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("badspeed.tif"), std::string::npos);
  }
}

TEST(Friction, DominantCoverFractions) {
  GridSpec g;
  g.width = 3;
  g.height = 1;
  g.geotransform = {500000, 100, 0, 8801000, 0, -100};
  g.crs_wkt = careshed::epsg_to_wkt(32738);
  double gt[6] = {500000, 100, 0, 8801000, 0, -100};
  std::string tree = temp_dir() + "/tree.tif", built = temp_dir() + "/built.tif";
  // cell 0: tree 60 %, built 10 % (other 30 %) -> tree; cell 1: tree 20, built 30 (other 50) -> other;
  // cell 2: nodata in one layer -> no speed.
  write_raster(tree, 3, 1, {60, 20, 10}, gt, 32738, -9999.0);
  write_raster(built, 3, 1, {10, 30, -9999}, gt, 32738, -9999.0);
  careshed::FrictionInputs in;
  careshed::LandcoverFractions lf;
  lf.paths = {tree, built};
  lf.speeds_kmh = {2.0, 20.0};
  lf.other_speed_kmh = 4.0;
  in.landcover_fractions = lf;
  auto fs = careshed::build_friction_surface(g, in);
  EXPECT_DOUBLE_EQ(fs.seconds_per_metre[0], 3.6 / 2.0);
  EXPECT_DOUBLE_EQ(fs.seconds_per_metre[1], 3.6 / 4.0);
  EXPECT_TRUE(std::isnan(fs.seconds_per_metre[2]));
}

TEST(Friction, BadInputsGiveClearErrors) {
  GridSpec g = small_grid();
  careshed::FrictionInputs none;
  EXPECT_THROW(careshed::build_friction_surface(g, none), careshed::InputError);
  careshed::FrictionInputs missing;
  missing.landcover = careshed::LandcoverClasses{temp_dir() + "/absent.tif", 1, {{1, 5.0}}, std::nullopt,
                                                 careshed::Resampling::Nearest};
  try {
    careshed::build_friction_surface(g, missing);
    FAIL();
  } catch (const careshed::DataIOError& e) {
    EXPECT_NE(std::string(e.what()).find("absent.tif"), std::string::npos);
  }
  careshed::FrictionInputs neg = walking_background();
  neg.background_speed_kmh = -1;
  EXPECT_THROW(careshed::build_friction_surface(g, neg), careshed::InputError);
  careshed::FrictionInputs avg;
  avg.landcover = careshed::LandcoverClasses{"x.tif", 1, {{1, 5.0}}, std::nullopt, careshed::Resampling::Average};
  EXPECT_THROW(careshed::build_friction_surface(g, avg), careshed::InputError);
  careshed::FrictionInputs roads = walking_background();
  careshed::RoadLayer rl;
  rl.path = temp_dir() + "/roads0.gpkg";
  rl.layer = "no_such_layer";
  roads.roads.push_back(rl);
  EXPECT_THROW(careshed::build_friction_surface(g, roads), careshed::DataIOError);
}

TEST(Friction, SpeedArrayOnTheGridIsOneMoreLayer) {
  GridSpec g = small_grid();
  std::vector<double> speed(100, std::nan(""));
  for (int r = 0; r < 10; ++r) speed[r * 10 + 9] = 18.0;  // only the last column
  careshed::FrictionInputs in;
  in.speed_kmh_on_grid = speed.data();
  auto fs = careshed::build_friction_surface(g, in);
  EXPECT_DOUBLE_EQ(fs.seconds_per_metre[9], 0.2);
  EXPECT_TRUE(std::isnan(fs.seconds_per_metre[8]));
  EXPECT_EQ(fs.report.impassable_cells, 90);
  in.background_speed_kmh = 36.0;  // faster than the array everywhere
  fs = careshed::build_friction_surface(g, in);
  EXPECT_DOUBLE_EQ(fs.seconds_per_metre[9], 0.1);
  speed[55] = -2.0;
  EXPECT_THROW(careshed::build_friction_surface(g, in), careshed::InputError);
}

// ---- land masks (Barrier::outside): the sea is impassable, whatever the background speed or a road says ----

namespace {

std::string box_wkt(double x0, double y0, double x1, double y1) {
  auto p = [](double x, double y) { return std::to_string(x) + " " + std::to_string(y); };
  return "POLYGON ((" + p(x0, y0) + ", " + p(x1, y0) + ", " + p(x1, y1) + ", " + p(x0, y1) + ", " + p(x0, y0) + "))";
}

careshed::Barrier land_mask(const std::string& path, bool all_touched) {
  careshed::Barrier b;
  b.path = path;
  b.outside = true;
  b.all_touched = all_touched;
  return b;
}

/// Travel times (s) over `fs` from one source cell, 8 neighbours, no cutoff.
std::vector<float> seconds_from(const careshed::FrictionSurface& fs, int row, int col) {
  careshed::FrictionGrid fg;
  fg.friction_f64 = fs.seconds_per_metre.data();
  fg.rows = fs.grid.height;
  fg.cols = fs.grid.width;
  fg.dx_m = fs.grid.geotransform[1];
  fg.dy_m = -fs.grid.geotransform[5];
  std::vector<careshed::CellLabel> out(static_cast<size_t>(fs.grid.size()));
  const std::int64_t src[2] = {row, col};
  careshed::raster_travel_time(fg, src, 1, careshed::RasterSearchOptions{}, out.data());
  std::vector<float> s(out.size());
  for (size_t i = 0; i < out.size(); ++i) s[i] = out[i].seconds;
  return s;
}

}  // namespace

TEST(FrictionLandMask, CellsOutsideTheLandAreImpassableEvenOnARoad) {
  GridSpec g = small_grid();
  // Land: x 500000..500430, the whole height. Centre rule: columns 0-3 (column 4's centre is at 500450);
  // all touched: columns 0-4.
  std::string land = temp_dir() + "/land.gpkg";
  write_layer(land, 32738, {}, {{box_wkt(500000, 8800000, 500430, 8801000), {}}});
  // A trunk road along row 5 runs out to sea (a causeway on the map, a ferry line mistagged ...).
  std::string roads = temp_dir() + "/roads_sea.gpkg";
  write_layer(roads, 32738, {"highway"}, {{hline(5), {{"highway", "trunk"}}}});
  for (bool all_touched : {false, true}) {
    SCOPED_TRACE(all_touched ? "all touched" : "cell centre");
    careshed::FrictionInputs in = walking_background();
    careshed::RoadLayer rl;
    rl.path = roads;
    in.roads.push_back(rl);
    in.barriers.push_back(land_mask(land, all_touched));
    auto fs = careshed::build_friction_surface(g, in);
    const int last_land_col = all_touched ? 4 : 3;
    for (int r = 0; r < 10; ++r) {
      for (int c = 0; c < 10; ++c) {
        double got = fs.seconds_per_metre[r * 10 + c];
        if (c > last_land_col) EXPECT_TRUE(std::isnan(got)) << r << "," << c;
        else EXPECT_DOUBLE_EQ(got, 3.6 / (r == 5 ? 90.0 : 5.0)) << r << "," << c;
      }
    }
    EXPECT_EQ(fs.report.barrier_cells, 10 * (9 - last_land_col));
    EXPECT_EQ(fs.report.impassable_cells, 10 * (9 - last_land_col));
    ASSERT_FALSE(fs.report.notes.empty());
    bool noted = false;
    for (const auto& n : fs.report.notes) noted = noted || n.find("land mask") != std::string::npos;
    EXPECT_TRUE(noted);
  }
}

TEST(FrictionLandMask, RasterLandMaskZeroNodataAndOffRasterAreSea) {
  GridSpec g = small_grid();
  // The mask covers only the top 8 rows of the grid: row 0 is land (1), row 1 is land coded 7 (any
  // non-zero value), rows 2-6 sea (0), row 7 nodata (255); rows 8-9 are off the raster.
  std::vector<double> m(80, 0.0);
  for (int c = 0; c < 10; ++c) {
    m[c] = 1;
    m[10 + c] = 7;
    m[70 + c] = 255;
  }
  std::string mask = temp_dir() + "/land_mask.tif";
  double gt[6] = {500000, 100, 0, 8801000, 0, -100};
  write_raster(mask, 10, 8, m, gt, 32738, 255.0);
  careshed::FrictionInputs in = walking_background();
  careshed::Barrier b;
  b.path = mask;
  b.is_raster = true;
  b.outside = true;
  in.barriers.push_back(b);
  auto fs = careshed::build_friction_surface(g, in);
  for (int r = 0; r < 10; ++r) {
    for (int c = 0; c < 10; ++c) {
      double got = fs.seconds_per_metre[r * 10 + c];
      if (r <= 1) EXPECT_DOUBLE_EQ(got, 3.6 / 5.0) << r << "," << c;
      else EXPECT_TRUE(std::isnan(got)) << r << "," << c;
    }
  }
  EXPECT_EQ(fs.report.barrier_cells, 80);
  // The same raster as an ordinary barrier cuts the non-zero cells instead: rows 0-1.
  in.barriers[0].outside = false;
  auto plain = careshed::build_friction_surface(g, in);
  EXPECT_EQ(plain.report.barrier_cells, 20);
  EXPECT_TRUE(std::isnan(plain.seconds_per_metre[0]));
  EXPECT_DOUBLE_EQ(plain.seconds_per_metre[50], 3.6 / 5.0);
}

TEST(FrictionLandMask, ALandMaskWithNoLandOnTheGridIsAnError) {
  GridSpec g = small_grid();
  std::string far = temp_dir() + "/land_far.gpkg";
  write_layer(far, 32738, {}, {{box_wkt(600000, 8700000, 600500, 8700500), {}}});
  careshed::FrictionInputs in = walking_background();
  in.barriers.push_back(land_mask(far, true));
  try {
    careshed::build_friction_surface(g, in);
    FAIL() << "expected InputError";
  } catch (const careshed::InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("land_far.gpkg"), std::string::npos) << msg;
    EXPECT_NE(msg.find("no cell of the grid as land"), std::string::npos) << msg;
  }
  // As an ordinary barrier the same far-away polygon is simply nothing.
  in.barriers[0].outside = false;
  EXPECT_EQ(careshed::build_friction_surface(g, in).report.barrier_cells, 0);
}

TEST(FrictionLandMask, RandomLandPolygonsMatchGeometricPredicates) {
  // Oracle: a cell is land when OGR says the polygon contains its centre (centre rule) or overlaps it with
  // positive area (all touched); cells within 1e-6 m of a boundary under the all-touched rule are ambiguous
  // (GDAL may or may not count a mere touch) and skipped.
  const std::uint64_t seed = careshed_test::fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> ux(499800, 501200), uy(8799800, 8801200);
  GridSpec g = small_grid();
  for (int trial = 0; trial < 20; ++trial) {
    // A random triangle and a random box (possibly reaching beyond the grid), as one MultiPolygon.
    double x0 = ux(rng), x1 = ux(rng), y0 = uy(rng), y1 = uy(rng);
    std::string tri;
    for (int k = 0; k < 3; ++k) tri += std::to_string(ux(rng)) + " " + std::to_string(uy(rng)) + ", ";
    tri += tri.substr(0, tri.find(','));  // close the ring on its first vertex
    const std::string box = box_wkt(std::min(x0, x1), std::min(y0, y1), std::max(x0, x1), std::max(y0, y1));
    const std::string wkt = "MULTIPOLYGON (((" + tri + ")), " + box.substr(std::string("POLYGON ").size()) + ")";
    OGRGeometryH poly = nullptr;
    char* text = const_cast<char*>(wkt.c_str());
    ASSERT_EQ(OGR_G_CreateFromWkt(&text, nullptr, &poly), OGRERR_NONE) << wkt;
    OGRGeometryH land_geom = OGR_G_UnionCascaded(poly);  // the triangle and the box may overlap
    ASSERT_NE(land_geom, nullptr);
    char* land_wkt = nullptr;
    OGR_G_ExportToWkt(land_geom, &land_wkt);
    std::string path = temp_dir() + "/land_random.gpkg";
    write_layer(path, 32738, {}, {{land_wkt, {}}});
    CPLFree(land_wkt);
    for (bool all_touched : {false, true}) {
      careshed::FrictionInputs in = walking_background();
      in.barriers.push_back(land_mask(path, all_touched));
      std::vector<double> got(100);
      bool any_land = false;
      for (int r = 0; r < 10 && !any_land; ++r)
        for (int c = 0; c < 10 && !any_land; ++c) {
          OGRGeometryH cell = nullptr;
          std::string cw = box_wkt(cx(c) - 50, cy(r) - 50, cx(c) + 50, cy(r) + 50);
          char* ct = const_cast<char*>(cw.c_str());
          OGR_G_CreateFromWkt(&ct, nullptr, &cell);
          OGRGeometryH centre = OGR_G_CreateGeometry(wkbPoint);
          OGR_G_SetPoint_2D(centre, 0, cx(c), cy(r));
          any_land = all_touched ? OGR_G_Intersects(cell, land_geom) : OGR_G_Contains(land_geom, centre);
          OGR_G_DestroyGeometry(cell);
          OGR_G_DestroyGeometry(centre);
        }
      if (!any_land) {  // no land on the grid: the error case, tested above
        EXPECT_THROW(careshed::build_friction_surface_into(g, in, got.data()), careshed::InputError);
        continue;
      }
      careshed::build_friction_surface_into(g, in, got.data());
      for (int r = 0; r < 10; ++r) {
        for (int c = 0; c < 10; ++c) {
          std::string cw = box_wkt(cx(c) - 50, cy(r) - 50, cx(c) + 50, cy(r) + 50);
          char* ct = const_cast<char*>(cw.c_str());
          OGRGeometryH cell = nullptr;
          OGR_G_CreateFromWkt(&ct, nullptr, &cell);
          bool is_land;
          if (all_touched) {
            OGRGeometryH inter = OGR_G_Intersection(cell, land_geom);
            const double area = inter ? OGR_G_Area(inter) : 0.0;
            if (inter) OGR_G_DestroyGeometry(inter);
            const double dist = OGR_G_Distance(cell, land_geom);
            OGR_G_DestroyGeometry(cell);
            if (area <= 1e-6 && dist <= 1e-6) continue;  // a mere touch: ambiguous
            is_land = area > 1e-6;
          } else {
            OGR_G_DestroyGeometry(cell);
            OGRGeometryH centre = OGR_G_CreateGeometry(wkbPoint);
            OGR_G_SetPoint_2D(centre, 0, cx(c), cy(r));
            is_land = OGR_G_Contains(land_geom, centre);
            OGR_G_DestroyGeometry(centre);
          }
          const double f = got[static_cast<size_t>(r * 10 + c)];
          EXPECT_EQ(std::isnan(f), !is_land) << "trial " << trial << (all_touched ? " all touched" : " centre")
                                               << " cell " << r << "," << c << " land " << wkt;
        }
      }
    }
    OGR_G_DestroyGeometry(land_geom);
    OGR_G_DestroyGeometry(poly);
  }
}

TEST(FrictionLandMask, ACellBehindAWaterBandIsReachedOnlyAroundIt) {
  GridSpec g = small_grid();
  // A water band over column 5, rows 0-8 (the centres of x 500500..500600, y 8800100..8801000); row 9 is a
  // land bridge. Walking 5 km/h everywhere else: f = 0.72 s/m, a rook step 72 s, a diagonal 72 * sqrt(2).
  std::string band = temp_dir() + "/water_band.gpkg";
  write_layer(band, 32738, {}, {{box_wkt(500500, 8800100, 500600, 8801000), {}}});
  careshed::FrictionInputs in = walking_background();
  auto open_water = careshed::build_friction_surface(g, in);
  careshed::Barrier water;
  water.path = band;
  in.barriers.push_back(water);
  auto with_band = careshed::build_friction_surface(g, in);
  ASSERT_EQ(with_band.report.barrier_cells, 9);
  const double step = 100 * 3.6 / 5.0;
  // From (0, 0) to (0, 9): 9 rook steps over open ground; around the band the path must pass (9, 5), the
  // only passable cell of column 5: (0,0)->(9,5) is 5 diagonals + 4 rook steps, (9,5)->(0,9) 4 diagonals +
  // 5 rook steps.
  const double straight = 9 * step;
  const double around = (9 + 9 * std::sqrt(2.0)) * step;
  EXPECT_NEAR(seconds_from(open_water, 0, 0)[9], straight, straight * 1e-6);
  auto t = seconds_from(with_band, 0, 0);
  EXPECT_NEAR(t[9], around, around * 1e-6);
  for (int r = 0; r <= 8; ++r) EXPECT_TRUE(std::isinf(t[static_cast<size_t>(r * 10 + 5)])) << "water row " << r;
  // Close the land bridge (land mask without row 9's strip at column 5): the far side is cut off.
  std::string land = temp_dir() + "/land_two_banks.gpkg";
  write_layer(land, 32738, {},
              {{"MULTIPOLYGON (((500000 8800000, 500500 8800000, 500500 8801000, 500000 8801000, 500000 8800000)),"
                " ((500600 8800000, 501000 8800000, 501000 8801000, 500600 8801000, 500600 8800000)))",
                {}}});
  in.barriers.push_back(land_mask(land, false));
  auto cut = seconds_from(careshed::build_friction_surface(g, in), 0, 0);
  for (int r = 0; r < 10; ++r) {
    for (int c = 0; c < 10; ++c) {
      if (c < 5) EXPECT_TRUE(std::isfinite(cut[static_cast<size_t>(r * 10 + c)])) << r << "," << c;
      else EXPECT_TRUE(std::isinf(cut[static_cast<size_t>(r * 10 + c)])) << r << "," << c;
    }
  }
}

TEST(FrictionLandMask, ComorosIslandsAreUnreachableFromEachOtherWithoutAFerry) {
  // Real data: data/comoros/land.geojson (OSM coastline; data/comoros/README.md). A 500 m UTM 38S grid over
  // Mwali and Nzwani, walking 5 km/h everywhere, the roads of the OSM extract at car speeds, and a health
  // post in Fomboni (Mwali). Without the land mask the sea is walked across and Nzwani is reached; with it
  // no cell of Nzwani is, while Mwali's main island is reached in full.
  const std::string dir = std::string(CARESHED_SOURCE_DIR) + "/data/comoros/";
  GridSpec g = careshed::make_grid(careshed::Bounds{330000, 8620000, 460000, 8680000}, 500.0, "EPSG:32738");
  careshed::FrictionInputs in = walking_background();
  careshed::RoadLayer rl;
  rl.path = dir + "comores-latest.osm.pbf";
  in.roads.push_back(rl);
  auto sea_walkable = careshed::build_friction_surface(g, in);
  in.barriers.push_back(land_mask(dir + "land.geojson", true));
  auto masked = careshed::build_friction_surface(g, in);
  EXPECT_GT(masked.report.barrier_cells, g.size() / 2);  // most of this window is sea
  // Fomboni (43.7418 E, 12.2799 S) in UTM 38S, and a point of Nzwani (Mutsamudu, 44.3932 E, 12.1670 S).
  auto cell_of = [&](double lon, double lat) {
    double x = lon, y = lat;
    careshed::transform_xy(&x, &y, 1, "EPSG:4326", g.crs_wkt);
    return std::pair<int, int>{static_cast<int>((g.geotransform[3] - y) / 500.0),
                               static_cast<int>((x - g.geotransform[0]) / 500.0)};
  };
  auto [fr, fc] = cell_of(43.7418, -12.2799);
  auto [mr, mc] = cell_of(44.3932, -12.1670);
  const auto far_cell = static_cast<size_t>(mr * g.width + mc);
  ASSERT_FALSE(std::isnan(masked.seconds_per_metre[far_cell])) << "Mutsamudu must be land";
  EXPECT_TRUE(std::isfinite(seconds_from(sea_walkable, fr, fc)[far_cell]));
  auto t = seconds_from(masked, fr, fc);
  EXPECT_TRUE(std::isinf(t[far_cell]));
  // Every reached cell lies west of 44.0 E (Mwali), and the reached area is Mwali-sized (211 km^2 of land:
  // 500 m cells touching it, 0.25 km^2 each, so between 211 / 0.25 and twice that).
  double x44 = 44.0, y44 = -12.2;
  careshed::transform_xy(&x44, &y44, 1, "EPSG:4326", g.crs_wkt);
  const int col44 = static_cast<int>((x44 - g.geotransform[0]) / 500.0);
  int64_t reached = 0, reached_east = 0;
  for (int64_t i = 0; i < g.size(); ++i) {
    if (!std::isfinite(t[static_cast<size_t>(i)])) continue;
    ++reached;
    if (i % g.width > col44) ++reached_east;
  }
  EXPECT_EQ(reached_east, 0);
  EXPECT_GT(reached, 211 / 0.25);
  EXPECT_LT(reached, 2 * 211 / 0.25);
}

TEST(FrictionLandMask, AnEdgeCrossingACellInsideItKeepsTheCellAsLand) {
  // Regression (found by the random test above): land up to y = 8800900.65, 0.65 m into row 0. GDAL 3.6's
  // polygon ALL_TOUCHED leaves row 0 out (OSGeo/gdal#12129); every row holds land, so nothing is sea.
  GridSpec g = small_grid();
  std::string land = temp_dir() + "/land_edge.gpkg";
  write_layer(land, 32738, {}, {{box_wkt(499950, 8799950, 501050, 8800900.65), {}}});
  careshed::FrictionInputs in = walking_background();
  in.barriers.push_back(land_mask(land, true));
  auto fs = careshed::build_friction_surface(g, in);
  EXPECT_EQ(fs.report.barrier_cells, 0);
  for (int c = 0; c < 10; ++c) EXPECT_DOUBLE_EQ(fs.seconds_per_metre[static_cast<size_t>(c)], 3.6 / 5.0) << c;
  // With the cell-centre rule row 0 (centres at y 8800950) is sea.
  in.barriers[0].all_touched = false;
  EXPECT_EQ(careshed::build_friction_surface(g, in).report.barrier_cells, 10);
}

// ---- cancellation and progress (careshed/progress.hpp) ------------------------------------------------
namespace {

TEST(FrictionControl, SameSurfaceWithAControlAndCancelStops) {
  GridSpec g = small_grid();
  careshed::FrictionInputs in = walking_background();
  std::vector<double> speed(static_cast<std::size_t>(g.size()));
  for (std::size_t i = 0; i < speed.size(); ++i) speed[i] = static_cast<double>(i % 7) * 3.0;
  in.speed_kmh_on_grid = speed.data();
  const careshed::FrictionSurface a = careshed::build_friction_surface(g, in);
  careshed::FrictionSurface b;
  careshed_test::watch_progress([&](careshed::RunControl* c) { b = careshed::build_friction_surface(g, in, c); },
                                "build_friction_surface");
  ASSERT_EQ(a.seconds_per_metre.size(), b.seconds_per_metre.size());
  for (std::size_t i = 0; i < a.seconds_per_metre.size(); ++i)
    EXPECT_TRUE(a.seconds_per_metre[i] == b.seconds_per_metre[i] ||
                (std::isnan(a.seconds_per_metre[i]) && std::isnan(b.seconds_per_metre[i])));
  careshed_test::expect_stops_when_cancelled_before(
      [&](careshed::RunControl* c) { careshed::build_friction_surface(g, in, c); }, "build_friction_surface");
}

}  // namespace
