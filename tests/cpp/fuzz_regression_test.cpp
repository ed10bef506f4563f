// Regression tests for what the sanitizers and the libFuzzer targets (tests/fuzz, docs/fuzzing.md) found in
// careshed's parsers: one test per finding, named after it, on the minimal input that triggered it.
#include <gtest/gtest.h>

#include <gdal.h>
#include <ogr_srs_api.h>

#include <cmath>
#include <string>
#include <vector>

#include "careshed/error.hpp"
#include "careshed/population.hpp"
#include "careshed/raster_io.hpp"
#include "careshed/speed_profile.hpp"
#include "vector_test_util.hpp"

namespace {

using careshed::parse_maxspeed;

// Found by review of the fuzz_text_parsers contract (a usable maxspeed is finite and > 0): a number just
// below DBL_MAX with a unit factor > 1 parsed as +inf km/h, i.e. a road of zero travel time.
TEST(FuzzRegression, MaxspeedThatOverflowsWithItsUnitIsNotASpeed) {
  EXPECT_FALSE(parse_maxspeed("1.5e308 mph"));
  EXPECT_FALSE(parse_maxspeed("1.7e308 knots"));
  EXPECT_FALSE(parse_maxspeed("1.5e308 mph;1.5e308 knots"));
  // The lowest usable value of a list still wins over an overflowing one.
  ASSERT_TRUE(parse_maxspeed("1.5e308 mph;30"));
  EXPECT_DOUBLE_EQ(*parse_maxspeed("1.5e308 mph;30"), 30.0);
  // The largest finite km/h value stays a (finite) speed.
  ASSERT_TRUE(parse_maxspeed("1.5e308"));
  EXPECT_TRUE(std::isfinite(*parse_maxspeed("1.5e308")));
}

// Found by fuzz_raster (timeout): a GeoTIFF in EPSG:3857 whose origin is x = 4.4e242 m. GDAL 3.6 loops for
// ages wrapping the resulting longitude into -180..180 inside OGRCoordinateTransformation::Transform (gdalinfo
// hangs on the file too), so reading it onto a grid never returned. careshed now refuses georeferencing that
// places a raster nowhere on Earth before any transformation (CrsError naming the file).
TEST(FuzzRegression, RasterGeoreferencedFarBeyondEarthIsRefusedNotHung) {
  careshed::testing::ScratchDir dir;
  const std::string path = dir.path("far.tif");
  GDALAllRegister();
  {
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path.c_str(), 8, 8, 1, GDT_Float32, nullptr);
    ASSERT_NE(ds, nullptr);
    double gt[6] = {4.36697e242, 18375, 0, -1.27295e6, 0, -14625};
    GDALSetGeoTransform(ds, gt);
    OGRSpatialReferenceH srs = OSRNewSpatialReference(nullptr);
    OSRImportFromEPSG(srs, 3857);
    GDALSetSpatialRef(ds, srs);
    OSRDestroySpatialReference(srs);
    std::vector<float> ones(64, 1.0f);
    ASSERT_EQ(GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Write, 0, 0, 8, 8, ones.data(), 8, 8, GDT_Float32, 0, 0),
              CE_None);
    GDALClose(ds);
  }
  const careshed::GridSpec grid = careshed::make_lonlat_grid({43.0, -13.0, 47.0, -9.0}, 0.25);
  auto expect_crs_error_naming_file = [&](auto&& read) {
    try {
      read();
      ADD_FAILURE() << "no error";
    } catch (const careshed::CrsError& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find(path), std::string::npos) << m;
      EXPECT_NE(m.find("nowhere on Earth"), std::string::npos) << m;
    }
  };
  expect_crs_error_naming_file([&] { careshed::read_raster(path, grid, careshed::Resampling::Nearest); });
  expect_crs_error_naming_file([&] { careshed::population_from_raster(path, grid); });
  expect_crs_error_naming_file([&] { careshed::check_population_raster(path, 1, &grid); });
  std::string wkt;
  expect_crs_error_naming_file([&] { careshed::data_bounds(path, &wkt); });
  // Control: the same raster placed on Earth reads.
  {
    GDALDatasetH ds = GDALOpen(path.c_str(), GA_Update);
    double gt[6] = {4.8e6, 18375, 0, -1.0e6, 0, -14625};
    GDALSetGeoTransform(ds, gt);
    GDALClose(ds);
  }
  EXPECT_GT(careshed::read_raster(path, grid, careshed::Resampling::Nearest).report.valid_cells, 0);
}

// Found by fuzz_raster (out-of-memory): a 700-byte GeoTIFF declaring about 1.4 G cells made the native read
// allocate 29 GB of doubles. A raster whose whole read cannot fit the machine's memory is now an InputError
// naming the file and its size, raised before the allocation. (Here: 300 000 x 300 000 cells = 720 GB, a
// sparse file of a few kB.)
TEST(FuzzRegression, NativeReadOfARasterLargerThanMemoryIsRefusedBeforeAllocating) {
  careshed::testing::ScratchDir dir;
  const std::string path = dir.path("huge.tif");
  GDALAllRegister();
  {
    const char* options[] = {"SPARSE_OK=TRUE", "TILED=YES", "BLOCKXSIZE=4096", "BLOCKYSIZE=4096", nullptr};
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path.c_str(), 300000, 300000, 1, GDT_Byte,
                                 const_cast<char**>(options));
    ASSERT_NE(ds, nullptr);
    double gt[6] = {500000.0, 1.0, 0, 9000000.0, 0, -1.0};
    GDALSetGeoTransform(ds, gt);
    OGRSpatialReferenceH srs = OSRNewSpatialReference(nullptr);
    OSRImportFromEPSG(srs, 32738);
    GDALSetSpatialRef(ds, srs);
    OSRDestroySpatialReference(srs);
    GDALClose(ds);
  }
  try {
    careshed::read_raster(path);
    FAIL() << "no error";
  } catch (const careshed::MemoryLimitError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(path), std::string::npos) << m;
    EXPECT_NE(m.find("300000 x 300000 cells"), std::string::npos) << m;
    EXPECT_NE(m.find("of memory is available"), std::string::npos) << m;
  }
  // Read onto a small grid, the same file is fine (only the grid's cells are allocated).
  const careshed::GridSpec grid = careshed::make_grid({500000.0, 8999000.0, 501000.0, 9000000.0}, 100.0, "EPSG:32738");
  EXPECT_EQ(careshed::read_raster(path, grid, careshed::Resampling::Nearest).values.size(), 100u);
}

}  // namespace
