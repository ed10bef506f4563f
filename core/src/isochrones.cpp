// isochrones.cpp — display polygons of integer label grids (label_polygons: GDALPolygonize → GEOS clean +
// dissolve) and of travel-time bands (isochrone_polygons: classify seconds into band labels → label_polygons).
//
// Why this order: GDALPolygonize is the robust way to trace cell outlines (it follows pixel edges, so areas are
// exact multiples of the cell area and holes come out as interior rings, one polygon per connected run); GEOS
// then validates and gathers a label's polygons into one MultiPolygon (see step 2 of label_polygons for why no
// union is needed). GEOS objects live in one context owned by the call (re-entrant API only, as in geometry.cpp);
// GDAL datasets are in-memory and closed by RAII on every path.
#define GEOS_USE_ONLY_R_API
#include "careshed/isochrones.hpp"

#include <cpl_string.h>
#include <gdal.h>
#include <gdal_alg.h>
#include <geos_c.h>
#include <ogr_api.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "careshed/error.hpp"
#include "careshed/progress.hpp"
#include "geos_util.hpp"
#include "gdal_util.hpp"

namespace careshed {
namespace {

constexpr const char* kWhat = "label_polygons";

using detail::GeosContext;
using detail::Geom;

/// Throws careshed::Error naming the GEOS step, with GEOS's own message.
[[noreturn]] void fail(GeosContext& ctx, const std::string& step) {
  const std::string e = ctx.take_error();
  throw Error(std::string(kWhat) + ": GEOS " + step + " failed" + (e.empty() ? "" : ": " + e));
}

struct DatasetCloser {
  void operator()(void* ds) const {
    if (ds) GDALClose(static_cast<GDALDatasetH>(ds));
  }
};
using Dataset = std::unique_ptr<void, DatasetCloser>;

/// Valid version of g (GEOSMakeValid_r only when GEOSisValid_r says so, since it can reorder rings).
Geom make_valid(GeosContext& ctx, Geom g) {
  if (GEOSisValid_r(ctx.get(), g.get()) == 1) return g;
  Geom v(ctx.get(), GEOSMakeValid_r(ctx.get(), g.get()));
  if (!v) fail(ctx, "MakeValid");
  return v;
}

/// The polygonal part of g as a MultiPolygon (MakeValid may return a GeometryCollection with stray lines or
/// points when rings touch; those have no area and are dropped).
Geom as_multipolygon(GeosContext& ctx, const Geom& g) {
  GEOSContextHandle_t h = ctx.get();
  std::vector<GEOSGeometry*> parts;
  auto collect = [&](const GEOSGeometry* x, auto& self) -> void {
    const int type = GEOSGeomTypeId_r(h, x);
    if (type == GEOS_POLYGON) {
      if (GEOSisEmpty_r(h, x) != 1) parts.push_back(GEOSGeom_clone_r(h, x));
    } else if (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
      const int n = GEOSGetNumGeometries_r(h, x);
      for (int i = 0; i < n; ++i) self(GEOSGetGeometryN_r(h, x, i), self);
    }
  };
  collect(g.get(), collect);
  Geom out(h, GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, parts.empty() ? nullptr : parts.data(),
                                          static_cast<unsigned>(parts.size())));
  if (!out) {
    for (GEOSGeometry* p : parts) GEOSGeom_destroy_r(h, p);
    fail(ctx, "createCollection");
  }
  return out;
}

Wkb to_wkb(GeosContext& ctx, const Geom& g) {
  GEOSWKBWriter* w = GEOSWKBWriter_create_r(ctx.get());
  GEOSWKBWriter_setOutputDimension_r(ctx.get(), w, 2);
  GEOSWKBWriter_setByteOrder_r(ctx.get(), w, GEOS_WKB_NDR);
  std::size_t size = 0;
  unsigned char* buf = GEOSWKBWriter_write_r(ctx.get(), w, g.get(), &size);
  GEOSWKBWriter_destroy_r(ctx.get(), w);
  if (buf == nullptr) fail(ctx, "WKB writing");
  Wkb out(buf, buf + size);
  GEOSFree_r(ctx.get(), buf);
  return out;
}

void check_grid(const GridSpec& grid, const char* what) {
  if (grid.width <= 0 || grid.height <= 0 || grid.width > 2147483647 || grid.height > 2147483647) {
    throw InputError(std::string(what) + ": grid must have 1..2^31-1 columns and rows (got " +
                     std::to_string(grid.width) + " x " + std::to_string(grid.height) + ")");
  }
  const auto& gt = grid.geotransform;
  if (gt[1] * gt[5] - gt[2] * gt[4] == 0.0 || !std::isfinite(gt[1] * gt[5] - gt[2] * gt[4])) {
    throw InputError(std::string(what) + ": the grid's geotransform has zero or non-finite cell size");
  }
}

}  // namespace

std::vector<LabelPolygon> label_polygons(const std::int32_t* labels, const GridSpec& grid, std::int32_t n_labels,
                                         const LabelPolygonOptions& options, RunControl* control) {
  ProgressSpan span(control, 0.0, 1.0, "polygons");
  if (labels == nullptr) throw InputError("label_polygons: labels is missing");
  check_grid(grid, "label_polygons");
  if (n_labels < 1) throw InputError("label_polygons: n_labels must be >= 1 (got " + std::to_string(n_labels) + ")");
  const auto& gt = grid.geotransform;
  const std::size_t n_out = static_cast<std::size_t>(n_labels);

  // 1. Count the cells per label and shift the labels by one into the raster: GDALPolygonize skips the cells
  // where the mask band is 0, and the raster is its own mask, so "no polygon" must be 0 and label 0 must not be.
  // (label + 1 cannot overflow: label < n_labels <= INT32_MAX.)
  const std::int64_t n_cells = grid.size();
  std::vector<std::int64_t> cells(n_out, 0);
  std::vector<std::int32_t> shifted(static_cast<std::size_t>(n_cells));
  for (std::int64_t i = 0; i < n_cells; ++i) {
    const std::int32_t v = labels[i];
    if (v >= n_labels) {
      throw InputError("label_polygons: label " + std::to_string(v) + " at cell " + std::to_string(i) + " (row " +
                       std::to_string(i / grid.width) + ", col " + std::to_string(i % grid.width) +
                       ") is not below n_labels = " + std::to_string(n_labels));
    }
    if (v < 0) {
      shifted[static_cast<std::size_t>(i)] = 0;
      continue;
    }
    shifted[static_cast<std::size_t>(i)] = v + 1;
    ++cells[static_cast<std::size_t>(v)];
  }

  // 2. Polygonize. Each connected run of equal values becomes one polygon (with its holes), so the polygons of
  // one label never share an edge: in 4-connected mode they can only touch at corners, in 8-connected mode not at
  // all. Their collection is therefore already the dissolved label as a valid MultiPolygon (OGC allows a
  // MultiPolygon's parts to touch at points) — no GEOS union is needed, which matters: unioning thousands of
  // ragged pieces costs seconds, checking them costs milliseconds.
  detail::ensure_gdal_registered();
  detail::QuietGdalErrors quiet;
  GeosContext ctx;
  GEOSContextHandle_t h = ctx.get();
  // pieces[k]: the polygons of label k, owned here until handed to a collection.
  std::vector<std::vector<GEOSGeometry*>> pieces(n_out);
  struct PieceGuard {
    GEOSContextHandle_t h;
    std::vector<std::vector<GEOSGeometry*>>& p;
    ~PieceGuard() {
      for (auto& v : p)
        for (GEOSGeometry* g : v) GEOSGeom_destroy_r(h, g);
    }
  } guard{h, pieces};
  {
    GDALDriverH mem = GDALGetDriverByName("MEM");
    GDALDriverH mem_vec = GDALGetDriverByName("Memory");
    if (mem == nullptr || mem_vec == nullptr) throw Error("label_polygons: GDAL's MEM/Memory drivers are missing");
    Dataset raster(GDALCreate(mem, "", static_cast<int>(grid.width), static_cast<int>(grid.height), 1, GDT_Int32,
                              nullptr));
    if (!raster) detail::throw_gdal_io(kWhat, "cannot create the in-memory label raster");
    double gt_copy[6] = {gt[0], gt[1], gt[2], gt[3], gt[4], gt[5]};
    GDALSetGeoTransform(raster.get(), gt_copy);
    GDALRasterBandH band = GDALGetRasterBand(raster.get(), 1);
    if (GDALRasterIO(band, GF_Write, 0, 0, static_cast<int>(grid.width), static_cast<int>(grid.height),
                     shifted.data(), static_cast<int>(grid.width), static_cast<int>(grid.height), GDT_Int32, 0,
                     0) != CE_None) {
      detail::throw_gdal_io(kWhat, "cannot fill the in-memory label raster");
    }
    std::vector<std::int32_t>().swap(shifted);  // GDAL holds its own copy now
    Dataset vec(GDALCreate(mem_vec, "", 0, 0, 0, GDT_Unknown, nullptr));
    if (!vec) detail::throw_gdal_io(kWhat, "cannot create the in-memory polygon layer");
    OGRLayerH layer = GDALDatasetCreateLayer(vec.get(), "labels", nullptr, wkbPolygon, nullptr);
    if (layer == nullptr) detail::throw_gdal_io(kWhat, "cannot create the in-memory polygon layer");
    OGRFieldDefnH fld = OGR_Fld_Create("label", OFTInteger);
    const OGRErr ferr = OGR_L_CreateField(layer, fld, TRUE);
    OGR_Fld_Destroy(fld);
    if (ferr != OGRERR_NONE) detail::throw_gdal_io(kWhat, "cannot add the label field");
    char** popts = nullptr;
    if (options.eight_connected) popts = CSLSetNameValue(popts, "8CONNECTED", "8");
    // The raster is its own mask: value 0 (negative label, no polygon) is not polygonized.
    CPLErr perr;
    {
      // Progress: polygonizing is most of the work; the GEOS steps below share the last 30 %.
      ProgressSpan polygonize(control, 0.0, 0.7);
      perr = GDALPolygonize(band, band, layer, 0, popts, control ? detail::gdal_progress : nullptr, control);
    }
    CSLDestroy(popts);
    throw_if_cancelled(control);  // a cancelled GDALPolygonize also returns CE_Failure
    if (perr != CE_None) detail::throw_gdal_io(kWhat, "GDALPolygonize failed");

    GEOSWKBReader* reader = GEOSWKBReader_create_r(h);
    std::vector<unsigned char> buf;
    OGR_L_ResetReading(layer);
    std::uint64_t n_read = 0;
    for (OGRFeatureH f; (f = OGR_L_GetNextFeature(layer)) != nullptr;) {
      if (control && ++n_read % 4096 == 0 && control->cancel_requested()) {
        OGR_F_Destroy(f);
        GEOSWKBReader_destroy_r(h, reader);
        throw Cancelled();
      }
      const std::int64_t k = static_cast<std::int64_t>(OGR_F_GetFieldAsInteger(f, 0)) - 1;  // undo the shift
      OGRGeometryH g = OGR_F_GetGeometryRef(f);
      if (g != nullptr && k >= 0 && k < n_labels) {
        buf.resize(static_cast<std::size_t>(OGR_G_WkbSize(g)));
        OGR_G_ExportToWkb(g, wkbNDR, buf.data());
        GEOSGeometry* gg = GEOSWKBReader_read_r(h, reader, buf.data(), buf.size());
        if (gg == nullptr) {
          OGR_F_Destroy(f);
          GEOSWKBReader_destroy_r(h, reader);
          fail(ctx, "WKB reading of a polygonized cell outline");
        }
        // 8-connected outlines can touch themselves at a corner (invalid ring): repair those pieces only.
        Geom valid = make_valid(ctx, Geom(h, gg));
        pieces[static_cast<std::size_t>(k)].push_back(valid.release());
      }
      OGR_F_Destroy(f);
    }
    GEOSWKBReader_destroy_r(h, reader);
  }

  // 3. Per label: the pieces as one MultiPolygon; checked, and only if GEOS finds it invalid (not expected, see
  // above) dissolved with a union and repaired. Then optional simplification.
  const double cell = std::min(std::hypot(gt[1], gt[4]), std::hypot(gt[2], gt[5]));
  std::vector<LabelPolygon> out(n_out);
  for (std::size_t k = 0; k < n_out; ++k) {
    if (control) {
      control->throw_if_cancelled();
      control->report(0.7 + 0.3 * static_cast<double>(k) / static_cast<double>(n_out));
    }
    LabelPolygon& b = out[k];
    b.cells = cells[k];
    auto& v = pieces[k];
    Geom coll(h, GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, v.empty() ? nullptr : v.data(),
                                             static_cast<unsigned>(v.size())));
    if (!coll) fail(ctx, "createCollection");
    v.clear();  // now owned by coll
    Geom g = as_multipolygon(ctx, coll);
    if (GEOSisValid_r(h, g.get()) != 1) {
      Geom u(h, GEOSUnaryUnion_r(h, g.get()));
      if (!u) fail(ctx, "UnaryUnion (dissolve of label " + std::to_string(k) + ")");
      g = as_multipolygon(ctx, make_valid(ctx, std::move(u)));
    }
    if (options.simplify) {
      Geom s2(h, GEOSTopologyPreserveSimplify_r(h, g.get(), 0.5 * cell));
      if (!s2) fail(ctx, "TopologyPreserveSimplify");
      g = as_multipolygon(ctx, make_valid(ctx, std::move(s2)));
      if (GEOSisValid_r(h, g.get()) != 1) g = as_multipolygon(ctx, make_valid(ctx, std::move(g)));
    }
    double area = 0.0;
    if (GEOSArea_r(h, g.get(), &area) != 1) fail(ctx, "Area");
    b.area = area;
    b.wkb = to_wkb(ctx, g);
  }
  return out;
}

std::vector<IsochroneBand> isochrone_polygons(const float* seconds, const GridSpec& grid,
                                              const std::vector<double>& thresholds_min,
                                              const IsochroneOptions& options, RunControl* control) {
  ProgressSpan span(control, 0.0, 1.0, "isochrones");
  if (seconds == nullptr) throw InputError("isochrone_polygons: seconds is missing");
  check_grid(grid, "isochrone_polygons");
  if (thresholds_min.empty() || thresholds_min.size() > 254) {
    throw InputError("isochrone_polygons: give 1..254 thresholds (minutes); got " +
                     std::to_string(thresholds_min.size()));
  }
  for (std::size_t k = 0; k < thresholds_min.size(); ++k) {
    const double t = thresholds_min[k];
    if (!(t > 0.0) || !std::isfinite(t) || (k > 0 && !(t > thresholds_min[k - 1]))) {
      throw InputError("isochrone_polygons: thresholds_min must be positive, finite and strictly increasing; "
                       "threshold " + std::to_string(k) + " is " + std::to_string(t));
    }
  }
  const std::size_t n_bands = thresholds_min.size();
  std::vector<double> limit_s(n_bands);
  for (std::size_t k = 0; k < n_bands; ++k) limit_s[k] = thresholds_min[k] * 60.0;

  // 1. Classify: ring label 0..n-1 (-1 = no band). Thresholds are few, so a linear scan per cell is fine.
  const std::int64_t n_cells = grid.size();
  std::vector<std::int32_t> ring(static_cast<std::size_t>(n_cells), -1);
  std::vector<std::int64_t> ring_cells(n_bands, 0);
  for (std::int64_t i = 0; i < n_cells; ++i) {
    const double t = seconds[i];
    if (t < 0.0) {
      throw InputError("isochrone_polygons: cell " + std::to_string(i) + " (row " + std::to_string(i / grid.width) +
                       ", col " + std::to_string(i % grid.width) + ") has a negative time (" + std::to_string(t) +
                       " s)");
    }
    if (!(t <= limit_s[n_bands - 1])) continue;  // +inf, NaN, or beyond the last threshold
    std::size_t k = 0;
    while (t > limit_s[k]) ++k;
    ring[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(k);
    ++ring_cells[k];
  }

  // 2. Polygons. Rings: the ring labels directly. Cumulative bands overlap, so each is the single label 0 of its
  // own mask "ring <= k" (the GDAL pass is cheap); a band with no cells of its own repeats the previous band.
  const LabelPolygonOptions lo{options.eight_connected, options.simplify};
  std::vector<LabelPolygon> polys;
  if (options.bands == IsochroneBands::Rings) {
    polys = label_polygons(ring.data(), grid, static_cast<std::int32_t>(n_bands), lo, control);
  } else {
    std::vector<std::int32_t> mask(ring.size());
    for (std::size_t k = 0; k < n_bands; ++k) {
      if (ring_cells[k] == 0 && k > 0) {
        polys.push_back(polys.back());
        continue;
      }
      const std::int32_t kk = static_cast<std::int32_t>(k);
      for (std::size_t i = 0; i < ring.size(); ++i) mask[i] = (ring[i] >= 0 && ring[i] <= kk) ? 0 : -1;
      ProgressSpan band(control, static_cast<double>(k) / n_bands, static_cast<double>(k + 1) / n_bands);
      polys.push_back(std::move(label_polygons(mask.data(), grid, 1, lo, control).front()));
    }
  }

  std::vector<IsochroneBand> out(n_bands);
  for (std::size_t k = 0; k < n_bands; ++k) {
    IsochroneBand& b = out[k];
    b.to_minutes = thresholds_min[k];
    b.from_minutes = (options.bands == IsochroneBands::Rings && k > 0) ? thresholds_min[k - 1] : 0.0;
    b.cells = polys[k].cells;
    b.area = polys[k].area;
    b.wkb = std::move(polys[k].wkb);
  }
  return out;
}

}  // namespace careshed
