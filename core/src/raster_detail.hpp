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
#include "careshed/raster_io.hpp"

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

/// MemoryLimitError "<what>: reading it needs X but only Y of memory is available (<source>); <advice>" when
/// `bytes` exceed careshed::available_memory() (a size read from a file header must not end in std::bad_alloc
/// or an OOM kill). Below that, or when the available memory is unknown, the allocation decides.
void check_fits_in_memory(double bytes, const std::string& what, const std::string& advice);

/// CrsError naming the file when a raster's geotransform is non-finite, degenerate, or puts its corners
/// beyond any place on Earth (|x| or |y| > 720 in a lon/lat CRS, > 1e10 units in a projected one). Called
/// before any transformation of the raster. `what` names the input.
void check_georeferencing(GDALDatasetH ds, const std::string& path, const std::string& what);

/// DataIOError when `ds` is a GeoTIFF whose pixel blocks extend beyond the end of the file (a truncated
/// download or copy). GDAL only notices a missing block when it is read, and a read onto a small grid reads
/// only the blocks under the grid: without this check a cut-off file passes whenever the cut part lies
/// outside the study area. Other formats are left to GDAL's block read errors. `what` names the input.
void check_raster_complete(GDALDatasetH ds, const std::string& path, const std::string& what);

/// For inputs an analysis cannot do without (population, speeds, friction, land cover): InputError when a read
/// onto `grid` gave no valid cell at all — the raster is all nodata there, or does not overlap the grid —
/// instead of a run that silently treats the whole study area as empty or impassable. `role` words the input
/// ("population raster").
void require_data_on_grid(const ReadReport& report, const GridSpec& grid, const std::string& role);

}  // namespace careshed::detail
