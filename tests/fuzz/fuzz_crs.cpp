// Fuzz target: CRS strings as users give them (EPSG codes, WKT1/WKT2, PROJ strings, PROJJSON), through
// careshed's parsing and identification (crs.hpp), and a transformation of one point when it parses.
#include <string>
#include <vector>

#include "careshed/crs.hpp"
#include "careshed/error.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  careshed_fuzz::init_gdal_once();
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const std::string wkt = careshed::crs_to_wkt(text, "fuzz crs");
    (void)careshed::crs_is_geographic(wkt);
    (void)careshed::crs_epsg(wkt);
    (void)careshed::crs_equivalent(wkt, "EPSG:4326");
    std::vector<double> x{10.0}, y{45.0};
    careshed::transform_xy(x, y, "EPSG:4326", wkt);
  } catch (const careshed::Error&) {
  }
  return 0;
}
