// Regression tests for what the sanitizers and the libFuzzer targets (tests/fuzz, docs/fuzzing.md) found in
// careshed's parsers: one test per finding, named after it, on the minimal input that triggered it.
#include <gtest/gtest.h>

#include <gdal.h>
#include <ogr_srs_api.h>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "careshed/error.hpp"
#include "careshed/population.hpp"
#include "careshed/raster_io.hpp"
#include "careshed/road_graph.hpp"
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

// Found by fuzz_osm_libosmium (contract: a graph from a file is never empty): the only road's nodes are
// 1, 1, 3 with node 3 missing from the file, so its one line joins node 1 to itself and gave a graph with
// no edge (the "no roads" check looked at the lines, not the edges). Both readers now refuse it.
TEST(FuzzRegression, OsmRoadWithoutASegmentBetweenTwoPointsIsNoRoad) {
  careshed::testing::ScratchDir dir;
  const std::string path = dir.path("degenerate.osm");
  std::ofstream(path) << R"(<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
 <node id="1" lat="-11.70" lon="43.25"/>
 <node id="2" lat="43.26"/>
 <way id="10"><nd ref="1"/><nd ref="1"/><nd ref="3"/><tag k="highway" v="primary"/><tag k="oneway" v="yes"/><tag k="maxspeed" v="40"/></way>
</osm>
)";
  for (const careshed::OsmReader reader : {careshed::OsmReader::kLibosmium, careshed::OsmReader::kGdal}) {
    SCOPED_TRACE(reader == careshed::OsmReader::kGdal ? "GDAL" : "libosmium");
    try {
      const careshed::RoadGraph g = careshed::RoadGraph::from_osm(path, careshed::SpeedProfile::car(), nullptr, reader);
      ADD_FAILURE() << "a graph with " << g.n_edges() << " edges";
    } catch (const careshed::InputError& e) {
      EXPECT_NE(std::string(e.what()).find("without usable roads"), std::string::npos) << e.what();
    } catch (const careshed::Error& e) {  // GDAL's driver may refuse the file earlier, with its own clear error
      EXPECT_NE(std::string(e.what()).find("degenerate.osm"), std::string::npos) << e.what();
    }
  }
}

// Writes `bytes` as `name` and reads it with the libosmium reader, which must refuse it with a DataIOError whose
// message names the file and holds every one of `fragments`.
void expect_libosmium_refuses(const std::string& name, const std::string& bytes,
                              const std::vector<std::string>& fragments) {
  careshed::testing::ScratchDir dir;
  const std::string path = dir.path(name);
  std::ofstream(path, std::ios::binary) << bytes;
  try {
    careshed::RoadGraph::from_osm(path, careshed::SpeedProfile::car(), nullptr, careshed::OsmReader::kLibosmium);
    ADD_FAILURE() << name << " was read";
  } catch (const careshed::DataIOError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(name), std::string::npos) << m;
    for (const std::string& f : fragments) EXPECT_NE(m.find(f), std::string::npos) << m;
  }
}

// Found by fuzz_osm_libosmium (UBSan: null pointer passed to std::strncmp in libosmium's pbf_input_format.hpp):
// the second blob's BlobHeader has its type under field 9 instead of 1, so it has no type; libosmium compares
// (expected, nullptr, 0) and would take it for an OSMData blob. careshed walks the blob headers first and refuses.
TEST(FuzzRegression, OsmPbfBlobWithoutATypeIsRefusedBeforeLibosmium) {
  const std::string bytes(
      "\x00\x00\x00\x0d\x0a\x09\x4f\x53\x4d\x48\x65\x61\x64\x65\x72\x18\x28\x10\x1c\x1a\x24\x78\x9c\x53"
      "\xe2\xf3\x2f\xce\x0d\x4e\xce\x48\xcd\x4d\xd4\x0d\x33\xd0\x33\x53\xe2\x72\x49\xcd\x2b\x4e\xf5\xcb"
      "\x4f\x49\x2d\x06\x00\x79\x5b\x08\xdc\x00\x00\x00\x0c\x4a\x07\x4f\x53\x4d\x44\x61\x74\x61\x18\xa1"
      "\x02\x10\xe9\x02\x1a\x9b\x27\x78\x9c\x5d\x8e\x4d\x6e\x21\x30\x10\x46\x63\x3b\x38\xce\xf0\xef\x6e"
      "\x2a\x4b\x95\x10\xfb\x4a\x54\x55\x2f\xe0\x4d\xd5\x2e\xb9\x81\x1b\x0c\x09\x34\x31\x72\x1c\x01\x57"
      "\xa9\x58\xf6\x08\xec\xba\x61\xdd\x4b\xd1\x81\x96\x4d\x47\x96\xf5\xe9\xf9\xcd\x27\xc3\x6d\xbd\xb6"
      "\x76\x06\xc9\xda\x17\xa5\xf1\x3b\xa0\x4f\x13\xe0\xae\xb2\xe7\xa1\x58\x0a\x6d\xcd\x7a\x17\x27\xff"
      "\x75\x3a\x5d\x67\x67\x67\x67\x67\x67\x67\x67\x67\x67\x67\x67\x67\x5d\x67\x67\x67\x67\x67\x67\x67"
      "\x67\x67\x67\x67\x67\x67\x67\x67\x67\x67\x94\xc7\x3f\x5d\xe0\x53\x60",
      209);
  expect_libosmium_refuses("untyped_blob.osm.pbf", bytes, {"blob 2 (at byte 57) has no type"});
}

// Found by fuzz_osm_libosmium (ASan: heap-buffer-overflow in libosmium's TagList::find_key): the OSMData block's
// string table holds "Ru\0 \"x\"", a string with a NUL byte inside. libosmium stores tags as NUL-terminated
// strings, so the way's key/value pairs shift, its tag walk steps past the list's end, and every tag lookup read
// out of bounds. careshed walks each tag list within its bytes first and calls the file damaged.
TEST(FuzzRegression, OsmPbfTagStringWithANulByteIsRefusedNotReadOutOfBounds) {
  const std::string bytes(
      "\x00\x00\x00\x0d\x0a\x09\x4f\x53\x4d\x48\x65\x61\x64\x65\x72\x18\x1e\x0a\x1c\x22\x0e\x4f\x73\x6d"
      "\x53\x63\x68\x65\x6d\x61\x2d\x56\x30\x2e\x36\x22\x0a\x44\x65\x6e\x73\x65\x4e\x6f\x64\x65\x73\x00"
      "\x00\x00\x0c\x0a\x07\x4f\x53\x4d\x44\x61\x74\x61\x18\xc1\x01\x0a\xbe\x01\x0a\x5a\x0a\x00\x0a\x07"
      "\x68\x69\x67\x68\x77\x61\x79\x0a\x08\x6d\x61\x78\x73\x70\x65\x65\x64\x0a\x07\x70\x72\x69\x6d\x61"
      "\x72\x79\x0a\x02\x30\x40\x0a\x06\x6f\x6e\x65\x77\x61\x79\x0a\x0b\x72\x65\x73\x69\x64\x65\x6e\x74"
      "\x69\x61\x6c\x0a\x03\x79\x65\x73\x0a\x04\x6e\x61\x6d\x65\x0a\x05\x74\x72\x61\x63\x6b\x0a\x06\x33"
      "\x30\x20\x6d\x70\x68\x0a\x07\x52\x75\x00\x20\x22\x78\x22\x12\x29\x12\x27\x0a\x04\x02\x02\x02\x02"
      "\x42\x09\xff\x9c\x28\x6f\x00\x00\xc0\x9a\x0c\x4a\x0e\xc0\xb4\xbb\x9c\x03\xc0\x9a\x0c\xc0\x9a\x0c"
      "\xff\xb4\x18\x52\x04\x01\x00\x00\x00\x12\x35\x1a\x0f\x08\x65\x12\x02\x01\x02\x1a\x02\x03\x04\x42"
      "\x03\x02\x02\x02\x1a\x0f\x08\x66\x12\x02\x01\x05\x1a\x02\x06\x07\x42\x03\x08\x02\x02\x1a\x11\x08"
      "\x67\x12\x03\x01\x02\x08\x1a\x03\x09\x0a\x0b\x42\x03\x0e\x02\x02",
      256);
  expect_libosmium_refuses("nul_in_string.osm.pbf", bytes, {"holds a NUL byte", "truncated or corrupt"});
}

// Found by fuzz_osm_libosmium (UBSan: signed integer overflow in libosmium's pbf_decoder.hpp, convert_pbf_lat:
// -4611686018427387840 * 100): a dense node's coordinate delta near INT64_MIN times the block's granularity.
// libosmium computes coordinates, deltas and timestamps in unchecked int64, so careshed compiles its reader with
// -fwrapv (CMakeLists.txt): the arithmetic is defined wrap, the node lands off the Earth or anywhere, and this
// file's later damage is reported as usual. Under `make test-sanitize` the read must also raise no UBSan report.
TEST(FuzzRegression, OsmPbfCoordinateThatOverflowsInt64IsDefinedNotUndefinedBehaviour) {
  const std::string bytes(
      "\x00\x00\x00\x0d\x0a\x09\x4f\x53\x4d\x48\x65\x61\x64\x65\x72\x18\x1e\x0a\x1c\x22\x0e\x4f\x73\x6d"
      "\x53\x63\x68\x65\x6d\x61\x2d\x56\x30\x2e\x36\x22\x0a\x44\x65\x6e\x73\x65\x4e\x6f\x64\x65\x73\x00"
      "\x00\x00\x0c\x0a\x07\x4f\x53\x4d\x44\x61\x74\x61\x18\xec\x02\x0a\xe9\x02\x0a\xa4\x01\x0a\x00\x0a"
      "\x07\x68\x69\x67\x68\x77\x61\x79\x0a\x08\x6d\x61\x78\x73\x70\x65\x65\x64\x0a\x07\x70\x72\x69\x6d"
      "\x61\x72\x79\x0a\x02\x35\x30\x0a\x06\x6f\x6e\x65\x77\x61\x79\x0a\x0b\x72\x65\x73\x69\x64\x65\x6e"
      "\x74\x69\x61\x6c\x0a\x03\x79\x65\x73\x0a\x04\x6e\x61\x6d\x65\x0a\x05\x74\x72\x75\x6e\x6b\x0a\x06"
      "\x33\x30\x20\x6d\x70\x68\x0a\x07\x52\x75\x65\x20\x22\x78\x22\x0a\x09\x73\x65\x63\x6f\x6e\x64\x61"
      "\x72\x79\x0a\x02\x2d\x31\x0a\x08\x6a\x75\x6e\x63\x74\x69\x6f\x6e\x0a\x08\x74\x65\x72\x74\x69\x61"
      "\x72\x79\x0a\x0a\x72\x6f\x75\x6e\x64\x61\x62\x6f\x75\x74\x0a\x07\x66\x6f\x6f\x74\x77\x61\x79\x0a"
      "\x08\x77\x61\x74\x65\x72\x77\x61\x79\x0a\x06\x73\x74\x72\x65\x61\x6d\x12\x49\x12\x47\x0a\x09\x02"
      "\x02\x02\x02\x02\x02\x02\x02\x02\x42\x10\xff\xfe\xff\xff\xff\xff\xff\xff\xff\x00\x00\xc0\x9a\x0c"
      "\x00\x00\x4a\x1d\xc0\xb4\xbb\x9c\x03\xc0\x9a\x0c\xc0\x9a\x9a\x0c\xc0\x18\xb4\xff\x0c\xc0\x9a\x0c"
      "\xff\xb4\x3c\x74\x61\x67\x20\x6b\x3d\x22\x09\x00\x00\x00\x00\x00\x00\x00\x00\x00\x12\x75\x1a\x0f"
      "\x08\x65\x12\x02\x01\x02\x1a\x02\x03\x04\x42\x03\x02\x02\x02\x1a\x0f\x08\x66\x12\x02\x01\x05\x1a"
      "\x02\x06\x07\x42\x03\x08\x02\x02\x1a\x11\x08\x67\x12\x03\x01\x02\x08\x1a\x03\x09\x0a\x0b\x42\x03"
      "\x0e\x02\x02\x1a\x0f\x08\x68\x12\x02\x01\x05\x1a\x02\x0c\x0d\x42\x03\x02\x06\x06\x1a\x10\x08\x69"
      "\x12\x02\x01\x0e\x1a\x02\x0f\x10\x42\x04\x04\x06\x06\x0b\x1a\x0d\x08\x6a\x12\x01\x01\x1a\x01\x11"
      "\x42\x03\x06\x06\x06\x1a\x0c\x08\x6b\x12\x01\x12\x1a\x01\x13\x42\x02\x06\x04",
      427);
  expect_libosmium_refuses("coordinate_overflow.osm.pbf", bytes, {"truncated or corrupt"});
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
