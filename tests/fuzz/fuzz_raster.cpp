// Fuzz target: careshed's raster reading (raster_io.hpp, population.hpp) on GeoTIFF bytes in /vsimem/:
// raster_info, the native read, a warped read onto a small fixed grid (nearest and the sum-preserving
// population read) and the negative-population scan.
#include <string>

#include "careshed/error.hpp"
#include "careshed/population.hpp"
#include "careshed/raster_io.hpp"
#include "fuzz_util.hpp"

namespace {
careshed::GridSpec small_grid() {
  // 16 x 16 cells of 0.25 degrees around the Comoros (the shipped rasters' area), lon/lat.
  careshed::Bounds b{43.0, -13.0, 47.0, -9.0};
  return careshed::make_lonlat_grid(b, 0.25);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  careshed_fuzz::init_gdal_once();
  static const careshed::GridSpec grid = small_grid();
  careshed_fuzz::VsiMemFile file("in.tif", data, size);
  careshed::RasterInfo info;
  try {
    info = careshed::raster_info(file.path());
  } catch (const careshed::Error&) {
    return 0;
  }
  // A header may declare billions of cells. Beyond 16 M cells (128 MB of doubles) a read is a legitimate big
  // allocation that libFuzzer's 2 GB malloc limit would report as a finding, so such inputs only go through
  // the refusal path above the machine's memory (check_fits_in_memory) when they exceed it.
  const double cells = static_cast<double>(info.grid.width) * static_cast<double>(info.grid.height);
  if (cells > 16e6) {
    if (cells * 8.0 > 64e9) {
      try { (void)careshed::read_raster(file.path()); } catch (const careshed::Error&) {}
    }
    return 0;
  }
  try { (void)careshed::read_raster(file.path()); } catch (const careshed::Error&) {}
  try { (void)careshed::read_raster(file.path(), grid, careshed::Resampling::Nearest); } catch (const careshed::Error&) {}
  try { (void)careshed::population_from_raster(file.path(), grid); } catch (const careshed::Error&) {}
  try { careshed::check_population_raster(file.path(), 1, &grid); } catch (const careshed::Error&) {}
  return 0;
}
