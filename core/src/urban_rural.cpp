// urban_rural.cpp — classes per cell from codes, breaks, density clusters, or zones.
#include "careshed/urban_rural.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>

#include "careshed/error.hpp"
#include "careshed/raster_io.hpp"

namespace careshed {

std::vector<std::uint8_t> classes_from_codes(const double* values, std::int64_t n, const std::vector<double>& codes,
                                             const std::vector<std::uint8_t>& classes, std::uint8_t unlisted) {
  if (codes.size() != classes.size()) {
    throw InputError("classes_from_codes: " + std::to_string(codes.size()) + " codes but " +
                     std::to_string(classes.size()) + " classes; give one class per code");
  }
  std::unordered_map<double, std::uint8_t> table;
  for (std::size_t i = 0; i < codes.size(); ++i) {
    if (!std::isfinite(codes[i])) throw InputError("classes_from_codes: code " + std::to_string(i) + " is not finite");
    if (!table.emplace(codes[i] == 0.0 ? 0.0 : codes[i], classes[i]).second) {
      throw InputError("classes_from_codes: code " + std::to_string(codes[i]) + " is listed twice");
    }
  }
  std::vector<std::uint8_t> out(static_cast<std::size_t>(std::max<std::int64_t>(n, 0)), kNoClass);
  for (std::int64_t i = 0; i < n; ++i) {
    const double v = values[i];
    if (std::isnan(v)) continue;
    auto it = table.find(v == 0.0 ? 0.0 : v);  // -0.0 and 0.0 are the same code
    out[static_cast<std::size_t>(i)] = it == table.end() ? unlisted : it->second;
  }
  return out;
}

std::vector<std::uint8_t> classes_from_breaks(const double* values, std::int64_t n, const std::vector<double>& breaks) {
  if (breaks.size() > 254) throw InputError("classes_from_breaks: at most 254 breaks (classes 0..254)");
  for (std::size_t i = 0; i < breaks.size(); ++i) {
    if (!std::isfinite(breaks[i])) throw InputError("classes_from_breaks: break " + std::to_string(i) + " is not finite");
    if (i > 0 && !(breaks[i] > breaks[i - 1])) {
      throw InputError("classes_from_breaks: breaks must be strictly ascending (break " + std::to_string(i) + " = " +
                       std::to_string(breaks[i]) + " follows " + std::to_string(breaks[i - 1]) + ")");
    }
  }
  std::vector<std::uint8_t> out(static_cast<std::size_t>(std::max<std::int64_t>(n, 0)), kNoClass);
  for (std::int64_t i = 0; i < n; ++i) {
    const double v = values[i];
    if (std::isnan(v)) continue;
    out[static_cast<std::size_t>(i)] =
        static_cast<std::uint8_t>(std::upper_bound(breaks.begin(), breaks.end(), v) - breaks.begin());
  }
  return out;
}

DensityRule ghsl_urban_cluster() { return DensityRule{300.0, 5000.0, 8}; }
DensityRule ghsl_urban_centre() { return DensityRule{1500.0, 50000.0, 4}; }

std::vector<std::uint8_t> density_classes(const double* people, const GridSpec& grid,
                                          const std::vector<DensityRule>& rules,
                                          std::vector<std::int64_t>* clusters_out) {
  if (grid.width <= 0 || grid.height <= 0) throw InputError("density_classes: the grid is empty");
  if (rules.size() > 254) throw InputError("density_classes: at most 254 rules (classes 1..254)");
  for (std::size_t r = 0; r < rules.size(); ++r) {
    const DensityRule& rule = rules[r];
    if (!(std::isfinite(rule.min_density_per_km2) && rule.min_density_per_km2 >= 0.0 &&
          std::isfinite(rule.min_cluster_people) && rule.min_cluster_people >= 0.0)) {
      throw InputError("density_classes: rule " + std::to_string(r) +
                       " needs a finite min_density_per_km2 >= 0 and min_cluster_people >= 0");
    }
    if (rule.connectivity != 4 && rule.connectivity != 8) {
      throw InputError("density_classes: rule " + std::to_string(r) + " has connectivity " +
                       std::to_string(rule.connectivity) + "; use 4 (edges) or 8 (edges and corners)");
    }
  }
  const std::int64_t W = grid.width, H = grid.height, n = W * H;
  const std::vector<double> widths = row_cell_widths_m(grid), heights = row_cell_heights_m(grid);
  std::vector<std::uint8_t> out(static_cast<std::size_t>(n), 0);
  for (std::int64_t i = 0; i < n; ++i) {
    if (std::isnan(people[i])) out[static_cast<std::size_t>(i)] = kNoClass;
  }
  if (clusters_out) clusters_out->assign(rules.size(), 0);

  std::vector<char> dense(static_cast<std::size_t>(n));
  std::vector<std::int32_t> label(static_cast<std::size_t>(n));
  std::vector<std::int64_t> stack, members;
  for (std::size_t ri = 0; ri < rules.size(); ++ri) {
    const DensityRule& rule = rules[ri];
    const auto cls = static_cast<std::uint8_t>(ri + 1);
    for (std::int64_t r = 0; r < H; ++r) {
      const double km2 = widths[static_cast<std::size_t>(r)] * heights[static_cast<std::size_t>(r)] / 1e6;
      for (std::int64_t c = 0; c < W; ++c) {
        const double p = people[r * W + c];
        // inclusive threshold; NaN is never dense
        dense[static_cast<std::size_t>(r * W + c)] = (km2 > 0.0 && p == p && p >= rule.min_density_per_km2 * km2) ? 1 : 0;
      }
    }
    std::fill(label.begin(), label.end(), 0);
    std::int64_t qualifying = 0;
    for (std::int64_t start = 0; start < n; ++start) {
      if (!dense[static_cast<std::size_t>(start)] || label[static_cast<std::size_t>(start)]) continue;
      // Flood fill one cluster (explicit stack: no recursion depth limits on large clusters).
      members.clear();
      stack.assign(1, start);
      label[static_cast<std::size_t>(start)] = 1;
      double total = 0.0;
      while (!stack.empty()) {
        const std::int64_t cell = stack.back();
        stack.pop_back();
        members.push_back(cell);
        total += people[cell];
        const std::int64_t r = cell / W, c = cell % W;
        for (int dr = -1; dr <= 1; ++dr) {
          for (int dc = -1; dc <= 1; ++dc) {
            if (dr == 0 && dc == 0) continue;
            if (rule.connectivity == 4 && dr != 0 && dc != 0) continue;
            const std::int64_t rr = r + dr, cc = c + dc;
            if (rr < 0 || rr >= H || cc < 0 || cc >= W) continue;
            const std::int64_t nb = rr * W + cc;
            if (dense[static_cast<std::size_t>(nb)] && !label[static_cast<std::size_t>(nb)]) {
              label[static_cast<std::size_t>(nb)] = 1;
              stack.push_back(nb);
            }
          }
        }
      }
      if (total >= rule.min_cluster_people) {  // inclusive
        ++qualifying;
        for (std::int64_t cell : members) {
          std::uint8_t& o = out[static_cast<std::size_t>(cell)];
          if (o != kNoClass && o < cls) o = cls;
        }
      }
    }
    if (clusters_out) (*clusters_out)[ri] = qualifying;
  }
  return out;
}

std::vector<std::uint8_t> classes_from_zones(const ZoneRaster& zones, const std::vector<std::uint8_t>& zone_class) {
  if (static_cast<std::int64_t>(zone_class.size()) != zones.n_zones) {
    throw InputError("classes_from_zones: " + std::to_string(zone_class.size()) + " zone classes for " +
                     std::to_string(zones.n_zones) + " zones; give one class per zone, in zone order");
  }
  const std::int64_t n = zones.rows * zones.cols;
  if (static_cast<std::int64_t>(zones.zone.size()) != n) throw InputError("classes_from_zones: malformed zone raster");
  std::vector<std::uint8_t> out(static_cast<std::size_t>(n), kNoClass);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int32_t z = zones.zone[static_cast<std::size_t>(i)];
    if (z >= 0 && z < zones.n_zones) out[static_cast<std::size_t>(i)] = zone_class[static_cast<std::size_t>(z)];
  }
  // Splits are sorted by (cell, zone): keep the first zone with the largest fraction (lowest index on ties).
  const auto& sp = zones.splits;
  for (std::size_t i = 0; i < sp.size();) {
    std::size_t j = i, best = i;
    while (j < sp.size() && sp[j].cell == sp[i].cell) {
      if (sp[j].fraction > sp[best].fraction ||
          (sp[j].fraction == sp[best].fraction && sp[j].zone < sp[best].zone)) {
        best = j;
      }
      ++j;
    }
    if (sp[best].cell >= 0 && sp[best].cell < n && sp[best].zone >= 0 && sp[best].zone < zones.n_zones) {
      out[static_cast<std::size_t>(sp[best].cell)] = zone_class[static_cast<std::size_t>(sp[best].zone)];
    }
    i = j;
  }
  return out;
}

}  // namespace careshed
