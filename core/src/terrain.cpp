// terrain.cpp — reading a DEM (one raster or several tiles) onto an analysis grid. The directed search
// itself lives with the grid search engine in raster_search.cpp (it shares its internals).
#include <gdal.h>
#include <gdal_utils.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "careshed/crs.hpp"
#include "careshed/error.hpp"
#include "careshed/terrain.hpp"
#include "gdal_util.hpp"
#include "raster_detail.hpp"

namespace careshed {
namespace {

// Removes a /vsimem/ file when leaving the scope.
struct VsiMemFile {
  std::string path;
  ~VsiMemFile() {
    if (!path.empty()) VSIUnlink(path.c_str());
  }
};

std::string unique_vsimem_vrt() {
  static std::atomic<unsigned long long> counter{0};
  return "/vsimem/careshed_dem_" + std::to_string(counter.fetch_add(1)) + ".vrt";
}

}  // namespace

ElevationReport read_elevation_into(const std::vector<std::string>& paths, const GridSpec& grid, float* out,
                                    Resampling resampling, RunControl* control) {
  if (paths.empty()) throw InputError("DEM: no file given; pass one elevation raster or several tiles");
  detail::ensure_gdal_registered();
  ElevationReport report;
  report.sources = paths;
  std::string read_path = paths.front();
  VsiMemFile vrt;
  if (paths.size() > 1) {
    // Every tile must open and carry the same CRS: gdalbuildvrt would otherwise skip a tile with a warning.
    std::string first_wkt;
    for (const std::string& p : paths) {
      detail::DatasetPtr ds = detail::open_raster(p, "DEM tile");
      const std::string wkt = detail::dataset_crs_wkt(static_cast<GDALDatasetH>(ds.get()));
      if (wkt.empty())
        throw CrsError("DEM tile '" + p + "' has no CRS; assign one (e.g. gdal_edit.py -a_srs EPSG:4326 " + p + ")");
      if (first_wkt.empty())
        first_wkt = wkt;
      else if (!crs_equivalent(first_wkt, wkt))
        throw CrsError("DEM tile '" + p + "' is in another CRS than '" + paths.front() +
                       "'; tiles of one DEM must share a CRS (reproject it with gdalwarp first)");
    }
    std::vector<const char*> names;
    for (const std::string& p : paths) names.push_back(p.c_str());
    vrt.path = unique_vsimem_vrt();
    detail::QuietGdalErrors quiet;
    int usage_error = 0;
    GDALDatasetH v = GDALBuildVRT(vrt.path.c_str(), static_cast<int>(names.size()), nullptr, names.data(), nullptr,
                                  &usage_error);
    if (v == nullptr || usage_error) {
      if (v) GDALClose(v);
      detail::throw_gdal_io("DEM tiles '" + paths.front() + "' ...", "cannot mosaic them into a VRT");
    }
    GDALClose(v);  // writes the VRT into /vsimem
    read_path = vrt.path;
  }
  std::vector<double> buf(static_cast<std::size_t>(grid.size()));
  read_raster_into(read_path, grid, resampling, 1, buf.data(), control);
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  std::int64_t valid = 0;
  for (std::size_t i = 0; i < buf.size(); ++i) {
    const double z = buf[i];
    out[i] = static_cast<float>(z);
    if (z == z) {
      ++valid;
      lo = std::min(lo, z);
      hi = std::max(hi, z);
    }
  }
  if (valid == 0)
    throw InputError("DEM '" + paths.front() + "'" + (paths.size() > 1 ? " (and the other tiles)" : "") +
                     ": no cell of the analysis grid receives an elevation; the DEM does not cover the study area "
                     "(check the tiles and their CRS)");
  report.valid_cells = valid;
  report.min_m = lo;
  report.max_m = hi;
  return report;
}

}  // namespace careshed
