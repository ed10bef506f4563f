// raster_detail.hpp (private) — GDAL dataset handles shared by raster_io.cpp and friction.cpp.
//
// Why MEM datasets over caller buffers: the warper and the rasteriser both write through a GDAL dataset; a
// MEM dataset created with DATAPOINTER aliases our own std::vector / numpy buffer, so results land in the
// final array with no intermediate copy.
#pragma once

#include <gdal.h>

#include <memory>
#include <string>

#include "careshed/grid.hpp"

namespace careshed::detail {

struct DatasetClose {
  void operator()(void* ds) const {
    if (ds) GDALClose(static_cast<GDALDatasetH>(ds));
  }
};
/// Owning GDAL dataset handle (closed on destruction).
using DatasetPtr = std::unique_ptr<void, DatasetClose>;

/// Opens a raster read-only. DataIOError "<what> '<path>': cannot open ..." when missing or not a raster.
DatasetPtr open_raster(const std::string& path, const std::string& what = "raster");

/// Opens a vector data source read-only (any OGR driver). DataIOError naming the file otherwise.
DatasetPtr open_vector(const std::string& path, const std::string& what = "vector data");

/// CrsError unless the grid is usable as a warp/rasterise target: positive size fitting GDAL's int sizes,
/// finite non-zero geotransform, a CRS. `what` names the argument in messages.
void check_grid(const GridSpec& grid, const std::string& what);

/// A one-band MEM dataset of `type` whose pixels ARE `buffer` (grid.size() elements, caller-owned, must
/// outlive the dataset), with the grid's geotransform and CRS.
DatasetPtr mem_dataset_over(void* buffer, GDALDataType type, const GridSpec& grid);

/// The CRS WKT of a dataset, or "" when it has none.
std::string dataset_crs_wkt(GDALDatasetH ds);

}  // namespace careshed::detail
