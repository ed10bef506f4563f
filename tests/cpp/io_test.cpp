// io_test — read_vector on hand-written GeoJSON / CSV / GeoPackage files and the shipped data, every
// bad-input error (class + what the message names), and write_vector's all-or-nothing behaviour.
#include "careshed/io.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "careshed/error.hpp"
#include "careshed/geometry.hpp"
#include "vector_test_util.hpp"
#include "careshed/progress.hpp"
#include "run_control_checks.hpp"

namespace careshed {
namespace {

using testing::read_text;
using testing::ScratchDir;
using testing::wkb_from_wkt;
using testing::wkt_from_wkb;
using testing::write_text;

const char* kTwoPoints = R"({"type": "FeatureCollection", "name": "sites", "features": [
 {"type": "Feature", "properties": {"code": 7, "beds": 12.5, "name": "North", "staff": 3},
  "geometry": {"type": "Point", "coordinates": [118.5, 29.25]}},
 {"type": "Feature", "properties": {"code": 8, "beds": 4, "name": null, "staff": null},
  "geometry": {"type": "Point", "coordinates": [118.75, 28.5]}},
 {"type": "Feature", "properties": {"code": 9, "beds": 0, "name": "Nowhere", "staff": 1}, "geometry": null}
]})";

TEST(ReadVector, GeoJsonTypesNullsGeometry) {
  ScratchDir d;
  write_text(d.path("sites.geojson"), kTwoPoints);
  VectorTable t = read_vector(d.path("sites.geojson"));
  EXPECT_EQ(t.layer, "sites");
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(t.epsg, 4326);
  EXPECT_TRUE(t.is_geographic);
  EXPECT_EQ(t.geometry_type, "Point");
  EXPECT_EQ(t.fid, (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(wkt_from_wkb(t.wkb[0]), "POINT (118.5 29.25)");  // x = lon
  EXPECT_TRUE(t.wkb[2].empty());
  ASSERT_EQ(t.columns.size(), 4u);
  const Column& code = t.column("code");
  EXPECT_EQ(code.type, Column::Type::Int64);
  EXPECT_EQ(code.ints, (std::vector<int64_t>{7, 8, 9}));
  const Column& beds = t.column("beds");
  EXPECT_EQ(beds.type, Column::Type::Float64);
  EXPECT_EQ(beds.reals, (std::vector<double>{12.5, 4.0, 0.0}));
  const Column& name = t.column("name");
  EXPECT_EQ(name.type, Column::Type::String);
  EXPECT_EQ(name.strings[0], "North");
  EXPECT_TRUE(name.is_null(1));
  const Column& staff = t.column("staff");  // integer with a null → float64 with NaN
  EXPECT_EQ(staff.type, Column::Type::Float64);
  EXPECT_EQ(staff.reals[0], 3.0);
  EXPECT_TRUE(std::isnan(staff.reals[1]));
}

TEST(ReadVector, FieldSubsetInRequestedOrder) {
  ScratchDir d;
  write_text(d.path("sites.geojson"), kTwoPoints);
  ReadOptions o;
  o.fields = std::vector<std::string>{"name", "code"};
  VectorTable t = read_vector(d.path("sites.geojson"), o);
  ASSERT_EQ(t.columns.size(), 2u);
  EXPECT_EQ(t.columns[0].name, "name");
  EXPECT_EQ(t.columns[1].name, "code");
}

TEST(ReadVector, MissingFileNamesThePath) {
  EXPECT_THROW_MSG(read_vector("/nonexistent/dir/zones.geojson"), DataIOError, "/nonexistent/dir/zones.geojson",
                   "no such file");
}

TEST(ReadVector, UnopenableFileGivesDataIOError) {
  ScratchDir d;
  write_text(d.path("junk.geojson"), "this is not json");
  EXPECT_THROW_MSG(read_vector(d.path("junk.geojson")), DataIOError, "junk.geojson", "cannot open");
}

TEST(ReadVector, PostgisConnectionStringIsNotTreatedAsAFile) {
  // Port 1 on loopback refuses at once: the error must be GDAL's connection failure, not "no such file".
  ReadOptions o;
  o.layer = "public.counties";
  try {
    read_vector("PG:dbname=careshed_none host=127.0.0.1 port=1 connect_timeout=2", o);
    ADD_FAILURE() << "expected DataIOError";
  } catch (const DataIOError& e) {
    std::string msg = e.what();
    EXPECT_EQ(msg.find("no such file"), std::string::npos) << msg;
    EXPECT_NE(msg.find("PG:"), std::string::npos) << msg;
  }
}

TEST(ReadVector, MissingLayerListsTheLayers) {
  ScratchDir d;
  VectorTable a;
  a.layer = "zones";
  a.crs_wkt = "EPSG:4326";
  a.geometry_type = "Point";
  a.wkb = {wkb_from_wkt("POINT (1 2)")};
  VectorTable b = a;
  b.layer = "sites";
  write_vector(d.path("two.gpkg"), {a, b});
  ReadOptions o;
  o.layer = "counties";
  EXPECT_THROW_MSG(read_vector(d.path("two.gpkg"), o), InputError, "two.gpkg", "no layer 'counties'", "'zones'",
                   "'sites'");
  // Two layers and none named: refuse and list them.
  EXPECT_THROW_MSG(read_vector(d.path("two.gpkg")), InputError, "2 layers", "'zones'", "'sites'");
  o.layer = "sites";
  EXPECT_EQ(read_vector(d.path("two.gpkg"), o).layer, "sites");
  EXPECT_EQ(list_layers(d.path("two.gpkg")), (std::vector<std::string>{"zones", "sites"}));
}

TEST(ReadVector, MissingFieldListsTheFields) {
  ScratchDir d;
  write_text(d.path("sites.geojson"), kTwoPoints);
  ReadOptions o;
  o.fields = std::vector<std::string>{"code", "population"};
  EXPECT_THROW_MSG(read_vector(d.path("sites.geojson"), o), InputError, "sites.geojson", "layer 'sites'",
                   "'population'", "'code', 'beds', 'name', 'staff'");
}

TEST(ReadVector, CsvPointsWithCrs) {
  ScratchDir d;
  write_text(d.path("f.csv"), "id,code,lon,lat,beds,note\n1,0012,118.5,29.0,10,a\n2,0330,118.6,29.1,,b\n");
  ReadOptions o;
  o.x_field = "lon";
  o.y_field = "lat";
  o.crs = "EPSG:4326";
  VectorTable t = read_vector(d.path("f.csv"), o);
  EXPECT_EQ(t.geometry_type, "Point");
  EXPECT_EQ(t.epsg, 4326);
  EXPECT_EQ(wkt_from_wkb(t.wkb[1]), "POINT (118.6 29.1)");
  EXPECT_EQ(t.column("id").type, Column::Type::Int64);
  EXPECT_EQ(t.column("code").type, Column::Type::String);  // leading zeros: an identifier, kept as text
  EXPECT_EQ(t.column("code").strings[0], "0012");
  EXPECT_EQ(t.column("beds").type, Column::Type::Float64);  // a gap → float with NaN
  EXPECT_TRUE(std::isnan(t.column("beds").reals[1]));
  EXPECT_EQ(t.column("lon").type, Column::Type::Float64);
  EXPECT_EQ(t.column("note").type, Column::Type::String);
}

TEST(ReadVector, CsvWithoutCrsIsRefused) {
  ScratchDir d;
  write_text(d.path("f.csv"), "lon,lat\n118.5,29.0\n");
  ReadOptions o;
  o.x_field = "lon";
  o.y_field = "lat";
  EXPECT_THROW_MSG(read_vector(d.path("f.csv"), o), CrsError, "f.csv", "crs='EPSG:4326'");
}

TEST(ReadVector, CsvAttributeTableNeedsNoCrs) {
  ScratchDir d;
  write_text(d.path("pop.csv"), "county,pop\nA,100\nB,200\n");
  VectorTable t = read_vector(d.path("pop.csv"));
  EXPECT_EQ(t.geometry_type, "None");
  EXPECT_TRUE(t.crs_wkt.empty());
  EXPECT_EQ(t.column("pop").ints, (std::vector<int64_t>{100, 200}));
}

TEST(ReadVector, ShapefileWithoutPrjNeedsACrs) {
  ScratchDir d;
  VectorTable t;
  t.layer = "pts";
  t.geometry_type = "Point";
  t.crs_wkt = crs_to_wkt("EPSG:32650");
  t.wkb = {wkb_from_wkt("POINT (675000 3200000)")};
  t.columns = {Column::of_ints("id", {1})};
  write_vector(d.path("pts.shp"), {t});
  std::filesystem::remove(d.path("pts.prj"));
  EXPECT_THROW_MSG(read_vector(d.path("pts.shp")), CrsError, "pts.shp", "no coordinate reference system",
                   "crs='EPSG:4326'");
  ReadOptions o;
  o.crs = "EPSG:32650";
  EXPECT_EQ(read_vector(d.path("pts.shp"), o).epsg, 32650);
}

TEST(ReadVector, NonNumericOrEmptyCoordinateNamesTheRow) {
  ScratchDir d;
  write_text(d.path("f.csv"), "name,lon,lat\nA,118.5,29.0\nB,118.6,29.1\nC,118.7 E,29.2\n");
  ReadOptions o;
  o.x_field = "lon";
  o.y_field = "lat";
  o.crs = "EPSG:4326";
  EXPECT_THROW_MSG(read_vector(d.path("f.csv"), o), InputError, "f.csv", "data row 3", "field 'lon'",
                   "'118.7 E' is not a number");
  write_text(d.path("g.csv"), "name,lon,lat\nA,118.5,29.0\nB,118.6,\n");
  EXPECT_THROW_MSG(read_vector(d.path("g.csv"), o), InputError, "g.csv", "data row 2", "field 'lat'", "empty");
  o.y_field = "";
  EXPECT_THROW_MSG(read_vector(d.path("g.csv"), o), InputError, "x_field", "y_field");
  o.y_field = "latitude";
  EXPECT_THROW_MSG(read_vector(d.path("g.csv"), o), InputError, "no field 'latitude'", "'lat'");
}

TEST(ReadVector, MetresInAGeoJsonAreACrsError) {
  ScratchDir d;
  write_text(d.path("m.geojson"), R"({"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [118.5, 29.0]}},
    {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates":
      [[[675000, 3200000], [676000, 3200000], [676000, 3201000], [675000, 3200000]]]}}]})");
  EXPECT_THROW_MSG(read_vector(d.path("m.geojson")), CrsError, "m.geojson", "data row 2", "longitude/latitude");
  // CSV declared lon/lat but holding metres, same error.
  write_text(d.path("m.csv"), "x,y\n675000,3200000\n");
  ReadOptions o;
  o.x_field = "x";
  o.y_field = "y";
  o.crs = "EPSG:4326";
  EXPECT_THROW_MSG(read_vector(d.path("m.csv"), o), CrsError, "m.csv", "data row 1");
  o.crs = "EPSG:32650";  // the right CRS is accepted
  EXPECT_EQ(read_vector(d.path("m.csv"), o).epsg, 32650);
}

TEST(ReadVector, GivenCrsMustAgreeWithTheSource) {
  ScratchDir d;
  write_text(d.path("sites.geojson"), kTwoPoints);
  ReadOptions o;
  o.crs = "EPSG:32650";
  EXPECT_THROW_MSG(read_vector(d.path("sites.geojson"), o), CrsError, "sites.geojson", "EPSG:4326", "EPSG:32650");
  o.crs = "EPSG:4326";  // the same CRS (GeoJSON's is OGC:CRS84, lon/lat) is fine
  EXPECT_EQ(read_vector(d.path("sites.geojson"), o).epsg, 4326);
  o.crs = "no such crs";
  EXPECT_THROW_MSG(read_vector(d.path("sites.geojson"), o), CrsError, "no such crs");
}

TEST(ReadVector, ShippedQuzhouCounties) {
  VectorTable t = read_vector(std::string(CARESHED_SOURCE_DIR) + "/data/quzhou/counties.geojson");
  ASSERT_EQ(t.size(), 6u);
  EXPECT_EQ(t.epsg, 4326);
  const Column& pop = t.column("pop_census2020");
  ASSERT_EQ(pop.type, Column::Type::Int64);
  EXPECT_EQ(std::accumulate(pop.ints.begin(), pop.ints.end(), int64_t{0}), 2276184);
  EXPECT_TRUE(check_polygons(t.wkb).empty());
}

TEST(ReadVector, ShippedComorosHealthFacilities) {
  VectorTable t = read_vector(std::string(CARESHED_SOURCE_DIR) + "/data/comoros/health.gpkg");
  EXPECT_EQ(t.layer, "health");
  EXPECT_EQ(t.size(), 70u);
  EXPECT_EQ(t.geometry_type, "Point");
  EXPECT_EQ(t.epsg, 4326);
  EXPECT_GE(t.column_index("amenity"), 0);
  for (const auto& w : t.wkb) ASSERT_FALSE(w.empty());
}

// ---- writing ----------------------------------------------------------------------------------------

VectorTable sample_layer() {
  VectorTable t;
  t.layer = "zones";
  t.crs_wkt = crs_to_wkt("EPSG:32650");
  t.geometry_type = "Polygon";
  t.wkb = {wkb_from_wkt("POLYGON ((0 0, 10 0, 10 10, 0 0))"), wkb_from_wkt("POLYGON ((20 0, 30 0, 30 10, 20 0))"),
           Wkb{}};
  Column name = Column::of_strings("name", {"A", "", "C"});
  name.string_null[1] = 1;
  t.columns = {Column::of_ints("id", {1, 2, 3}), Column::of_reals("rate", {7.5, std::nan(""), 0.25}), name};
  return t;
}

TEST(WriteVector, GeoPackageRoundTripTwoLayers) {
  ScratchDir d;
  VectorTable zones = sample_layer();
  VectorTable table;
  table.layer = "summary";
  table.geometry_type = "None";
  table.wkb.resize(2);
  table.columns = {Column::of_reals("total", {1.5, 2.5})};
  write_vector(d.path("out.gpkg"), {zones, table});
  EXPECT_EQ(d.entries(), (std::vector<std::string>{"out.gpkg"}));  // no temporary left behind
  ReadOptions o;
  o.layer = "zones";
  VectorTable back = read_vector(d.path("out.gpkg"), o);
  EXPECT_EQ(back.epsg, 32650);
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(wkt_from_wkb(back.wkb[1]), "POLYGON ((20 0,30 0,30 10,20 0))");
  EXPECT_TRUE(back.wkb[2].empty());
  EXPECT_EQ(back.column("id").ints, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(back.column("rate").reals[0], 7.5);
  EXPECT_TRUE(std::isnan(back.column("rate").reals[1]));
  EXPECT_TRUE(back.column("name").is_null(1));
  EXPECT_EQ(back.column("name").strings[2], "C");
  o.layer = "summary";
  EXPECT_EQ(read_vector(d.path("out.gpkg"), o).column("total").reals, (std::vector<double>{1.5, 2.5}));
}

TEST(WriteVector, ShapefileSideFilesAreMovedTogether) {
  ScratchDir d;
  write_vector(d.path("zones.shp"), {sample_layer()});
  auto e = d.entries();
  EXPECT_NE(std::find(e.begin(), e.end(), "zones.shp"), e.end());
  EXPECT_NE(std::find(e.begin(), e.end(), "zones.dbf"), e.end());
  EXPECT_NE(std::find(e.begin(), e.end(), "zones.prj"), e.end());
  for (const auto& name : e) EXPECT_EQ(name.find("careshed-tmp"), std::string::npos) << name;
  EXPECT_EQ(read_vector(d.path("zones.shp")).size(), 3u);
}

TEST(WriteVector, FailureLeavesNothingAndKeepsTheOldFile) {
  ScratchDir d;
  write_text(d.path("out.gpkg"), "previous contents");
  VectorTable bad = sample_layer();
  bad.wkb[1] = Wkb{1, 2, 3};  // not WKB: fails half-way through the layer
  EXPECT_THROW_MSG(write_vector(d.path("out.gpkg"), {bad}), InputError, "out.gpkg", "layer 'zones'", "geometry 1");
  EXPECT_EQ(d.entries(), (std::vector<std::string>{"out.gpkg"}));
  EXPECT_EQ(read_text(d.path("out.gpkg")), "previous contents");
  // A column of the wrong length is refused before anything is written.
  VectorTable short_col = sample_layer();
  short_col.columns[0].ints.pop_back();
  EXPECT_THROW_MSG(write_vector(d.path("new.gpkg"), {short_col}), InputError, "column 'id'");
  EXPECT_EQ(d.entries(), (std::vector<std::string>{"out.gpkg"}));
  // Missing directory, bad driver, several layers in a single-layer format.
  EXPECT_THROW_MSG(write_vector(d.path("no/such/dir/x.gpkg"), {sample_layer()}), DataIOError, "does not exist");
  EXPECT_THROW_MSG(write_vector(d.path("x.gpkg"), {sample_layer()}, "NoSuchDriver"), InputError, "NoSuchDriver");
  EXPECT_THROW_MSG(write_vector(d.path("x.geojson"), {sample_layer(), sample_layer()}), InputError, "GeoPackage");
  EXPECT_EQ(d.entries(), (std::vector<std::string>{"out.gpkg"}));
}

TEST(WriteVector, OverwritesAnExistingFileAtomically) {
  ScratchDir d;
  write_vector(d.path("out.geojson"), {sample_layer()});
  VectorTable one = sample_layer();
  one.wkb.resize(1);
  for (auto& c : one.columns) {
    c.ints.resize(std::min<std::size_t>(c.ints.size(), 1));
    c.reals.resize(std::min<std::size_t>(c.reals.size(), 1));
    c.strings.resize(std::min<std::size_t>(c.strings.size(), 1));
    c.string_null.resize(std::min<std::size_t>(c.string_null.size(), 1));
  }
  one.crs_wkt = crs_to_wkt("EPSG:4326");
  one.wkb[0] = wkb_from_wkt("POLYGON ((118 29, 119 29, 119 30, 118 29))");
  write_vector(d.path("out.geojson"), {one});
  EXPECT_EQ(read_vector(d.path("out.geojson")).size(), 1u);
  EXPECT_EQ(d.entries(), (std::vector<std::string>{"out.geojson"}));
}

TEST(ReadVectorControl, SameTableWithAControlAndCancelStops) {
  ScratchDir d;
  write_text(d.path("sites.geojson"), kTwoPoints);
  const VectorTable a = read_vector(d.path("sites.geojson"));
  VectorTable b;
  careshed_test::watch_progress([&](RunControl* c) { b = read_vector(d.path("sites.geojson"), {}, c); }, "read_vector");
  EXPECT_EQ(a.fid, b.fid);
  EXPECT_EQ(a.wkb, b.wkb);
  ASSERT_EQ(a.columns.size(), b.columns.size());
  for (std::size_t k = 0; k < a.columns.size(); ++k)
    for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a.columns[k].text(i), b.columns[k].text(i));
  careshed_test::expect_stops_when_cancelled_before(
      [&](RunControl* c) { read_vector(d.path("sites.geojson"), {}, c); }, "read_vector");
}

}  // namespace
}  // namespace careshed
