// A partial or empty read of a file the user named is an error (issue 8): real truncated copies of the
// shipped OpenStreetMap extracts, GeoTIFF, GeoPackage and GeoJSON, cut at several offsets, must raise an
// error naming the file — never a road graph / friction surface / table built from whatever came first.
// Also: a road file without roads for the profile, and all-nodata rasters where the analysis needs data.
// The intact files are read by the same calls as the control (so "it throws" is not "it always throws").
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "careshed/crs.hpp"
#include "careshed/error.hpp"
#include "careshed/friction.hpp"
#include "careshed/io.hpp"
#include "careshed/population.hpp"
#include "careshed/raster_io.hpp"
#include "careshed/road_graph.hpp"
#include "careshed/speed_profile.hpp"
#include "vector_test_util.hpp"

namespace {

namespace fs = std::filesystem;
using careshed::testing::ScratchDir;

const std::string kData = std::string(CARESHED_SOURCE_DIR) + "/data/";

/// Writes the first `n` bytes of `src` to `dst`.
void copy_prefix(const std::string& src, const std::string& dst, std::uintmax_t n) {
  std::ifstream in(src, std::ios::binary);
  std::vector<char> buf(static_cast<size_t>(n));
  in.read(buf.data(), static_cast<std::streamsize>(n));
  ASSERT_EQ(static_cast<std::uintmax_t>(in.gcount()), n);
  std::ofstream out(dst, std::ios::binary);
  out.write(buf.data(), static_cast<std::streamsize>(n));
}

/// Cut points: empty, a few bytes, inside the header blocks, the middle, and just short of the end.
std::vector<std::uintmax_t> cut_offsets(std::uintmax_t size) {
  return {0, 1, 64, size / 100, size / 4, size / 2, size - 1000, size - 1};
}

/// Runs `read` and checks it throws careshed::DataIOError whose message names `path`.
template <class F>
void expect_io_error_naming(const std::string& path, F&& read, const std::string& what) {
  try {
    read();
    ADD_FAILURE() << what << ": no error for " << path;
  } catch (const careshed::DataIOError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": expected DataIOError for " << path << ", got: " << e.what();
  }
}

/// A 500 m UTM 38S grid over Grande Comore (Ngazidja), where the shipped extract has roads.
careshed::GridSpec comoros_grid() {
  return careshed::make_utm_grid({43.2, -11.95, 43.55, -11.35}, "EPSG:4326", 500.0);
}

/// A lon/lat grid covering `osm`'s lines, so every road of the extract is on it.
careshed::GridSpec grid_over(const std::string& osm) {
  std::string wkt;
  careshed::Bounds b = careshed::data_bounds(osm, &wkt, "lines");
  return careshed::make_lonlat_grid(b, 0.005, wkt);
}

careshed::FrictionReport burn_roads(const std::string& path, const careshed::GridSpec& grid,
                                    const careshed::SpeedProfile& profile = careshed::SpeedProfile::car()) {
  careshed::RoadLayer roads;
  roads.path = path;
  roads.profile = profile;
  std::vector<double> speed(static_cast<size_t>(grid.size()), std::numeric_limits<double>::quiet_NaN());
  careshed::FrictionReport report;
  careshed::add_road_speeds(roads, grid, speed.data(), report);
  return report;
}

class TruncatedOsm : public ::testing::TestWithParam<const char*> {};

TEST_P(TruncatedOsm, EveryCutIsAnErrorNamingTheFileForTheGraphAndTheFriction) {
  const std::string intact = kData + GetParam();
  const std::uintmax_t size = fs::file_size(intact);
  const careshed::GridSpec grid = grid_over(intact);
  // Control: the intact file gives a graph and burns roads with the very same calls.
  careshed::RoadGraph g = careshed::RoadGraph::from_osm(intact, careshed::SpeedProfile::car());
  ASSERT_GT(g.n_edges(), 0u);
  ASSERT_GT(burn_roads(intact, grid).road_features, 0);

  ScratchDir dir;
  for (std::uintmax_t cut : cut_offsets(size)) {
    SCOPED_TRACE("cut at byte " + std::to_string(cut) + " of " + std::to_string(size));
    const std::string path = dir.path("cut_" + std::to_string(cut) + ".osm.pbf");
    copy_prefix(intact, path, cut);
    expect_io_error_naming(path, [&] { careshed::RoadGraph::from_osm(path, careshed::SpeedProfile::car()); },
                           "RoadGraph::from_osm");
    expect_io_error_naming(path, [&] { burn_roads(path, grid); }, "add_road_speeds");
  }
}

INSTANTIATE_TEST_SUITE_P(ShippedExtracts, TruncatedOsm,
                         ::testing::Values("comoros/comores-latest.osm.pbf", "osm/helsinki.osm.pbf",
                                           "osm/finland_small.osm.pbf"));

TEST(TruncatedOsm, MessageSaysTruncatedAndWhatToDo) {
  ScratchDir dir;
  const std::string intact = kData + "comoros/comores-latest.osm.pbf";
  const std::string path = dir.path("half.osm.pbf");
  copy_prefix(intact, path, fs::file_size(intact) / 2);
  try {
    careshed::RoadGraph::from_osm(path, careshed::SpeedProfile::car());
    FAIL() << "no error";
  } catch (const careshed::DataIOError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("truncated or corrupt"), std::string::npos) << m;
    EXPECT_NE(m.find("reading stopped after"), std::string::npos) << m;
    EXPECT_NE(m.find("download or export the extract again"), std::string::npos) << m;
  }
}

// ---- a road file without roads ------------------------------------------------------------------------

TEST(RoadFileWithoutRoads, OsmWithoutAnyRoadOfTheProfileIsAnError) {
  ScratchDir dir;
  // Real OSM XML (GDAL's OSM driver reads .osm as well): ways, but none a car may use.
  const std::string path = dir.path("no_roads.osm");
  careshed::testing::write_text(path, R"(<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
 <node id="1" lat="-11.70" lon="43.25"/><node id="2" lat="-11.70" lon="43.26"/><node id="3" lat="-11.69" lon="43.26"/>
 <way id="10"><nd ref="1"/><nd ref="2"/><tag k="waterway" v="stream"/></way>
 <way id="11"><nd ref="2"/><nd ref="3"/><tag k="highway" v="footway"/></way>
</osm>
)");
  try {
    careshed::RoadGraph::from_osm(path, careshed::SpeedProfile::car());
    FAIL() << "no error";
  } catch (const careshed::InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(path), std::string::npos) << m;
    EXPECT_NE(m.find("without roads"), std::string::npos) << m;
    EXPECT_NE(m.find("'car'"), std::string::npos) << m;
  }
  const careshed::GridSpec grid = careshed::make_lonlat_grid({43.2, -11.75, 43.3, -11.65}, 0.01);
  try {
    burn_roads(path, grid);
    FAIL() << "no error";
  } catch (const careshed::InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(path), std::string::npos) << m;
    EXPECT_NE(m.find("without roads"), std::string::npos) << m;
    EXPECT_NE(m.find("footway 1"), std::string::npos) << m;  // the class it did see, with its count
  }
  // The walking profile uses footways: the same file then is a road file.
  EXPECT_GT(careshed::RoadGraph::from_osm(path, careshed::SpeedProfile::walking()).n_edges(), 0u);
  EXPECT_EQ(burn_roads(path, grid, careshed::SpeedProfile::walking()).road_features, 1);
}

TEST(RoadFileWithoutRoads, ShippedExtractWithAProfileOfOtherClassesIsAnError) {
  const std::string path = kData + "osm/finland_small.osm.pbf";
  const careshed::SpeedProfile boats("boats", {{"ferry_lane", 20.0}});
  EXPECT_THROW(careshed::RoadGraph::from_osm(path, boats), careshed::InputError);
  EXPECT_THROW(burn_roads(path, grid_over(path), boats), careshed::InputError);
}

TEST(RoadFileWithoutRoads, RoadsOutsideTheGridAreAnError) {
  // Helsinki's roads on a Comoros grid: the user named a road file that contributes nothing.
  EXPECT_THROW(burn_roads(kData + "osm/helsinki.osm.pbf", comoros_grid()), careshed::InputError);
  EXPECT_GT(burn_roads(kData + "comoros/comores-latest.osm.pbf", comoros_grid()).road_features, 0);
}

// ---- rasters ---------------------------------------------------------------------------------------------

TEST(TruncatedGeoTiff, EveryCutOfThePopulationRasterIsAnErrorNamingTheFile) {
  const std::string intact = kData + "comoros/population.tif";
  const careshed::GridSpec grid = comoros_grid();
  // Control.
  ASSERT_GT(careshed::population_from_raster(intact, grid).report.valid_cells, 0);
  ASSERT_GT(careshed::read_raster(intact).report.valid_cells, 0);
  ScratchDir dir;
  const std::uintmax_t size = fs::file_size(intact);
  for (std::uintmax_t cut : cut_offsets(size)) {
    SCOPED_TRACE("cut at byte " + std::to_string(cut) + " of " + std::to_string(size));
    const std::string path = dir.path("cut_" + std::to_string(cut) + ".tif");
    copy_prefix(intact, path, cut);
    expect_io_error_naming(path, [&] { careshed::read_raster(path); }, "read_raster (native)");
    expect_io_error_naming(path, [&] { careshed::read_raster(path, grid, careshed::Resampling::Nearest); },
                           "read_raster (warped)");
    expect_io_error_naming(path, [&] { careshed::population_from_raster(path, grid); }, "population_from_raster");
  }
}

TEST(AllNodataRaster, PopulationSpeedAndLandCoverNeedDataOnTheGrid) {
  ScratchDir dir;
  const careshed::GridSpec grid = comoros_grid();
  const std::string path = dir.path("all_nodata.tif");
  std::vector<float> nan(static_cast<size_t>(grid.size()), std::numeric_limits<float>::quiet_NaN());
  careshed::write_geotiff(path, nan, grid);
  auto expect_no_data_error = [&](auto&& run, const char* role) {
    try {
      run();
      ADD_FAILURE() << role << ": no error";
    } catch (const careshed::InputError& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find(path), std::string::npos) << m;
      EXPECT_NE(m.find(role), std::string::npos) << m;
      EXPECT_NE(m.find("has no data on the analysis grid"), std::string::npos) << m;
    }
  };
  expect_no_data_error([&] { careshed::population_from_raster(path, grid); }, "population raster");
  careshed::FrictionInputs speed;
  speed.speed_raster = careshed::SpeedRaster{path};
  expect_no_data_error([&] { careshed::build_friction_surface(grid, speed); }, "speed raster");
  careshed::FrictionInputs friction;
  friction.friction_raster = careshed::FrictionRaster{path};
  expect_no_data_error([&] { careshed::build_friction_surface(grid, friction); }, "friction raster");
  careshed::LandcoverClasses lc;
  lc.path = path;
  lc.speed_kmh = {{1, 5.0}};
  std::vector<double> kmh(static_cast<size_t>(grid.size()), 0.0);
  expect_no_data_error([&] { careshed::add_landcover_speeds(lc, grid, kmh.data()); }, "land cover raster");

  // Control: one valid cell is enough, and a raster of zeros is data (no people), not "no data".
  nan[0] = 3.0f;
  careshed::write_geotiff(path, nan, grid);
  EXPECT_EQ(careshed::population_from_raster(path, grid).report.valid_cells, 1);
  std::vector<float> zeros(static_cast<size_t>(grid.size()), 0.0f);
  careshed::write_geotiff(path, zeros, grid);
  EXPECT_EQ(careshed::population_from_raster(path, grid).report.valid_cells, grid.size());
  // A barrier mask with no data means "no barrier", not an error.
  careshed::Barrier mask;
  mask.path = path;
  mask.is_raster = true;
  std::vector<float> all_nan(static_cast<size_t>(grid.size()), std::numeric_limits<float>::quiet_NaN());
  careshed::write_geotiff(path, all_nan, grid);
  std::vector<double> values(static_cast<size_t>(grid.size()), 1.0);
  EXPECT_EQ(careshed::apply_barrier(mask, grid, values.data()), 0);
}

// ---- vector files ------------------------------------------------------------------------------------------

TEST(TruncatedVector, GeoPackageAndGeoJsonCutsAreErrorsNamingTheFile) {
  ScratchDir dir;
  for (const char* rel : {"comoros/health.gpkg", "quzhou/counties.geojson"}) {
    const std::string intact = kData + rel;
    const std::string ext = fs::path(intact).extension().string();
    ASSERT_GT(careshed::read_vector(intact).size(), 0u);  // control
    const std::uintmax_t size = fs::file_size(intact);
    // size - 2: counties.geojson ends with "}\n", so cutting only its newline leaves a complete document.
    for (std::uintmax_t cut : {std::uintmax_t{0}, std::uintmax_t{100}, size / 2, size - 100, size - 2}) {
      SCOPED_TRACE(std::string(rel) + " cut at byte " + std::to_string(cut));
      const std::string path = dir.path("cut_" + std::to_string(cut) + ext);
      copy_prefix(intact, path, cut);
      expect_io_error_naming(path, [&] { careshed::read_vector(path); }, "read_vector");
    }
  }
}

TEST(SpeedProfileCsv, ReadErrorIsNotAnEmptyTable) {
  ScratchDir dir;  // a directory opens as a stream on Linux, but every read fails
  try {
    careshed::SpeedProfile::from_csv(dir.dir().string());
    FAIL() << "no error";
  } catch (const careshed::DataIOError& e) {
    EXPECT_NE(std::string(e.what()).find(dir.dir().string()), std::string::npos) << e.what();
  }
}

}  // namespace
