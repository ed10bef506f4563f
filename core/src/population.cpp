// population.cpp — population rasters onto the grid, and zone totals spread over cells.
//
// Spreading (see population.hpp): zone z's people are m_z × u(c, z) in each piece (cell c ∩ zone z), with
//   u(c, z) = a(c, z) × ω(c, z) × (α[z][class(c)] + β[z])
// where a = 1 for a whole cell and the area fraction for a cut one, ω the covariate weight (1 when uniform),
// α[z][k] = share[z][k] / Σ_pieces of z in class k of a·ω, and β[z] = (shares that found no cell) / Σ_pieces
// of z of a·ω. So Σ_pieces u(·, z) = 1 and m_z starts at totals[z]. A cell holds the sum of its pieces.
// Centre-rule zones have no cut cells, so Σ_cells of z = m_z = totals[z] at once; with area fractions the
// fraction-weighted zone sums also see the neighbours' pieces in cut cells, and m is rescaled
// (m_z ← m_z · total / sum) until they match. Only cut cells need recomputing per sweep.
#include "careshed/population.hpp"

#include <gdal.h>
#include <gdal_alg.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <sstream>
#include <unordered_map>

#include "careshed/error.hpp"
#include "gdal_util.hpp"
#include "raster_detail.hpp"

namespace careshed {

void check_population_raster(const std::string& path, int band_no, const GridSpec* within) {
  detail::ensure_gdal_registered();
  detail::QuietGdalErrors quiet;
  GDALDatasetH ds = GDALOpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, nullptr, nullptr, nullptr);
  if (ds == nullptr) detail::throw_gdal_io("population raster '" + path + "'", "cannot open it as a raster");
  std::unique_ptr<void, void (*)(void*)> owner(ds, [](void* p) { GDALClose(static_cast<GDALDatasetH>(p)); });
  detail::check_raster_complete(ds, path, "population raster");
  detail::check_georeferencing(ds, path, "population raster");
  if (band_no < 1 || band_no > GDALGetRasterCount(ds)) {
    throw DataIOError("population raster '" + path + "': no band " + std::to_string(band_no) + " (it has " +
                      std::to_string(GDALGetRasterCount(ds)) + ")");
  }
  GDALRasterBandH band = GDALGetRasterBand(ds, band_no);
  int has_nodata = 0;
  const double nodata = GDALGetRasterNoDataValue(band, &has_nodata);
  double gt[6] = {0, 1, 0, 0, 0, 1};
  GDALGetGeoTransform(ds, gt);
  const int w = GDALGetRasterXSize(ds), h = GDALGetRasterYSize(ds);
  int c0 = 0, c1 = w, r0 = 0, r1 = h;
  if (within != nullptr && !within->crs_wkt.empty()) {
    // Only the pixels that can reach the grid matter: the grid's outline (21 points per edge) mapped to
    // source pixels, padded by two pixels. If the mapping fails, scan the whole band.
    const char* src_wkt = GDALGetProjectionRef(ds);
    double dst_gt[6];
    std::copy(within->geotransform.begin(), within->geotransform.end(), dst_gt);
    void* t = (src_wkt && *src_wkt) ? GDALCreateGenImgProjTransformer3(src_wkt, gt, within->crs_wkt.c_str(), dst_gt)
                                    : nullptr;
    if (t != nullptr) {
      std::vector<double> x, y, z;
      const double gw = static_cast<double>(within->width), gh = static_cast<double>(within->height);
      for (int i = 0; i <= 20; ++i) {
        const double f = i / 20.0;
        x.insert(x.end(), {f * gw, f * gw, 0.0, gw});
        y.insert(y.end(), {0.0, gh, f * gh, f * gh});
      }
      z.assign(x.size(), 0.0);
      std::vector<int> ok(x.size(), 0);
      GDALGenImgProjTransform(t, TRUE, static_cast<int>(x.size()), x.data(), y.data(), z.data(), ok.data());
      GDALDestroyGenImgProjTransformer(t);
      double xmin = 1e300, xmax = -1e300, ymin = 1e300, ymax = -1e300;
      bool all_ok = true;
      for (std::size_t i = 0; i < x.size(); ++i) {
        if (!ok[i] || !std::isfinite(x[i]) || !std::isfinite(y[i])) {
          all_ok = false;
          break;
        }
        xmin = std::min(xmin, x[i]);
        xmax = std::max(xmax, x[i]);
        ymin = std::min(ymin, y[i]);
        ymax = std::max(ymax, y[i]);
      }
      if (all_ok) {
        c0 = static_cast<int>(std::clamp(std::floor(xmin) - 2.0, 0.0, double(w)));
        c1 = static_cast<int>(std::clamp(std::ceil(xmax) + 2.0, 0.0, double(w)));
        r0 = static_cast<int>(std::clamp(std::floor(ymin) - 2.0, 0.0, double(h)));
        r1 = static_cast<int>(std::clamp(std::ceil(ymax) + 2.0, 0.0, double(h)));
      }
    }
    detail::take_gdal_error();
  }
  const int cw = c1 - c0;
  detail::check_fits_in_memory(8.0 * std::max(cw, 0), "population raster '" + path + "' rows of " +
                               std::to_string(cw) + " cells", "crop the raster to the study area first");
  std::vector<double> row(static_cast<std::size_t>(std::max(cw, 0)));
  for (int r = r0; r < r1 && cw > 0; ++r) {
    if (GDALRasterIO(band, GF_Read, c0, r, cw, 1, row.data(), cw, 1, GDT_Float64, 0, 0) != CE_None) {
      detail::throw_gdal_io("population raster '" + path + "' band " + std::to_string(band_no),
                            "cannot read row " + std::to_string(r));
    }
    for (int c = c0; c < c1; ++c) {
      const double v = row[static_cast<std::size_t>(c - c0)];
      if (std::isnan(v) || (has_nodata && v == nodata)) continue;
      if (v < 0.0) {
        const double x = gt[0] + (c + 0.5) * gt[1] + (r + 0.5) * gt[2];
        const double y = gt[3] + (c + 0.5) * gt[4] + (r + 0.5) * gt[5];
        char where[160];
        std::snprintf(where, sizeof where, "pixel (row %d, col %d) at (%.6f, %.6f) in the file's CRS", r, c, x, y);
        std::ostringstream msg;
        msg << "population raster '" << path << "' band " << band_no << ": " << where << " holds " << v
            << " people; population cannot be negative. If this is a nodata marker, declare it "
               "(gdal_edit.py -a_nodata "
            << v << "), otherwise fix the raster";
        throw InputError(msg.str());
      }
    }
  }
}

Raster population_from_raster(const std::string& path, const GridSpec& grid, int band) {
  check_population_raster(path, band, &grid);
  Raster r = read_raster(path, grid, Resampling::Sum, band);
  detail::require_data_on_grid(r.report, grid, "population raster");
  return r;
}

namespace {

constexpr int kOther = -1;  // class index of cells whose class is not in the share table

std::string zone_name(std::int32_t z) { return "zone " + std::to_string(z); }

}  // namespace

SpreadResult spread_zone_totals(const ZoneRaster& zones, const std::vector<double>& totals,
                                const SpreadOptions& options) {
  const std::int64_t n_cells = zones.rows * zones.cols;
  const std::int32_t Z = zones.n_zones;
  if (static_cast<std::int64_t>(zones.zone.size()) != n_cells) {
    throw InputError("spread_zone_totals: the zone raster has " + std::to_string(zones.zone.size()) +
                     " cells, expected rows*cols = " + std::to_string(n_cells));
  }
  if (static_cast<std::int64_t>(totals.size()) != Z) {
    throw InputError("spread_zone_totals: " + std::to_string(totals.size()) + " zone totals for " + std::to_string(Z) +
                     " zones; give one total per zone, in zone order");
  }
  for (std::int32_t z = 0; z < Z; ++z) {
    const double t = totals[static_cast<std::size_t>(z)];
    if (!(std::isfinite(t) && t >= 0.0)) {
      throw InputError("spread_zone_totals: the total of " + zone_name(z) + " is " + std::to_string(t) +
                       "; zone totals must be finite and >= 0");
    }
  }
  const std::size_t K = options.class_codes.size();
  const bool by_class = options.cell_class != nullptr;
  if (by_class && options.class_shares.size() != static_cast<std::size_t>(Z) * K) {
    throw InputError("spread_zone_totals: class_shares has " + std::to_string(options.class_shares.size()) +
                     " values, expected n_zones × n_classes = " + std::to_string(Z) + " × " + std::to_string(K));
  }
  if (!by_class && !options.class_codes.empty()) {
    throw InputError("spread_zone_totals: class shares were given but no per-cell class grid");
  }
  std::unordered_map<std::int32_t, int> class_index;
  for (std::size_t k = 0; k < K; ++k) {
    if (!class_index.emplace(options.class_codes[k], static_cast<int>(k)).second) {
      throw InputError("spread_zone_totals: class code " + std::to_string(options.class_codes[k]) +
                       " appears twice in the share table");
    }
  }
  for (std::size_t i = 0; i < options.class_shares.size(); ++i) {
    const double s = options.class_shares[i];
    if (!(std::isfinite(s) && s >= 0.0)) {
      throw InputError("spread_zone_totals: the share of class " + std::to_string(options.class_codes[i % K]) + " in " +
                       zone_name(static_cast<std::int32_t>(i / K)) + " is " + std::to_string(s) +
                       "; shares must be finite and >= 0");
    }
  }
  const double* w = options.weights;
  if (w != nullptr) {
    for (std::int64_t i = 0; i < n_cells; ++i) {
      if (w[i] < 0.0 || std::isinf(w[i])) {
        throw InputError("spread_zone_totals: the weight of cell " + std::to_string(i) + " (row " +
                         std::to_string(i / zones.cols) + ", col " + std::to_string(i % zones.cols) + ") is " +
                         std::to_string(w[i]) + "; weights must be finite and >= 0 (NaN counts as 0)");
      }
    }
  }
  for (const auto& s : zones.splits) {
    if (s.cell < 0 || s.cell >= n_cells || s.zone < 0 || s.zone >= Z || !(s.fraction >= 0.0 && s.fraction <= 1.0)) {
      throw InputError("spread_zone_totals: the zone raster has a malformed split entry (cell " + std::to_string(s.cell) +
                       ", zone " + std::to_string(s.zone) + ")");
    }
  }

  SpreadResult result;
  // Per-cell class index (kOther when the code is not in the table or negative).
  std::vector<int> cls;
  if (by_class) {
    cls.assign(static_cast<std::size_t>(n_cells), kOther);
    for (std::int64_t i = 0; i < n_cells; ++i) {
      const std::int32_t code = options.cell_class[i];
      if (code < 0) continue;
      auto it = class_index.find(code);
      if (it != class_index.end()) cls[static_cast<std::size_t>(i)] = it->second;
    }
  }
  auto weight_of = [&](std::int64_t cell) {
    if (w == nullptr) return 1.0;
    const double v = w[cell];
    return v == v ? v : 0.0;
  };
  auto class_of = [&](std::int64_t cell) { return by_class ? cls[static_cast<std::size_t>(cell)] : kOther; };

  // Pass 1: per zone (and class) sums of a·ω, and of a alone for the uniform fall-back.
  const std::size_t KC = K + 1;  // column K = "other"
  std::vector<double> wsum(static_cast<std::size_t>(Z) * KC, 0.0), asum(static_cast<std::size_t>(Z) * KC, 0.0);
  auto add_piece = [&](std::int64_t cell, std::int32_t z, double a) {
    const int k = class_of(cell);
    const std::size_t at = static_cast<std::size_t>(z) * KC + (k == kOther ? K : static_cast<std::size_t>(k));
    wsum[at] += a * weight_of(cell);
    asum[at] += a;
  };
  for (std::int64_t i = 0; i < n_cells; ++i) {
    const std::int32_t z = zones.zone[static_cast<std::size_t>(i)];
    if (z >= 0) {
      if (z >= Z) throw InputError("spread_zone_totals: cell " + std::to_string(i) + " names zone " + std::to_string(z));
      add_piece(i, z, 1.0);
    }
  }
  for (const auto& s : zones.splits) add_piece(s.cell, s.zone, s.fraction);

  // Per zone: uniform fall-back flag, α per class, β.
  std::vector<char> uniform(static_cast<std::size_t>(Z), w == nullptr ? 1 : 0);
  std::vector<double> alpha(static_cast<std::size_t>(Z) * KC, 0.0);
  for (std::int32_t z = 0; z < Z; ++z) {
    const double total = totals[static_cast<std::size_t>(z)];
    const std::size_t row = static_cast<std::size_t>(z) * KC;
    double zone_area = 0.0, zone_weight = 0.0;
    for (std::size_t k = 0; k < KC; ++k) {
      zone_area += asum[row + k];
      zone_weight += wsum[row + k];
    }
    if (total == 0.0) continue;
    if (zone_area <= 0.0) {
      throw InputError("spread_zone_totals: " + zone_name(z) + " has " + std::to_string(total) +
                       " people but no cell of the grid " +
                       (zones.rule == ZoneRaster::Rule::CellCentre
                            ? std::string("covers its centre in it (it is smaller than a cell or outside the grid); "
                                          "use the area-fraction rule or a finer grid")
                            : std::string("overlaps it (it lies outside the grid); enlarge the grid")));
    }
    if (!uniform[static_cast<std::size_t>(z)] && zone_weight <= 0.0) {
      uniform[static_cast<std::size_t>(z)] = 1;
      result.notes.push_back(zone_name(z) + ": the weights are 0 or missing on all its cells; its people are spread "
                             "uniformly over its area");
    }
    const std::vector<double>& sums = uniform[static_cast<std::size_t>(z)] ? asum : wsum;
    double zone_sum = 0.0;
    for (std::size_t k = 0; k < KC; ++k) zone_sum += sums[row + k];
    if (!by_class) {
      for (std::size_t k = 0; k < KC; ++k) alpha[row + k] = 1.0 / zone_sum;
      continue;
    }
    double share_total = 0.0;
    for (std::size_t k = 0; k < K; ++k) share_total += options.class_shares[static_cast<std::size_t>(z) * K + k];
    if (share_total <= 0.0) {
      result.notes.push_back(zone_name(z) + ": all its class shares are 0; its people are spread over the whole zone");
      for (std::size_t k = 0; k < KC; ++k) alpha[row + k] = 1.0 / zone_sum;
      continue;
    }
    if (std::fabs(share_total - 1.0) > 1e-3) {
      char buf[200];
      std::snprintf(buf, sizeof buf, ": its class shares sum to %.6g, not 1; they were rescaled to sum to 1", share_total);
      result.notes.push_back(zone_name(z) + buf);
    }
    double missing = 0.0;
    for (std::size_t k = 0; k < K; ++k) {
      const double s = options.class_shares[static_cast<std::size_t>(z) * K + k] / share_total;
      if (s <= 0.0) continue;
      if (sums[row + k] > 0.0) {
        alpha[row + k] = s / sums[row + k];
      } else {
        missing += s;
        char buf[240];
        std::snprintf(buf, sizeof buf,
                      ": class %d holds %.4g %% of its people but none of its cells has that class%s; that share is "
                      "spread over the whole zone",
                      options.class_codes[k], 100.0 * s, uniform[static_cast<std::size_t>(z)] ? "" : " (with weight > 0)");
        result.notes.push_back(zone_name(z) + buf);
      }
    }
    const double beta = missing / zone_sum;
    for (std::size_t k = 0; k < KC; ++k) alpha[row + k] += beta;
  }

  // u of a piece.
  auto u_of = [&](std::int64_t cell, std::int32_t z, double a) {
    const int k = class_of(cell);
    const std::size_t at = static_cast<std::size_t>(z) * KC + (k == kOther ? K : static_cast<std::size_t>(k));
    return a * (uniform[static_cast<std::size_t>(z)] ? 1.0 : weight_of(cell)) * alpha[at];
  };

  // Reconciliation: zone sum S_z = m_z·U_z (whole cells) + Σ_cut pieces of z  a(c,z)·p_c.
  std::vector<double> m(totals);
  std::vector<double> whole(static_cast<std::size_t>(Z), 0.0);
  for (std::int64_t i = 0; i < n_cells; ++i) {
    const std::int32_t z = zones.zone[static_cast<std::size_t>(i)];
    if (z >= 0) whole[static_cast<std::size_t>(z)] += u_of(i, z, 1.0);
  }
  std::vector<double> split_u(zones.splits.size());
  for (std::size_t i = 0; i < zones.splits.size(); ++i) {
    split_u[i] = u_of(zones.splits[i].cell, zones.splits[i].zone, zones.splits[i].fraction);
  }
  auto zone_sums = [&](std::vector<double>& S) {
    for (std::int32_t z = 0; z < Z; ++z) S[static_cast<std::size_t>(z)] = m[static_cast<std::size_t>(z)] * whole[static_cast<std::size_t>(z)];
    const auto& sp = zones.splits;
    for (std::size_t i = 0; i < sp.size();) {
      std::size_t j = i;
      double p = 0.0;
      while (j < sp.size() && sp[j].cell == sp[i].cell) {
        p += m[static_cast<std::size_t>(sp[j].zone)] * split_u[j];
        ++j;
      }
      for (std::size_t q = i; q < j; ++q) S[static_cast<std::size_t>(sp[q].zone)] += sp[q].fraction * p;
      i = j;
    }
  };
  // Splits must be grouped by cell for the pass above (rasterize_zones sorts them; callers from Python may not).
  const bool grouped = std::is_sorted(zones.splits.begin(), zones.splits.end(),
                                      [](const ZoneRaster::Split& a, const ZoneRaster::Split& b) { return a.cell < b.cell; });
  if (!grouped) throw InputError("spread_zone_totals: the zone raster's split entries must be sorted by cell");

  std::vector<double> S(static_cast<std::size_t>(Z), 0.0);
  int it = 0;
  for (;; ++it) {
    zone_sums(S);
    double worst = 0.0;
    for (std::int32_t z = 0; z < Z; ++z) {
      const double t = totals[static_cast<std::size_t>(z)];
      if (t > 0.0) worst = std::max(worst, std::fabs(S[static_cast<std::size_t>(z)] - t) / t);
    }
    result.max_relative_residual = worst;
    if (worst <= 1e-13 || it >= options.max_iterations) break;
    for (std::int32_t z = 0; z < Z; ++z) {
      const double t = totals[static_cast<std::size_t>(z)];
      const double s = S[static_cast<std::size_t>(z)];
      if (t > 0.0 && s > 0.0) m[static_cast<std::size_t>(z)] *= t / s;
    }
  }
  result.iterations = it;
  if (result.max_relative_residual > 1e-9) {
    char buf[240];
    std::snprintf(buf, sizeof buf,
                  "reconciliation stopped after %d sweeps with zone sums up to %.3g %% off their totals (zones much "
                  "smaller than a cell next to much denser ones); use a finer grid or the cell-centre rule",
                  it, 100.0 * result.max_relative_residual);
    result.notes.push_back(buf);
  }

  // Cells: whole cells m_z·u, cut cells the sum of their pieces, others 0.
  result.people.assign(static_cast<std::size_t>(n_cells), 0.0);
  for (std::int64_t i = 0; i < n_cells; ++i) {
    const std::int32_t z = zones.zone[static_cast<std::size_t>(i)];
    if (z >= 0) result.people[static_cast<std::size_t>(i)] = m[static_cast<std::size_t>(z)] * u_of(i, z, 1.0);
  }
  for (std::size_t i = 0; i < zones.splits.size(); ++i) {
    result.people[static_cast<std::size_t>(zones.splits[i].cell)] += m[static_cast<std::size_t>(zones.splits[i].zone)] * split_u[i];
  }
  return result;
}

}  // namespace careshed
