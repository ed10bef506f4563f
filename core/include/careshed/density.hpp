// careshed/density.hpp — resources per N residents by zone (beds per 1000, GPs per 10,000 ...), against
// targets, with the shortfall in whole units.
//
// Two levels:
//  * density_table(): the arithmetic alone, on per-zone totals (what the Python layer calls).
//  * compute_density(): end to end for C++ applications — read zones and facility sources (or take
//    already-loaded VectorTables), assign facilities to zones (GEOS point-in-polygon in a metric CRS), sum
//    the resources per zone, then density_table(). Facilities outside every zone are returned, not dropped.
//
// Formulas (per zone z, resource r, and for the region row from the region's totals):
//   rate      = amount / population * per
//   shortfall = max(0, ceil(target * population / per - amount - 1e-9))     (NaN when there is no target)
// The 1e-9 keeps an exactly met target (7.8 per 1000 for 1000 people and 7.8 beds) at 0 despite rounding.
// The region's shortfall lets one zone's surplus offset another's deficit; shortfall_sum_of_zones does not.
// Errors: InputError (naming the file, field and row) for bad values, duplicate zone ids, invalid polygons;
// DataIOError / CrsError from reading. Thread-safety: re-entrant, no shared state.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "careshed/io.hpp"

namespace careshed {

/// Result of density_table(). Row-major 2-D arrays with (n_zones + 1) rows × n_resources columns; the last
/// row is the whole region.
struct DensityTable {
  std::size_t n_zones = 0;
  std::size_t n_resources = 0;
  std::vector<double> population;  ///< n_zones + 1 (residents)
  std::vector<double> amount;      ///< resource units (beds, physicians ...)
  std::vector<double> rate;        ///< units per `per` residents
  std::vector<double> target;      ///< target rate per `per` residents; NaN = none
  std::vector<double> shortfall;   ///< whole units missing to meet the target (>= 0); NaN = no target
  std::vector<double> shortfall_sum_of_zones;  ///< n_resources: sum of the zones' own shortfalls

  double at(const std::vector<double>& a, std::size_t row, std::size_t res) const {
    return a[row * n_resources + res];
  }
};

/// The density arithmetic. population: n_zones residents (finite, > 0); amounts: n_zones × n_resources
/// row-major totals (finite, >= 0); per: n_resources (> 0); targets: n_resources (NaN = none, else finite
/// and >= 0). InputError naming the zone index / resource index for any violation or size mismatch.
DensityTable density_table(const std::vector<double>& population, const std::vector<double>& amounts,
                           const std::vector<double>& per, const std::vector<double>& targets);

/// A resource counted per zone.
struct ResourceSpec {
  std::string name;         ///< e.g. "beds"; names the output columns
  double per = 1000.0;      ///< residents per rate unit: 1000, 10000, 30000 ...
  double target = std::numeric_limits<double>::quiet_NaN();  ///< target units per `per` residents, NaN = none
};

/// Where the zones and their attributes are.
struct ZoneFields {
  std::string id_field;          ///< unique zone identifier (any type; compared as text)
  std::string population_field;  ///< residents (numeric > 0, no nulls)
  /// Resources already totalled per zone in the zone table: (resource name, field). Optional.
  std::vector<std::pair<std::string, std::string>> resource_fields;
};

/// How one facility table contributes resources.
struct FacilityFields {
  /// (resource name, field holding that facility's units). An empty field name counts each facility as one
  /// unit (e.g. number of stations). Values must be numeric and >= 0; null counts as 0 only if
  /// null_as_zero, else InputError naming file, field and row.
  std::vector<std::pair<std::string, std::string>> resource_fields;
  /// If set, facilities are matched to zones by this field (values = zone ids) instead of by location, and
  /// geometry is not needed. Unmatched ids are reported like facilities outside every zone.
  std::string zone_id_field;
  bool null_as_zero = false;
};

/// A facility that could not be assigned to any zone.
struct UnassignedFacility {
  std::size_t source_index = 0;  ///< which facility table (0-based)
  std::string source;            ///< its source path / description
  std::size_t row = 0;           ///< 0-based row in that table
  int64_t fid = -1;              ///< OGR feature id
  std::string reason;            ///< "outside every zone", "zone id 'x' not among the zones", "no geometry"
};

struct DensityResult {
  std::vector<std::string> zone_ids;    ///< n_zones, in zone-table order
  std::vector<ResourceSpec> resources;  ///< column order of the table
  DensityTable table;
  std::vector<UnassignedFacility> unassigned;
  std::string analysis_crs_wkt;  ///< the metric CRS in which facilities were assigned to zones
  std::vector<std::vector<int32_t>> facility_zone;  ///< per facility table: zone index of each row, or -1
};

/// End to end on loaded tables. zones: polygons with id/population (and optional resource) fields.
/// facilities: (table, fields) pairs; a table's geometry (points; other geometries use a point on their
/// surface) is reprojected to the analysis CRS = the zones' CRS when it is metric, else the UTM zone of the
/// zones' centre. Every resource named by a source must appear in `resources`, and every resource in
/// `resources` must come from at least one source (InputError otherwise).
DensityResult compute_density(const VectorTable& zones, const ZoneFields& zone_fields,
                              const std::vector<std::pair<VectorTable, FacilityFields>>& facilities,
                              const std::vector<ResourceSpec>& resources);

/// A source to read: path (or "PG:..." string) with read options (layer, x/y fields, crs).
struct SourceSpec {
  std::string source;
  ReadOptions options;
};

/// End to end from files: reads the zones and each facility source, then compute_density().
DensityResult compute_density(const SourceSpec& zones, const ZoneFields& zone_fields,
                              const std::vector<std::pair<SourceSpec, FacilityFields>>& facilities,
                              const std::vector<ResourceSpec>& resources);

}  // namespace careshed
