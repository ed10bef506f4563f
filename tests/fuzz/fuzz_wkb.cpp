// Fuzz target: WKB geometries as they reach the core from Python (GeoDataFrame.to_wkb) or from any vector
// file: GEOS-based polygon checks, areas, interior points, zone assignment, UTM choice and reprojection
// (geometry.hpp, crs.hpp). The input is split at "|||" into several geometries.
#include <string>
#include <vector>

#include "careshed/crs.hpp"
#include "careshed/error.hpp"
#include "careshed/geometry.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  careshed_fuzz::init_gdal_once();
  std::vector<careshed::Wkb> geoms;
  const std::string all(reinterpret_cast<const char*>(data), size);
  size_t start = 0;
  while (geoms.size() < 8) {
    const size_t sep = all.find("|||", start);
    const size_t end = sep == std::string::npos ? all.size() : sep;
    geoms.emplace_back(data + start, data + end);
    if (sep == std::string::npos) break;
    start = sep + 3;
  }
  (void)careshed::check_polygons(geoms);
  try { (void)careshed::geometry_areas(geoms); } catch (const careshed::Error&) {}
  try { (void)careshed::interior_points(geoms); } catch (const careshed::Error&) {}
  try {
    const std::vector<double> x{0.0, 1.0, 43.3}, y{0.0, 1.0, -11.7};
    (void)careshed::assign_points_to_zones(geoms, x, y);
  } catch (const careshed::Error&) {}
  try { (void)careshed::utm_epsg_for_geometries(geoms, "EPSG:4326"); } catch (const careshed::Error&) {}
  try { (void)careshed::reproject_wkb(geoms, "EPSG:4326", "EPSG:32738"); } catch (const careshed::Error&) {}
  return 0;
}
