// Tests of careshed/raster_io.hpp: grids, reading onto grids (each resampling against a hand-computed
// expectation), COG writing, errors. Fixtures are written with GDAL directly (not with write_geotiff), so the
// reader is checked against an independent writer.
#include <cpl_conv.h>
#include <gdal.h>
#include <gtest/gtest.h>
#include <ogr_srs_api.h>
#include <unistd.h>

#include <cmath>
#include <optional>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "careshed/crs.hpp"
#include "careshed/error.hpp"
#include "careshed/raster_io.hpp"

namespace fs = std::filesystem;
using careshed::Bounds;
using careshed::GridSpec;
using careshed::Resampling;

namespace {

const double kNaN = std::nan("");

std::string temp_dir() {
  static std::string dir = [] {
    fs::path p = fs::temp_directory_path() / ("careshed_raster_io_test_" + std::to_string(getpid()));
    fs::create_directories(p);
    return p.string();
  }();
  return dir;
}

std::string wkt_of(int epsg) {
  OGRSpatialReferenceH s = OSRNewSpatialReference(nullptr);
  OSRImportFromEPSG(s, epsg);
  char* w = nullptr;
  OSRExportToWkt(s, &w);
  std::string out(w);
  CPLFree(w);
  OSRDestroySpatialReference(s);
  return out;
}

/// Writes a plain GeoTIFF with GDAL (independent of careshed's writer).
void gdal_write(const std::string& path, int w, int h, const std::vector<double>& v, const double gt[6], int epsg,
                std::optional<double> nodata, GDALDataType type = GDT_Float64) {
  GDALAllRegister();
  GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path.c_str(), w, h, 1, type, nullptr);
  ASSERT_NE(ds, nullptr);
  GDALSetGeoTransform(ds, const_cast<double*>(gt));
  if (epsg > 0) GDALSetProjection(ds, wkt_of(epsg).c_str());
  GDALRasterBandH b = GDALGetRasterBand(ds, 1);
  if (nodata) GDALSetRasterNoDataValue(b, *nodata);
  ASSERT_EQ(GDALRasterIO(b, GF_Write, 0, 0, w, h, const_cast<double*>(v.data()), w, h, GDT_Float64, 0, 0), CE_None);
  GDALClose(ds);
}

GridSpec grid_of(int w, int h, double x0, double y1, double cell, int epsg) {
  GridSpec g;
  g.width = w;
  g.height = h;
  g.geotransform = {x0, cell, 0, y1, 0, -cell};
  g.crs_wkt = careshed::epsg_to_wkt(epsg);
  return g;
}

}  // namespace

TEST(MakeGrid, SnapsBoundsOutwardToWholeCells) {
  GridSpec g = careshed::make_grid(Bounds{1050, 2010, 3020, 4999}, 100.0, "EPSG:32638");
  // x: 1000 .. 3100 (21 cells), y: 2000 .. 5000 (30 cells)
  EXPECT_EQ(g.width, 21);
  EXPECT_EQ(g.height, 30);
  EXPECT_DOUBLE_EQ(g.geotransform[0], 1000.0);
  EXPECT_DOUBLE_EQ(g.geotransform[3], 5000.0);
  EXPECT_DOUBLE_EQ(g.geotransform[1], 100.0);
  EXPECT_DOUBLE_EQ(g.geotransform[5], -100.0);
  EXPECT_EQ(careshed::crs_epsg(g.crs_wkt), 32638);
  // Bounds already on cell edges gain no cell.
  GridSpec e = careshed::make_grid(Bounds{0, 0, 1000, 500}, 100.0, "EPSG:32638");
  EXPECT_EQ(e.width, 10);
  EXPECT_EQ(e.height, 5);
}

TEST(MakeGrid, RefusesDegreesAndBadArguments) {
  EXPECT_THROW(careshed::make_grid(Bounds{0, 0, 1, 1}, 100.0, "EPSG:4326"), careshed::CrsError);
  EXPECT_THROW(careshed::make_grid(Bounds{0, 0, 1000, 1000}, 0.0, "EPSG:32638"), careshed::InputError);
  EXPECT_THROW(careshed::make_grid(Bounds{10, 0, 0, 1000}, 10.0, "EPSG:32638"), careshed::InputError);
  EXPECT_THROW(careshed::make_grid(Bounds{0, 0, 1000, 1000}, 10.0, ""), careshed::CrsError);
}

TEST(MakeUtmGrid, ChoosesTheZoneOfTheCentreAndCoversTheBounds) {
  // Comoros: lon 43.2..44.6 (zone 38), south of the equator -> EPSG:32738.
  Bounds ll{43.2, -12.45, 44.6, -11.3};
  GridSpec g = careshed::make_utm_grid(ll, "EPSG:4326", 1000.0);
  EXPECT_EQ(careshed::crs_epsg(g.crs_wkt), 32738);
  EXPECT_DOUBLE_EQ(std::fmod(g.geotransform[0], 1000.0), 0.0);
  EXPECT_DOUBLE_EQ(std::fmod(g.geotransform[3], 1000.0), 0.0);
  // Every corner of the lon/lat box falls inside the grid.
  std::vector<double> x{ll.min_x, ll.max_x, ll.min_x, ll.max_x}, y{ll.min_y, ll.min_y, ll.max_y, ll.max_y};
  careshed::transform_xy(x, y, "EPSG:4326", g.crs_wkt);
  Bounds gb = careshed::grid_bounds(g);
  for (int i = 0; i < 4; ++i) {
    EXPECT_GE(x[i], gb.min_x);
    EXPECT_LE(x[i], gb.max_x);
    EXPECT_GE(y[i], gb.min_y);
    EXPECT_LE(y[i], gb.max_y);
  }
  // Northern hemisphere, zone 50 (Quzhou).
  GridSpec q = careshed::make_utm_grid(Bounds{118.0, 28.2, 119.3, 29.5}, "EPSG:4326", 100.0);
  EXPECT_EQ(careshed::crs_epsg(q.crs_wkt), 32650);
}

TEST(RowCellSizes, MatchTextbookWgs84DegreeLengths) {
  // 0.01° cells centred on the equator and on 60°N. Published WGS 84 lengths of one degree:
  // longitude 111,319.49 m at 0°, 55,799.98 m at 60°; latitude 110,574.3 m at 0°, 111,412.3 m at 60°.
  GridSpec g;
  g.width = 10;
  g.height = 1;
  g.crs_wkt = careshed::epsg_to_wkt(4326);
  g.geotransform = {10.0, 0.01, 0, 0.005, 0, -0.01};
  EXPECT_NEAR(careshed::row_cell_widths_m(g)[0] * 100, 111319.49, 1.0);
  EXPECT_NEAR(careshed::row_cell_heights_m(g)[0] * 100, 110574.3, 1.0);
  g.geotransform = {10.0, 0.01, 0, 60.005, 0, -0.01};
  EXPECT_NEAR(careshed::row_cell_widths_m(g)[0] * 100, 55799.98, 1.0);
  EXPECT_NEAR(careshed::row_cell_heights_m(g)[0] * 100, 111412.3, 1.5);
  // Projected grids: the cell size itself.
  GridSpec p = grid_of(3, 4, 0, 0, 250.0, 32638);
  EXPECT_EQ(careshed::row_cell_widths_m(p), std::vector<double>(4, 250.0));
}

TEST(ReadRaster, NativeReadTurnsNodataIntoNaNAndKeepsGridAndCrs) {
  std::string path = temp_dir() + "/native.tif";
  double gt[6] = {500000, 30, 0, 8700000, 0, -30};
  std::vector<double> v{1, 2, -9, 4, 5, 6};
  gdal_write(path, 3, 2, v, gt, 32738, -9.0);
  careshed::Raster r = careshed::read_raster(path);
  EXPECT_EQ(r.grid.width, 3);
  EXPECT_EQ(r.grid.height, 2);
  EXPECT_EQ(careshed::crs_epsg(r.grid.crs_wkt), 32738);
  for (int i = 0; i < 6; ++i) {
    if (i == 2) EXPECT_TRUE(std::isnan(r.values[i]));
    else EXPECT_EQ(r.values[i], v[i]);
  }
  EXPECT_EQ(r.report.valid_cells, 5);
  EXPECT_DOUBLE_EQ(r.report.result_total, 18.0);
}

TEST(ReadRaster, SumAverageNearestOnAlignedGridsMatchBlockArithmetic) {
  const unsigned seed = 20261123;
  std::mt19937 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::uniform_real_distribution<double> u(0, 100);
  const int w = 12, h = 9;
  std::vector<double> v(w * h);
  for (auto& x : v) x = std::round(u(rng) * 8) / 8;  // exact binary fractions: sums are exact
  v[4] = -1;   // nodata inside block (0,1)
  v[40] = -1;  // another
  double gt[6] = {3000, 100, 0, 9000, 0, -100};
  std::string path = temp_dir() + "/blocks.tif";
  gdal_write(path, w, h, v, gt, 32638, -1.0);

  GridSpec coarse = grid_of(4, 3, 3000, 9000, 300, 32638);
  auto sum = careshed::read_raster(path, coarse, Resampling::Sum);
  auto avg = careshed::read_raster(path, coarse, Resampling::Average);
  double total = 0;
  for (int R = 0; R < 3; ++R) {
    for (int C = 0; C < 4; ++C) {
      double s = 0;
      int n = 0;
      for (int r = 3 * R; r < 3 * R + 3; ++r) {
        for (int c = 3 * C; c < 3 * C + 3; ++c) {
          double x = v[r * w + c];
          if (x == -1) continue;
          s += x;
          ++n;
        }
      }
      total += s;
      EXPECT_NEAR(sum.values[R * 4 + C], s, 1e-9) << R << "," << C;
      EXPECT_NEAR(avg.values[R * 4 + C], s / n, 1e-9) << R << "," << C;
    }
  }
  EXPECT_NEAR(sum.report.result_total, total, 1e-9);
  EXPECT_NEAR(sum.report.source_total_in_grid, total, 1e-9);
  EXPECT_NEAR(sum.report.relative_difference, 0.0, 1e-12);

  // Finer aligned grid: nearest copies the parent cell; sum splits it into 4 equal parts.
  GridSpec fine = grid_of(24, 18, 3000, 9000, 50, 32638);
  auto near = careshed::read_raster(path, fine, Resampling::Nearest);
  auto split = careshed::read_raster(path, fine, Resampling::Sum);
  for (int r = 0; r < 18; ++r) {
    for (int c = 0; c < 24; ++c) {
      double parent = v[(r / 2) * w + c / 2];
      double got = near.values[r * 24 + c];
      if (parent == -1) {
        EXPECT_TRUE(std::isnan(got));
        EXPECT_TRUE(std::isnan(split.values[r * 24 + c]));
      } else {
        EXPECT_EQ(got, parent);
        EXPECT_NEAR(split.values[r * 24 + c], parent / 4, 1e-9);
      }
    }
  }
  EXPECT_NEAR(split.report.result_total, total, 1e-9);
}

TEST(ReadRaster, SumPreservesTotalOnAShiftedGridCoveringTheSource) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(0, 10);
  const int w = 20, h = 15;
  std::vector<double> v(w * h);
  double total = 0;
  for (auto& x : v) total += (x = u(rng));
  double gt[6] = {0, 100, 0, 1500, 0, -100};
  std::string path = temp_dir() + "/shifted.tif";
  gdal_write(path, w, h, v, gt, 32638, std::nullopt);
  // 70 m cells offset by 33 m: no cell edge lines up with the source.
  GridSpec g = careshed::make_grid(Bounds{-33, -40, 2030, 1520}, 70.0, "EPSG:32638");
  auto r = careshed::read_raster(path, g, Resampling::Sum);
  EXPECT_NEAR(r.report.result_total, total, 1e-9 * total);
  EXPECT_NEAR(r.report.source_total_in_grid, total, 1e-9 * total);
}

TEST(ReadRaster, BilinearReproducesALinearField) {
  // value = x coordinate of the cell centre: bilinear interpolation of a linear field is exact.
  const int w = 10, h = 10;
  std::vector<double> v(w * h);
  for (int r = 0; r < h; ++r)
    for (int c = 0; c < w; ++c) v[r * w + c] = 0.5 * (c + 0.5) * 100;
  double gt[6] = {0, 100, 0, 1000, 0, -100};
  std::string path = temp_dir() + "/ramp.tif";
  gdal_write(path, w, h, v, gt, 32638, std::nullopt);
  GridSpec g = grid_of(6, 6, 230, 770, 80, 32638);  // inside the source, unaligned
  auto r = careshed::read_raster(path, g, Resampling::Bilinear);
  for (int row = 0; row < 6; ++row)
    for (int c = 0; c < 6; ++c) EXPECT_NEAR(r.values[row * 6 + c], 0.5 * g.col_center_x(c), 1e-6);
}

TEST(ReadRaster, ErrorsNameTheFile) {
  try {
    careshed::read_raster(temp_dir() + "/nope.tif");
    FAIL();
  } catch (const careshed::DataIOError& e) {
    EXPECT_NE(std::string(e.what()).find("nope.tif"), std::string::npos);
  }
  std::string nocrs = temp_dir() + "/nocrs.tif";
  double gt[6] = {0, 1, 0, 10, 0, -1};
  gdal_write(nocrs, 2, 2, {1, 2, 3, 4}, gt, 0, std::nullopt);
  try {
    careshed::read_raster(nocrs);
    FAIL();
  } catch (const careshed::CrsError& e) {
    EXPECT_NE(std::string(e.what()).find("nocrs.tif"), std::string::npos);
  }
  EXPECT_THROW(careshed::read_raster(nocrs, grid_of(2, 2, 0, 10, 1, 32638), Resampling::Nearest),
               careshed::CrsError);
  std::string ok = temp_dir() + "/ok.tif";
  gdal_write(ok, 2, 2, {1, 2, 3, 4}, gt, 32638, std::nullopt);
  EXPECT_THROW(careshed::read_raster(ok, 2), careshed::DataIOError);
  EXPECT_THROW(careshed::resampling_from_string("lanczos-ish"), careshed::InputError);
  EXPECT_EQ(careshed::resampling_from_string("SUM"), Resampling::Sum);
}

TEST(WriteGeoTiff, RoundTripIsACogWithCrsNodataAndValues) {
  GridSpec g = grid_of(700, 600, 400000, 8800000, 10, 32738);  // larger than one 512 tile: overviews
  std::vector<float> v(g.size());
  for (int64_t i = 0; i < g.size(); ++i) v[i] = static_cast<float>(i % 977) * 0.25f;
  v[5] = std::nanf("");
  std::string path = temp_dir() + "/out.tif";
  careshed::GeoTiffOptions opt;
  opt.metadata = {"UNITS=seconds"};
  careshed::write_geotiff(path, v, g, opt);

  GDALDatasetH ds = GDALOpen(path.c_str(), GA_ReadOnly);
  ASSERT_NE(ds, nullptr);
  const char* layout = GDALGetMetadataItem(ds, "LAYOUT", "IMAGE_STRUCTURE");
  ASSERT_NE(layout, nullptr);
  EXPECT_STREQ(layout, "COG");
  EXPECT_STREQ(GDALGetMetadataItem(ds, "COMPRESSION", "IMAGE_STRUCTURE"), "DEFLATE");
  EXPECT_STREQ(GDALGetMetadataItem(ds, "UNITS", nullptr), "seconds");
  GDALRasterBandH b = GDALGetRasterBand(ds, 1);
  EXPECT_GE(GDALGetOverviewCount(b), 1);
  int bx = 0, by = 0;
  GDALGetBlockSize(b, &bx, &by);
  EXPECT_EQ(bx, 512);
  int has = 0;
  EXPECT_TRUE(std::isnan(GDALGetRasterNoDataValue(b, &has)));
  EXPECT_TRUE(has);
  GDALClose(ds);

  careshed::Raster r = careshed::read_raster(path);
  EXPECT_EQ(r.grid.geotransform, g.geotransform);
  EXPECT_TRUE(careshed::crs_equivalent(r.grid.crs_wkt, "EPSG:32738"));
  EXPECT_TRUE(std::isnan(r.values[5]));
  for (int64_t i = 0; i < g.size(); ++i) {
    if (i != 5) ASSERT_EQ(r.values[i], v[i]) << i;
  }
  // No temporary left behind.
  for (const auto& e : fs::directory_iterator(temp_dir())) {
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
  }
}

TEST(WriteGeoTiff, IntegerNodataAndFailuresLeaveNoFile) {
  GridSpec g = grid_of(3, 2, 0, 20, 10, 32638);
  std::vector<int32_t> v{1, -1, 3, 4, 5, 6};
  std::string path = temp_dir() + "/ints.tif";
  careshed::GeoTiffOptions opt;
  opt.nodata = -1;
  careshed::write_geotiff(path, v, g, opt);
  auto info = careshed::raster_info(path);
  EXPECT_EQ(info.data_type, "Int32");
  ASSERT_TRUE(info.nodata.has_value());
  EXPECT_EQ(*info.nodata, -1);
  auto r = careshed::read_raster(path);
  EXPECT_TRUE(std::isnan(r.values[1]));
  EXPECT_EQ(r.values[5], 6);

  GridSpec nocrs = g;
  nocrs.crs_wkt.clear();
  EXPECT_THROW(careshed::write_geotiff(temp_dir() + "/x.tif", v, nocrs), careshed::CrsError);
  EXPECT_THROW(careshed::write_geotiff(temp_dir() + "/no/such/dir/x.tif", v, g), careshed::DataIOError);
  EXPECT_THROW(careshed::write_geotiff(temp_dir() + "/short.tif", std::vector<int32_t>{1, 2}, g),
               careshed::InputError);
  EXPECT_FALSE(fs::exists(temp_dir() + "/x.tif"));
  EXPECT_FALSE(fs::exists(temp_dir() + "/short.tif"));
}

TEST(ReadRaster, ComorosPopulationTotalIsPreservedOnA1kmUtmGrid) {
  const std::string path = std::string(CARESHED_SOURCE_DIR) + "/data/comoros/population.tif";
  auto info = careshed::raster_info(path);
  Bounds src = careshed::grid_bounds(info.grid);
  GridSpec g = careshed::make_utm_grid(src, info.grid.crs_wkt, 1000.0);
  auto r = careshed::read_raster(path, g, Resampling::Sum);
  // The grid covers the whole raster, so the overlap total is the file's total (README: 869,595).
  EXPECT_NEAR(r.report.source_total_in_grid, 869595.0, 1.0);
  // Tolerance 1e-6 relative (observed ~1e-16): with the grid covering the raster, every source pixel is split
  // completely among target cells even across CRSs.
  EXPECT_NEAR(r.report.result_total, 869595.0, 0.87);
  EXPECT_LT(std::fabs(r.report.relative_difference), 1e-6);
}

TEST(DataBounds, RasterAndVectorExtentsWithTheirCrs) {
  const std::string dir = std::string(CARESHED_SOURCE_DIR) + "/data/comoros/";
  std::string wkt;
  Bounds r = careshed::data_bounds(dir + "population.tif", &wkt);
  EXPECT_EQ(careshed::crs_epsg(wkt), 4326);
  // Reference by a different route: the file's own geotransform read with the plain GDAL C API, turned into
  // bounds by hand (x from gt[0] to gt[0] + width * gt[1], y from gt[3] + height * gt[5] up to gt[3]).
  GDALAllRegister();
  GDALDatasetH ds = GDALOpen((dir + "population.tif").c_str(), GA_ReadOnly);
  ASSERT_NE(ds, nullptr);
  double gt[6];
  ASSERT_EQ(GDALGetGeoTransform(ds, gt), CE_None);
  const int w = GDALGetRasterXSize(ds), h = GDALGetRasterYSize(ds);
  GDALClose(ds);
  EXPECT_EQ(w, 1576);  // README: 1576 x 1270 pixels of 1/1200 degree from (43.2279, -11.3646)
  EXPECT_EQ(h, 1270);
  EXPECT_NEAR(gt[1], 1.0 / 1200, 1e-10);
  EXPECT_NEAR(r.min_x, 43.2279, 1e-4);  // the README's rounded figures: a sanity check on the reference
  EXPECT_NEAR(r.max_y, -11.3646, 1e-4);
  EXPECT_NEAR(r.min_x, gt[0], 1e-9);
  EXPECT_NEAR(r.max_y, gt[3], 1e-9);
  EXPECT_NEAR(r.max_x, gt[0] + w * gt[1], 1e-9);
  EXPECT_NEAR(r.min_y, gt[3] + h * gt[5], 1e-9);
  Bounds v = careshed::data_bounds(dir + "health.gpkg", &wkt);
  EXPECT_EQ(careshed::crs_epsg(wkt), 4326);
  EXPECT_GE(v.min_x, r.min_x);
  EXPECT_LE(v.max_x, r.max_x);
  EXPECT_GE(v.min_y, r.min_y);
  EXPECT_LE(v.max_y, r.max_y);
  EXPECT_THROW(careshed::data_bounds(dir + "health.gpkg", &wkt, "no_such_layer"), careshed::DataIOError);
  EXPECT_THROW(careshed::data_bounds(dir + "missing.gpkg", &wkt), careshed::DataIOError);
}

TEST(ReadRaster, DriverPrefixedNamesAreNotMistakenForMissingFiles) {
  std::string path = temp_dir() + "/prefixed.tif";
  double gt[6] = {0, 10, 0, 20, 0, -10};
  gdal_write(path, 2, 2, {1, 2, 3, 4}, gt, 32638, std::nullopt);
  careshed::Raster r = careshed::read_raster("GTIFF_DIR:1:" + path);  // GDAL's GeoTIFF sub-dataset syntax
  EXPECT_EQ(r.values, (std::vector<double>{1, 2, 3, 4}));
  EXPECT_THROW(careshed::read_raster("GTIFF_DIR:1:" + temp_dir() + "/absent.tif"), careshed::DataIOError);
}
