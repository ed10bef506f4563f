// careshed/raster_io.hpp — analysis grids, reading any GDAL raster onto a grid, writing Cloud-Optimised GeoTIFFs.
//
// Analysis grids
//   Analyses run on a metric grid (DESIGN.md, "CRS"): make_grid() snaps user bounds outward to whole cells of
//   cell_size_m in a projected CRS; make_utm_grid() picks the WGS 84 / UTM zone of the bounds' centre
//   (EPSG 326zz north, 327zz south; careshed::utm_epsg_for) and snaps the reprojected bounds the same way.
//   Lon/lat grids are allowed for reading and writing; their cells are not square in metres, so
//   row_cell_widths_m() / row_cell_heights_m() give the per-row cell size in metres on the CRS's ellipsoid
//   (the raster search accepts a per-row dx array).
//
// Reading (read_raster / read_raster_into)
//   Any raster GDAL opens, any band, warped onto the caller's GridSpec with GDAL's warper
//   (GDALWarpOperation + GDALCreateGenImgProjTransformer2, the engine of gdalwarp) in double precision.
//   Across CRSs the transformation is approximated within 0.125 source pixels, as gdalwarp does by default
//   (same result as `gdalwarp`, twice as fast); within one CRS it is exact.
//   Resampling, by what the values mean:
//     Nearest   classes (land cover codes, masks) — no new values are invented;
//     Mode      classes when the grid is much coarser than the source (most frequent class);
//     Bilinear, Cubic  continuous fields (speed, friction, elevation) on similar or finer grids;
//     Average   continuous fields on a coarser grid (area-weighted mean of the source cells);
//     Sum       COUNTS (people per cell): each source cell's value is split among the target cells in
//               proportion to the area they share (GDAL GRA_Sum, GDAL >= 3.1), so totals are preserved —
//               to rounding when the grid covers the whole source, also across CRSs (WorldPop Comoros,
//               lon/lat 100 m -> UTM 1 km: relative difference 3e-16); when the grid cuts the source, the
//               cut edge cells differ from the "centre inside" source total by a little (~2e-4 on Comoros).
//               The report gives the source total within the overlap, the resampled total and their
//               relative difference, so callers can check or rescale.
//   Nodata: the band's nodata value (if any) and NaN are "no data"; target cells that receive no valid source
//   value are NaN. Only the band's nodata value is honoured (not mask/alpha bands).
//   Every input raster must carry a CRS (CrsError naming the file otherwise), including for native reads.
//
// Writing (write_geotiff)
//   A Cloud-Optimised GeoTIFF (GDAL COG driver: tiled 512×512, DEFLATE with predictor, internal overviews
//   when larger than a tile), with CRS and nodata, written to a temporary file in the same directory and
//   renamed over `path` only when complete: a failure leaves no partial file and keeps any old `path`.
//
// Units: grid coordinates in CRS units (metres for the analysis CRS), cell sizes in metres where the
// argument says _m. Ownership: functions return values; *_into functions write into caller-owned buffers of
// grid.size() elements and keep no reference to them. Thread-safety: every function is re-entrant (each
// call opens its own GDAL handles); concurrent calls are safe, except that two calls writing the same
// `path` race on the final rename (the last one wins, neither leaves a partial file).
// Errors: DataIOError (missing/unreadable file, bad band, write failure; message names the file and band),
// CrsError (raster without CRS, unusable CRS, geographic CRS where metres are needed), InputError (bad
// bounds, cell size, sizes, resampling name).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "careshed/grid.hpp"

namespace careshed {

class RunControl;  // careshed/progress.hpp

/// An axis-aligned rectangle in some CRS's units (x = easting/longitude, y = northing/latitude).
struct Bounds {
  double min_x = 0.0;
  double min_y = 0.0;
  double max_x = 0.0;
  double max_y = 0.0;
};

/// The bounds covered by a north-up grid (outer cell edges).
Bounds grid_bounds(const GridSpec& grid);

/// The extent of a data set and its CRS WKT: a raster's outer cell edges, or the union of the extents of a
/// vector source's layers (only `layer` when given). Lets a grid cover "the data" (make_utm_grid(data_bounds
/// (path, &crs), crs, 100)). DataIOError for a missing/unreadable file or layer, CrsError when it has no CRS.
Bounds data_bounds(const std::string& path, std::string* crs_wkt, const std::string& layer = "");

/// A grid of square cells of `cell_size_m` metres in the projected CRS `crs` (any string careshed::crs_to_wkt
/// accepts), covering `bounds` (in that CRS): the origin is snapped down and the far edge up to whole
/// multiples of cell_size_m, so grids made with the same cell size line up cell for cell.
/// Throws InputError for empty/non-finite bounds or cell_size_m <= 0 or more than 2^31-1 cells per axis,
/// CrsError when `crs` is geographic (degrees are not metres: use make_utm_grid or make_lonlat_grid).
GridSpec make_grid(const Bounds& bounds, double cell_size_m, const std::string& crs);

/// Like make_grid, in the WGS 84 / UTM zone of the centre of `bounds` (given in `bounds_crs`). The bounds
/// are reprojected (edges densified) before snapping, so the grid covers all of them.
GridSpec make_utm_grid(const Bounds& bounds, const std::string& bounds_crs, double cell_size_m);

/// A lon/lat grid with square cells of cell_size_deg degrees in the geographic CRS `crs` (default WGS 84),
/// snapped like make_grid. Throws CrsError when `crs` is not geographic.
GridSpec make_lonlat_grid(const Bounds& bounds, double cell_size_deg, const std::string& crs = "EPSG:4326");

/// Per-row east–west cell size in metres of a north-up geographic grid: the length of the row-centre
/// parallel across one cell on the CRS's ellipsoid (N(φ)·cos φ·Δλ). For a projected grid every entry is
/// the cell width in CRS units. Size grid.height.
std::vector<double> row_cell_widths_m(const GridSpec& grid);

/// Per-row north–south cell size in metres of a north-up geographic grid (meridian arc M(φ)·Δφ at the
/// row centre); for a projected grid the cell height. Size grid.height.
std::vector<double> row_cell_heights_m(const GridSpec& grid);

/// Resampling used when a raster is read onto a grid; see the header comment for which to choose.
enum class Resampling { Nearest, Bilinear, Cubic, Average, Mode, Sum };

/// "nearest", "bilinear", "cubic", "average", "mode", "sum" → Resampling; InputError listing them otherwise.
Resampling resampling_from_string(const std::string& name);
/// The lower-case name of a Resampling.
const char* resampling_name(Resampling resampling);

/// What a raster file is, without reading its pixels.
struct RasterInfo {
  GridSpec grid;               ///< native grid (crs_wkt "" when the file has no CRS)
  int band_count = 0;
  std::optional<double> nodata;  ///< nodata of the band asked for
  std::string data_type;       ///< GDAL name, e.g. "Float32", "Byte"
};

/// Describes band `band` (1-based) of `path`. DataIOError if the file cannot be opened or has no such band.
/// Does not require a CRS (so callers can report it).
RasterInfo raster_info(const std::string& path, int band = 1);

/// How a read went. result_total is filled for every mode; the source total (and so the relative difference)
/// only for Resampling::Sum and native reads (NaN otherwise), because it costs a second pass over the source.
struct ReadReport {
  std::string path;
  int band = 1;
  Resampling resampling = Resampling::Nearest;
  int64_t valid_cells = 0;          ///< target cells holding a value (not NaN)
  double result_total = 0.0;        ///< sum of the valid target values
  /// Sum of the valid source values whose cell centre falls inside the target grid (reprojected) — "the
  /// source total within the overlap" that a Sum read should reproduce.
  double source_total_in_grid = 0.0;
  /// (result_total - source_total_in_grid) / |source_total_in_grid| (0 when both are 0).
  double relative_difference = 0.0;
};

/// A raster on a grid: values row-major (grid.size() of them), NaN = no data.
struct Raster {
  GridSpec grid;
  std::vector<double> values;
  ReadReport report;
};

/// Reads band `band` of `path` on its own (native) grid; nodata → NaN. CrsError if the file has no CRS.
Raster read_raster(const std::string& path, int band = 1);

/// Reads band `band` of `path` warped onto `grid` with `resampling` (see header comment).
Raster read_raster(const std::string& path, const GridSpec& grid, Resampling resampling, int band = 1);

/// Same, into a caller-owned buffer `out` of grid.size() doubles (overwritten entirely). Used by the Python
/// bindings to fill a numpy array without a copy; safe to call without the GIL. control (optional,
/// careshed/progress.hpp): GDAL's warp reports progress to it and stops once cancellation is requested
/// (then careshed::Cancelled is thrown).
ReadReport read_raster_into(const std::string& path, const GridSpec& grid, Resampling resampling, int band,
                            double* out, RunControl* control = nullptr);

/// Pixel types write_geotiff accepts.
enum class PixelType { UInt8, Int16, UInt16, Int32, UInt32, Float32, Float64 };

struct GeoTiffOptions {
  /// Nodata value stored in the file. Float rasters default to NaN; integer rasters have none unless set.
  std::optional<double> nodata;
  int block_size = 512;        ///< COG tile size (power of two, 64..4096)
  std::string compress = "DEFLATE";
  /// Extra metadata items "KEY=VALUE" stored in the file (e.g. units, provenance).
  std::vector<std::string> metadata;
};

/// Writes grid.size() pixels at `data` (row-major, type `type`) as a Cloud-Optimised GeoTIFF at `path`
/// (temporary file + rename). Throws CrsError if grid.crs_wkt is empty, InputError for a bad grid/options,
/// DataIOError when the file cannot be written (message names the path). `data` is only read.
void write_geotiff(const std::string& path, const void* data, PixelType type, const GridSpec& grid,
                   const GeoTiffOptions& options = {});

/// Convenience overloads; values.size() must equal grid.size() (InputError otherwise).
void write_geotiff(const std::string& path, const std::vector<double>& values, const GridSpec& grid,
                   const GeoTiffOptions& options = {});
void write_geotiff(const std::string& path, const std::vector<float>& values, const GridSpec& grid,
                   const GeoTiffOptions& options = {});
void write_geotiff(const std::string& path, const std::vector<int32_t>& values, const GridSpec& grid,
                   const GeoTiffOptions& options = {});

}  // namespace careshed
