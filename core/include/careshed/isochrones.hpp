// careshed/isochrones.hpp — isochrone polygons from a response-time grid, for DISPLAY only.
//
// People are counted on the grid (careshed/coverage.hpp), never in these polygons: a polygon is exactly the union
// of the square cells of its band, so it carries no information the grid does not.
//
// Method: the cells are classified into bands by their time t (seconds) against thresholds T1 < T2 < ... (minutes,
// ×60 → seconds, inclusive like every careshed threshold), GDALPolygonize turns each connected run of equal band
// values into one polygon with its holes (on an in-memory raster; 4-connected by default, 8-connected on request;
// cumulative bands are polygonized from their own mask), and GEOS (re-entrant _r API) makes each polygon valid
// (GEOSMakeValid_r — needed for 8-connected output, whose rings can touch themselves at a corner) and gathers a
// band's polygons into one MultiPolygon. Connected runs of one band never share an edge, so that MultiPolygon is
// already dissolved; it is checked with GEOSisValid_r and only if that fails dissolved with GEOSUnaryUnion_r and
// repaired. Optionally simplified by half a cell (GEOSTopologyPreserveSimplify_r). Holes are kept (a pocket of
// slower cells inside a band is a hole in it).
// Bands:
//  * Rings      band k holds 60·T(k-1) < t <= 60·Tk (band 1: 0 <= t <= 60·T1) — the bands tile, no overlaps;
//  * Cumulative band k holds 0 <= t <= 60·Tk (nested: band k contains band k-1), the union of rings 1..k.
// Cells with t = +inf or NaN (no time) or t beyond the last threshold belong to no band.
// The polygonizing is label_polygons() below (bands are labels 0..n-1 of the classified grid; a cumulative band
// is the single label of its own mask); it is public so other per-cell labellings (catchments) share it.
// Output: one MultiPolygon per band (ISO WKB, little-endian, coordinates in the grid's CRS units; an empty
// MultiPolygon when the band has no cell), always valid (GEOSisValid_r). Without simplification a band's area
// equals its cell count × the cell area (up to floating-point rounding).
// Ownership: `seconds` (grid.size() float32, row-major) is read only. Thread-safety: re-entrant (own GDAL datasets
// and GEOS context per call). Errors: InputError for bad thresholds/grid/negative times, DataIOError/Error when
// GDAL or GEOS fail (message says which step).
#pragma once

#include <cstdint>
#include <vector>

#include "careshed/crs.hpp"  // careshed::Wkb
#include "careshed/grid.hpp"

namespace careshed {

class RunControl;  // careshed/progress.hpp

enum class IsochroneBands { Rings, Cumulative };

struct IsochroneOptions {
  IsochroneBands bands = IsochroneBands::Rings;
  bool eight_connected = false;  ///< polygonize with 8-connectedness (diagonal cells join)
  bool simplify = false;         ///< simplify by half a cell (topology-preserving); areas then differ slightly
};

struct IsochroneBand {
  double from_minutes = 0.0;  ///< lower bound (exclusive; band 1 and cumulative bands start at 0 inclusive)
  double to_minutes = 0.0;    ///< upper bound (inclusive)
  std::int64_t cells = 0;     ///< grid cells in the band
  double area = 0.0;          ///< area of the polygon in CRS units² (m² on an analysis grid)
  Wkb wkb;                    ///< MultiPolygon, grid CRS
};

/// Options of label_polygons.
struct LabelPolygonOptions {
  bool eight_connected = false;  ///< polygonize with 8-connectedness (diagonal cells join)
  bool simplify = false;         ///< simplify by half a cell (topology-preserving); areas then differ slightly
};

/// The dissolved outline of one label value.
struct LabelPolygon {
  std::int64_t cells = 0;  ///< grid cells carrying the label
  double area = 0.0;       ///< area of the polygon in CRS units² (m² on an analysis grid)
  Wkb wkb;                 ///< MultiPolygon, grid CRS
};

/// The shared polygonizer: one dissolved MultiPolygon per label value 0..n_labels-1 of an integer label grid
/// (isochrone bands, catchments = nearest-facility index, ...). Method as described above for the bands:
/// GDALPolygonize on an in-memory Int32 raster (4- or 8-connected), GEOS validity check / repair, optional
/// half-cell simplification; holes kept; without simplification area = cells × cell area (up to rounding).
/// labels: grid.size() int32 values, row-major, read only; a negative label = the cell belongs to no polygon;
/// labels >= n_labels → InputError (naming the cell). n_labels >= 1. A label with no cell gets an empty
/// MultiPolygon. Returns n_labels entries, index = label. Output WKB: ISO, little-endian, always valid.
/// Thread-safety: re-entrant. Errors: InputError (grid, n_labels, labels), DataIOError/Error when GDAL or GEOS
/// fail (message says which step). control (optional, careshed/progress.hpp): polled by GDALPolygonize's
/// progress callback and per label in the GEOS steps; throws careshed::Cancelled after request_cancel().
std::vector<LabelPolygon> label_polygons(const std::int32_t* labels, const GridSpec& grid, std::int32_t n_labels,
                                         const LabelPolygonOptions& options = {}, RunControl* control = nullptr);

/// One band per threshold. thresholds_min: strictly increasing, positive, finite, at most 254 of them.
/// grid: grid.size() cells at `seconds`, a valid geotransform (non-zero cell size). Negative times → InputError.
std::vector<IsochroneBand> isochrone_polygons(const float* seconds, const GridSpec& grid,
                                              const std::vector<double>& thresholds_min,
                                              const IsochroneOptions& options = {}, RunControl* control = nullptr);

}  // namespace careshed
