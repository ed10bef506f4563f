// raster_io.cpp — analysis grids, GDAL raster reading onto a grid (warper), COG writing.
//
// Reading goes through GDALWarpOperation rather than GDALWarp() (the gdalwarp "app"): the app builds its own
// output dataset, while we want GDAL to write straight into the caller's buffer (a MEM dataset over it), in
// double precision, with NaN as the one "no data" marker careshed uses everywhere.
#include "careshed/raster_io.hpp"

#include <cpl_conv.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <gdal_alg.h>
#include <gdalwarper.h>
#include <ogr_api.h>
#include <ogr_spatialref.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdlib>
#include <cmath>
#include <functional>
#include <limits>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "careshed/crs.hpp"
#include "careshed/error.hpp"
#include "careshed/memory.hpp"
#include "careshed/progress.hpp"
#include "crs_internal.hpp"
#include "gdal_util.hpp"
#include "raster_detail.hpp"

namespace careshed {

namespace detail {

namespace {
/// A plain file path (not /vsi..., not a driver connection string such as "PG:..." or "NETCDF:f.nc:var"),
/// which we can check for existence first to give "file not found" rather than GDAL's generic failure.
bool plain_file_path(const std::string& path) {
  if (path.rfind("/vsi", 0) == 0) return false;
  const auto colon = path.find(':');
  return colon == std::string::npos || (colon == 1 && path.size() > 2 && (path[2] == '\\' || path[2] == '/'));
}
}  // namespace

namespace {
/// Opens `path` read-only with the given GDAL_OF_RASTER / GDAL_OF_VECTOR flag; `kind` words the error.
DatasetPtr open_dataset(const std::string& path, const std::string& what, unsigned kind_flag, const char* kind) {
  ensure_gdal_registered();
  VSIStatBufL st;
  if (path.empty()) throw DataIOError(what + ": no file name given");
  if (plain_file_path(path) && VSIStatL(path.c_str(), &st) != 0) {
    throw DataIOError(what + " '" + path + "': file not found (check the path)");
  }
  detail::QuietGdalErrors quiet;
  GDALDatasetH ds = GDALOpenEx(path.c_str(), kind_flag | GDAL_OF_READONLY, nullptr, nullptr, nullptr);
  if (ds == nullptr) throw_gdal_io(what + " '" + path + "'", std::string("cannot open it as ") + kind);
  take_gdal_error();
  DatasetPtr owner(ds);
  if (kind_flag == GDAL_OF_RASTER) check_raster_complete(ds, path, what);
  return owner;
}
}  // namespace

DatasetPtr open_raster(const std::string& path, const std::string& what) {
  return open_dataset(path, what, GDAL_OF_RASTER, "a raster");
}

DatasetPtr open_vector(const std::string& path, const std::string& what) {
  return open_dataset(path, what, GDAL_OF_VECTOR, "a vector data source");
}

void check_grid(const GridSpec& grid, const std::string& what) {
  if (grid.width <= 0 || grid.height <= 0 || grid.width > INT_MAX || grid.height > INT_MAX) {
    throw InputError(what + ": grid size " + std::to_string(grid.width) + " x " + std::to_string(grid.height) +
                     " is not usable (each side must be 1 .. 2^31-1 cells)");
  }
  for (double v : grid.geotransform) {
    if (!std::isfinite(v)) throw InputError(what + ": the grid's geotransform has a non-finite value");
  }
  if (grid.geotransform[1] == 0.0 || grid.geotransform[5] == 0.0) {
    throw InputError(what + ": the grid's cell size is zero (geotransform[1] or [5])");
  }
  if (grid.crs_wkt.empty()) {
    throw CrsError(what + ": the grid has no CRS (crs_wkt is empty); make it with make_grid / make_utm_grid");
  }
}

DatasetPtr mem_dataset_over(void* buffer, GDALDataType type, const GridSpec& grid) {
  ensure_gdal_registered();
  GDALDriverH mem = GDALGetDriverByName("MEM");
  if (mem == nullptr) throw Error("GDAL's MEM driver is not available");
  detail::QuietGdalErrors quiet;
  GDALDatasetH ds = GDALCreate(mem, "", static_cast<int>(grid.width), static_cast<int>(grid.height), 0, type,
                               nullptr);
  if (ds == nullptr) throw_gdal_io("in-memory raster", "cannot create it");
  DatasetPtr owner(ds);
  char pointer_text[64] = {0};
  int n = CPLPrintPointer(pointer_text, buffer, sizeof(pointer_text) - 1);
  pointer_text[n] = '\0';
  char** options = CSLSetNameValue(nullptr, "DATAPOINTER", pointer_text);
  CPLErr err = GDALAddBand(ds, type, options);
  CSLDestroy(options);
  if (err != CE_None) throw_gdal_io("in-memory raster", "cannot wrap the buffer as a band");
  double gt[6];
  std::copy(grid.geotransform.begin(), grid.geotransform.end(), gt);
  GDALSetGeoTransform(ds, gt);
  if (!grid.crs_wkt.empty()) {
    auto srs = parse_srs(grid.crs_wkt, "grid CRS");
    GDALSetSpatialRef(ds, OGRSpatialReference::ToHandle(srs.get()));
  }
  return owner;
}

void check_fits_in_memory(double bytes, const std::string& what, const std::string& advice) {
  const AvailableMemory available = available_memory();
  if (available.bytes == 0 || bytes <= static_cast<double>(available.bytes)) return;  // unknown: allocation decides
  const double shown = std::min(bytes, static_cast<double>(std::numeric_limits<std::uint64_t>::max()));
  throw MemoryLimitError(what + ": reading it needs " + format_bytes(static_cast<std::uint64_t>(shown)) +
                         " but only " + format_bytes(available.bytes) + " of memory is available (" +
                         available.source + "); " + advice);
}

void check_georeferencing(GDALDatasetH ds, const std::string& path, const std::string& what) {
  double gt[6] = {0, 1, 0, 0, 0, 1};
  if (GDALGetGeoTransform(ds, gt) != CE_None) {
    CPLErrorReset();
    return;  // no geotransform: pixel coordinates, refused elsewhere through the CRS
  }
  const double w = GDALGetRasterXSize(ds), h = GDALGetRasterYSize(ds);
  OGRSpatialReferenceH srs = GDALGetSpatialRef(ds);
  const bool geographic = srs != nullptr && OSRIsGeographic(srs) != 0;
  // Beyond these no place on Earth can be meant (the largest projected CRSs span ~4e7 m or ~1.3e8 US feet;
  // longitudes beyond +-720 degrees are not a wrap convention). GDAL 3.6 also loops for ages wrapping a
  // longitude like 1e242 into -180..180 (found by fuzz_raster), so such a file must not reach a transformation.
  const double limit = geographic ? 720.0 : 1e10;
  double min_x = INFINITY, max_x = -INFINITY, min_y = INFINITY, max_y = -INFINITY;
  bool finite = true;
  for (double px : {0.0, w}) {
    for (double py : {0.0, h}) {
      const double x = gt[0] + px * gt[1] + py * gt[2], y = gt[3] + px * gt[4] + py * gt[5];
      finite = finite && std::isfinite(x) && std::isfinite(y);
      min_x = std::min(min_x, x), max_x = std::max(max_x, x), min_y = std::min(min_y, y), max_y = std::max(max_y, y);
    }
  }
  if (!finite || (gt[1] == 0.0 && gt[2] == 0.0) || (gt[4] == 0.0 && gt[5] == 0.0) ||
      std::max({std::fabs(min_x), std::fabs(max_x), std::fabs(min_y), std::fabs(max_y)}) > limit) {
    std::ostringstream m;
    m << what << " '" << path << "': its georeferencing places it nowhere on Earth (geotransform " << gt[0] << ", "
      << gt[1] << ", " << gt[2] << ", " << gt[3] << ", " << gt[4] << ", " << gt[5] << " in a "
      << (geographic ? "lon/lat" : "projected") << " CRS); fix the file's geotransform (gdal_edit.py -a_ullr) "
      << "or its CRS (gdal_edit.py -a_srs)";
    throw CrsError(m.str());
  }
}

void check_raster_complete(GDALDatasetH ds, const std::string& path, const std::string& what) {
  GDALDriverH drv = GDALGetDatasetDriver(ds);
  if (drv == nullptr || !EQUAL(GDALGetDriverShortName(drv), "GTiff")) return;
  VSIStatBufL st;
  if (VSIStatL(path.c_str(), &st) != 0) return;  // not a plain file (e.g. /vsicurl/): GDAL's read errors apply
  const auto file_size = static_cast<unsigned long long>(st.st_size);
  for (int b = 1; b <= GDALGetRasterCount(ds); ++b) {
    GDALRasterBandH band = GDALGetRasterBand(ds, b);
    int bx = 0, by = 0;
    GDALGetBlockSize(band, &bx, &by);
    if (bx <= 0 || by <= 0) return;
    const long long nx = (GDALGetRasterXSize(ds) + static_cast<long long>(bx) - 1) / bx;
    const long long ny = (GDALGetRasterYSize(ds) + static_cast<long long>(by) - 1) / by;
    if (nx * ny > 4'000'000) return;  // metadata queries would cost more than reading; rely on read errors
    for (long long y = 0; y < ny; ++y) {
      for (long long x = 0; x < nx; ++x) {
        const std::string key = std::to_string(x) + "_" + std::to_string(y);
        const char* off = GDALGetMetadataItem(band, ("BLOCK_OFFSET_" + key).c_str(), "TIFF");
        const char* len = GDALGetMetadataItem(band, ("BLOCK_SIZE_" + key).c_str(), "TIFF");
        if (off == nullptr || len == nullptr) continue;  // sparse block (reads as nodata) or not reported
        const unsigned long long end = std::strtoull(off, nullptr, 10) + std::strtoull(len, nullptr, 10);
        if (end > file_size) {
          throw DataIOError(what + " '" + path + "': the file is truncated: it has " + std::to_string(file_size) +
                            " bytes but band " + std::to_string(b) + " block (" + std::to_string(x) + ", " +
                            std::to_string(y) + ") ends at byte " + std::to_string(end) +
                            "; download or copy the file again");
        }
      }
    }
    // Pixel-interleaved files store all bands in band 1's blocks.
    const char* interleave = GDALGetMetadataItem(ds, "INTERLEAVE", "IMAGE_STRUCTURE");
    if (interleave == nullptr || !EQUAL(interleave, "BAND")) break;
  }
  CPLErrorReset();
}

void require_data_on_grid(const ReadReport& report, const GridSpec& grid, const std::string& role) {
  if (report.valid_cells > 0) return;
  const Bounds g = grid_bounds(grid);
  std::ostringstream m;
  m << role << " '" << report.path << "' band " << report.band << " has no data on the analysis grid: all "
    << grid.size() << " cells are nodata or outside the raster (grid bounds " << g.min_x << ", " << g.min_y << ", "
    << g.max_x << ", " << g.max_y << " in the grid CRS). Check the raster's nodata value and values (gdalinfo -stats) "
    << "and that it covers the study area";
  throw InputError(m.str());
}

std::string dataset_crs_wkt(GDALDatasetH ds) {
  OGRSpatialReferenceH srs = GDALGetSpatialRef(ds);
  if (srs == nullptr || OGRSpatialReference::FromHandle(srs)->IsEmpty()) return "";
  return srs_to_wkt2(*OGRSpatialReference::FromHandle(srs));
}

}  // namespace detail

namespace {

using detail::DatasetPtr;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void check_bounds(const Bounds& b, const std::string& what) {
  if (!std::isfinite(b.min_x) || !std::isfinite(b.min_y) || !std::isfinite(b.max_x) || !std::isfinite(b.max_y) ||
      !(b.max_x > b.min_x) || !(b.max_y > b.min_y)) {
    std::ostringstream s;
    s << what << ": bounds (" << b.min_x << ", " << b.min_y << ", " << b.max_x << ", " << b.max_y
      << ") are not a rectangle; give (min_x, min_y, max_x, max_y) with max > min";
    throw InputError(s.str());
  }
}

/// Snaps bounds outward to whole multiples of `cell` and builds the north-up grid.
GridSpec snapped_grid(const Bounds& b, double cell, const std::string& wkt, const std::string& what) {
  if (!(cell > 0.0) || !std::isfinite(cell)) {
    throw InputError(what + ": the cell size must be a positive number (got " + std::to_string(cell) + ")");
  }
  // A tiny tolerance keeps bounds that already sit on a cell edge (up to rounding) from gaining a cell.
  const double eps = 1e-9;
  double x0 = std::floor(b.min_x / cell + eps) * cell;
  double x1 = std::ceil(b.max_x / cell - eps) * cell;
  double y0 = std::floor(b.min_y / cell + eps) * cell;
  double y1 = std::ceil(b.max_y / cell - eps) * cell;
  double w = std::round((x1 - x0) / cell), h = std::round((y1 - y0) / cell);
  if (w < 1) w = 1;
  if (h < 1) h = 1;
  if (w > INT_MAX || h > INT_MAX) {
    throw InputError(what + ": " + std::to_string(w) + " x " + std::to_string(h) +
                     " cells is too many; use a larger cell size or smaller bounds");
  }
  GridSpec g;
  g.width = static_cast<int64_t>(w);
  g.height = static_cast<int64_t>(h);
  g.geotransform = {x0, cell, 0.0, y1, 0.0, -cell};
  g.crs_wkt = wkt;
  return g;
}

Bounds transform_bounds(const Bounds& b, const OGRSpatialReference& src, const OGRSpatialReference& dst,
                        const std::string& what) {
  if (detail::srs_equivalent(src, dst)) return b;
  auto ct = detail::make_transform(src, dst);
  Bounds out;
  detail::QuietGdalErrors quiet;
  // 21 points per edge: edges of a projected rectangle are curves in the other CRS.
  if (!ct->TransformBounds(b.min_x, b.min_y, b.max_x, b.max_y, &out.min_x, &out.min_y, &out.max_x, &out.max_y,
                           21)) {
    throw CrsError(what + ": the bounds cannot be transformed between the CRSs (GDAL: " +
                   detail::take_gdal_error() + ")");
  }
  return out;
}

std::string band_context(const std::string& path, int band) {
  return "raster '" + path + "' band " + std::to_string(band);
}

GDALRasterBandH get_band(GDALDatasetH ds, const std::string& path, int band) {
  int count = GDALGetRasterCount(ds);
  if (band < 1 || band > count) {
    throw DataIOError("raster '" + path + "': has no band " + std::to_string(band) + " (it has " +
                      std::to_string(count) + " band" + (count == 1 ? "" : "s") + "; bands are numbered from 1)");
  }
  return GDALGetRasterBand(ds, band);
}

/// The raster's CRS as WKT, or CrsError naming the file; also checks its georeferencing is on Earth
/// (check_georeferencing).
std::string require_crs(GDALDatasetH ds, const std::string& path) {
  std::string wkt = detail::dataset_crs_wkt(ds);
  if (wkt.empty()) {
    throw CrsError("raster '" + path +
                   "' has no coordinate reference system; careshed needs one to place it on the map. "
                   "Assign the right CRS, e.g. gdal_edit.py -a_srs EPSG:4326 '" + path + "'");
  }
  detail::check_georeferencing(ds, path, "raster");
  return wkt;
}

GridSpec native_grid(GDALDatasetH ds, const std::string& wkt) {
  GridSpec g;
  g.width = GDALGetRasterXSize(ds);
  g.height = GDALGetRasterYSize(ds);
  double gt[6] = {0, 1, 0, 0, 0, 1};
  if (GDALGetGeoTransform(ds, gt) != CE_None) {
    // GDAL's default is a pixel-unit transform; keep it but callers that need a place will find no CRS.
    detail::take_gdal_error();
  }
  std::copy(gt, gt + 6, g.geotransform.begin());
  g.crs_wkt = wkt;
  return g;
}

bool is_float_type(GDALDataType t) {
  return t == GDT_Float32 || t == GDT_Float64 || t == GDT_CFloat32 || t == GDT_CFloat64;
}

GDALResampleAlg to_gdal(Resampling r) {
  switch (r) {
    case Resampling::Nearest: return GRA_NearestNeighbour;
    case Resampling::Bilinear: return GRA_Bilinear;
    case Resampling::Cubic: return GRA_Cubic;
    case Resampling::Average: return GRA_Average;
    case Resampling::Mode: return GRA_Mode;
    case Resampling::Sum: return GRA_Sum;
  }
  return GRA_NearestNeighbour;
}

GDALDataType to_gdal(PixelType t) {
  switch (t) {
    case PixelType::UInt8: return GDT_Byte;
    case PixelType::Int16: return GDT_Int16;
    case PixelType::UInt16: return GDT_UInt16;
    case PixelType::Int32: return GDT_Int32;
    case PixelType::UInt32: return GDT_UInt32;
    case PixelType::Float32: return GDT_Float32;
    case PixelType::Float64: return GDT_Float64;
  }
  return GDT_Float64;
}

/// Sum of valid source values whose cell centre lies inside `grid` (after reprojection). Only the source
/// window under the grid is read, in strips, so a district grid over a national raster stays cheap.
/// Centres are mapped to grid pixel coordinates with GDAL's approximate transformer (exact at a few points per
/// row, linear in between within 0.01 grid pixel) — 2 M WorldPop centres take milliseconds instead of the
/// ~0.3 s of a per-point PROJ call; only a centre within 1 % of a cell of the grid's outer edge could be
/// misclassified.
double source_total_inside(GDALDatasetH src, GDALRasterBandH band, const std::string& src_wkt,
                           const GridSpec& grid, const std::string& path, int band_no) {
  const int w = GDALGetRasterXSize(src), h = GDALGetRasterYSize(src);
  double src_gt[6];
  GDALGetGeoTransform(src, src_gt);
  double dst_gt[6];
  std::copy(grid.geotransform.begin(), grid.geotransform.end(), dst_gt);
  int has_nodata = 0;
  double nodata = GDALGetRasterNoDataValue(band, &has_nodata);
  detail::QuietGdalErrors quiet;
  void* exact = GDALCreateGenImgProjTransformer3(src_wkt.c_str(), src_gt, grid.crs_wkt.c_str(), dst_gt);
  if (exact == nullptr) {
    throw CrsError("raster '" + path + "': cannot transform it to the grid's CRS (GDAL: " +
                   detail::take_gdal_error() + ")");
  }
  void* approx = GDALCreateApproxTransformer(GDALGenImgProjTransform, exact, 0.01);
  GDALApproxTransformerOwnsSubtransformer(approx, TRUE);
  struct Free {
    void* t;
    ~Free() { GDALDestroyApproxTransformer(t); }
  } free_approx{approx};

  // Source window: the grid's outline (21 points per edge) mapped back to source pixels, padded by a pixel.
  int c0 = 0, c1 = w, r0 = 0, r1 = h;
  {
    std::vector<double> x, y, z;
    const double gw = static_cast<double>(grid.width), gh = static_cast<double>(grid.height);
    for (int i = 0; i <= 20; ++i) {
      double t = i / 20.0;
      x.insert(x.end(), {t * gw, t * gw, 0.0, gw});
      y.insert(y.end(), {0.0, gh, t * gh, t * gh});
    }
    z.assign(x.size(), 0.0);
    std::vector<int> ok(x.size(), 0);
    GDALGenImgProjTransform(exact, TRUE, static_cast<int>(x.size()), x.data(), y.data(), z.data(), ok.data());
    double minx = INFINITY, maxx = -INFINITY, miny = INFINITY, maxy = -INFINITY;
    bool all_ok = true;
    for (size_t i = 0; i < x.size(); ++i) {
      if (!ok[i]) {
        all_ok = false;
        break;
      }
      minx = std::min(minx, x[i]);
      maxx = std::max(maxx, x[i]);
      miny = std::min(miny, y[i]);
      maxy = std::max(maxy, y[i]);
    }
    if (all_ok) {  // else (outline outside the source CRS's domain): scan the whole raster
      c0 = static_cast<int>(std::clamp(std::floor(minx) - 1.0, 0.0, static_cast<double>(w)));
      c1 = static_cast<int>(std::clamp(std::ceil(maxx) + 1.0, 0.0, static_cast<double>(w)));
      r0 = static_cast<int>(std::clamp(std::floor(miny) - 1.0, 0.0, static_cast<double>(h)));
      r1 = static_cast<int>(std::clamp(std::ceil(maxy) + 1.0, 0.0, static_cast<double>(h)));
    }
  }
  const int ww = c1 - c0;
  if (ww <= 0 || r1 <= r0) return 0.0;
  const int strip = std::max(1, std::min(r1 - r0, static_cast<int>(4'000'000 / ww)));
  std::vector<double> buf(static_cast<size_t>(ww) * strip);
  std::vector<double> xs(ww), ys(ww), zs(ww);
  std::vector<int> ok(ww);
  const double gw = static_cast<double>(grid.width), gh = static_cast<double>(grid.height);
  double total = 0.0;
  for (int s0 = r0; s0 < r1; s0 += strip) {
    const int rows = std::min(strip, r1 - s0);
    if (GDALRasterIO(band, GF_Read, c0, s0, ww, rows, buf.data(), ww, rows, GDT_Float64, 0, 0) != CE_None) {
      detail::throw_gdal_io(band_context(path, band_no), "cannot read rows from " + std::to_string(s0));
    }
    for (int r = 0; r < rows; ++r) {
      const double* row = buf.data() + static_cast<size_t>(r) * ww;
      bool any = false;
      for (int c = 0; c < ww && !any; ++c) any = !(std::isnan(row[c]) || (has_nodata && row[c] == nodata) || row[c] == 0.0);
      if (!any) continue;
      for (int c = 0; c < ww; ++c) {
        xs[c] = c0 + c + 0.5;
        ys[c] = s0 + r + 0.5;
        zs[c] = 0.0;
      }
      GDALApproxTransform(approx, FALSE, ww, xs.data(), ys.data(), zs.data(), ok.data());
      for (int c = 0; c < ww; ++c) {
        const double v = row[c];
        if (std::isnan(v) || (has_nodata && v == nodata) || v == 0.0 || !ok[c]) continue;
        if (xs[c] >= 0.0 && xs[c] < gw && ys[c] >= 0.0 && ys[c] < gh) total += v;
      }
    }
  }
  detail::take_gdal_error();
  return total;
}

void finish_report(ReadReport& rep, const double* out, int64_t n) {
  double total = 0.0;
  int64_t valid = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isnan(out[i])) {
      total += out[i];
      ++valid;
    }
  }
  rep.valid_cells = valid;
  rep.result_total = total;
  if (std::isnan(rep.source_total_in_grid)) {
    rep.relative_difference = kNaN;
  } else if (rep.source_total_in_grid == 0.0) {
    rep.relative_difference = total == 0.0 ? 0.0 : std::numeric_limits<double>::infinity();
  } else {
    rep.relative_difference = (total - rep.source_total_in_grid) / std::fabs(rep.source_total_in_grid);
  }
}

std::string temp_name_for(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  std::string dir = CPLGetPath(path.c_str());
  std::string base = CPLGetFilename(path.c_str());
  std::ostringstream s;
  s << (dir.empty() ? "" : dir + "/") << "." << base << ".tmp-" << getpid() << "-"
    << (std::hash<std::thread::id>{}(std::this_thread::get_id()) % 100000) << "-" << counter++ << ".tif";
  return s.str();
}

}  // namespace

Bounds grid_bounds(const GridSpec& g) {
  double x0 = g.geotransform[0], x1 = g.geotransform[0] + g.width * g.geotransform[1];
  double y0 = g.geotransform[3], y1 = g.geotransform[3] + g.height * g.geotransform[5];
  return Bounds{std::min(x0, x1), std::min(y0, y1), std::max(x0, x1), std::max(y0, y1)};
}

Bounds data_bounds(const std::string& path, std::string* crs_wkt, const std::string& layer) {
  detail::ensure_gdal_registered();
  GDALDatasetH probe = nullptr;
  {
    detail::QuietGdalErrors quiet;
    probe = GDALOpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, nullptr, nullptr, nullptr);
    detail::take_gdal_error();
  }
  if (probe != nullptr && layer.empty()) {
    DatasetPtr ds(probe);
    std::string wkt = require_crs(probe, path);
    if (crs_wkt) *crs_wkt = wkt;
    return grid_bounds(native_grid(probe, wkt));
  }
  if (probe != nullptr) GDALClose(probe);
  DatasetPtr ds = detail::open_vector(path, "data");
  auto h = static_cast<GDALDatasetH>(ds.get());
  Bounds b{INFINITY, INFINITY, -INFINITY, -INFINITY};
  std::string wkt;
  bool any = false;
  for (int i = 0; i < GDALDatasetGetLayerCount(h); ++i) {
    OGRLayerH l = GDALDatasetGetLayer(h, i);
    if (!layer.empty() && layer != OGR_L_GetName(l)) continue;
    OGRSpatialReferenceH srs = OGR_L_GetSpatialRef(l);
    if (srs == nullptr) {
      throw CrsError("'" + path + "' layer '" + OGR_L_GetName(l) +
                     "' has no coordinate reference system; assign one (e.g. ogr2ogr -a_srs EPSG:4326)");
    }
    auto mine = detail::parse_srs(detail::srs_to_wkt2(*OGRSpatialReference::FromHandle(srs)), "layer CRS");
    if (wkt.empty()) {
      wkt = detail::srs_to_wkt2(*mine);
    } else if (!detail::srs_equivalent(*mine, *detail::parse_srs(wkt, "layer CRS"))) {
      throw CrsError("'" + path + "': its layers are in different CRSs; name the layer to use");
    }
    OGREnvelope env;
    detail::QuietGdalErrors quiet;
    if (OGR_L_GetExtent(l, &env, TRUE) != OGRERR_NONE) continue;  // empty layer
    b = Bounds{std::min(b.min_x, env.MinX), std::min(b.min_y, env.MinY), std::max(b.max_x, env.MaxX),
               std::max(b.max_y, env.MaxY)};
    any = true;
  }
  if (!layer.empty() && wkt.empty()) {
    throw DataIOError("'" + path + "': no layer '" + layer + "'");
  }
  if (!any) throw InputError("'" + path + "': no features, so no extent to cover");
  if (crs_wkt) *crs_wkt = wkt;
  return b;
}

GridSpec make_grid(const Bounds& bounds, double cell_size_m, const std::string& crs) {
  check_bounds(bounds, "make_grid");
  auto srs = detail::parse_srs(crs, "make_grid: argument crs");
  if (srs->IsGeographic()) {
    throw CrsError("make_grid: the CRS is geographic (degrees), so a cell size in metres has no meaning; "
                   "use make_utm_grid (metric UTM zone chosen for you) or make_lonlat_grid");
  }
  double to_m = srs->GetLinearUnits(nullptr);
  if (std::fabs(to_m - 1.0) > 1e-12) {
    throw CrsError("make_grid: the CRS's linear unit is not the metre (1 unit = " + std::to_string(to_m) +
                   " m); choose a metric CRS such as a UTM zone (make_utm_grid)");
  }
  return snapped_grid(bounds, cell_size_m, detail::srs_to_wkt2(*srs), "make_grid");
}

GridSpec make_utm_grid(const Bounds& bounds, const std::string& bounds_crs, double cell_size_m) {
  check_bounds(bounds, "make_utm_grid");
  auto src = detail::parse_srs(bounds_crs, "make_utm_grid: argument bounds_crs");
  OGRSpatialReference wgs84;
  wgs84.SetWellKnownGeogCS("WGS84");
  wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  Bounds ll = src->IsGeographic() ? bounds : transform_bounds(bounds, *src, wgs84, "make_utm_grid");
  int epsg = utm_epsg_for(0.5 * (ll.min_x + ll.max_x), 0.5 * (ll.min_y + ll.max_y));
  auto utm = detail::parse_srs("EPSG:" + std::to_string(epsg), "UTM zone");
  Bounds ub = transform_bounds(bounds, *src, *utm, "make_utm_grid");
  return snapped_grid(ub, cell_size_m, detail::srs_to_wkt2(*utm), "make_utm_grid");
}

GridSpec make_lonlat_grid(const Bounds& bounds, double cell_size_deg, const std::string& crs) {
  check_bounds(bounds, "make_lonlat_grid");
  auto srs = detail::parse_srs(crs, "make_lonlat_grid: argument crs");
  if (!srs->IsGeographic()) {
    throw CrsError("make_lonlat_grid: the CRS is not geographic; use make_grid for projected (metric) CRSs");
  }
  return snapped_grid(bounds, cell_size_deg, detail::srs_to_wkt2(*srs), "make_lonlat_grid");
}

namespace {
struct Ellipsoid {
  bool geographic = false;
  double a = 0.0, e2 = 0.0, rad_per_unit = 0.0;
};
Ellipsoid ellipsoid_of(const GridSpec& grid, const std::string& what) {
  if (!grid.north_up()) throw InputError(what + ": the grid is rotated; only north-up grids are supported");
  auto srs = detail::parse_srs(grid.crs_wkt, what + ": grid CRS");
  Ellipsoid e;
  e.geographic = srs->IsGeographic() != 0;
  if (!e.geographic) return e;
  OGRErr err = OGRERR_NONE;
  e.a = srs->GetSemiMajor(&err);
  double invf = srs->GetInvFlattening(&err);
  double f = invf == 0.0 ? 0.0 : 1.0 / invf;
  e.e2 = f * (2.0 - f);
  e.rad_per_unit = srs->GetAngularUnits(nullptr);
  return e;
}
}  // namespace

std::vector<double> row_cell_widths_m(const GridSpec& grid) {
  Ellipsoid e = ellipsoid_of(grid, "row_cell_widths_m");
  std::vector<double> out(static_cast<size_t>(std::max<int64_t>(grid.height, 0)), grid.cell_width());
  if (!e.geographic) return out;
  const double dlon = grid.cell_width() * e.rad_per_unit;
  for (int64_t r = 0; r < grid.height; ++r) {
    double phi = grid.row_center_y(static_cast<double>(r)) * e.rad_per_unit;
    double s = std::sin(phi);
    double n = e.a / std::sqrt(1.0 - e.e2 * s * s);  // prime-vertical radius of curvature
    out[static_cast<size_t>(r)] = std::max(0.0, n * std::cos(phi)) * dlon;
  }
  return out;
}

std::vector<double> row_cell_heights_m(const GridSpec& grid) {
  Ellipsoid e = ellipsoid_of(grid, "row_cell_heights_m");
  std::vector<double> out(static_cast<size_t>(std::max<int64_t>(grid.height, 0)), grid.cell_height());
  if (!e.geographic) return out;
  const double dlat = grid.cell_height() * e.rad_per_unit;
  for (int64_t r = 0; r < grid.height; ++r) {
    double phi = grid.row_center_y(static_cast<double>(r)) * e.rad_per_unit;
    double s = std::sin(phi);
    double m = e.a * (1.0 - e.e2) / std::pow(1.0 - e.e2 * s * s, 1.5);  // meridian radius of curvature
    out[static_cast<size_t>(r)] = m * dlat;
  }
  return out;
}

Resampling resampling_from_string(const std::string& name) {
  std::string n = name;
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  if (n == "nearest") return Resampling::Nearest;
  if (n == "bilinear") return Resampling::Bilinear;
  if (n == "cubic") return Resampling::Cubic;
  if (n == "average") return Resampling::Average;
  if (n == "mode") return Resampling::Mode;
  if (n == "sum") return Resampling::Sum;
  throw InputError("resampling '" + name +
                   "' is not known; use one of nearest, mode (classes), bilinear, cubic, average (continuous), "
                   "sum (counts such as population)");
}

const char* resampling_name(Resampling r) {
  switch (r) {
    case Resampling::Nearest: return "nearest";
    case Resampling::Bilinear: return "bilinear";
    case Resampling::Cubic: return "cubic";
    case Resampling::Average: return "average";
    case Resampling::Mode: return "mode";
    case Resampling::Sum: return "sum";
  }
  return "?";
}

RasterInfo raster_info(const std::string& path, int band) {
  DatasetPtr ds = detail::open_raster(path);
  auto h = static_cast<GDALDatasetH>(ds.get());
  RasterInfo info;
  info.band_count = GDALGetRasterCount(h);
  GDALRasterBandH b = get_band(h, path, band);
  info.grid = native_grid(h, detail::dataset_crs_wkt(h));
  int has = 0;
  double nd = GDALGetRasterNoDataValue(b, &has);
  if (has) info.nodata = nd;
  info.data_type = GDALGetDataTypeName(GDALGetRasterDataType(b));
  return info;
}

Raster read_raster(const std::string& path, int band) {
  DatasetPtr ds = detail::open_raster(path);
  auto h = static_cast<GDALDatasetH>(ds.get());
  GDALRasterBandH b = get_band(h, path, band);
  std::string wkt = require_crs(h, path);
  Raster out;
  out.grid = native_grid(h, wkt);
  // A header can declare any size (found by fuzz_raster: 1.4 G cells from 700 bytes): refuse what cannot fit
  // with a message, instead of std::bad_alloc or the OS killing the run.
  std::ostringstream size_text;
  size_text << "raster '" << path << "' is " << out.grid.width << " x " << out.grid.height << " cells";
  detail::check_fits_in_memory(8.0 * static_cast<double>(out.grid.width) * static_cast<double>(out.grid.height),
                               size_text.str(), "read it onto an analysis grid with a coarser cell size or smaller "
                                                "bounds, or crop it first (gdal_translate -projwin)");
  out.values.resize(static_cast<size_t>(out.grid.size()));
  {
    detail::QuietGdalErrors quiet;
    if (GDALRasterIO(b, GF_Read, 0, 0, static_cast<int>(out.grid.width), static_cast<int>(out.grid.height),
                     out.values.data(), static_cast<int>(out.grid.width), static_cast<int>(out.grid.height),
                     GDT_Float64, 0, 0) != CE_None) {
      detail::throw_gdal_io(band_context(path, band), "cannot read the pixels");
    }
  }
  int has = 0;
  double nd = GDALGetRasterNoDataValue(b, &has);
  if (has) {
    for (double& v : out.values) {
      if (v == nd) v = kNaN;
    }
  }
  out.report.path = path;
  out.report.band = band;
  out.report.resampling = Resampling::Nearest;
  out.report.source_total_in_grid = 0.0;
  finish_report(out.report, out.values.data(), out.grid.size());
  out.report.source_total_in_grid = out.report.result_total;  // same grid: the source is the result
  out.report.relative_difference = 0.0;
  return out;
}

ReadReport read_raster_into(const std::string& path, const GridSpec& grid, Resampling resampling, int band,
                            double* out, RunControl* control) {
  ProgressSpan span(control, 0.0, 1.0, "reading");
  detail::check_grid(grid, "read_raster('" + path + "')");
  DatasetPtr src_owner = detail::open_raster(path);
  auto src = static_cast<GDALDatasetH>(src_owner.get());
  GDALRasterBandH b = get_band(src, path, band);
  std::string src_wkt = require_crs(src, path);
  std::fill(out, out + grid.size(), kNaN);

  DatasetPtr dst_owner = detail::mem_dataset_over(out, GDT_Float64, grid);
  auto dst = static_cast<GDALDatasetH>(dst_owner.get());
  double dst_nodata = kNaN;
  GDALSetRasterNoDataValue(GDALGetRasterBand(dst, 1), dst_nodata);

  int has_nodata = 0;
  double src_nodata = GDALGetRasterNoDataValue(b, &has_nodata);
  // Float rasters without a declared nodata still use NaN for holes; tell the warper so NaN never spreads.
  if (!has_nodata && is_float_type(GDALGetRasterDataType(b))) {
    has_nodata = 1;
    src_nodata = kNaN;
  }

  detail::QuietGdalErrors quiet;
  void* exact = GDALCreateGenImgProjTransformer2(src, dst, nullptr);
  if (exact == nullptr) {
    throw CrsError("raster '" + path + "': cannot transform it to the grid's CRS (GDAL: " +
                   detail::take_gdal_error() + ")");
  }
  // Across CRSs, gdalwarp's default: the exact transformation is evaluated at a few points per row and
  // interpolated linearly where that stays within 0.125 source pixels — twice as fast, and the same result as
  // `gdalwarp`. Within one CRS the mapping is affine: the exact transformer is as fast and free of the
  // interpolation's rounding (which can flip a cell that exactly touches the source edge to 0 instead of NaN).
  const bool same_crs = detail::srs_equivalent(*detail::parse_srs(src_wkt, "raster CRS"),
                                               *detail::parse_srs(grid.crs_wkt, "grid CRS"));
  void* transformer = exact;
  GDALTransformerFunc transform_fn = GDALGenImgProjTransform;
  if (!same_crs) {
    transformer = GDALCreateApproxTransformer(GDALGenImgProjTransform, exact, 0.125);
    GDALApproxTransformerOwnsSubtransformer(transformer, TRUE);
    transform_fn = GDALApproxTransform;
  }
  GDALWarpOptions* wo = GDALCreateWarpOptions();
  wo->hSrcDS = src;
  wo->hDstDS = dst;
  wo->nBandCount = 1;
  wo->panSrcBands = static_cast<int*>(CPLMalloc(sizeof(int)));
  wo->panSrcBands[0] = band;
  wo->panDstBands = static_cast<int*>(CPLMalloc(sizeof(int)));
  wo->panDstBands[0] = 1;
  wo->eResampleAlg = to_gdal(resampling);
  wo->eWorkingDataType = GDT_Float64;
  wo->pfnTransformer = transform_fn;
  wo->pTransformerArg = transformer;
  if (control) {
    wo->pfnProgress = detail::gdal_progress;
    wo->pProgressArg = control;
  }
  if (has_nodata) {
    wo->padfSrcNoDataReal = static_cast<double*>(CPLMalloc(sizeof(double)));
    wo->padfSrcNoDataReal[0] = src_nodata;
  }
  wo->padfDstNoDataReal = static_cast<double*>(CPLMalloc(sizeof(double)));
  wo->padfDstNoDataReal[0] = dst_nodata;
  wo->papszWarpOptions = CSLSetNameValue(wo->papszWarpOptions, "INIT_DEST", "NO_DATA");
  // Resampling kernels run on every core (the result does not depend on the thread count: each target pixel is
  // computed independently). GDAL_NUM_THREADS, if set, still wins, so a shared server can cap it.
  const char* threads = CPLGetConfigOption("GDAL_NUM_THREADS", "ALL_CPUS");
  wo->papszWarpOptions = CSLSetNameValue(wo->papszWarpOptions, "NUM_THREADS", threads);

  CPLErr err = CE_Failure;
  {
    GDALWarpOperation op;
    if (op.Initialize(wo) == CE_None) {
      err = op.ChunkAndWarpImage(0, 0, static_cast<int>(grid.width), static_cast<int>(grid.height));
    }
  }
  if (same_crs) GDALDestroyGenImgProjTransformer(exact);
  else GDALDestroyApproxTransformer(transformer);  // also destroys `exact`, which it owns
  wo->pTransformerArg = nullptr;
  GDALDestroyWarpOptions(wo);
  throw_if_cancelled(control);  // a warp stopped by the progress callback also returns CE_Failure
  if (err != CE_None) {
    detail::throw_gdal_io(band_context(path, band), std::string("cannot resample it onto the grid (") +
                                                        resampling_name(resampling) + ")");
  }
  detail::take_gdal_error();

  ReadReport rep;
  rep.path = path;
  rep.band = band;
  rep.resampling = resampling;
  rep.source_total_in_grid =
      resampling == Resampling::Sum ? source_total_inside(src, b, src_wkt, grid, path, band) : kNaN;
  finish_report(rep, out, grid.size());
  return rep;
}

Raster read_raster(const std::string& path, const GridSpec& grid, Resampling resampling, int band) {
  detail::check_grid(grid, "read_raster('" + path + "')");
  Raster r;
  r.grid = grid;
  r.values.resize(static_cast<size_t>(grid.size()));
  r.report = read_raster_into(path, grid, resampling, band, r.values.data());
  return r;
}

void write_geotiff(const std::string& path, const void* data, PixelType type, const GridSpec& grid,
                   const GeoTiffOptions& options) {
  if (path.empty()) throw InputError("write_geotiff: no output path given");
  if (data == nullptr) throw InputError("write_geotiff('" + path + "'): no data");
  detail::check_grid(grid, "write_geotiff('" + path + "')");
  const int bs = options.block_size;
  if (bs < 64 || bs > 4096 || (bs & (bs - 1)) != 0) {
    throw InputError("write_geotiff('" + path + "'): block_size " + std::to_string(bs) +
                     " must be a power of two between 64 and 4096");
  }
  for (const auto& item : options.metadata) {
    if (item.find('=') == std::string::npos || item.front() == '=') {
      throw InputError("write_geotiff('" + path + "'): metadata item '" + item + "' is not KEY=VALUE");
    }
  }
  detail::ensure_gdal_registered();
  GDALDriverH cog = GDALGetDriverByName("COG");
  if (cog == nullptr) throw Error("write_geotiff: GDAL's COG driver is not available (GDAL >= 3.1 needed)");

  const GDALDataType gtype = to_gdal(type);
  DatasetPtr mem_owner = detail::mem_dataset_over(const_cast<void*>(data), gtype, grid);
  auto mem = static_cast<GDALDatasetH>(mem_owner.get());
  GDALRasterBandH mb = GDALGetRasterBand(mem, 1);
  std::optional<double> nodata = options.nodata;
  if (!nodata && is_float_type(gtype)) nodata = kNaN;
  if (nodata) GDALSetRasterNoDataValue(mb, *nodata);
  for (const auto& item : options.metadata) {
    std::string key = item.substr(0, item.find('=')), value = item.substr(item.find('=') + 1);
    GDALSetMetadataItem(mem, key.c_str(), value.c_str(), nullptr);
  }

  std::string dir = CPLGetPath(path.c_str());
  VSIStatBufL st;
  if (!dir.empty() && (VSIStatL(dir.c_str(), &st) != 0 || !VSI_ISDIR(st.st_mode))) {
    throw DataIOError("write_geotiff('" + path + "'): the directory '" + dir + "' does not exist; create it first");
  }
  const std::string tmp = temp_name_for(path);
  char** co = nullptr;
  co = CSLSetNameValue(co, "COMPRESS", options.compress.c_str());
  if (options.compress == "DEFLATE" || options.compress == "LZW" || options.compress == "ZSTD") {
    co = CSLSetNameValue(co, "PREDICTOR", "YES");
  }
  co = CSLSetNameValue(co, "BLOCKSIZE", std::to_string(bs).c_str());
  co = CSLSetNameValue(co, "BIGTIFF", "IF_SAFER");
  detail::QuietGdalErrors quiet;
  GDALDatasetH out = GDALCreateCopy(cog, tmp.c_str(), mem, FALSE, co, nullptr, nullptr);
  CSLDestroy(co);
  bool ok = out != nullptr;
  std::string gdal_msg = detail::take_gdal_error();
  if (out != nullptr) {
    GDALClose(out);  // flushes; GDAL 3.6's GDALClose returns void, so check the error state after it
    if (CPLGetLastErrorType() >= CE_Failure) ok = false;
    std::string close_msg = detail::take_gdal_error();
    if (gdal_msg.empty()) gdal_msg = close_msg;
  }
  if (!ok) {
    VSIUnlink(tmp.c_str());
    throw DataIOError("write_geotiff('" + path + "'): cannot write the GeoTIFF" +
                      (gdal_msg.empty() ? std::string() : " (GDAL: " + gdal_msg + ")"));
  }
  if (VSIRename(tmp.c_str(), path.c_str()) != 0) {
    VSIUnlink(tmp.c_str());
    throw DataIOError("write_geotiff('" + path + "'): cannot move the finished file into place (is '" + path +
                      "' a directory, or read-only?)");
  }
}

namespace {
template <typename T>
void write_vector(const std::string& path, const std::vector<T>& values, PixelType type, const GridSpec& grid,
                  const GeoTiffOptions& options) {
  if (static_cast<int64_t>(values.size()) != grid.size()) {
    throw InputError("write_geotiff('" + path + "'): " + std::to_string(values.size()) + " values for a " +
                     std::to_string(grid.width) + " x " + std::to_string(grid.height) + " grid (" +
                     std::to_string(grid.size()) + " cells)");
  }
  write_geotiff(path, values.data(), type, grid, options);
}
}  // namespace

void write_geotiff(const std::string& path, const std::vector<double>& values, const GridSpec& grid,
                   const GeoTiffOptions& options) {
  write_vector(path, values, PixelType::Float64, grid, options);
}
void write_geotiff(const std::string& path, const std::vector<float>& values, const GridSpec& grid,
                   const GeoTiffOptions& options) {
  write_vector(path, values, PixelType::Float32, grid, options);
}
void write_geotiff(const std::string& path, const std::vector<int32_t>& values, const GridSpec& grid,
                   const GeoTiffOptions& options) {
  write_vector(path, values, PixelType::Int32, grid, options);
}

}  // namespace careshed
