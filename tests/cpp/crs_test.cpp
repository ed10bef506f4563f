// crs_test — CRS parsing/identification, UTM zone choice (checked against PROJ's own zone definitions),
// transforms checked against closed-form projections (Web Mercator; a UTM central meridian).
#include "careshed/crs.hpp"

#include <gtest/gtest.h>

#include <ogr_spatialref.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "careshed/error.hpp"
#include "careshed/io.hpp"
#include "vector_test_util.hpp"

namespace careshed {
namespace {

using testing::wkb_from_wkt;
using testing::wkt_from_wkb;

constexpr double kPi = 3.14159265358979323846;
constexpr double kR = 6378137.0;  // WGS 84 semi-major axis, the sphere of Web Mercator

double merc_x(double lon) { return kR * lon * kPi / 180.0; }
double merc_y(double lat) { return kR * std::log(std::tan(kPi / 4.0 + lat * kPi / 360.0)); }

TEST(UtmEpsgFor, NamedPlaces) {
  EXPECT_EQ(utm_epsg_for(118.87, 28.97), 32650);   // Quzhou
  EXPECT_EQ(utm_epsg_for(-74.0, 40.7), 32618);     // New York
  EXPECT_EQ(utm_epsg_for(43.3, -11.7), 32738);     // Comoros, southern hemisphere
  EXPECT_EQ(utm_epsg_for(24.94, 60.17), 32635);    // Helsinki
  EXPECT_EQ(utm_epsg_for(5.32, 60.39), 32632);     // Bergen: Norway exception (would be 31)
  EXPECT_EQ(utm_epsg_for(15.6, 78.2), 32633);      // Longyearbyen: Svalbard exception
  EXPECT_EQ(utm_epsg_for(180.0, 0.0), 32660);
  EXPECT_EQ(utm_epsg_for(-180.0, -0.0), 32601);
  EXPECT_EQ(utm_epsg_for(0.0, 0.0), 32631);        // equator counts as north
  EXPECT_EQ(utm_epsg_for(-0.0001, -0.0001), 32730);
}

TEST(UtmEpsgFor, RefusesNonLonLat) {
  EXPECT_THROW_MSG(utm_epsg_for(500000.0, 3200000.0), InputError, "longitude/latitude");
  EXPECT_THROW(utm_epsg_for(10.0, 91.0), InputError);
  EXPECT_THROW(utm_epsg_for(std::nan(""), 0.0), InputError);
}

TEST(UtmEpsgFor, CentralMeridianFromProjIsWithinThreeDegrees) {
  // Oracle: PROJ's definition of the returned EPSG code. Outside the Norway/Svalbard areas the point's
  // longitude must lie within the zone, i.e. within 3 degrees of its central meridian.
  std::mt19937 rng(testing::test_seed());
  std::uniform_real_distribution<double> lon(-180.0, 180.0), lat(-80.0, 55.0);
  for (int i = 0; i < 40; ++i) {
    double x = lon(rng), y = lat(rng);
    int epsg = utm_epsg_for(x, y);
    OGRSpatialReference srs;
    ASSERT_EQ(srs.importFromEPSG(epsg), OGRERR_NONE) << epsg;
    double cm = srs.GetProjParm(SRS_PP_CENTRAL_MERIDIAN);
    EXPECT_LE(std::fabs(x - cm), 3.0 + 1e-9) << "lon " << x << " lat " << y << " -> EPSG:" << epsg;
    int north = -1;
    EXPECT_GT(srs.GetUTMZone(&north), 0) << "EPSG:" << epsg << " is not a UTM zone";
    EXPECT_EQ(north != 0, y >= 0) << "hemisphere of EPSG:" << epsg << " for lat " << y;
  }
}

TEST(Crs, ParseIdentifyCompare) {
  EXPECT_EQ(crs_epsg("EPSG:32650"), 32650);
  EXPECT_EQ(crs_epsg(crs_to_wkt("EPSG:32650")), 32650);
  EXPECT_EQ(crs_epsg("OGC:CRS84"), 4326);
  EXPECT_EQ(crs_epsg("+proj=aea +lat_0=36 +lat_1=24 +lat_2=48 +lon_0=104.5 +datum=WGS84"), std::nullopt);
  EXPECT_TRUE(crs_is_geographic("EPSG:4326"));
  EXPECT_FALSE(crs_is_geographic("EPSG:3857"));
  EXPECT_TRUE(crs_equivalent("EPSG:4326", "OGC:CRS84"));
  EXPECT_FALSE(crs_equivalent("EPSG:32650", "EPSG:32651"));
  EXPECT_NE(crs_to_wkt("EPSG:4326").find("GEOGCRS"), std::string::npos);  // WKT2
  EXPECT_THROW_MSG(crs_to_wkt("EPSG:99999999", "argument crs"), CrsError, "argument crs", "EPSG:99999999");
  EXPECT_THROW_MSG(crs_to_wkt("not a crs"), CrsError, "not a crs");
  EXPECT_THROW(crs_is_geographic(""), CrsError);
}

TEST(TransformXy, LonLatToWebMercatorMatchesClosedForm) {
  // EPSG:4326 officially has lat/lon axis order; careshed must take x = lon regardless.
  std::vector<double> x = {0.0, 118.87, -74.0, 43.3}, y = {0.0, 28.97, 40.7, -11.7};
  std::vector<double> lon = x, lat = y;
  transform_xy(x, y, "EPSG:4326", "EPSG:3857");
  for (std::size_t i = 0; i < x.size(); ++i) {
    EXPECT_NEAR(x[i], merc_x(lon[i]), 1e-6);
    EXPECT_NEAR(y[i], merc_y(lat[i]), 1e-6);
  }
  transform_xy(x, y, "EPSG:3857", "OGC:CRS84");
  for (std::size_t i = 0; i < x.size(); ++i) {
    EXPECT_NEAR(x[i], lon[i], 1e-9);
    EXPECT_NEAR(y[i], lat[i], 1e-9);
  }
}

TEST(TransformXy, UtmCentralMeridianOnTheEquatorIsFalseEasting) {
  // Zone 50 has central meridian 117°E; (117, 0) is exactly (500000 m, 0 m).
  std::vector<double> x = {117.0}, y = {0.0};
  transform_xy(x, y, "EPSG:4326", "EPSG:32650");
  EXPECT_NEAR(x[0], 500000.0, 1e-6);
  EXPECT_NEAR(y[0], 0.0, 1e-6);
}

TEST(TransformXy, Errors) {
  std::vector<double> x = {1.0, 2.0}, y = {1.0};
  EXPECT_THROW(transform_xy(x, y, "EPSG:4326", "EPSG:3857"), InputError);
  y.push_back(2.0);
  EXPECT_THROW_MSG(transform_xy(x, y, "EPSG:4326", "bogus"), CrsError, "bogus");
  std::vector<double> px = {0.0}, py = {95.0};  // beyond the pole
  EXPECT_THROW_MSG(transform_xy(px, py, "EPSG:4326", "EPSG:3857"), CrsError, "point 0");
}

TEST(ReprojectWkb, PolygonVerticesFollowTheClosedForm) {
  std::vector<Wkb> g = {wkb_from_wkt("POLYGON ((118 29, 119 29, 119 30, 118 29))"), Wkb{}};
  auto out = reproject_wkb(g, "EPSG:4326", "EPSG:3857");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[1].empty());
  OGRGeometry* geom = nullptr;
  ASSERT_EQ(OGRGeometryFactory::createFromWkb(out[0].data(), nullptr, &geom, out[0].size()), OGRERR_NONE);
  auto* ring = geom->toPolygon()->getExteriorRing();
  EXPECT_NEAR(ring->getX(1), merc_x(119.0), 1e-6);
  EXPECT_NEAR(ring->getY(2), merc_y(30.0), 1e-6);
  OGRGeometryFactory::destroyGeometry(geom);
  EXPECT_THROW(reproject_wkb({Wkb{1, 2}}, "EPSG:4326", "EPSG:3857"), InputError);
}

TEST(UtmEpsgForGeometries, QuzhouCountiesAreInZone50) {
  VectorTable t = read_vector(std::string(CARESHED_SOURCE_DIR) + "/data/quzhou/counties.geojson");
  EXPECT_EQ(utm_epsg_for_geometries(t.wkb, t.crs_wkt), 32650);
  // The same geometries in Web Mercator give the same zone (centre transformed back to lon/lat).
  auto merc = reproject_wkb(t.wkb, t.crs_wkt, "EPSG:3857");
  EXPECT_EQ(utm_epsg_for_geometries(merc, "EPSG:3857"), 32650);
  EXPECT_THROW(utm_epsg_for_geometries({Wkb{}}, "EPSG:4326"), InputError);
}

}  // namespace
}  // namespace careshed

// The PROJ data folder the Python package hands to pyproj: it must be a folder PROJ itself searches, hold
// proj.db, and be the first such folder (PROJ's own order of preference), so both halves resolve EPSG codes
// from the same database.
TEST(ProjData, FirstSearchPathHoldingProjDb) {
  const std::vector<std::string> paths = careshed::proj_search_paths();
  ASSERT_FALSE(paths.empty()) << "GDAL reported no PROJ search path";
  std::string expected;
  for (const std::string& p : paths) {
    if (std::filesystem::is_regular_file(std::filesystem::path(p) / "proj.db")) {
      expected = p;
      break;
    }
  }
  ASSERT_FALSE(expected.empty()) << "no PROJ search path holds proj.db (is proj-data installed?)";
  EXPECT_EQ(careshed::proj_data_dir(), expected);
  // The core resolves EPSG codes from that database.
  EXPECT_NE(careshed::epsg_to_wkt(32650).find("UTM zone 50N"), std::string::npos);
}
