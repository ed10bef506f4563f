// crs.cpp — CRS helpers over OGRSpatialReference / OGRCoordinateTransformation.
//
// Every OGRSpatialReference made here gets OAMS_TRADITIONAL_GIS_ORDER: GDAL 3 otherwise honours the
// authority's axis order, so EPSG:4326 would expect (lat, lon) and silently swap our (lon, lat) data.
#include "careshed/crs.hpp"

#include <ogr_api.h>
#include <ogr_geometry.h>
#include <cpl_string.h>
#include <ogr_spatialref.h>
#include <ogr_srs_api.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <memory>
#include <string>

#include "careshed/error.hpp"
#include "crs_internal.hpp"
#include "gdal_util.hpp"

namespace careshed {
namespace detail {

SrsPtr parse_srs(const std::string& crs, const std::string& what) {
  ensure_gdal_registered();
  if (crs.empty()) throw CrsError(what + ": no CRS given (an empty CRS string)");
  SrsPtr srs(new OGRSpatialReference());
  QuietGdalErrors quiet;
  if (srs->SetFromUserInput(crs.c_str()) != OGRERR_NONE) {
    std::string gdal = take_gdal_error();
    std::string shown = crs.size() > 120 ? crs.substr(0, 117) + "..." : crs;
    throw CrsError(what + ": cannot understand the CRS '" + shown + "'" +
                   (gdal.empty() ? "" : " (GDAL: " + gdal + ")") +
                   "; give it as 'EPSG:<code>', WKT or a PROJ string");
  }
  srs->SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  return srs;
}

std::string srs_to_wkt2(const OGRSpatialReference& srs) {
  char* wkt = nullptr;
  const char* options[] = {"FORMAT=WKT2_2019", nullptr};
  QuietGdalErrors quiet;
  if (srs.exportToWkt(&wkt, options) != OGRERR_NONE || wkt == nullptr) {
    CPLFree(wkt);
    // Some CRSs (e.g. from odd PROJ strings) only export as WKT1.
    wkt = nullptr;
    if (srs.exportToWkt(&wkt) != OGRERR_NONE || wkt == nullptr) {
      CPLFree(wkt);
      throw CrsError("cannot export a CRS as WKT (GDAL: " + take_gdal_error() + ")");
    }
  }
  std::string out(wkt);
  CPLFree(wkt);
  return out;
}

std::optional<int> srs_epsg(const OGRSpatialReference& srs) {
  auto code_of = [](const OGRSpatialReference& s) -> std::optional<int> {
    const char* name = s.GetAuthorityName(nullptr);
    const char* code = s.GetAuthorityCode(nullptr);
    if (name != nullptr && code != nullptr && EQUAL(name, "EPSG")) return std::atoi(code);
    return std::nullopt;
  };
  if (auto c = code_of(srs)) return c;
  QuietGdalErrors quiet;
  // FindMatches asks PROJ's database for equivalent CRSs; a 100 % match with the EPSG authority is an
  // identity up to axis order (e.g. OGC:CRS84 -> EPSG:4326), which careshed ignores anyway.
  int n = 0;
  int* confidence = nullptr;
  OGRSpatialReferenceH* matches = srs.FindMatches(nullptr, &n, &confidence);
  std::optional<int> result;
  for (int i = 0; i < n && !result; ++i) {
    auto* m = OGRSpatialReference::FromHandle(matches[i]);
    if (confidence[i] >= 90 || srs_equivalent(srs, *m)) result = code_of(*m);
  }
  OSRFreeSRSArray(matches);
  CPLFree(confidence);
  take_gdal_error();
  return result;
}

bool srs_equivalent(const OGRSpatialReference& a, const OGRSpatialReference& b) {
  const char* options[] = {"IGNORE_DATA_AXIS_TO_SRS_AXIS_MAPPING=YES",
                           "CRITERION=EQUIVALENT_EXCEPT_AXIS_ORDER_GEOGCRS", nullptr};
  return a.IsSame(&b, options) != 0;
}

TransformPtr make_transform(const OGRSpatialReference& src, const OGRSpatialReference& dst) {
  QuietGdalErrors quiet;
  TransformPtr ct(OGRCreateCoordinateTransformation(&src, &dst));
  if (!ct) {
    throw CrsError("cannot build a coordinate transformation between the two CRSs (GDAL: " +
                   take_gdal_error() + ")");
  }
  return ct;
}

}  // namespace detail

using detail::parse_srs;
using detail::QuietGdalErrors;
using detail::take_gdal_error;

std::string crs_to_wkt(const std::string& user_crs, const std::string& what) {
  return detail::srs_to_wkt2(*parse_srs(user_crs, what));
}

bool crs_is_geographic(const std::string& crs) { return parse_srs(crs, "CRS")->IsGeographic() != 0; }

std::optional<int> crs_epsg(const std::string& crs) { return detail::srs_epsg(*parse_srs(crs, "CRS")); }

bool crs_equivalent(const std::string& a, const std::string& b) {
  return detail::srs_equivalent(*parse_srs(a, "first CRS"), *parse_srs(b, "second CRS"));
}

std::string epsg_to_wkt(int epsg) { return crs_to_wkt("EPSG:" + std::to_string(epsg), "EPSG code"); }

std::vector<std::string> proj_search_paths() {
  std::vector<std::string> out;
  char** paths = OSRGetPROJSearchPaths();  // GDAL's view of PROJ's search path (a copy we own)
  for (int i = 0; paths != nullptr && paths[i] != nullptr; ++i) out.emplace_back(paths[i]);
  CSLDestroy(paths);
  return out;
}

std::string proj_data_dir() {
  for (const std::string& dir : proj_search_paths()) {
    if (std::ifstream(dir + "/proj.db").good()) return dir;
  }
  return {};
}

int utm_epsg_for(double lon_deg, double lat_deg) {
  if (!std::isfinite(lon_deg) || !std::isfinite(lat_deg) || lon_deg < -180.0 || lon_deg > 180.0 ||
      lat_deg < -90.0 || lat_deg > 90.0) {
    throw InputError("utm_epsg_for: (lon, lat) = (" + std::to_string(lon_deg) + ", " +
                     std::to_string(lat_deg) +
                     ") is not a longitude/latitude in degrees (lon in [-180, 180], lat in [-90, 90])");
  }
  int zone = static_cast<int>(std::floor((lon_deg + 180.0) / 6.0)) + 1;
  if (zone > 60) zone = 60;  // lon == 180
  // The two irregular areas of the UTM grid: south-west Norway (band V) and Svalbard (band X).
  if (lat_deg >= 56.0 && lat_deg < 64.0 && lon_deg >= 3.0 && lon_deg < 12.0) zone = 32;
  if (lat_deg >= 72.0 && lat_deg <= 84.0 && lon_deg >= 0.0 && lon_deg < 42.0) {
    if (lon_deg < 9.0) zone = 31;
    else if (lon_deg < 21.0) zone = 33;
    else if (lon_deg < 33.0) zone = 35;
    else zone = 37;
  }
  return (lat_deg >= 0.0 ? 32600 : 32700) + zone;
}

int utm_epsg_for_geometries(const std::vector<Wkb>& geometries, const std::string& crs) {
  auto srs = parse_srs(crs, "CRS of the geometries");
  double minx = std::numeric_limits<double>::infinity(), miny = minx;
  double maxx = -minx, maxy = -minx;
  for (std::size_t i = 0; i < geometries.size(); ++i) {
    const Wkb& w = geometries[i];
    if (w.empty()) continue;
    OGRGeometry* g = nullptr;
    if (OGRGeometryFactory::createFromWkb(w.data(), nullptr, &g, w.size()) != OGRERR_NONE || !g) {
      throw InputError("geometry " + std::to_string(i) + ": cannot parse its WKB");
    }
    OGREnvelope env;
    g->getEnvelope(&env);
    bool empty = g->IsEmpty();
    OGRGeometryFactory::destroyGeometry(g);
    if (empty) continue;
    minx = std::min(minx, env.MinX);
    maxx = std::max(maxx, env.MaxX);
    miny = std::min(miny, env.MinY);
    maxy = std::max(maxy, env.MaxY);
  }
  if (!(minx <= maxx)) throw InputError("cannot choose a UTM zone: every geometry is empty");
  double cx = 0.5 * (minx + maxx), cy = 0.5 * (miny + maxy);
  if (!srs->IsGeographic()) {
    OGRSpatialReference wgs84;
    wgs84.SetWellKnownGeogCS("WGS84");
    wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    auto ct = detail::make_transform(*srs, wgs84);
    if (!ct->Transform(1, &cx, &cy)) {
      throw CrsError("cannot transform the centre of the geometries to longitude/latitude");
    }
  }
  return utm_epsg_for(cx, cy);
}

void transform_xy(double* x, double* y, std::size_t n, const std::string& src_crs,
                  const std::string& dst_crs) {
  auto src = parse_srs(src_crs, "source CRS");
  auto dst = parse_srs(dst_crs, "destination CRS");
  if (n == 0) return;
  if (detail::srs_equivalent(*src, *dst)) return;
  auto ct = detail::make_transform(*src, *dst);
  std::vector<int> ok(n, 0);
  QuietGdalErrors quiet;
  ct->Transform(n, x, y, nullptr, nullptr, ok.data());
  for (std::size_t i = 0; i < n; ++i) {
    if (!ok[i] || !std::isfinite(x[i]) || !std::isfinite(y[i])) {
      throw CrsError("point " + std::to_string(i) +
                     " cannot be transformed between the two CRSs (is it inside the source CRS's area, "
                     "and in x = lon/easting, y = lat/northing order?)");
    }
  }
  take_gdal_error();
}

void transform_xy(std::vector<double>& x, std::vector<double>& y, const std::string& src_crs,
                  const std::string& dst_crs) {
  if (x.size() != y.size()) {
    throw InputError("transform_xy: x has " + std::to_string(x.size()) + " values but y has " +
                     std::to_string(y.size()));
  }
  transform_xy(x.data(), y.data(), x.size(), src_crs, dst_crs);
}

std::vector<Wkb> reproject_wkb(const std::vector<Wkb>& geometries, const std::string& src_crs,
                               const std::string& dst_crs) {
  auto src = parse_srs(src_crs, "source CRS");
  auto dst = parse_srs(dst_crs, "destination CRS");
  if (detail::srs_equivalent(*src, *dst)) return geometries;
  auto ct = detail::make_transform(*src, *dst);
  std::vector<Wkb> out(geometries.size());
  QuietGdalErrors quiet;
  for (std::size_t i = 0; i < geometries.size(); ++i) {
    const Wkb& w = geometries[i];
    if (w.empty()) continue;
    OGRGeometry* g = nullptr;
    if (OGRGeometryFactory::createFromWkb(w.data(), nullptr, &g, w.size()) != OGRERR_NONE || !g) {
      throw InputError("geometry " + std::to_string(i) + ": cannot parse its WKB");
    }
    std::unique_ptr<OGRGeometry> owned(g);
    if (g->transform(ct.get()) != OGRERR_NONE) {
      throw CrsError("geometry " + std::to_string(i) +
                     " cannot be transformed to the destination CRS (GDAL: " + take_gdal_error() + ")");
    }
    out[i].resize(g->WkbSize());
    g->exportToWkb(wkbNDR, out[i].data(), wkbVariantIso);
  }
  return out;
}

}  // namespace careshed
