// careshed/terrain.hpp — walking on terrain: direction-dependent (anisotropic) travel time over a friction
// grid and a digital elevation model (DEM), and reading a DEM onto an analysis grid.
//
// Why: walking uphill is slower than walking down, so the time of a move depends on its direction and the
// time from a cell to a facility is not the time from the facility to the cell. The search therefore runs
// on DIRECTED move costs. It is the multi-source grid search of careshed/raster_search.hpp (same labels,
// same integer-tick arithmetic, same bucket queue and threads, same conventions: inclusive cutoff, +inf /
// -1 unreachable, ties to the lowest source index, start offsets, 8 or 16 neighbours); only the cost of a
// move changes.
//
// Moves and slope. A move goes between the centres of two neighbouring cells, from cell A to cell B in the
// direction the person travels; L is the horizontal centre distance in metres (as in raster_search.hpp,
// per row for lon/lat grids), dz = z_B - z_A the rise in metres (z from the DEM on the same grid) and
//   S = dz * (1 / L)                                  (signed slope, rise over run; > 0 uphill)
// F is the r.cost friction term of the move, in seconds: L * (f_A + f_B) / 2 for rook and diagonal moves,
// L * (f_A + f_B + f_C + f_D) / 4 for knight's moves (C, D the cells the move passes between).
//
// Models (TerrainModel::slope_model):
//  * Tobler (default). Tobler's hiking function (W. Tobler, 1993, "Three presentations on geographical
//    analysis and modeling", NCGIA Technical Report 93-1): walking speed W(S) = 6 exp(-3.5 |S + 0.05|)
//    km/h, fastest (6 km/h) slightly downhill (S = -0.05), 5.04 km/h on the flat. careshed applies it as a
//    slope FACTOR on the friction, so the friction (land cover, roads, water) keeps its meaning as the cost
//    of flat ground:
//        time(A -> B) = F * W(0) / W(S) = F * exp(3.5 * (|S + 0.05| - 0.05))   seconds.
//    On flat ground the factor is exactly 1 and the result is bit-identical to raster_travel_time. For
//    pure Tobler walking (no land cover) give a uniform friction of 3.6 / 5.04 s/m (W(0) = 5.04 km/h).
//  * RWalk. The walking-time formula of GRASS GIS r.walk (Aitken 1977 / Langmuir 1984 as implemented in
//    r.walk, https://grass.osgeo.org/grass-stable/manuals/r.walk.html) plus lambda times the friction:
//        time(A -> B) = a L + b dz            if dz > 0               (uphill)
//                       a L + c dz            if S_t <= S <= 0        (moderate downhill)
//                       a L + d dz            if S < S_t              (steep downhill)
//                     + lambda * F
//    with r.walk's defaults a = 0.72 s/m, b = 6.0, c = 1.9998, d = -1.9998, S_t = slope_factor = -0.2125
//    (tan of -12 degrees), lambda = 1. (r.walk's "friction cost" is the same F with the friction map.)
//    Coefficients must keep every move's cost >= 0: a, b, lambda >= 0, d <= 0, S_t < 0, a + c S_t >= 0
//    (InputError otherwise).
//
// Direction (TerrainModel::direction): TowardSources (default): patients travel TO care, so the time of a
// cell is that of the trip cell -> facility, every move costed in that direction (the search, which grows
// from the facilities, evaluates the move it makes from A to B as the patient's move B -> A).
// FromSources: trips facility -> cell (an outreach team walking out, a return home).
//
// Integer ticks (exactly as raster_search.hpp; h = (1/2 or 1/4) * L * 2^q as there, fsum the sum of the 2
// or 4 frictions, E = exp(3.5 * (|S + 0.05| - 0.05)), w = the r.walk walking part above in seconds):
//     Tobler: ticks = floor((fsum * h) * E + 0.5)
//     RWalk:  ticks = floor(w * 2^q + lambda * (fsum * h) + 0.5)
// so a test can reproduce every label bit for bit from RasterSearchStats::tick_seconds.
//
// Elevation: one float32 per cell, metres, row-major on the friction grid; NaN = no data. A cell whose
// elevation is NaN is impassable exactly like a NaN friction (nothing enters or leaves it, a knight's move
// passing by it is blocked, a source on it is inert).
//
// Ownership: caller-owned buffers, read during the call only; out is written. Thread-safety: re-entrant.
// Errors: InputError (everything raster_travel_time refuses, plus bad model coefficients or a missing
// elevation buffer; the message names the argument). Cancellation/progress: as raster_travel_time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "careshed/grid.hpp"
#include "careshed/raster_io.hpp"
#include "careshed/raster_search.hpp"

namespace careshed {

class RunControl;  // careshed/progress.hpp

enum class SlopeModel { Tobler, RWalk };
enum class TravelDirection { TowardSources, FromSources };

/// GRASS r.walk coefficients (see the header comment for the formula and the defaults' source).
struct RWalkCoefficients {
  double a = 0.72;              ///< s per metre of horizontal distance
  double b = 6.0;               ///< s per metre climbed
  double c = 1.9998;            ///< s per metre descended on moderate downhill (dz < 0: reduces the time)
  double d = -1.9998;           ///< s per metre descended on steep downhill (dz < 0: adds time)
  double slope_factor = -0.2125;  ///< S_t: slopes below it are steep downhill (tan(-12 deg))
  double lambda = 1.0;          ///< weight of the friction term F
};

/// The terrain travel model.
struct TerrainModel {
  const float* elevation_m = nullptr;  ///< rows * cols metres on the friction grid, NaN = no data
  SlopeModel slope_model = SlopeModel::Tobler;
  RWalkCoefficients rwalk;
  TravelDirection direction = TravelDirection::TowardSources;
};

/// Tobler's slope factor W(0) / W(S) = exp(3.5 * (|S + 0.05| - 0.05)) (1 on the flat).
double tobler_slope_factor(double slope);

/// Multi-source nearest search with direction-dependent move costs; same arguments, outputs and stats as
/// raster_travel_time (careshed/raster_search.hpp) plus the terrain model. Memory: as raster_travel_time
/// (the elevation is the caller's). Throws InputError (see the header comment).
RasterSearchStats raster_travel_time_terrain(const FrictionGrid& grid, const TerrainModel& terrain,
                                             const std::int64_t* sources_rc, std::size_t n_sources,
                                             const RasterSearchOptions& options, CellLabel* out,
                                             RunControl* control = nullptr);

/// What read_elevation_into read.
struct ElevationReport {
  std::vector<std::string> sources;  ///< the files read (a VRT is built over several)
  std::int64_t valid_cells = 0;      ///< grid cells with an elevation
  double min_m = 0.0, max_m = 0.0;   ///< range of the valid cells (0 when none)
};

/// Reads a DEM onto `grid` (bilinear by default: elevation is continuous; Average on much coarser grids)
/// into out (grid.size() float32, NaN where there is no data). `paths`: one raster GDAL opens (GeoTIFF, SRTM
/// .hgt or .hgt.zip, VRT, ...) or several tiles, mosaicked through an in-memory VRT (gdalbuildvrt) before
/// the warp, so cells along tile seams are interpolated across the seam. The DEM's nodata (SRTM voids:
/// -32768) becomes NaN. Throws DataIOError (a file cannot be opened; names it), CrsError (a tile without a
/// CRS, or tiles in different CRSs), InputError (no path, or no grid cell receives an elevation: the DEM
/// does not cover the grid). control: as read_raster_into.
ElevationReport read_elevation_into(const std::vector<std::string>& paths, const GridSpec& grid, float* out,
                                    Resampling resampling = Resampling::Bilinear, RunControl* control = nullptr);

}  // namespace careshed
