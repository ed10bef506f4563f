// careshed/population.hpp — people per cell on the analysis grid.
//
// Two sources:
//  1. A population raster (WorldPop, GHS-POP, any GDAL format and CRS): people per source cell, warped onto
//     the analysis grid with careshed's sum-preserving read (raster_io.hpp, Resampling::Sum: each source cell
//     is split among target cells by shared area). Nodata and NaN source cells are ignored; target cells that
//     receive no valid source value are NaN ("no data", which coverage treats as no people). A negative
//     source value is refused (InputError naming the file, the pixel and its coordinates): people cannot be
//     negative, and a silent clamp would hide a wrong nodata value.
//  2. Zone totals only (a census table): each zone's people are spread over its cells
//       uniformly (people ∝ cell area in the zone),
//       weighted by a covariate (people ∝ weight × area in the zone, e.g. built-up fraction), or
//       by class shares: zone z's share s[z][k] of people lives in its cells of class k (e.g. GHSL degree of
//       urbanisation 30/23/22/21/13/12/11/10, census2020_ghsl.csv), spread within that class uniformly or by
//       the covariate. A class with a positive share but no cell (or only zero weight) in the zone is
//       spread over the whole zone instead, and a note says so; cells whose class is not in the table (or
//       negative = none) receive people only through such fall-backs. Shares are normalised per zone to
//       sum to 1 (a note when they were off by more than 0.1 %).
//     Reconciliation: with CellCentre zones, zone z's cells sum to totals[z] exactly (one scaling).
//     With AreaFraction zones a cut cell holds the people of each zone's piece of it, and its total counts
//     in each zone by area fraction (zonal_sum), which mixes neighbours; per-zone multipliers are therefore
//     fitted by iterative proportional scaling until every fraction-weighted zone sum equals its total to
//     1e-12 relative (it converges in a few sweeps, because only boundary cells couple zones). So
//     zonal_sum(zones, people) == totals under the rule the zones were made with. One case has no such
//     multipliers: a sparse zone whose cut cells, by area fraction, already receive more than its total from
//     much denser neighbours (a few people beside a city, at a coarse grid). Then the fit stops after
//     max_iterations with max_relative_residual > 1e-9 and a note saying so (finer grid or cell-centre
//     rule); callers must read the residual. Cells in no zone hold 0.
//
// Units: people per cell (not per km²). Weights are unitless and only their ratios within a zone matter.
// Ownership: inputs are read through const pointers (size rows*cols) and not retained; results are values.
// Thread-safety: re-entrant. Errors: InputError (sizes, negative/non-finite totals or weights or shares,
// a zone with people but no cell on the grid — "use the fraction rule or a finer grid"), DataIOError and
// CrsError from reading rasters (raster_io.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "careshed/grid.hpp"
#include "careshed/raster_io.hpp"
#include "careshed/zonal.hpp"

namespace careshed {

/// Population raster warped onto `grid`, totals preserved (see header comment); `report` gives the source
/// total within the grid, the result total and their relative difference.
Raster population_from_raster(const std::string& path, const GridSpec& grid, int band = 1);

/// Scans band `band` of `path` for negative valid values; throws InputError naming the first one's pixel
/// (row, col) and coordinates. Nodata and NaN are skipped. With `within`, only the pixels that can reach that
/// grid are scanned (its outline mapped to the raster, padded by 2 pixels), so a continental raster read onto a
/// county grid is not scanned whole. DataIOError if the file or band cannot be read.
void check_population_raster(const std::string& path, int band = 1, const GridSpec* within = nullptr);

/// How zone totals are spread over cells.
struct SpreadOptions {
  /// Per-cell covariate weights (rows*cols, >= 0; NaN counts as 0), or nullptr for uniform.
  const double* weights = nullptr;
  /// Per-cell class codes (rows*cols; negative = no class), or nullptr for no class shares.
  const std::int32_t* cell_class = nullptr;
  /// The class codes of the share table (distinct), K of them.
  std::vector<std::int32_t> class_codes;
  /// n_zones × K shares, row-major: class_shares[z*K + k] = share of zone z's people in class_codes[k].
  std::vector<double> class_shares;
  /// Reconciliation sweeps allowed (AreaFraction); the residual is reported in SpreadResult.
  int max_iterations = 200;
};

struct SpreadResult {
  std::vector<double> people;             ///< rows*cols people per cell (0 outside every zone)
  std::vector<std::string> notes;         ///< fall-backs taken (zone and class named), for the user's log
  double max_relative_residual = 0.0;     ///< max over zones |zonal_sum - total| / total after fitting
  int iterations = 0;                     ///< reconciliation sweeps used
};

/// Spreads `totals` (n_zones, people >= 0) over the cells of `zones` (see header comment).
SpreadResult spread_zone_totals(const ZoneRaster& zones, const std::vector<double>& totals,
                                const SpreadOptions& options = {});

}  // namespace careshed
