// careshed/crs.hpp — coordinate reference systems: parsing, identification, UTM choice, reprojection.
//
// Conventions:
//  * A CRS travels through careshed as a WKT2 string (std::string). "" means "unknown" and is refused by
//    every function that needs a CRS (CrsError).
//  * Axis order is ALWAYS the traditional GIS order: x = longitude / easting, y = latitude / northing, even
//    for CRSs whose official axis order is lat/lon (EPSG:4326). careshed sets OAMS_TRADITIONAL_GIS_ORDER on
//    every OGRSpatialReference it creates; geometries read by careshed::read_vector are in that order too.
//  * Angles are in degrees, lengths in the CRS's unit (metres for the analysis CRSs careshed chooses).
// Errors: CrsError for unparseable / unusable CRS strings and failed transformations, InputError for
// out-of-range arguments.
// Thread-safety: every function is re-entrant (each call builds its own PROJ/OGR objects); nothing is shared.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace careshed {

/// WKB geometry bytes (ISO WKB, as OGR_G_ExportToIsoWkb writes them). Empty = null geometry.
using Wkb = std::vector<uint8_t>;

/// Parses any CRS string OGR accepts ("EPSG:32650", "OGC:CRS84", WKT1/WKT2, PROJ strings, PROJJSON) and
/// returns its WKT2 (2019) form. Throws CrsError naming `what` (e.g. "argument crs") if it cannot be parsed.
std::string crs_to_wkt(const std::string& user_crs, const std::string& what = "CRS");

/// True for a geographic (lon/lat) CRS. Throws CrsError for "" or an unparseable string.
bool crs_is_geographic(const std::string& crs);

/// EPSG code of the CRS when it is (equivalent to) an EPSG CRS, else std::nullopt. "OGC:CRS84" -> 4326.
std::optional<int> crs_epsg(const std::string& crs);

/// True when both strings describe the same CRS, ignoring axis order differences of geographic CRSs
/// ("EPSG:4326" and "OGC:CRS84" are the same here, because careshed always uses lon/lat order).
bool crs_equivalent(const std::string& a, const std::string& b);

/// EPSG code of the WGS 84 / UTM zone containing (lon_deg, lat_deg): 326zz north of the equator (lat >= 0),
/// 327zz south. Zones follow the standard numbering, including the Norway (32V) and Svalbard (31X–37X)
/// exceptions. Throws InputError when lon is outside [-180, 180] or lat outside [-90, 90] or not finite.
int utm_epsg_for(double lon_deg, double lat_deg);

/// UTM EPSG code for the centre of the bounding box of `geometries` (WKB in CRS `crs`). Null geometries are
/// skipped; throws InputError if every geometry is null, CrsError for a bad CRS.
int utm_epsg_for_geometries(const std::vector<Wkb>& geometries, const std::string& crs);

/// Transforms coordinates in place from src_crs to dst_crs (traditional GIS axis order for both).
/// x.size() must equal y.size() (else InputError). A point that cannot be transformed → CrsError naming its
/// index. Identical CRSs are a no-op.
void transform_xy(std::vector<double>& x, std::vector<double>& y, const std::string& src_crs,
                  const std::string& dst_crs);

/// Same on raw buffers of n points (used by the Python bindings on numpy buffers).
void transform_xy(double* x, double* y, std::size_t n, const std::string& src_crs,
                  const std::string& dst_crs);

/// Reprojects WKB geometries from src_crs to dst_crs; returns new ISO WKB (null geometries stay null).
/// Throws InputError for unparseable WKB (naming the index), CrsError when a geometry cannot be transformed.
std::vector<Wkb> reproject_wkb(const std::vector<Wkb>& geometries, const std::string& src_crs,
                               const std::string& dst_crs);

/// The WKT2 of an EPSG code (CrsError if PROJ does not know it).
std::string epsg_to_wkt(int epsg);

/// The folders in which the PROJ library linked into careshed (through GDAL) looks for its resource files,
/// in PROJ's order of preference: PROJ_DATA/PROJ_LIB when set, the user's writable folder, and the folder
/// compiled into the library (e.g. /usr/share/proj on Debian). The first one holding `proj.db` is the one
/// careshed's CRS operations use; the Python package points pyproj at the same folder, so both halves of
/// careshed agree on CRS definitions in any virtual environment without extra configuration.
std::vector<std::string> proj_search_paths();

/// The first of proj_search_paths() that contains proj.db, or "" when none does (PROJ cannot resolve EPSG
/// codes then; careshed's CRS functions report that as a CrsError when they are called).
std::string proj_data_dir();

}  // namespace careshed
