// careshed/zonal.hpp — zones (polygons) on an analysis grid, and sums of per-cell values by zone.
//
// Two counting rules (DESIGN.md, "Population counting"):
//  * CellCentre — a cell belongs wholly to the zone that covers its centre. "Covers" as in
//    careshed::assign_points_to_zones: a centre on a zone's boundary is in the zone, and on a boundary shared
//    by several zones (or inside overlapping zones) it goes to the LOWEST zone index. Every cell has weight 1
//    in at most one zone. Cheap, and what most raster tools do (GDALRasterize without ALL_TOUCHED).
//  * AreaFraction — a cell counts in each zone by the exact fraction of its AREA inside that zone (the rule of
//    exactextract). Cells entirely inside one zone get that zone with weight 1; cells cut by a zone boundary
//    are "split" (-2) and list (zone, fraction) pairs: the exact area of the cell square ∩ the polygon. A cell cut by a zone and otherwise outside every zone lists only that zone (its
//    fraction < 1): the rest of the cell belongs to no zone. Totals of a smooth field then match the
//    zones' areas, not an approximation by whole cells.
//  Zones are expected to be a partition (administrative units) and may leave gaps. Where zones overlap, a
//  cell fully inside several of them goes to the lowest index and a split cell lists its fraction in each
//  zone it touches (the overlapping area counts in every zone).
//
// Implementation: zone rings are mapped to cell coordinates (col, row). Cell-centre membership is a
// scanline (even–odd crossings at each row's centre line); centres lying within 1e-7 cell of any zone edge
// or vertex are decided again, exactly, by GEOS "covers" (assign_points_to_zones), so boundary ties follow
// the point-in-polygon rule bit for bit. Split cells are found by recursive subdivision of each zone's
// bounding block: the zone's rings are clipped to the block (Sutherland–Hodgman against the rectangle, whose
// signed area is exactly the area of ring ∩ block; holes subtract); empty and fully covered blocks stop, the
// rest are halved down to single cells, whose clipped area is the fraction. Work is proportional to the
// zone perimeter in cells (× log of the grid size), never to the zone area. (GEOSClipByRect was rejected:
// GEOS 3.11 returns the complement for some rings with vertices on the rectangle; GEOSIntersection per cell
// was exact but ~15× slower.) Fractions agree with shapely/GEOS intersection areas to ~1e-12 (tests).
//
// Units: grid and zone coordinates in the grid's CRS (the caller reprojects; metric or lon/lat both work,
// fractions are of the cell's area in CRS units, which is exact on projected grids and ≪ 1e-6 off for small
// lon/lat cells). Ownership: functions take const references and return values. Thread-safety: re-entrant;
// rasterize_zones uses OpenMP threads over zones when built with OpenMP, each with its own GEOS context.
// Errors: InputError for invalid/empty/non-polygonal zone WKB (naming the zone index and GEOS's reason),
// a rotated or empty grid, inconsistent array sizes, or zone indices out of range in zonal_sum.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "careshed/crs.hpp"  // careshed::Wkb
#include "careshed/grid.hpp"

namespace careshed {

class RunControl;  // careshed/progress.hpp

/// Zones rasterised onto a grid (the contract of issue 4, shared with the coverage module).
struct ZoneRaster {
  std::int64_t rows = 0, cols = 0;
  std::int32_t n_zones = 0;
  /// Per cell (row-major, rows*cols): zone index 0..n_zones-1 whose weight is 1, -1 = in no zone,
  /// -2 = split cell (AreaFraction only): its zones and fractions are in `splits`.
  std::vector<std::int32_t> zone;
  /// One (cell, zone, fraction) per zone touching a split cell; fraction = share of the cell's AREA in zone,
  /// in (0, 1]. Sorted by (cell, zone). Empty in CellCentre mode.
  struct Split {
    std::int64_t cell;
    std::int32_t zone;
    double fraction;
  };
  std::vector<Split> splits;
  enum class Rule { CellCentre, AreaFraction } rule = Rule::CellCentre;
};

/// Zone values meaning "no zone" and "split cell" in ZoneRaster::zone.
constexpr std::int32_t kNoZone = -1;
constexpr std::int32_t kSplitCell = -2;

/// "centre"/"center"/"cell_centre" → CellCentre, "fraction"/"area_fraction" → AreaFraction; InputError
/// listing the names otherwise.
ZoneRaster::Rule zone_rule_from_string(const std::string& name);
/// "centre" or "fraction".
const char* zone_rule_name(ZoneRaster::Rule rule);

/// Rasterises Polygon/MultiPolygon WKB zones (in the grid's CRS) onto `grid` with `rule` (see header
/// comment). Zone i of the input is zone index i of the result. Throws InputError for a bad zone (index
/// and reason) or a rotated grid (geotransform[2] or [4] non-zero).
/// control (optional, careshed/progress.hpp): polled per zone; throws careshed::Cancelled after request_cancel().
ZoneRaster rasterize_zones(const std::vector<Wkb>& zone_wkb, const GridSpec& grid, ZoneRaster::Rule rule,
                           RunControl* control = nullptr);

/// Per-zone sums of `values` (rows*cols of them, row-major): Σ value × weight over the cells of each zone,
/// weight 1 for whole cells and the area fraction for split cells. NaN values are skipped (they add
/// nothing). Result: n_zones doubles. The sum over cells is done in a fixed block order, so the result is
/// identical from run to run whatever the number of threads. Thread-safety: re-entrant; OpenMP inside.
std::vector<double> zonal_sum(const ZoneRaster& zones, const double* values);
std::vector<double> zonal_sum(const ZoneRaster& zones, const float* values);

/// The same on raw arrays (the form the Python binding hands over): `zone` has n_cells entries, the split
/// arrays n_splits entries each (any order). InputError for a zone index >= n_zones or < -2, a split cell
/// outside 0..n_cells-1, a split zone outside 0..n_zones-1, or a fraction that is not in [0, 1].
/// Checks run before any summing; safe to call without the Python GIL.
std::vector<double> zonal_sum(const double* values, std::int64_t n_cells, const std::int32_t* zone,
                              const std::int64_t* split_cell, const std::int32_t* split_zone,
                              const double* split_fraction, std::int64_t n_splits, std::int32_t n_zones);
std::vector<double> zonal_sum(const float* values, std::int64_t n_cells, const std::int32_t* zone,
                              const std::int64_t* split_cell, const std::int32_t* split_zone,
                              const double* split_fraction, std::int64_t n_splits, std::int32_t n_zones);

/// Number of cells (split cells by their fractions) per zone: zonal_sum of a field of ones.
std::vector<double> zone_cell_counts(const ZoneRaster& zones);

}  // namespace careshed
