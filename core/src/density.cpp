// density.cpp — resources per N residents per zone: arithmetic (density_table) and the end-to-end pipeline.
#include "careshed/density.hpp"

#include <cmath>
#include <map>
#include <sstream>
#include <unordered_map>

#include "careshed/crs.hpp"
#include "careshed/error.hpp"
#include "careshed/geometry.hpp"

namespace careshed {
namespace {

std::string num(double v) {
  std::ostringstream s;
  s.precision(12);
  s << v;
  return s.str();
}

double shortfall_units(double target, double population, double per, double amount) {
  if (std::isnan(target)) return std::numeric_limits<double>::quiet_NaN();
  double need = std::ceil(target * population / per - amount - 1e-9);
  return need > 0.0 ? need : 0.0;
}

}  // namespace

DensityTable density_table(const std::vector<double>& population, const std::vector<double>& amounts,
                           const std::vector<double>& per, const std::vector<double>& targets) {
  const std::size_t n = population.size();
  const std::size_t m = per.size();
  if (targets.size() != m) {
    throw InputError("density_table: per has " + std::to_string(m) + " values but targets has " +
                     std::to_string(targets.size()) + " (one per resource)");
  }
  if (amounts.size() != n * m) {
    throw InputError("density_table: amounts must be n_zones x n_resources = " + std::to_string(n) + " x " +
                     std::to_string(m) + " values, got " + std::to_string(amounts.size()));
  }
  for (std::size_t z = 0; z < n; ++z) {
    if (!std::isfinite(population[z]) || population[z] <= 0.0) {
      throw InputError("density_table: zone " + std::to_string(z) + " has population " + num(population[z]) +
                       "; every zone needs a positive number of residents (merge or drop empty zones)");
    }
    for (std::size_t r = 0; r < m; ++r) {
      double a = amounts[z * m + r];
      if (!std::isfinite(a) || a < 0.0) {
        throw InputError("density_table: zone " + std::to_string(z) + ", resource " + std::to_string(r) +
                         ": amount " + num(a) + " must be a finite number >= 0");
      }
    }
  }
  for (std::size_t r = 0; r < m; ++r) {
    if (!std::isfinite(per[r]) || per[r] <= 0.0) {
      throw InputError("density_table: resource " + std::to_string(r) + ": per = " + num(per[r]) +
                       " must be a positive number of residents (1000, 10000 ...)");
    }
    if (!std::isnan(targets[r]) && (!std::isfinite(targets[r]) || targets[r] < 0.0)) {
      throw InputError("density_table: resource " + std::to_string(r) + ": target " + num(targets[r]) +
                       " must be >= 0 (or NaN for no target)");
    }
  }

  DensityTable t;
  t.n_zones = n;
  t.n_resources = m;
  t.population.assign(n + 1, 0.0);
  t.amount.assign((n + 1) * m, 0.0);
  t.rate.assign((n + 1) * m, 0.0);
  t.target.assign((n + 1) * m, 0.0);
  t.shortfall.assign((n + 1) * m, 0.0);
  t.shortfall_sum_of_zones.assign(m, 0.0);
  for (std::size_t r = 0; r < m; ++r) {
    if (std::isnan(targets[r])) t.shortfall_sum_of_zones[r] = std::numeric_limits<double>::quiet_NaN();
  }
  for (std::size_t z = 0; z < n; ++z) {
    t.population[z] = population[z];
    t.population[n] += population[z];
    for (std::size_t r = 0; r < m; ++r) {
      t.amount[z * m + r] = amounts[z * m + r];
      t.amount[n * m + r] += amounts[z * m + r];
    }
  }
  for (std::size_t z = 0; z <= n; ++z) {
    for (std::size_t r = 0; r < m; ++r) {
      const std::size_t k = z * m + r;
      // An empty region (n == 0) has population 0: its rate is undefined, not 0.
      t.rate[k] = t.population[z] > 0 ? t.amount[k] / t.population[z] * per[r]
                                      : std::numeric_limits<double>::quiet_NaN();
      t.target[k] = targets[r];
      t.shortfall[k] = shortfall_units(targets[r], t.population[z], per[r], t.amount[k]);
      if (z < n && !std::isnan(t.shortfall[k])) t.shortfall_sum_of_zones[r] += t.shortfall[k];
    }
  }
  return t;
}

// ---- end to end ---------------------------------------------------------------------------------------

namespace {

/// A numeric value of a table cell, or an InputError naming the file, field and row.
double cell_number(const VectorTable& t, const Column& c, std::size_t row, bool null_as_zero, bool positive,
                   const std::string& what) {
  const std::string where = t.describe() + ", field '" + c.name + "', " + t.describe_row(row);
  if (c.is_null(row)) {
    if (null_as_zero) return 0.0;
    throw InputError(where + ": no value (null); every row needs a " + what +
                     " (fill it in, or remove the row)");
  }
  auto v = c.number(row);
  if (!v || !std::isfinite(*v)) {
    throw InputError(where + ": '" + c.text(row) + "' is not a number; the " + what + " must be numeric");
  }
  if (positive ? *v <= 0.0 : *v < 0.0) {
    throw InputError(where + ": " + num(*v) + " is not a valid " + what + " (must be " +
                     (positive ? "> 0" : ">= 0") + ")");
  }
  return *v;
}

}  // namespace

DensityResult compute_density(const VectorTable& zones, const ZoneFields& zone_fields,
                              const std::vector<std::pair<VectorTable, FacilityFields>>& facilities,
                              const std::vector<ResourceSpec>& resources) {
  const std::size_t n = zones.size();
  const std::size_t m = resources.size();
  if (n == 0) throw InputError(zones.describe() + ": has no zones");

  // Resources: unique names, each supplied by some source.
  std::map<std::string, std::size_t> res_index;
  for (std::size_t r = 0; r < m; ++r) {
    if (resources[r].name.empty()) throw InputError("compute_density: resource " + std::to_string(r) + " has no name");
    if (!res_index.emplace(resources[r].name, r).second) {
      throw InputError("compute_density: resource '" + resources[r].name + "' is listed twice");
    }
  }
  std::vector<bool> supplied(m, false);
  auto resource_of = [&](const std::string& name, const std::string& where) {
    auto it = res_index.find(name);
    if (it == res_index.end()) {
      std::string known;
      for (const auto& r : resources) known += (known.empty() ? "'" : ", '") + r.name + "'";
      throw InputError(where + ": resource '" + name + "' is not among the resources (" + known +
                       "); add it to the resources with its 'per' and target");
    }
    supplied[it->second] = true;
    return it->second;
  };

  // Zone ids and population.
  DensityResult out;
  out.resources = resources;
  const Column& id_col = zones.column(zone_fields.id_field);
  const Column& pop_col = zones.column(zone_fields.population_field);
  std::unordered_map<std::string, std::size_t> id_to_zone;
  std::vector<double> population(n);
  for (std::size_t z = 0; z < n; ++z) {
    if (id_col.is_null(z)) {
      throw InputError(zones.describe() + ", field '" + id_col.name + "', " + zones.describe_row(z) +
                       ": the zone id is empty; every zone needs a unique id");
    }
    std::string id = id_col.text(z);
    auto [it, fresh] = id_to_zone.emplace(id, z);
    if (!fresh) {
      throw InputError(zones.describe() + ", field '" + id_col.name + "': duplicate zone id '" + id + "' in " +
                       zones.describe_row(it->second) + " and " + zones.describe_row(z) +
                       "; zone ids must be unique (dissolve the duplicates or choose another id field)");
    }
    out.zone_ids.push_back(std::move(id));
    population[z] = cell_number(zones, pop_col, z, false, true, "population (residents)");
  }

  std::vector<double> amounts(n * m, 0.0);
  for (const auto& [name, field] : zone_fields.resource_fields) {
    std::size_t r = resource_of(name, zones.describe());
    const Column& c = zones.column(field);
    for (std::size_t z = 0; z < n; ++z) {
      amounts[z * m + r] += cell_number(zones, c, z, false, false, "number of " + name);
    }
  }

  // Zone polygons in the analysis CRS (needed only when some facility table is located by geometry).
  bool need_geometry = false;
  for (const auto& f : facilities) need_geometry = need_geometry || f.second.zone_id_field.empty();
  std::vector<Wkb> zone_wkb;
  if (need_geometry) {
    if (zones.crs_wkt.empty()) {
      throw CrsError(zones.describe() + ": the zones have no CRS; read them with crs='EPSG:...'");
    }
    auto problems = check_polygons(zones.wkb);
    if (!problems.empty()) {
      std::string msg = zones.describe() + ": " + std::to_string(problems.size()) + " zone polygon(s) cannot be used: ";
      for (std::size_t k = 0; k < problems.size() && k < 5; ++k) {
        std::size_t z = problems[k].first;
        msg += (k ? "; " : "") + std::string("zone '") + out.zone_ids[z] + "' (" + zones.describe_row(z) + "): " +
               problems[k].second;
      }
      msg += ". Repair them first (PostGIS ST_MakeValid, QGIS \"Fix geometries\", shapely make_valid)";
      throw InputError(msg);
    }
    if (zones.is_geographic) {
      out.analysis_crs_wkt = epsg_to_wkt(utm_epsg_for_geometries(zones.wkb, zones.crs_wkt));
      zone_wkb = reproject_wkb(zones.wkb, zones.crs_wkt, out.analysis_crs_wkt);
    } else {
      out.analysis_crs_wkt = zones.crs_wkt;
      zone_wkb = zones.wkb;
    }
  }

  for (std::size_t s = 0; s < facilities.size(); ++s) {
    const VectorTable& ft = facilities[s].first;
    const FacilityFields& ff = facilities[s].second;
    const std::size_t k = ft.size();
    std::vector<int32_t> zone_of(k, -1);
    std::vector<std::string> reason(k);
    if (!ff.zone_id_field.empty()) {
      const Column& c = ft.column(ff.zone_id_field);
      for (std::size_t i = 0; i < k; ++i) {
        std::string id = c.text(i);
        auto it = id_to_zone.find(id);
        if (it != id_to_zone.end()) {
          zone_of[i] = static_cast<int32_t>(it->second);
        } else {
          reason[i] = c.is_null(i) ? "no zone id" : "zone id '" + id + "' is not among the zones";
        }
      }
    } else {
      if (ft.crs_wkt.empty()) {
        throw CrsError(ft.describe() + ": the facilities have no CRS; read them with crs='EPSG:...'");
      }
      auto pts = interior_points(ft.wkb);
      std::vector<double> x, y;
      std::vector<std::size_t> rows;
      for (std::size_t i = 0; i < k; ++i) {
        if (std::isnan(pts[i].first)) {
          reason[i] = "no geometry";
          continue;
        }
        x.push_back(pts[i].first);
        y.push_back(pts[i].second);
        rows.push_back(i);
      }
      transform_xy(x, y, ft.crs_wkt, out.analysis_crs_wkt);
      auto assigned = assign_points_to_zones(zone_wkb, x, y);
      for (std::size_t j = 0; j < rows.size(); ++j) {
        zone_of[rows[j]] = assigned[j];
        if (assigned[j] < 0) reason[rows[j]] = "outside every zone";
      }
    }
    // Values first (all rows, so a bad value is reported even on an unassigned facility), then sums.
    for (const auto& [name, field] : ff.resource_fields) {
      std::size_t r = resource_of(name, ft.describe());
      const Column* c = field.empty() ? nullptr : &ft.column(field);
      for (std::size_t i = 0; i < k; ++i) {
        double v = c ? cell_number(ft, *c, i, ff.null_as_zero, false, "number of " + name) : 1.0;
        if (zone_of[i] >= 0) amounts[static_cast<std::size_t>(zone_of[i]) * m + r] += v;
      }
    }
    for (std::size_t i = 0; i < k; ++i) {
      if (zone_of[i] < 0) {
        out.unassigned.push_back(
            UnassignedFacility{s, ft.describe(), i, i < ft.fid.size() ? ft.fid[i] : -1, reason[i]});
      }
    }
    out.facility_zone.push_back(std::move(zone_of));
  }
  for (std::size_t r = 0; r < m; ++r) {
    if (!supplied[r]) {
      throw InputError("compute_density: resource '" + resources[r].name +
                       "' comes from no source; map it to a zone field or a facility field");
    }
  }

  std::vector<double> per(m), targets(m);
  for (std::size_t r = 0; r < m; ++r) {
    per[r] = resources[r].per;
    targets[r] = resources[r].target;
  }
  out.table = density_table(population, amounts, per, targets);
  return out;
}

DensityResult compute_density(const SourceSpec& zones, const ZoneFields& zone_fields,
                              const std::vector<std::pair<SourceSpec, FacilityFields>>& facilities,
                              const std::vector<ResourceSpec>& resources) {
  VectorTable zt = read_vector(zones.source, zones.options);
  std::vector<std::pair<VectorTable, FacilityFields>> ft;
  ft.reserve(facilities.size());
  for (const auto& [spec, fields] : facilities) ft.emplace_back(read_vector(spec.source, spec.options), fields);
  return compute_density(zt, zone_fields, ft, resources);
}

}  // namespace careshed
