// careshed/urban_rural.hpp — a class per cell (urban/rural, or any number of classes) for per-class
// response-time thresholds.
//
// A class is a uint8 index 0..254 the caller chooses (coverage takes thresholds per class index);
// 255 (kNoClass) = no class / no data. Three ways to get one:
//  * classes_from_codes / classes_from_breaks — from a raster already on the grid (careshed::read_raster with
//    "nearest" or "mode" for codes such as GHSL SMOD 30/23/…/10 or a 0/1 mask; "average" for fractions):
//    code → class by a table, or value → class by ascending breaks (class = number of breaks <= value).
//  * density_classes — GHSL-like clusters from people per cell: a rule (min density per km², min cluster
//    people, 4- or 8-connectivity) marks the cells whose density is >= the minimum and that form a connected
//    cluster (of such cells) holding >= the minimum people in total. With rules r_0 … r_{n-1}, a cell's class
//    is 1 + the highest rule index whose cluster contains it, 0 when none does, 255 where people is NaN.
//    Both thresholds are inclusive. Defaults follow the GHSL Degree of Urbanisation (stage I, without its
//    gap filling / smoothing steps): urban cluster = 300 /km², 5 000 people, 8-connected (r_0 → class 1);
//    urban centre = 1 500 /km², 50 000 people, 4-connected (r_1 → class 2); class 0 = rural.
//    Cell areas: width × height in CRS units squared / 1e6 on projected grids (metres assumed), the
//    ellipsoidal row cell size (row_cell_widths_m × row_cell_heights_m) on lon/lat grids.
//  * classes_from_zones — each cell takes its zone's class (zone attribute); a cut cell (AreaFraction) takes
//    the class of the zone with the largest share of it (lowest index on ties); cells in no zone 255.
// Ownership: inputs read through const pointers (n cells), results returned by value. Thread-safety:
// re-entrant. Errors: InputError for bad sizes, duplicate codes, unsorted or non-finite breaks, more than
// 254 classes, bad rules (density/people < 0, connectivity not 4 or 8), zone classes of the wrong length.
#pragma once

#include <cstdint>
#include <vector>

#include "careshed/grid.hpp"
#include "careshed/zonal.hpp"

namespace careshed {

constexpr std::uint8_t kNoClass = 255;

/// values[i] == codes[j] → classes[j]; a value not in `codes` → `unlisted`; NaN → kNoClass.
std::vector<std::uint8_t> classes_from_codes(const double* values, std::int64_t n, const std::vector<double>& codes,
                                             const std::vector<std::uint8_t>& classes,
                                             std::uint8_t unlisted = kNoClass);

/// Class = number of `breaks` (strictly ascending, finite) that are <= value; NaN → kNoClass.
/// E.g. breaks {0.5} on a built-up fraction: < 0.5 → 0 (rural), >= 0.5 → 1 (urban).
std::vector<std::uint8_t> classes_from_breaks(const double* values, std::int64_t n, const std::vector<double>& breaks);

/// One density-cluster rule (see header comment).
struct DensityRule {
  double min_density_per_km2 = 300.0;
  double min_cluster_people = 5000.0;
  int connectivity = 8;  ///< 4 (edges) or 8 (edges and corners)
};

/// GHSL urban cluster: 300 /km², 5 000 people, 8-connected.
DensityRule ghsl_urban_cluster();
/// GHSL urban centre: 1 500 /km², 50 000 people, 4-connected.
DensityRule ghsl_urban_centre();

/// Class per cell from people per cell (grid.size() values, NaN = no data) and `rules` (at most 254); see the
/// header comment. `clusters_out`, when given, receives the number of qualifying clusters per rule.
std::vector<std::uint8_t> density_classes(const double* people, const GridSpec& grid,
                                          const std::vector<DensityRule>& rules,
                                          std::vector<std::int64_t>* clusters_out = nullptr);

/// Class per cell from a class per zone (zone_class.size() == zones.n_zones; 255 allowed = none).
std::vector<std::uint8_t> classes_from_zones(const ZoneRaster& zones, const std::vector<std::uint8_t>& zone_class);

}  // namespace careshed
