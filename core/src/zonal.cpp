// zonal.cpp — zones onto grids (cell-centre scanline, exact area fractions) and zonal sums.
//
// Everything geometric happens in CELL coordinates: u = (x - gt0) / gt1, v = (y - gt3) / gt5, so cell
// (row, col) is the unit square [col, col+1] × [row, row+1], its centre (col + .5, row + .5) and its area 1.
// The map is affine, so point-in-polygon and area ratios are unchanged; only rounding moves, by ~1e-12 cell,
// far below the 1e-7-cell band inside which centre decisions are handed back to GEOS in the zones' own
// coordinates (see rasterize_zones).
#define GEOS_USE_ONLY_R_API
#include "careshed/zonal.hpp"

#include <geos_c.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <new>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "careshed/error.hpp"
#include "careshed/progress.hpp"
#include "geos_util.hpp"
#include "careshed/geometry.hpp"
#include "parallel_errors.hpp"

#ifdef CARESHED_HAVE_OPENMP
#include <omp.h>
#endif

namespace careshed {
namespace {

// ---- GEOS plumbing (RAII from geos_util.hpp) ----------------------------------------------------------

using Ctx = detail::GeosContext;
using detail::Geom;

struct Affine {
  double x0, dx, y0, dy;
};

int to_cell_coords(double* x, double* y, void* userdata) {
  const auto* a = static_cast<const Affine*>(userdata);
  *x = (*x - a->x0) / a->dx;
  *y = (*y - a->y0) / a->dy;
  return 1;
}

/// Zone `z` parsed and mapped to cell coordinates, in context `ctx`.
Geom cell_space_zone(Ctx& ctx, const Wkb& wkb, const Affine& affine, std::size_t z) {
  GEOSWKBReader* reader = GEOSWKBReader_create_r(ctx.get());
  GEOSGeometry* g = GEOSWKBReader_read_r(ctx.get(), reader, wkb.data(), wkb.size());
  GEOSWKBReader_destroy_r(ctx.get(), reader);
  if (g == nullptr) throw InputError("zone " + std::to_string(z) + ": cannot parse its WKB (" + ctx.take_error() + ")");
  Geom parsed(ctx.get(), g);
  Affine a = affine;
  GEOSGeometry* t = GEOSGeom_transformXY_r(ctx.get(), parsed.get(), &to_cell_coords, &a);
  if (t == nullptr) throw Error("zone " + std::to_string(z) + ": GEOS cannot transform it (" + ctx.take_error() + ")");
  return Geom(ctx.get(), t);
}

/// Appends every ring (exterior and holes, all parts) of a (Multi)Polygon as (u, v) coordinate lists.
void collect_rings(Ctx& ctx, const GEOSGeometry* g, std::vector<std::vector<double>>& rings,
                   std::vector<char>* is_hole = nullptr) {
  auto add_ring = [&](const GEOSGeometry* ring, bool hole) {
    const GEOSCoordSequence* seq = GEOSGeom_getCoordSeq_r(ctx.get(), ring);
    unsigned int n = 0;
    if (seq == nullptr || GEOSCoordSeq_getSize_r(ctx.get(), seq, &n) == 0 || n < 2) return;
    std::vector<double> buf(2 * static_cast<std::size_t>(n));
    if (GEOSCoordSeq_copyToBuffer_r(ctx.get(), seq, buf.data(), 0, 0) == 0) {
      throw Error("GEOS cannot read ring coordinates (" + ctx.take_error() + ")");
    }
    rings.push_back(std::move(buf));
    if (is_hole) is_hole->push_back(hole ? 1 : 0);
  };
  const int parts = GEOSGetNumGeometries_r(ctx.get(), g);
  for (int p = 0; p < parts; ++p) {
    const GEOSGeometry* poly = GEOSGetGeometryN_r(ctx.get(), g, p);
    if (poly == nullptr || GEOSisEmpty_r(ctx.get(), poly) == 1) continue;
    add_ring(GEOSGetExteriorRing_r(ctx.get(), poly), false);
    const int holes = GEOSGetNumInteriorRings_r(ctx.get(), poly);
    for (int h = 0; h < holes; ++h) add_ring(GEOSGetInteriorRingN_r(ctx.get(), poly, h), true);
  }
}

// Centres closer than this (in cells) to a zone edge are decided by GEOS in the original coordinates.
constexpr double kEdgeBand = 1e-7;

/// Scanline crossings and near-edge centres of one zone (rings in cell coordinates).
struct Scan {
  std::vector<std::pair<std::int64_t, double>> crossings;  // (row, u) where an edge crosses the row centre line
  std::vector<std::int64_t> near_edge;                      // cells whose centre is within kEdgeBand of an edge
};

void scan_zone(const std::vector<std::vector<double>>& rings, std::int64_t rows, std::int64_t cols, Scan& out) {
  for (const auto& ring : rings) {
    const std::size_t n = ring.size() / 2;
    for (std::size_t i = 0; i + 1 < n; ++i) {
      const double u1 = ring[2 * i], v1 = ring[2 * i + 1], u2 = ring[2 * i + 2], v2 = ring[2 * i + 3];
      const double vmin = std::min(v1, v2), vmax = std::max(v1, v2);
      const std::int64_t r_lo = std::max<std::int64_t>(0, static_cast<std::int64_t>(std::ceil(vmin - kEdgeBand - 0.5)));
      const std::int64_t r_hi =
          std::min<std::int64_t>(rows - 1, static_cast<std::int64_t>(std::floor(vmax + kEdgeBand - 0.5)));
      const double dv = v2 - v1;
      for (std::int64_t r = r_lo; r <= r_hi; ++r) {
        const double vc = static_cast<double>(r) + 0.5;
        // Even–odd crossing with the half-open rule: exactly one endpoint at or below the centre line.
        if ((v1 <= vc) != (v2 <= vc)) out.crossings.emplace_back(r, u1 + (vc - v1) * (u2 - u1) / dv);
        // Centres within the band of this edge: the edge's u-extent inside the band [vc-ε, vc+ε].
        double lo, hi;
        if (dv == 0.0) {
          lo = std::min(u1, u2);
          hi = std::max(u1, u2);
        } else {
          const double va = std::clamp(vc - kEdgeBand, vmin, vmax), vb = std::clamp(vc + kEdgeBand, vmin, vmax);
          const double ua = u1 + (va - v1) * (u2 - u1) / dv, ub = u1 + (vb - v1) * (u2 - u1) / dv;
          lo = std::min(ua, ub);
          hi = std::max(ua, ub);
        }
        lo -= kEdgeBand;
        hi += kEdgeBand;
        const std::int64_t c_lo = std::max<std::int64_t>(0, static_cast<std::int64_t>(std::ceil(lo - 0.5)));
        const std::int64_t c_hi = std::min<std::int64_t>(cols - 1, static_cast<std::int64_t>(std::floor(hi - 0.5)));
        for (std::int64_t c = c_lo; c <= c_hi; ++c) out.near_edge.push_back(r * cols + c);
      }
    }
  }
  std::sort(out.crossings.begin(), out.crossings.end());
}

/// Writes `z` into every cell whose centre is strictly between a pair of crossings (even–odd fill).
void fill_zone(const Scan& scan, std::int64_t cols, std::int32_t z, std::int32_t* zone) {
  const auto& cr = scan.crossings;
  std::size_t i = 0;
  while (i < cr.size()) {
    std::size_t j = i;
    while (j < cr.size() && cr[j].first == cr[i].first) ++j;
    const std::int64_t row = cr[i].first;
    for (std::size_t k = i; k + 1 < j; k += 2) {
      const double a = cr[k].second, b = cr[k + 1].second;
      // centre u = c + 0.5 with a < u < b
      const std::int64_t c_lo = std::max<std::int64_t>(0, static_cast<std::int64_t>(std::floor(a - 0.5)) + 1);
      const std::int64_t c_hi = std::min<std::int64_t>(cols - 1, static_cast<std::int64_t>(std::ceil(b - 0.5)) - 1);
      std::int32_t* out = zone + row * cols;
      for (std::int64_t c = c_lo; c <= c_hi; ++c) out[c] = z;
    }
    i = j;
  }
}

/// Area fractions of the cells a zone's boundary cuts, by recursive halving of blocks of cells.
///
/// Clipping is Sutherland–Hodgman of every ring against the block rectangle: clipping a ring by a convex
/// window yields a (possibly degenerate) ring whose winding number equals the original's inside the window,
/// so its signed area is exactly the area of ring ∩ window; exterior rings count +, holes −. This is exact
/// up to rounding (~1e-13 cell) and several times faster than GEOSIntersection_r per cell; GEOSClipByRect_r
/// was not usable: GEOS 3.11 returns the complement of the answer for some rings with vertices on the
/// rectangle's edges. The Python tests check every cell against shapely's (GEOS) intersection areas.
class FractionWalker {
 public:
  using Ring = std::vector<double>;  // u0, v0, u1, v1, ... (open: the last vertex is not repeated)

  FractionWalker(std::int64_t cols, std::int32_t z, std::vector<ZoneRaster::Split>& out)
      : cols_(cols), z_(z), out_(out) {}

  /// rings: closed coordinate lists as collect_rings gives them (first vertex repeated at the end).
  void run(const std::vector<std::vector<double>>& closed_rings, std::int64_t c0, std::int64_t c1, std::int64_t r0,
           std::int64_t r1) {
    std::vector<Ring> rings;
    std::vector<double> weights;
    // Exterior rings come first in each polygon part, then its holes; a hole's sign is opposite to the
    // exterior's whatever the file's orientation, so normalise: exterior +1, holes -1 in absolute terms.
    for (std::size_t i = 0; i < closed_rings.size(); ++i) {
      Ring r(closed_rings[i].begin(), closed_rings[i].end() - 2);
      if (r.size() < 6) continue;
      const double a = signed_area(r);
      if (a == 0.0) continue;
      rings.push_back(std::move(r));
      weights.push_back((a > 0 ? 1.0 : -1.0) * (is_hole_[i] ? -1.0 : 1.0));
    }
    walk(rings, weights, c0, c1, r0, r1);
  }

  std::vector<char> is_hole_;  // per closed ring: true for holes (set by the caller)

 private:
  static double signed_area(const Ring& r) {
    const std::size_t n = r.size() / 2;
    if (n < 3) return 0.0;
    // shoelace relative to the first vertex (keeps the products small)
    const double u0 = r[0], v0 = r[1];
    double s = 0.0;
    for (std::size_t i = 1; i + 1 < n; ++i) {
      s += (r[2 * i] - u0) * (r[2 * i + 3] - v0) - (r[2 * i + 2] - u0) * (r[2 * i + 1] - v0);
    }
    return 0.5 * s;
  }

  /// Keeps the part of `in` with coord[axis] >= bound (keep_above) or <= bound.
  static void clip(const Ring& in, Ring& out, int axis, double bound, bool keep_above) {
    out.clear();
    const std::size_t n = in.size() / 2;
    if (n == 0) return;
    auto inside = [&](std::size_t i) {
      const double c = in[2 * i + static_cast<std::size_t>(axis)];
      return keep_above ? c >= bound : c <= bound;
    };
    std::size_t prev = n - 1;
    bool prev_in = inside(prev);
    for (std::size_t i = 0; i < n; ++i) {
      const bool cur_in = inside(i);
      if (cur_in != prev_in) {
        const double pa = in[2 * prev + static_cast<std::size_t>(axis)], ca = in[2 * i + static_cast<std::size_t>(axis)];
        const double t = (bound - pa) / (ca - pa);
        const int other = 1 - axis;
        const double po = in[2 * prev + static_cast<std::size_t>(other)], co = in[2 * i + static_cast<std::size_t>(other)];
        double pt[2];
        pt[axis] = bound;
        pt[other] = po + t * (co - po);
        out.push_back(pt[0]);
        out.push_back(pt[1]);
      }
      if (cur_in) {
        out.push_back(in[2 * i]);
        out.push_back(in[2 * i + 1]);
      }
      prev = i;
      prev_in = cur_in;
    }
  }

  void walk(const std::vector<Ring>& rings, const std::vector<double>& weights, std::int64_t c0, std::int64_t c1,
            std::int64_t r0, std::int64_t r1) {
    std::vector<Ring> clipped;
    std::vector<double> w;
    clipped.reserve(rings.size());
    double area = 0.0;
    Ring a, b;
    for (std::size_t i = 0; i < rings.size(); ++i) {
      clip(rings[i], a, 0, double(c0), true);
      clip(a, b, 0, double(c1), false);
      clip(b, a, 1, double(r0), true);
      clip(a, b, 1, double(r1), false);
      if (b.size() < 6) continue;
      const double ra = signed_area(b);
      if (ra == 0.0) continue;
      area += weights[i] * ra;
      clipped.push_back(b);
      w.push_back(weights[i]);
    }
    const double block = double(c1 - c0) * double(r1 - r0);
    if (area <= block * 1e-12) return;          // touches the block only along edges / in slivers of ~0
    if (area >= block * (1.0 - 1e-10)) return;  // fully covered: the centre rule already gives this zone
    if (c1 - c0 == 1 && r1 - r0 == 1) {
      out_.push_back({r0 * cols_ + c0, z_, std::min(1.0, area)});
      return;
    }
    if (c1 - c0 >= r1 - r0) {
      const std::int64_t cm = c0 + (c1 - c0) / 2;
      walk(clipped, w, c0, cm, r0, r1);
      walk(clipped, w, cm, c1, r0, r1);
    } else {
      const std::int64_t rm = r0 + (r1 - r0) / 2;
      walk(clipped, w, c0, c1, r0, rm);
      walk(clipped, w, c0, c1, rm, r1);
    }
  }

  std::int64_t cols_;
  std::int32_t z_;
  std::vector<ZoneRaster::Split>& out_;
};

void check_grid(const GridSpec& grid, const char* what) {
  if (grid.width <= 0 || grid.height <= 0) {
    throw InputError(std::string(what) + ": the grid is empty (" + std::to_string(grid.width) + " x " +
                     std::to_string(grid.height) + " cells)");
  }
  if (!grid.north_up()) {
    throw InputError(std::string(what) + ": the grid is rotated (geotransform terms 2 and 4 must be 0); "
                     "warp to a north-up grid first (careshed.make_grid)");
  }
  const auto& gt = grid.geotransform;
  if (!(std::isfinite(gt[0]) && std::isfinite(gt[3]) && std::isfinite(gt[1]) && std::isfinite(gt[5]) && gt[1] != 0.0 &&
        gt[5] != 0.0)) {
    throw InputError(std::string(what) + ": the grid's geotransform has a zero or non-finite cell size or origin");
  }
}

}  // namespace

ZoneRaster::Rule zone_rule_from_string(const std::string& name) {
  std::string s;
  for (char ch : name) s.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
  if (s == "centre" || s == "center" || s == "cell_centre" || s == "cell_center" || s == "cellcentre") {
    return ZoneRaster::Rule::CellCentre;
  }
  if (s == "fraction" || s == "area_fraction" || s == "areafraction" || s == "area") {
    return ZoneRaster::Rule::AreaFraction;
  }
  throw InputError("zone rule '" + name + "': expected \"centre\" (cell centre in polygon) or \"fraction\" "
                   "(exact area fraction)");
}

const char* zone_rule_name(ZoneRaster::Rule rule) {
  return rule == ZoneRaster::Rule::CellCentre ? "centre" : "fraction";
}

ZoneRaster rasterize_zones(const std::vector<Wkb>& zone_wkb, const GridSpec& grid, ZoneRaster::Rule rule,
                           RunControl* control) {
  ProgressSpan span(control, 0.0, 1.0, "zones");
  check_grid(grid, "rasterize_zones");
  if (zone_wkb.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
    throw InputError("rasterize_zones: too many zones (at most 2^31-1)");
  }
  for (const auto& [index, reason] : check_polygons(zone_wkb)) {
    throw InputError("rasterize_zones: zone " + std::to_string(index) + " " + reason +
                     "; repair the zone polygons first (PostGIS ST_MakeValid, QGIS \"Fix geometries\", shapely "
                     "make_valid)");
  }
  const std::int64_t rows = grid.height, cols = grid.width;
  const auto n_zones = static_cast<std::int32_t>(zone_wkb.size());
  const Affine affine{grid.geotransform[0], grid.geotransform[1], grid.geotransform[3], grid.geotransform[5]};

  ZoneRaster out;
  out.rows = rows;
  out.cols = cols;
  out.n_zones = n_zones;
  out.rule = rule;
  out.zone.assign(static_cast<std::size_t>(rows * cols), kNoZone);

  // 1. Cell-centre membership: scanline per zone, highest index first so the lowest index is written last
  //    and wins wherever zones overlap.
  std::vector<std::int64_t> near_edge;
  {
    Ctx ctx;
    std::vector<Scan> scans(zone_wkb.size());
    // Progress: the scanlines are the first half, the area fractions (rule "fraction") the second.
    for (std::int32_t z = 0; z < n_zones; ++z) {
      if (control) {
        control->throw_if_cancelled();
        control->report(0.5 * z / n_zones);
      }
      Geom g = cell_space_zone(ctx, zone_wkb[static_cast<std::size_t>(z)], affine, static_cast<std::size_t>(z));
      std::vector<std::vector<double>> rings;
      collect_rings(ctx, g.get(), rings);
      scan_zone(rings, rows, cols, scans[static_cast<std::size_t>(z)]);
    }
    for (std::int32_t z = n_zones - 1; z >= 0; --z) {
      Scan& s = scans[static_cast<std::size_t>(z)];
      fill_zone(s, cols, z, out.zone.data());
      near_edge.insert(near_edge.end(), s.near_edge.begin(), s.near_edge.end());
      s = Scan();
    }
  }
  // 2. Centres on (or within rounding of) an edge: decide exactly with GEOS "covers" in the zones' own
  //    coordinates, the rule assign_points_to_zones applies to points (boundary in, lowest index wins).
  if (!near_edge.empty()) {
    std::sort(near_edge.begin(), near_edge.end());
    near_edge.erase(std::unique(near_edge.begin(), near_edge.end()), near_edge.end());
    std::vector<double> x(near_edge.size()), y(near_edge.size());
    for (std::size_t i = 0; i < near_edge.size(); ++i) {
      const std::int64_t r = near_edge[i] / cols, c = near_edge[i] % cols;
      x[i] = grid.col_center_x(double(c));
      y[i] = grid.row_center_y(double(r));
    }
    const std::vector<std::int32_t> z = assign_points_to_zones(zone_wkb, x, y);
    for (std::size_t i = 0; i < near_edge.size(); ++i) out.zone[static_cast<std::size_t>(near_edge[i])] = z[i];
  }
  if (rule == ZoneRaster::Rule::CellCentre || n_zones == 0) return out;

  // 3. Area fractions of the cells each zone boundary cuts (threads over zones, one GEOS context each).
  std::vector<std::vector<ZoneRaster::Split>> per_zone(zone_wkb.size());
  std::atomic<bool> failed{false};
  std::string failure;
  detail::FirstException bad_allocs;
  ProgressSpan fractions(control, 0.5, 1.0);
  ProgressCounter progress(control, static_cast<std::uint64_t>(n_zones));
#ifdef CARESHED_HAVE_OPENMP
#pragma omp parallel if (n_zones > 1)
#endif
  {
    // Exceptions may not leave the parallel region. std::bad_alloc (here or in a GEOS context) is kept as it is
    // and rethrown after the region, so that it stays a memory error; any other is reported with its zone.
    std::optional<Ctx> ctx;
    bad_allocs.run([&] { ctx.emplace(); });
#ifdef CARESHED_HAVE_OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
    for (std::int32_t z = 0; z < n_zones; ++z) {
      // after a failure or a cancellation: skip the rest
      if (failed.load() || bad_allocs.failed() || !progress.running()) continue;
      try {
        Geom g = cell_space_zone(*ctx, zone_wkb[static_cast<std::size_t>(z)], affine, static_cast<std::size_t>(z));
        double umin, umax, vmin, vmax;
        GEOSGeom_getXMin_r(ctx->get(), g.get(), &umin);
        GEOSGeom_getXMax_r(ctx->get(), g.get(), &umax);
        GEOSGeom_getYMin_r(ctx->get(), g.get(), &vmin);
        GEOSGeom_getYMax_r(ctx->get(), g.get(), &vmax);
        const auto c0 = static_cast<std::int64_t>(std::max(0.0, std::floor(umin)));
        const auto c1 = static_cast<std::int64_t>(std::min(double(cols), std::ceil(umax)));
        const auto r0 = static_cast<std::int64_t>(std::max(0.0, std::floor(vmin)));
        const auto r1 = static_cast<std::int64_t>(std::min(double(rows), std::ceil(vmax)));
        if (c0 < c1 && r0 < r1) {
          std::vector<std::vector<double>> rings;
          FractionWalker walker(cols, z, per_zone[static_cast<std::size_t>(z)]);
          collect_rings(*ctx, g.get(), rings, &walker.is_hole_);
          walker.run(rings, c0, c1, r0, r1);
        }
      } catch (const std::bad_alloc&) {
        bad_allocs.capture();
      } catch (const std::exception& e) {
#ifdef CARESHED_HAVE_OPENMP
#pragma omp critical(careshed_zonal_failure)
#endif
        {
          if (!failed.exchange(true)) failure = e.what();
        }
      }
      progress.done();
    }
  }
  bad_allocs.rethrow_if_failed();
  throw_if_cancelled(control);
  if (failed) throw Error("rasterize_zones: " + failure);

  std::vector<ZoneRaster::Split> splits;
  for (auto& v : per_zone) {
    splits.insert(splits.end(), v.begin(), v.end());
    std::vector<ZoneRaster::Split>().swap(v);
  }
  std::sort(splits.begin(), splits.end(), [](const ZoneRaster::Split& a, const ZoneRaster::Split& b) {
    return a.cell != b.cell ? a.cell < b.cell : a.zone < b.zone;
  });
  // A cut cell whose centre zone covers it entirely can only happen where zones overlap: list that zone
  // with weight 1 too, so the cell's people still count there (see the header on overlaps).
  std::vector<ZoneRaster::Split> extra;
  for (std::size_t i = 0; i < splits.size();) {
    std::size_t j = i;
    const std::int64_t cell = splits[i].cell;
    const std::int32_t centre_zone = out.zone[static_cast<std::size_t>(cell)];
    bool listed = false;
    while (j < splits.size() && splits[j].cell == cell) listed |= splits[j++].zone == centre_zone;
    if (centre_zone >= 0 && !listed) extra.push_back({cell, centre_zone, 1.0});
    out.zone[static_cast<std::size_t>(cell)] = kSplitCell;
    i = j;
  }
  if (!extra.empty()) {
    splits.insert(splits.end(), extra.begin(), extra.end());
    std::sort(splits.begin(), splits.end(), [](const ZoneRaster::Split& a, const ZoneRaster::Split& b) {
      return a.cell != b.cell ? a.cell < b.cell : a.zone < b.zone;
    });
  }
  out.splits = std::move(splits);
  return out;
}

// ---- zonal sums ---------------------------------------------------------------------------------------

namespace {

template <class T>
std::vector<double> zonal_sum_impl(const T* values, std::int64_t n_cells, const std::int32_t* zone,
                                   const std::int64_t* split_cell, const std::int32_t* split_zone,
                                   const double* split_fraction, std::int64_t n_splits, std::int32_t n_zones) {
  if (n_cells < 0 || n_splits < 0 || n_zones < 0) throw InputError("zonal_sum: negative sizes");
  for (std::int64_t i = 0; i < n_splits; ++i) {
    if (split_cell[i] < 0 || split_cell[i] >= n_cells) {
      throw InputError("zonal_sum: split " + std::to_string(i) + " names cell " + std::to_string(split_cell[i]) +
                       ", outside the grid's " + std::to_string(n_cells) + " cells");
    }
    if (split_zone[i] < 0 || split_zone[i] >= n_zones) {
      throw InputError("zonal_sum: split " + std::to_string(i) + " names zone " + std::to_string(split_zone[i]) +
                       ", outside 0.." + std::to_string(n_zones - 1));
    }
    if (!(split_fraction[i] >= 0.0 && split_fraction[i] <= 1.0)) {
      throw InputError("zonal_sum: split " + std::to_string(i) + " has fraction " + std::to_string(split_fraction[i]) +
                       "; area fractions must be in [0, 1]");
    }
  }
  std::vector<double> sums(static_cast<std::size_t>(n_zones), 0.0);
  if (n_cells == 0) return sums;
  // Fixed blocks (independent of the thread count) with their own accumulators, reduced in block order:
  // the same input gives the same bits on any machine.
  const std::int64_t by_size = (n_cells + 65535) / 65536;
  const std::int64_t by_memory = std::max<std::int64_t>(1, (std::int64_t(1) << 24) / std::max<std::int32_t>(1, n_zones));
  const std::int64_t n_blocks = std::max<std::int64_t>(1, std::min<std::int64_t>({64, by_size, by_memory}));
  std::vector<double> acc(static_cast<std::size_t>(n_blocks) * static_cast<std::size_t>(n_zones), 0.0);
  std::atomic<std::int64_t> bad_cell{-1};
  const auto nz = static_cast<std::uint32_t>(n_zones);
#ifdef CARESHED_HAVE_OPENMP
#pragma omp parallel for schedule(static, 1) if (n_blocks > 1)
#endif
  for (std::int64_t b = 0; b < n_blocks; ++b) {
    const std::int64_t lo = n_cells * b / n_blocks, hi = n_cells * (b + 1) / n_blocks;
    double* a = acc.data() + b * n_zones;
    for (std::int64_t i = lo; i < hi; ++i) {
      const std::int32_t z = zone[i];
      if (static_cast<std::uint32_t>(z) < nz) {
        const double v = static_cast<double>(values[i]);
        if (v == v) a[z] += v;
      } else if (z < kSplitCell || z >= n_zones) {
        // The lowest bad cell, whatever the threads (a deterministic message).
        std::int64_t seen = bad_cell.load();
        while ((seen < 0 || i < seen) && !bad_cell.compare_exchange_weak(seen, i)) {
        }
      }
    }
  }
  if (bad_cell.load() >= 0) {
    const std::int64_t i = bad_cell.load();
    throw InputError("zonal_sum: cell " + std::to_string(i) + " has zone " + std::to_string(zone[i]) +
                     "; zones must be -2 (split), -1 (none) or 0.." + std::to_string(n_zones - 1));
  }
  for (std::int64_t b = 0; b < n_blocks; ++b) {
    const double* a = acc.data() + b * n_zones;
    for (std::int32_t z = 0; z < n_zones; ++z) sums[static_cast<std::size_t>(z)] += a[z];
  }
  for (std::int64_t i = 0; i < n_splits; ++i) {
    const double v = static_cast<double>(values[split_cell[i]]);
    if (v == v) sums[static_cast<std::size_t>(split_zone[i])] += v * split_fraction[i];
  }
  return sums;
}

template <class T>
std::vector<double> zonal_sum_raster(const ZoneRaster& zones, const T* values) {
  const std::int64_t n = zones.rows * zones.cols;
  if (static_cast<std::int64_t>(zones.zone.size()) != n) {
    throw InputError("zonal_sum: the ZoneRaster has " + std::to_string(zones.zone.size()) + " cells, expected rows*cols = " +
                     std::to_string(n));
  }
  std::vector<std::int64_t> cell(zones.splits.size());
  std::vector<std::int32_t> zone(zones.splits.size());
  std::vector<double> frac(zones.splits.size());
  for (std::size_t i = 0; i < zones.splits.size(); ++i) {
    cell[i] = zones.splits[i].cell;
    zone[i] = zones.splits[i].zone;
    frac[i] = zones.splits[i].fraction;
  }
  return zonal_sum_impl(values, n, zones.zone.data(), cell.data(), zone.data(), frac.data(),
                        static_cast<std::int64_t>(cell.size()), zones.n_zones);
}

}  // namespace

std::vector<double> zonal_sum(const ZoneRaster& zones, const double* values) { return zonal_sum_raster(zones, values); }
std::vector<double> zonal_sum(const ZoneRaster& zones, const float* values) { return zonal_sum_raster(zones, values); }

std::vector<double> zonal_sum(const double* values, std::int64_t n_cells, const std::int32_t* zone,
                              const std::int64_t* split_cell, const std::int32_t* split_zone,
                              const double* split_fraction, std::int64_t n_splits, std::int32_t n_zones) {
  return zonal_sum_impl(values, n_cells, zone, split_cell, split_zone, split_fraction, n_splits, n_zones);
}

std::vector<double> zonal_sum(const float* values, std::int64_t n_cells, const std::int32_t* zone,
                              const std::int64_t* split_cell, const std::int32_t* split_zone,
                              const double* split_fraction, std::int64_t n_splits, std::int32_t n_zones) {
  return zonal_sum_impl(values, n_cells, zone, split_cell, split_zone, split_fraction, n_splits, n_zones);
}

std::vector<double> zone_cell_counts(const ZoneRaster& zones) {
  std::vector<double> ones(static_cast<std::size_t>(zones.rows * zones.cols), 1.0);
  return zonal_sum(zones, ones.data());
}

}  // namespace careshed
