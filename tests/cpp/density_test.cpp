// density_test — the density arithmetic and the end-to-end pipeline on a small hand-made case whose every
// number is worked out by hand in the comments, facilities in another CRS, the bad-input errors, and the
// shipped Quzhou counties.
#include "careshed/density.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <sstream>

#include "careshed/error.hpp"
#include "vector_test_util.hpp"

namespace careshed {
namespace {

using testing::ScratchDir;
using testing::write_text;

const double NaN = std::numeric_limits<double>::quiet_NaN();

TEST(DensityTable, HandComputedRatesAndShortfalls) {
  // Zones: 1000 / 2000 / 3000 residents. Beds per 1000 (target 7.8), ambulances per 30,000 (no target).
  std::vector<double> pop = {1000, 2000, 3000};
  std::vector<double> amounts = {7.8, 1,   // zone 0: exactly 7.8 per 1000 → shortfall 0 (not 1 from rounding)
                                 10, 0,    // zone 1: 5.0 per 1000; needs 15.6 → ceil(5.6) = 6
                                 23, 2};   // zone 2: 7.667; needs 23.4 → ceil(0.4) = 1
  auto t = density_table(pop, amounts, {1000, 30000}, {7.8, NaN});
  ASSERT_EQ(t.population.size(), 4u);
  EXPECT_EQ(t.population[3], 6000);
  EXPECT_DOUBLE_EQ(t.at(t.amount, 3, 0), 40.8);
  EXPECT_DOUBLE_EQ(t.at(t.rate, 0, 0), 7.8);
  EXPECT_DOUBLE_EQ(t.at(t.rate, 1, 0), 5.0);
  EXPECT_DOUBLE_EQ(t.at(t.rate, 2, 0), 23.0 / 3.0);
  EXPECT_DOUBLE_EQ(t.at(t.rate, 3, 0), 6.8);          // 40.8 / 6000 * 1000
  EXPECT_DOUBLE_EQ(t.at(t.rate, 0, 1), 30.0);         // 1 / 1000 * 30000
  EXPECT_DOUBLE_EQ(t.at(t.rate, 3, 1), 15.0);         // 3 / 6000 * 30000
  EXPECT_EQ(t.at(t.shortfall, 0, 0), 0);
  EXPECT_EQ(t.at(t.shortfall, 1, 0), 6);
  EXPECT_EQ(t.at(t.shortfall, 2, 0), 1);
  EXPECT_EQ(t.at(t.shortfall, 3, 0), 6);              // 46.8 - 40.8 = 6 exactly
  EXPECT_EQ(t.shortfall_sum_of_zones[0], 7);
  EXPECT_TRUE(std::isnan(t.at(t.shortfall, 1, 1)));
  EXPECT_TRUE(std::isnan(t.at(t.target, 3, 1)));
  EXPECT_TRUE(std::isnan(t.shortfall_sum_of_zones[1]));
  EXPECT_EQ(t.at(t.target, 2, 0), 7.8);
}

TEST(DensityTable, RefusesBadValuesNamingTheZone) {
  EXPECT_THROW_MSG(density_table({1000, 0}, {1, 1}, {1000}, {NaN}), InputError, "zone 1", "population");
  EXPECT_THROW_MSG(density_table({1000, NaN}, {1, 1}, {1000}, {NaN}), InputError, "zone 1");
  EXPECT_THROW_MSG(density_table({1000, 10}, {1, -1}, {1000}, {NaN}), InputError, "zone 1", "resource 0");
  EXPECT_THROW_MSG(density_table({1000}, {1}, {0}, {NaN}), InputError, "per");
  EXPECT_THROW_MSG(density_table({1000}, {1}, {1000}, {-1}), InputError, "target");
  EXPECT_THROW(density_table({1000}, {1, 2}, {1000}, {NaN}), InputError);
  EXPECT_THROW(density_table({1000}, {1}, {1000}, {NaN, NaN}), InputError);
}

// ---- the hand-made end-to-end case ----------------------------------------------------------------------
// Three lon/lat zones (GeoJSON): A = [118.0,118.1]×[29.0,29.1] 1000 residents, 1 GP;
// B = [118.1,118.2]×[29.0,29.1] 2000 residents, 0 GPs; C = [118.0,118.2]×[29.1,29.2] 4000 residents, 3 GPs.
// Facilities (CSV, lon/lat): f1 A 5 beds 2 doctors; f2 A 3/1; f3 B 10/4; f4 C 30/12; f5 outside 100/50.
// Totals: A beds 8 doctors 3 stations 2; B 10/4/1; C 30/12/1; region 48/19/4 (GPs 4).
const char* kZones = R"({"type": "FeatureCollection", "name": "zones", "features": [
 {"type": "Feature", "properties": {"code": "A", "pop": 1000, "gps": 1}, "geometry": {"type": "Polygon",
  "coordinates": [[[118.0, 29.0], [118.1, 29.0], [118.1, 29.1], [118.0, 29.1], [118.0, 29.0]]]}},
 {"type": "Feature", "properties": {"code": "B", "pop": 2000, "gps": 0}, "geometry": {"type": "Polygon",
  "coordinates": [[[118.1, 29.0], [118.2, 29.0], [118.2, 29.1], [118.1, 29.1], [118.1, 29.0]]]}},
 {"type": "Feature", "properties": {"code": "C", "pop": 4000, "gps": 3}, "geometry": {"type": "Polygon",
  "coordinates": [[[118.0, 29.1], [118.2, 29.1], [118.2, 29.2], [118.0, 29.2], [118.0, 29.1]]]}}]})";

const char* kFacilities =
    "name,lon,lat,beds,doctors\n"
    "f1,118.05,29.05,5,2\n"
    "f2,118.02,29.08,3,1\n"
    "f3,118.15,29.05,10,4\n"
    "f4,118.10,29.15,30,12\n"
    "f5,119.00,29.00,100,50\n";

struct Case {
  ScratchDir dir;
  SourceSpec zones;
  SourceSpec facilities;
  ZoneFields zone_fields;
  FacilityFields facility_fields;
  std::vector<ResourceSpec> resources;

  Case() {
    write_text(dir.path("zones.geojson"), kZones);
    write_text(dir.path("facilities.csv"), kFacilities);
    zones.source = dir.path("zones.geojson");
    facilities.source = dir.path("facilities.csv");
    facilities.options.x_field = "lon";
    facilities.options.y_field = "lat";
    facilities.options.crs = "EPSG:4326";
    zone_fields.id_field = "code";
    zone_fields.population_field = "pop";
    zone_fields.resource_fields = {{"gps", "gps"}};
    facility_fields.resource_fields = {{"beds", "beds"}, {"doctors", "doctors"}, {"stations", ""}};
    resources = {{"beds", 1000, 7.8}, {"doctors", 1000, 2.5}, {"gps", 10000, 5}, {"stations", 30000, NaN}};
  }
  DensityResult run() const { return compute_density(zones, zone_fields, {{facilities, facility_fields}}, resources); }
};

TEST(ComputeDensity, HandMadeCase) {
  Case c;
  DensityResult r = c.run();
  const DensityTable& t = r.table;
  EXPECT_EQ(r.zone_ids, (std::vector<std::string>{"A", "B", "C"}));
  EXPECT_EQ(t.population, (std::vector<double>{1000, 2000, 4000, 7000}));
  // amounts: beds, doctors, gps, stations
  const double want_amount[4][4] = {{8, 3, 1, 2}, {10, 4, 0, 1}, {30, 12, 3, 1}, {48, 19, 4, 4}};
  // rates: beds & doctors per 1000, gps per 10,000, stations per 30,000
  const double want_rate[4][4] = {{8.0, 3.0, 10.0, 60.0},
                                  {5.0, 2.0, 0.0, 15.0},
                                  {7.5, 3.0, 7.5, 7.5},
                                  {48.0 / 7.0, 19.0 / 7.0, 40.0 / 7.0, 120.0 / 7.0}};
  // shortfalls: beds A 7.8-8<0 → 0, B 15.6-10 → 6, C 31.2-30 → 2, region 54.6-48 → 7;
  // doctors B 5-4 → 1, region 17.5-19 → 0; gps B 1-0 → 1, A 0.5-1 → 0, C 2-3 → 0, region 3.5-4 → 0.
  const double want_short[4][3] = {{0, 0, 0}, {6, 1, 1}, {2, 0, 0}, {7, 0, 0}};
  for (std::size_t z = 0; z < 4; ++z) {
    for (std::size_t k = 0; k < 4; ++k) {
      EXPECT_DOUBLE_EQ(t.at(t.amount, z, k), want_amount[z][k]) << "row " << z << " resource " << k;
      EXPECT_NEAR(t.at(t.rate, z, k), want_rate[z][k], 1e-12) << "row " << z << " resource " << k;
    }
    for (std::size_t k = 0; k < 3; ++k) EXPECT_EQ(t.at(t.shortfall, z, k), want_short[z][k]) << z << "," << k;
    EXPECT_TRUE(std::isnan(t.at(t.shortfall, z, 3)));
  }
  EXPECT_EQ(t.shortfall_sum_of_zones[0], 8);
  EXPECT_EQ(t.shortfall_sum_of_zones[1], 1);
  EXPECT_EQ(t.shortfall_sum_of_zones[2], 1);
  // f5 is not dropped silently.
  ASSERT_EQ(r.unassigned.size(), 1u);
  EXPECT_EQ(r.unassigned[0].row, 4u);
  EXPECT_EQ(r.unassigned[0].fid, 5);  // CSV fids count from 1
  EXPECT_EQ(r.unassigned[0].reason, "outside every zone");
  EXPECT_EQ(r.facility_zone[0], (std::vector<int32_t>{0, 0, 1, 2, -1}));
  EXPECT_EQ(crs_epsg(r.analysis_crs_wkt), 32650);  // lon/lat zones → UTM zone of their centre
}

TEST(ComputeDensity, ScenarioProjectsMatchedByZoneId) {
  // The plan adds 10 beds in A and 4 in B (matched by zone id, no coordinates) and one in an unknown zone:
  // A 18, B 14, C 30, region 62 → region need 54.6 - 62 < 0 → 0, B 15.6-14 → 2, C 2.
  Case c;
  write_text(c.dir.path("projects.csv"), "project,county,new_beds\nP1,A,10\nP2,B,4\nP3,Z,7\n");
  SourceSpec projects{c.dir.path("projects.csv"), {}};
  FacilityFields pf;
  pf.zone_id_field = "county";
  pf.resource_fields = {{"beds", "new_beds"}};
  DensityResult r =
      compute_density(c.zones, c.zone_fields, {{c.facilities, c.facility_fields}, {projects, pf}}, c.resources);
  const DensityTable& t = r.table;
  EXPECT_EQ(t.at(t.amount, 0, 0), 18);
  EXPECT_EQ(t.at(t.amount, 1, 0), 14);
  EXPECT_EQ(t.at(t.amount, 3, 0), 62);
  EXPECT_EQ(t.at(t.shortfall, 1, 0), 2);
  EXPECT_EQ(t.at(t.shortfall, 2, 0), 2);
  EXPECT_EQ(t.at(t.shortfall, 3, 0), 0);
  EXPECT_EQ(t.shortfall_sum_of_zones[0], 4);  // a surplus in A does not cover B and C
  ASSERT_EQ(r.unassigned.size(), 2u);
  EXPECT_EQ(r.unassigned[1].source_index, 1u);
  EXPECT_NE(r.unassigned[1].reason.find("'Z'"), std::string::npos);
}

TEST(ComputeDensity, FacilitiesInWebMercatorAreReprojected) {
  // Same facilities, coordinates converted here with the closed-form spherical Mercator (EPSG:3857).
  Case c;
  const double pi = 3.14159265358979323846, R = 6378137.0;
  std::ostringstream csv;
  csv.precision(17);
  csv << "name,x,y,beds,doctors\n";
  const double pts[5][2] = {{118.05, 29.05}, {118.02, 29.08}, {118.15, 29.05}, {118.10, 29.15}, {119.0, 29.0}};
  const int beds[5] = {5, 3, 10, 30, 100}, docs[5] = {2, 1, 4, 12, 50};
  for (int i = 0; i < 5; ++i) {
    csv << "f" << i + 1 << "," << R * pts[i][0] * pi / 180 << "," << R * std::log(std::tan(pi / 4 + pts[i][1] * pi / 360))
        << "," << beds[i] << "," << docs[i] << "\n";
  }
  write_text(c.dir.path("merc.csv"), csv.str());
  c.facilities.source = c.dir.path("merc.csv");
  c.facilities.options.x_field = "x";
  c.facilities.options.y_field = "y";
  c.facilities.options.crs = "EPSG:3857";
  DensityResult r = c.run();
  EXPECT_EQ(r.facility_zone[0], (std::vector<int32_t>{0, 0, 1, 2, -1}));
  EXPECT_EQ(r.table.at(r.table.amount, 3, 0), 48);
}

TEST(ComputeDensity, PolygonFacilitiesUseAPointOnTheirSurfaceAndNullGeometryIsReported) {
  // A hospital drawn as a C-shaped building footprint inside B (its centroid lies outside the footprint,
  // its point on surface inside), and one without geometry: B gets the 50 beds, the second is listed as
  // unassigned with the reason.
  Case c;
  write_text(c.dir.path("buildings.geojson"), R"({"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"beds": 50}, "geometry": {"type": "Polygon", "coordinates":
      [[[118.101, 29.01], [118.19, 29.01], [118.19, 29.02], [118.11, 29.02], [118.11, 29.09], [118.19, 29.09],
        [118.19, 29.095], [118.105, 29.095], [118.105, 29.015], [118.101, 29.015], [118.101, 29.01]]]}},
    {"type": "Feature", "properties": {"beds": 20}, "geometry": null}]})");
  SourceSpec buildings{c.dir.path("buildings.geojson"), {}};
  FacilityFields bf;
  bf.resource_fields = {{"beds", "beds"}};
  c.zone_fields.resource_fields.clear();
  DensityResult r = compute_density(c.zones, c.zone_fields, {{buildings, bf}}, {{"beds", 1000, 7.8}});
  EXPECT_EQ(r.facility_zone[0], (std::vector<int32_t>{1, -1}));
  EXPECT_EQ(r.table.at(r.table.amount, 1, 0), 50);
  EXPECT_EQ(r.table.at(r.table.amount, 3, 0), 50);
  ASSERT_EQ(r.unassigned.size(), 1u);
  EXPECT_EQ(r.unassigned[0].reason, "no geometry");
}

TEST(ComputeDensity, DuplicateZoneIdsNameBothRows) {
  Case c;
  std::string z = kZones;
  z.replace(z.find("\"code\": \"C\""), 11, "\"code\": \"A\"");
  write_text(c.dir.path("zones.geojson"), z);
  EXPECT_THROW_MSG(c.run(), InputError, "zones.geojson", "field 'code'", "duplicate zone id 'A'", "data row 1",
                   "data row 3");
}

TEST(ComputeDensity, ZoneWithoutPopulationNamesFileFieldRow) {
  Case c;
  std::string z = kZones;
  z.replace(z.find("\"pop\": 2000"), 11, "\"pop\": null");
  write_text(c.dir.path("zones.geojson"), z);
  EXPECT_THROW_MSG(c.run(), InputError, "zones.geojson", "field 'pop'", "data row 2", "no value");
  z = kZones;
  z.replace(z.find("\"pop\": 2000"), 11, "\"pop\": 0");
  write_text(c.dir.path("zones.geojson"), z);
  EXPECT_THROW_MSG(c.run(), InputError, "zones.geojson", "field 'pop'", "data row 2", "> 0");
}

TEST(ComputeDensity, NonNumericOrNegativeResourceNamesFileFieldRow) {
  Case c;
  std::string f = kFacilities;
  f.replace(f.find("10,4"), 4, "ten,4");
  write_text(c.dir.path("facilities.csv"), f);
  EXPECT_THROW_MSG(c.run(), InputError, "facilities.csv", "field 'beds'", "data row 3", "'ten' is not a number");
  f = kFacilities;
  f.replace(f.find("10,4"), 4, "-10,4");
  write_text(c.dir.path("facilities.csv"), f);
  EXPECT_THROW_MSG(c.run(), InputError, "facilities.csv", "field 'beds'", "data row 3", ">= 0");
  f = kFacilities;
  f.replace(f.find("10,4"), 4, ",4");
  write_text(c.dir.path("facilities.csv"), f);
  EXPECT_THROW_MSG(c.run(), InputError, "facilities.csv", "field 'beds'", "data row 3", "no value");
  c.facility_fields.null_as_zero = true;  // explicitly allowed: the empty cell counts 0
  EXPECT_EQ(c.run().table.at(c.run().table.amount, 1, 0), 0);
}

TEST(ComputeDensity, InvalidZonePolygonNamesTheZoneAndTheFix) {
  Case c;
  std::string z = kZones;
  // B becomes a bow-tie.
  z.replace(z.find("[[118.1, 29.0], [118.2, 29.0], [118.2, 29.1], [118.1, 29.1]"), 59,
            "[[118.1, 29.0], [118.2, 29.1], [118.2, 29.0], [118.1, 29.1]");
  write_text(c.dir.path("zones.geojson"), z);
  EXPECT_THROW_MSG(c.run(), InputError, "zones.geojson", "zone 'B'", "data row 2", "Self-intersection",
                   "ST_MakeValid", "Fix geometries");
}

TEST(ComputeDensity, MissingFieldsAndResourcesAreNamed) {
  {
    Case c;
    c.zone_fields.population_field = "population";
    EXPECT_THROW_MSG(c.run(), InputError, "zones.geojson", "no field 'population'", "'pop'");
  }
  {
    Case c;
    c.facility_fields.resource_fields.push_back({"nurses", "nurses"});
    EXPECT_THROW_MSG(c.run(), InputError, "facilities.csv", "resource 'nurses'");
  }
  {
    Case c;
    c.resources.push_back({"nurses", 1000, 4.5});
    EXPECT_THROW_MSG(c.run(), InputError, "'nurses'", "no source");
  }
}

TEST(ComputeDensity, MissingFileAndMissingCrsSurfaceFromReading) {
  {
    Case c;
    c.facilities.source = c.dir.path("nope.csv");
    EXPECT_THROW_MSG(c.run(), DataIOError, "nope.csv", "no such file");
  }
  {
    Case c;
    c.facilities.options.crs = "";
    EXPECT_THROW_MSG(c.run(), CrsError, "facilities.csv", "crs='EPSG:4326'");
  }
}

TEST(ComputeDensity, QuzhouCountiesWithModelledBeds) {
  // Census population and the MODELLED 2020 beds attribute of the shipped counties (zone-attribute path).
  SourceSpec zones{std::string(CARESHED_SOURCE_DIR) + "/data/quzhou/counties.geojson", {}};
  ZoneFields zf;
  zf.id_field = "adcode";
  zf.population_field = "pop_census2020";
  zf.resource_fields = {{"beds", "beds_2020_modelled"}};
  DensityResult r = compute_density(zones, zf, {}, {{"beds", 1000, 7.8}});
  ASSERT_EQ(r.zone_ids.size(), 6u);
  EXPECT_EQ(r.table.population[6], 2276184);
  VectorTable t = read_vector(zones.source);
  const Column& beds = t.column("beds_2020_modelled");
  double total = 0;
  for (std::size_t i = 0; i < t.size(); ++i) total += *beds.number(i);
  EXPECT_DOUBLE_EQ(r.table.at(r.table.amount, 6, 0), total);
  EXPECT_NEAR(r.table.at(r.table.rate, 6, 0), total / 2276184.0 * 1000.0, 1e-12);
  EXPECT_EQ(r.table.at(r.table.shortfall, 6, 0), std::ceil(7.8 * 2276184.0 / 1000.0 - total - 1e-9));
}

}  // namespace
}  // namespace careshed
