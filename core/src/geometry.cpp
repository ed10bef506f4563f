// geometry.cpp — GEOS (re-entrant C API only) point-in-polygon, validity, area.
//
// GEOS rules that shape this file:
//  * Every call goes through a GEOSContextHandle_t owned by a GeosContext (RAII); a context must not be used
//    by two threads at once, so each OpenMP thread makes its own.
//  * A prepared geometry builds its point-in-area index lazily on first use, which is NOT thread-safe:
//    every thread parses and prepares its own copy of the zones (only those its points actually touch).
#define GEOS_USE_ONLY_R_API
#include "careshed/geometry.hpp"

#include <geos_c.h>

#include <algorithm>
#include <optional>
#include <atomic>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>

#include "careshed/error.hpp"
#include "geos_util.hpp"
#include "parallel_errors.hpp"

#ifdef CARESHED_HAVE_OPENMP
#include <omp.h>
#endif

namespace careshed {
namespace {

using detail::GeosContext;
using detail::Geom;
using Prepared = detail::PreparedGeom;

Geom parse_wkb(GeosContext& ctx, const Wkb& w) {
  if (w.empty()) return Geom();
  GEOSWKBReader* reader = GEOSWKBReader_create_r(ctx.get());
  GEOSGeometry* g = GEOSWKBReader_read_r(ctx.get(), reader, w.data(), w.size());
  GEOSWKBReader_destroy_r(ctx.get(), reader);
  return Geom(ctx.get(), g);
}

bool is_polygonal(GeosContext& ctx, const Geom& g) {
  int t = GEOSGeomTypeId_r(ctx.get(), g.get());
  return t == GEOS_POLYGON || t == GEOS_MULTIPOLYGON;
}

/// Why a zone cannot be used, or "" when it is a valid, non-empty (Multi)Polygon.
std::string polygon_problem(GeosContext& ctx, const Wkb& w) {
  if (w.empty()) return "no geometry (null)";
  Geom g = parse_wkb(ctx, w);
  if (!g) return "cannot parse its WKB (" + ctx.take_error() + ")";
  if (!is_polygonal(ctx, g)) {
    char* type = GEOSGeomType_r(ctx.get(), g.get());
    std::string s = std::string("is a ") + (type ? type : "?") + ", not a Polygon or MultiPolygon";
    GEOSFree_r(ctx.get(), type);
    return s;
  }
  if (GEOSisEmpty_r(ctx.get(), g.get()) == 1) return "is an empty polygon";
  if (GEOSisValid_r(ctx.get(), g.get()) == 1) return "";
  char* reason = GEOSisValidReason_r(ctx.get(), g.get());
  std::string s = reason ? reason : "invalid";
  GEOSFree_r(ctx.get(), reason);
  return s;
}

struct Box {
  double minx, miny, maxx, maxy;
};

/// Uniform grid over the zones' bounding boxes; each cell lists (ascending) the zones whose box touches it.
/// Ascending lists make "first covering zone" = "lowest covering index", the tie rule of DESIGN.md.
class ZoneGrid {
 public:
  explicit ZoneGrid(const std::vector<Box>& boxes) : boxes_(boxes) {
    const std::size_t n = boxes.size();
    ext_ = {std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity(),
            -std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
    for (const auto& b : boxes) {
      ext_.minx = std::min(ext_.minx, b.minx);
      ext_.miny = std::min(ext_.miny, b.miny);
      ext_.maxx = std::max(ext_.maxx, b.maxx);
      ext_.maxy = std::max(ext_.maxy, b.maxy);
    }
    // ~4 cells per zone: small candidate lists without a huge table.
    side_ = std::max<std::size_t>(1, std::min<std::size_t>(1024, static_cast<std::size_t>(
                                                                      std::ceil(2.0 * std::sqrt(double(n))))));
    cw_ = (ext_.maxx - ext_.minx) / double(side_);
    ch_ = (ext_.maxy - ext_.miny) / double(side_);
    cells_.resize(side_ * side_);
    for (std::size_t z = 0; z < n; ++z) {
      const Box& b = boxes[z];
      std::size_t c0 = col(b.minx), c1 = col(b.maxx), r0 = row(b.miny), r1 = row(b.maxy);
      for (std::size_t r = r0; r <= r1; ++r) {
        for (std::size_t c = c0; c <= c1; ++c) cells_[r * side_ + c].push_back(static_cast<int32_t>(z));
      }
    }
  }

  /// Candidate zones for (x, y), ascending; nullptr when outside every box's extent.
  const std::vector<int32_t>* candidates(double x, double y) const {
    if (!(x >= ext_.minx && x <= ext_.maxx && y >= ext_.miny && y <= ext_.maxy)) return nullptr;
    return &cells_[row(y) * side_ + col(x)];
  }
  const Box& box(int32_t z) const { return boxes_[static_cast<std::size_t>(z)]; }

 private:
  std::size_t col(double x) const {
    if (!(cw_ > 0)) return 0;
    double c = std::floor((x - ext_.minx) / cw_);
    return static_cast<std::size_t>(std::clamp(c, 0.0, double(side_ - 1)));
  }
  std::size_t row(double y) const {
    if (!(ch_ > 0)) return 0;
    double r = std::floor((y - ext_.miny) / ch_);
    return static_cast<std::size_t>(std::clamp(r, 0.0, double(side_ - 1)));
  }
  std::vector<Box> boxes_;
  Box ext_{};
  std::size_t side_ = 1;
  double cw_ = 0, ch_ = 0;
  std::vector<std::vector<int32_t>> cells_;
};

/// One thread's zones: parsed and prepared on first use.
class ThreadZones {
 public:
  explicit ThreadZones(const std::vector<Wkb>& wkb) : wkb_(wkb), geoms_(wkb.size()), prepared_(wkb.size()) {}
  const GEOSPreparedGeometry* get(int32_t z) {
    auto i = static_cast<std::size_t>(z);
    if (prepared_[i].get() == nullptr) {
      geoms_[i] = parse_wkb(ctx_, wkb_[i]);
      prepared_[i] = Prepared(ctx_.get(), GEOSPrepare_r(ctx_.get(), geoms_[i].get()));
    }
    return prepared_[i].get();
  }
  GeosContext& ctx() { return ctx_; }

 private:
  GeosContext ctx_;  // declared first: destroyed last, after the geometries that belong to it
  const std::vector<Wkb>& wkb_;
  std::vector<Geom> geoms_;
  std::vector<Prepared> prepared_;
};

}  // namespace

std::vector<int32_t> assign_points_to_zones(const std::vector<Wkb>& zones, const double* x, const double* y,
                                            std::size_t n) {
  if (zones.size() > static_cast<std::size_t>(std::numeric_limits<int32_t>::max())) {
    throw InputError("assign_points_to_zones: too many zones");
  }
  // Validate once, up front, and collect bounding boxes.
  std::vector<Box> boxes(zones.size());
  {
    GeosContext ctx;
    for (std::size_t z = 0; z < zones.size(); ++z) {
      std::string problem = polygon_problem(ctx, zones[z]);
      if (!problem.empty()) {
        throw InputError("zone " + std::to_string(z) + ": " + problem +
                         "; repair the zone polygons first (PostGIS ST_MakeValid, QGIS \"Fix geometries\", "
                         "shapely make_valid)");
      }
      Geom g = parse_wkb(ctx, zones[z]);
      GEOSGeom_getXMin_r(ctx.get(), g.get(), &boxes[z].minx);
      GEOSGeom_getYMin_r(ctx.get(), g.get(), &boxes[z].miny);
      GEOSGeom_getXMax_r(ctx.get(), g.get(), &boxes[z].maxx);
      GEOSGeom_getYMax_r(ctx.get(), g.get(), &boxes[z].maxy);
    }
  }
  std::vector<int32_t> result(n, -1);
  if (zones.empty() || n == 0) return result;
  const ZoneGrid grid(boxes);
  std::atomic<bool> failed{false};
  std::string failure;
  detail::FirstException errors;

#ifdef CARESHED_HAVE_OPENMP
  // Threads pay off only when there is enough work to amortise re-preparing the zones per thread.
  const bool parallel = n >= 20000 && omp_get_max_threads() > 1;
#pragma omp parallel if (parallel)
#endif
  {
    // Exceptions (std::bad_alloc, a zone's WKB that does not parse) may not leave the parallel region: the first
    // is kept and rethrown after it, and the other threads skip their remaining points.
    std::optional<ThreadZones> tz;
    errors.run([&] { tz.emplace(zones); });
#ifdef CARESHED_HAVE_OPENMP
#pragma omp for schedule(dynamic, 2048)
#endif
    for (std::ptrdiff_t ip = 0; ip < static_cast<std::ptrdiff_t>(n); ++ip) {
      if (failed.load(std::memory_order_relaxed) || errors.failed()) continue;
      errors.run([&] {
        GEOSContextHandle_t h = tz->ctx().get();
        const auto i = static_cast<std::size_t>(ip);
        const double px = x[i], py = y[i];
        const std::vector<int32_t>* cand = grid.candidates(px, py);  // NaN → nullptr
        if (cand == nullptr || cand->empty()) return;
        GEOSGeometry* pt = nullptr;
        for (int32_t z : *cand) {
          const Box& b = grid.box(z);
          if (px < b.minx || px > b.maxx || py < b.miny || py > b.maxy) continue;
          if (pt == nullptr) pt = GEOSGeom_createPointFromXY_r(h, px, py);
          char r = GEOSPreparedCovers_r(h, tz->get(z), pt);
          if (r == 1) {
            result[i] = z;
            break;
          }
          if (r == 2) {
#ifdef CARESHED_HAVE_OPENMP
#pragma omp critical(careshed_pip_failure)
#endif
            {
              if (!failed.exchange(true)) failure = "zone " + std::to_string(z) + ": " + tz->ctx().take_error();
            }
            break;
          }
        }
        if (pt) GEOSGeom_destroy_r(h, pt);
      });
    }
  }
  errors.rethrow_if_failed();
  if (failed) throw Error("GEOS failed in a point-in-polygon test, " + failure);
  return result;
}

std::vector<int32_t> assign_points_to_zones(const std::vector<Wkb>& zones, const std::vector<double>& x,
                                            const std::vector<double>& y) {
  if (x.size() != y.size()) {
    throw InputError("assign_points_to_zones: x has " + std::to_string(x.size()) + " values but y has " +
                     std::to_string(y.size()));
  }
  return assign_points_to_zones(zones, x.data(), y.data(), x.size());
}

std::vector<std::pair<std::size_t, std::string>> check_polygons(const std::vector<Wkb>& zones) {
  GeosContext ctx;
  std::vector<std::pair<std::size_t, std::string>> out;
  for (std::size_t z = 0; z < zones.size(); ++z) {
    std::string problem = polygon_problem(ctx, zones[z]);
    if (!problem.empty()) out.emplace_back(z, std::move(problem));
  }
  return out;
}

std::vector<double> geometry_areas(const std::vector<Wkb>& geometries) {
  GeosContext ctx;
  std::vector<double> out(geometries.size(), 0.0);
  for (std::size_t i = 0; i < geometries.size(); ++i) {
    if (geometries[i].empty()) continue;
    Geom g = parse_wkb(ctx, geometries[i]);
    if (!g) throw InputError("geometry " + std::to_string(i) + ": cannot parse its WKB (" + ctx.take_error() + ")");
    if (GEOSArea_r(ctx.get(), g.get(), &out[i]) != 1) {
      throw Error("geometry " + std::to_string(i) + ": GEOS cannot compute its area (" + ctx.take_error() + ")");
    }
  }
  return out;
}

Wkb point_wkb(double x, double y) {
  Wkb out(21, 0);
  out[0] = 1;  // little-endian (NDR)
  out[1] = 1;  // geometry type 1 = Point, as a little-endian uint32
  auto put = [&out](std::size_t at, double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    for (int b = 0; b < 8; ++b) out[at + b] = static_cast<uint8_t>(bits >> (8 * b));
  };
  put(5, x);
  put(13, y);
  return out;
}

std::vector<std::pair<double, double>> interior_points(const std::vector<Wkb>& geometries) {
  GeosContext ctx;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<std::pair<double, double>> out(geometries.size(), {nan, nan});
  for (std::size_t i = 0; i < geometries.size(); ++i) {
    if (geometries[i].empty()) continue;
    Geom g = parse_wkb(ctx, geometries[i]);
    if (!g) throw InputError("geometry " + std::to_string(i) + ": cannot parse its WKB (" + ctx.take_error() + ")");
    if (GEOSisEmpty_r(ctx.get(), g.get()) == 1) continue;
    Geom p(ctx.get(), GEOSPointOnSurface_r(ctx.get(), g.get()));
    if (!p) throw Error("geometry " + std::to_string(i) + ": GEOS PointOnSurface failed (" + ctx.take_error() + ")");
    GEOSGeomGetX_r(ctx.get(), p.get(), &out[i].first);
    GEOSGeomGetY_r(ctx.get(), p.get(), &out[i].second);
  }
  return out;
}

}  // namespace careshed
