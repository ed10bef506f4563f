// friction.cpp — friction surfaces from land cover, roads, speed/friction rasters and barriers.
//
// Every layer is turned into a SPEED grid (km/h, NaN = no information) and max-combined into one buffer,
// which is converted to friction (s/m) in place at the end. Working in speed keeps "fastest wins" a plain
// per-cell max, whichever order the layers come in; barriers are applied after the combine so nothing can
// undo them.
#include "careshed/friction.hpp"

#include <cpl_string.h>
#include <gdal.h>
#include <gdal_alg.h>
#include <ogr_api.h>
#include <ogr_feature.h>
#include <ogr_geometry.h>
#include <ogrsf_frmts.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <sstream>
#include <unordered_map>

#include "careshed/error.hpp"
#include "careshed/progress.hpp"
#include "crs_internal.hpp"
#include "gdal_util.hpp"
#include "raster_detail.hpp"

namespace careshed {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string fmt(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

void check_speed_value(double kmh, const std::string& what) {
  if (!(kmh >= 0.0) || std::isinf(kmh)) {
    throw InputError(what + ": speed " + fmt(kmh) + " km/h is not a finite number >= 0 (0 = impassable)");
  }
}

/// Per-cell max ignoring NaN ("this layer says nothing here").
inline void max_into(double& dst, double v) {
  if (!std::isnan(v) && (std::isnan(dst) || v > dst)) dst = v;
}

/// Reads `path` onto the grid into a fresh buffer. With a `role`, a read without any valid cell is an error
/// (require_data_on_grid): the layer is needed; barrier masks pass none (no data there = no barrier).
std::vector<double> read_onto(const std::string& path, const GridSpec& grid, Resampling r, int band,
                              const char* role) {
  std::vector<double> buf(static_cast<size_t>(grid.size()));
  const ReadReport rep = read_raster_into(path, grid, r, band, buf.data());
  if (role != nullptr) detail::require_data_on_grid(rep, grid, role);
  return buf;
}

/// Value of key `key` in OSM's other_tags ("k"=>"v","k2"=>"v2", with \" escapes), or "".
std::string other_tag(const char* tags, const std::string& key) {
  if (tags == nullptr) return "";
  const std::string needle = "\"" + key + "\"=>\"";
  const char* p = std::strstr(tags, needle.c_str());
  // The match must start a pair (beginning or after a comma), not end another value.
  while (p != nullptr && p != tags && *(p - 1) != ',') p = std::strstr(p + 1, needle.c_str());
  if (p == nullptr) return "";
  p += needle.size();
  std::string out;
  for (; *p != '\0' && *p != '"'; ++p) {
    if (*p == '\\' && p[1] != '\0') ++p;
    out.push_back(*p);
  }
  return out;
}

std::string layer_names(GDALDatasetH ds) {
  std::string names;
  for (int i = 0; i < GDALDatasetGetLayerCount(ds); ++i) {
    if (!names.empty()) names += ", ";
    names += OGR_L_GetName(GDALDatasetGetLayer(ds, i));
  }
  return names;
}

OGRLayerH pick_layer(GDALDatasetH ds, const std::string& path, const std::string& layer, bool prefer_lines) {
  if (GDALDatasetGetLayerCount(ds) == 0) throw DataIOError("'" + path + "': has no vector layers");
  if (!layer.empty()) {
    OGRLayerH l = GDALDatasetGetLayerByName(ds, layer.c_str());
    if (l == nullptr) {
      throw DataIOError("'" + path + "': no layer '" + layer + "' (layers: " + layer_names(ds) + ")");
    }
    return l;
  }
  if (prefer_lines) {
    // OSM extracts through GDAL's OSM driver: the road network is the "lines" layer.
    if (OGRLayerH l = GDALDatasetGetLayerByName(ds, "lines")) return l;
  }
  return GDALDatasetGetLayer(ds, 0);
}

/// Transformation from the layer's CRS to the grid's; CrsError when the layer has none.
detail::TransformPtr layer_to_grid(OGRLayerH lyr, const std::string& what, const detail::SrsPtr& grid_srs,
                                   detail::SrsPtr& layer_srs_out) {
  OGRSpatialReferenceH s = OGR_L_GetSpatialRef(lyr);
  if (s == nullptr) {
    throw CrsError(what + ": the layer has no coordinate reference system; assign one (e.g. ogr2ogr -a_srs "
                          "EPSG:4326) so careshed can place it on the grid");
  }
  layer_srs_out.reset(OGRSpatialReference::FromHandle(s)->Clone());
  layer_srs_out->SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  if (detail::srs_equivalent(*layer_srs_out, *grid_srs)) return nullptr;
  return detail::make_transform(*layer_srs_out, *grid_srs);
}

/// Restricts a layer to features near the grid (its bounds + one cell, in the layer's CRS) and applies an
/// attribute filter.
void filter_layer(OGRLayerH lyr, const std::string& what, const GridSpec& grid,
                  const OGRSpatialReference& layer_srs, const OGRSpatialReference& grid_srs,
                  const std::string& where) {
  Bounds b = grid_bounds(grid);
  double pad_x = grid.cell_width(), pad_y = grid.cell_height();
  b.min_x -= pad_x;
  b.max_x += pad_x;
  b.min_y -= pad_y;
  b.max_y += pad_y;
  detail::QuietGdalErrors quiet;
  if (detail::srs_equivalent(layer_srs, grid_srs)) {
    OGR_L_SetSpatialFilterRect(lyr, b.min_x, b.min_y, b.max_x, b.max_y);
  } else {
    auto back = detail::make_transform(grid_srs, layer_srs);
    double x0, y0, x1, y1;
    if (back->TransformBounds(b.min_x, b.min_y, b.max_x, b.max_y, &x0, &y0, &x1, &y1, 21)) {
      OGR_L_SetSpatialFilterRect(lyr, x0, y0, x1, y1);
    }  // else: no spatial filter; every feature is read and clipped by the rasteriser
  }
  detail::take_gdal_error();
  if (!where.empty() && OGR_L_SetAttributeFilter(lyr, where.c_str()) != OGRERR_NONE) {
    throw InputError(what + ": the attribute filter '" + where + "' is not valid OGR SQL (GDAL: " +
                     detail::take_gdal_error() + ")");
  }
}

bool is_line(OGRwkbGeometryType t) {
  switch (wkbFlatten(t)) {
    case wkbLineString:
    case wkbMultiLineString:
    case wkbCircularString:
    case wkbCompoundCurve:
    case wkbMultiCurve:
      return true;
    default:
      return false;
  }
}

/// Burns `geoms` with `burn` values (in order: later wins) into a double buffer over the grid.
/// With all_touched, each polygon's boundary is burned too, as lines right after the polygon: GDAL 3.6's
/// polygon ALL_TOUCHED misses cells that a near-horizontal edge crosses inside the cell (OSGeo/gdal#12129;
/// tests/cpp/friction_test.cpp checks every cell against a geometric intersection test), while its line
/// ALL_TOUCHED does not.
void rasterize_into(double* buffer, const GridSpec& grid, const std::vector<OGRGeometryH>& geoms,
                    const std::vector<double>& burn, bool all_touched, const std::string& what) {
  if (geoms.empty()) return;
  std::vector<OGRGeometryH> shapes;
  std::vector<double> values;
  std::vector<OGRGeometryH> boundaries;  // owned here
  struct Free {
    std::vector<OGRGeometryH>& g;
    ~Free() {
      for (auto b : g) OGR_G_DestroyGeometry(b);
    }
  } free_boundaries{boundaries};
  for (size_t i = 0; i < geoms.size(); ++i) {
    shapes.push_back(geoms[i]);
    values.push_back(burn[i]);
    const auto type = wkbFlatten(OGR_G_GetGeometryType(geoms[i]));
    if (all_touched && (type == wkbPolygon || type == wkbMultiPolygon || type == wkbCurvePolygon ||
                        type == wkbMultiSurface || type == wkbGeometryCollection)) {
      if (OGRGeometryH b = OGR_G_Boundary(geoms[i])) {
        boundaries.push_back(b);
        shapes.push_back(b);
        values.push_back(burn[i]);
      }
    }
  }
  detail::DatasetPtr ds = detail::mem_dataset_over(buffer, GDT_Float64, grid);
  int band = 1;
  char** opts = CSLSetNameValue(nullptr, "ALL_TOUCHED", all_touched ? "TRUE" : "FALSE");
  detail::QuietGdalErrors quiet;
  CPLErr err = GDALRasterizeGeometries(static_cast<GDALDatasetH>(ds.get()), 1, &band,
                                       static_cast<int>(shapes.size()), shapes.data(), nullptr, nullptr,
                                       values.data(), opts, nullptr, nullptr);
  CSLDestroy(opts);
  if (err != CE_None) detail::throw_gdal_io(what, "cannot rasterise the geometries");
  detail::take_gdal_error();
}

struct GeomList {
  std::vector<OGRGeometryH> geoms;
  ~GeomList() {
    for (auto g : geoms) OGR_G_DestroyGeometry(g);
  }
};

void validate_inputs(const FrictionInputs& in) {
  bool any = in.landcover || in.landcover_fractions || in.speed_raster || in.friction_raster ||
             in.background_speed_kmh || in.speed_kmh_on_grid != nullptr || !in.roads.empty();
  if (!any) {
    throw InputError("friction surface: nothing to build it from; give land cover (classes or fractions), a "
                     "speed raster, a friction raster, roads and/or a background speed");
  }
  if (in.landcover) {
    const auto& lc = *in.landcover;
    if (lc.resampling != Resampling::Nearest && lc.resampling != Resampling::Mode) {
      throw InputError("land cover '" + lc.path + "': classes must be resampled with nearest or mode, not " +
                       resampling_name(lc.resampling) + " (averaging class codes invents classes)");
    }
    for (const auto& [cls, kmh] : lc.speed_kmh) check_speed_value(kmh, "land cover class " + std::to_string(cls));
    if (lc.default_speed_kmh) check_speed_value(*lc.default_speed_kmh, "land cover default_speed_kmh");
  }
  if (in.landcover_fractions) {
    const auto& lf = *in.landcover_fractions;
    if (lf.paths.empty() || lf.paths.size() != lf.speeds_kmh.size()) {
      throw InputError("land cover fractions: give one speed per raster (" + std::to_string(lf.paths.size()) +
                       " rasters, " + std::to_string(lf.speeds_kmh.size()) + " speeds)");
    }
    for (size_t i = 0; i < lf.paths.size(); ++i) check_speed_value(lf.speeds_kmh[i], "'" + lf.paths[i] + "'");
    check_speed_value(lf.other_speed_kmh, "land cover fractions other_speed_kmh");
    if (!(lf.full_cover > 0.0) || std::isinf(lf.full_cover)) {
      throw InputError("land cover fractions: full_cover must be > 0 (100 for percent, 1 for fractions)");
    }
  }
  if (in.background_speed_kmh) check_speed_value(*in.background_speed_kmh, "background_speed_kmh");
  for (const auto& b : in.barriers) {
    if (b.path.empty()) throw InputError("barrier: no file given");
  }
  for (const auto& r : in.roads) {
    if (r.path.empty()) throw InputError("roads: no file given");
  }
}

std::string count_note(int64_t n, const char* what) { return std::to_string(n) + " " + what; }

}  // namespace

FrictionUnit friction_unit_from_string(const std::string& name) {
  std::string n = name;
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  n.erase(std::remove(n.begin(), n.end(), ' '), n.end());
  if (n == "s/m" || n == "seconds_per_metre" || n == "seconds_per_meter") return FrictionUnit::SecondsPerMetre;
  if (n == "min/m" || n == "minutes_per_metre" || n == "minutes_per_meter") return FrictionUnit::MinutesPerMetre;
  if (n == "s/km" || n == "seconds_per_km") return FrictionUnit::SecondsPerKilometre;
  if (n == "min/km" || n == "minutes_per_km") return FrictionUnit::MinutesPerKilometre;
  if (n == "h/km" || n == "hours_per_km") return FrictionUnit::HoursPerKilometre;
  throw InputError("friction unit '" + name +
                   "' is not known; use 's/m', 'min/m' (Malaria Atlas Project surfaces), 's/km', 'min/km' or "
                   "'h/km'");
}

double seconds_per_metre_per_unit(FrictionUnit unit) {
  switch (unit) {
    case FrictionUnit::SecondsPerMetre: return 1.0;
    case FrictionUnit::MinutesPerMetre: return 60.0;
    case FrictionUnit::SecondsPerKilometre: return 1.0 / 1000.0;
    case FrictionUnit::MinutesPerKilometre: return 60.0 / 1000.0;
    case FrictionUnit::HoursPerKilometre: return 3600.0 / 1000.0;
  }
  return 1.0;
}

double speed_kmh_to_seconds_per_metre(double speed_kmh) {
  if (!(speed_kmh > 0.0)) return kNaN;  // 0, negative and NaN: impassable
  return 3.6 / speed_kmh;               // +inf -> 0
}

std::string add_landcover_speeds(const LandcoverClasses& lc, const GridSpec& grid, double* speed_kmh) {
  std::vector<double> cls = read_onto(lc.path, grid, lc.resampling, lc.band, "land cover raster");
  const std::string what = "land cover '" + lc.path + "' band " + std::to_string(lc.band);
  std::unordered_map<int64_t, double> table(lc.speed_kmh.begin(), lc.speed_kmh.end());
  std::map<int64_t, int64_t> missing;  // class -> cells
  std::map<int64_t, int64_t> used;
  int64_t nodata = 0;
  // First pass: validate every class before touching the output, so a failure changes nothing.
  for (double v : cls) {
    if (std::isnan(v)) {
      ++nodata;
      continue;
    }
    if (v != std::floor(v) || std::fabs(v) > 9.0e15) {
      throw InputError(what + ": value " + fmt(v) + " is not an integer class code; is this a class raster? "
                              "(for cover fractions use landcover fractions)");
    }
    auto c = static_cast<int64_t>(v);
    if (table.count(c)) ++used[c];
    else ++missing[c];
  }
  if (!missing.empty() && !lc.default_speed_kmh) {
    std::string list;
    int shown = 0;
    for (const auto& [c, n] : missing) {
      if (shown++ == 30) {
        list += ", ...";
        break;
      }
      list += (list.empty() ? "" : ", ") + std::to_string(c) + " (" + std::to_string(n) + " cells)";
    }
    throw InputError(what + ": " + std::to_string(missing.size()) + " class" + (missing.size() == 1 ? "" : "es") +
                     " on the grid have no speed in the table: " + list +
                     "; add them to the speed table (0 = impassable) or give a default speed");
  }
  const double dflt = lc.default_speed_kmh.value_or(kNaN);
  for (size_t i = 0; i < cls.size(); ++i) {
    if (std::isnan(cls[i])) continue;
    auto it = table.find(static_cast<int64_t>(cls[i]));
    max_into(speed_kmh[i], it != table.end() ? it->second : dflt);
  }
  std::string note = what + " (" + resampling_name(lc.resampling) + "): " + std::to_string(used.size()) +
                     " classes from the table on " + std::to_string(static_cast<int64_t>(cls.size()) - nodata) +
                     " cells, " + count_note(nodata, "cells without land cover");
  if (!missing.empty()) {
    int64_t cells = 0;
    std::string list;
    for (const auto& [c, n] : missing) {
      cells += n;
      list += (list.empty() ? "" : " ") + std::to_string(c);
    }
    note += "; classes not in the table (" + list + ") on " + std::to_string(cells) + " cells given the default " +
            fmt(dflt) + " km/h";
  }
  return note;
}

std::string add_landcover_fraction_speeds(const LandcoverFractions& lf, const GridSpec& grid, double* speed_kmh) {
  const size_t n = static_cast<size_t>(grid.size());
  std::vector<std::vector<double>> layers;
  layers.reserve(lf.paths.size());
  for (const auto& p : lf.paths) {
    layers.push_back(read_onto(p, grid, lf.resampling, 1, "land cover fraction raster"));
    for (double v : layers.back()) {
      if (v < 0.0) {
        throw InputError("land cover fraction '" + p + "': negative cover " + fmt(v) +
                         "; fractions must be >= 0 (is the nodata value declared?)");
      }
    }
  }
  std::vector<int64_t> dominant_cells(lf.paths.size() + 1, 0);
  int64_t nodata = 0;
  for (size_t i = 0; i < n; ++i) {
    double total = 0.0, best = -1.0;
    size_t best_k = lf.paths.size();  // "other"
    bool missing = false;
    for (size_t k = 0; k < layers.size(); ++k) {
      double v = layers[k][i];
      if (std::isnan(v)) {
        missing = true;
        break;
      }
      total += v;
      if (v > best) {  // strict: ties go to the first listed layer
        best = v;
        best_k = k;
      }
    }
    if (missing) {
      ++nodata;
      continue;
    }
    double other = std::max(0.0, lf.full_cover - total);
    if (other > best) best_k = lf.paths.size();
    ++dominant_cells[best_k];
    max_into(speed_kmh[i], best_k == lf.paths.size() ? lf.other_speed_kmh : lf.speeds_kmh[best_k]);
  }
  std::string note = "land cover fractions (" + std::string(resampling_name(lf.resampling)) +
                     ", dominant cover decides the speed):";
  for (size_t k = 0; k < lf.paths.size(); ++k) {
    note += " '" + lf.paths[k] + "' " + fmt(lf.speeds_kmh[k]) + " km/h on " + std::to_string(dominant_cells[k]) +
            " cells;";
  }
  note += " other " + fmt(lf.other_speed_kmh) + " km/h on " + std::to_string(dominant_cells.back()) + " cells; " +
          count_note(nodata, "cells without data in some layer (no speed)");
  return note;
}

void add_road_speeds(const RoadLayer& rl, const GridSpec& grid, double* speed_kmh, FrictionReport& report) {
  detail::check_grid(grid, "roads '" + rl.path + "'");
  detail::DatasetPtr ds_owner = detail::open_vector(rl.path, "roads");
  auto ds = static_cast<GDALDatasetH>(ds_owner.get());
  OGRLayerH lyr = pick_layer(ds, rl.path, rl.layer, true);
  const std::string lname = OGR_L_GetName(lyr);
  const std::string what = "roads '" + rl.path + "' layer '" + lname + "'";
  for (const auto& [cls, factor] : rl.speed_factor)
    if (!(factor > 0.0 && std::isfinite(factor)))
      throw InputError(what + ": speed factor of class '" + cls + "' is " + std::to_string(factor) +
                       "; factors multiply road speeds and must be finite numbers > 0");
  OGRFeatureDefnH defn = OGR_L_GetLayerDefn(lyr);
  const int class_idx = OGR_FD_GetFieldIndex(defn, rl.class_field.c_str());
  const int tags_idx = OGR_FD_GetFieldIndex(defn, "other_tags");
  const int maxspeed_idx = OGR_FD_GetFieldIndex(defn, "maxspeed");
  if (class_idx < 0 && tags_idx < 0) {
    std::string fields;
    for (int i = 0; i < OGR_FD_GetFieldCount(defn); ++i) {
      fields += (i ? ", " : "") + std::string(OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i)));
    }
    throw InputError(what + ": no field '" + rl.class_field + "' (nor OSM other_tags) to read the road class from; "
                     "fields are: " + fields + ". Pass the right class_field");
  }
  auto grid_srs = detail::parse_srs(grid.crs_wkt, "grid CRS");
  detail::SrsPtr layer_srs;
  auto ct = layer_to_grid(lyr, what, grid_srs, layer_srs);
  filter_layer(lyr, what, grid, *layer_srs, *grid_srs, rl.where);

  struct Road {
    double speed;
    OGRGeometryH geom;
  };
  std::vector<Road> roads;
  GeomList owned;  // owns every geometry until the end of the function
  int64_t used_maxspeed = 0, skipped = 0, unclassified = 0, features = 0;
  {
    // A truncated/corrupt file ends the feature stream early with a GDAL error: that must not become a
    // friction surface with some (or no) roads burned.
    detail::GdalReadFailures failures;
    OGR_L_ResetReading(lyr);
    while (OGRFeatureH f = OGR_L_GetNextFeature(lyr)) {
      std::unique_ptr<OGRFeature, void (*)(OGRFeature*)> feat(OGRFeature::FromHandle(f),
                                                             [](OGRFeature* p) { OGRFeature::DestroyFeature(p); });
      ++features;
      OGRGeometry* g = feat->GetGeometryRef();
      const char* tags = tags_idx >= 0 && feat->IsFieldSetAndNotNull(tags_idx) ? feat->GetFieldAsString(tags_idx)
                                                                               : nullptr;
      std::string cls;
      if (class_idx >= 0 && feat->IsFieldSetAndNotNull(class_idx)) cls = feat->GetFieldAsString(class_idx);
      else cls = other_tag(tags, rl.class_field);
      if (cls.empty()) {
        // No class at all: not a road (OSM "lines" also holds waterways, power lines, barriers ...).
        ++unclassified;
        continue;
      }
      if (g == nullptr || g->IsEmpty() || !is_line(g->getGeometryType())) {
        // Not a line (e.g. a highway=pedestrian area in a mixed layer): not burned as a road.
        ++skipped;
        ++report.skipped_classes[cls + " (not a line)"];
        continue;
      }
      std::optional<double> speed = rl.profile.speed_kmh(cls);
      if (!speed) {
        ++skipped;
        ++report.skipped_classes[cls];
        continue;
      }
      if (rl.profile.use_maxspeed()) {
        std::string ms;
        if (maxspeed_idx >= 0 && feat->IsFieldSetAndNotNull(maxspeed_idx)) ms = feat->GetFieldAsString(maxspeed_idx);
        else ms = other_tag(tags, "maxspeed");
        if (!ms.empty()) {
          if (auto v = parse_maxspeed(ms)) {
            speed = v;
            ++used_maxspeed;
          }
        }
      }
      if (!rl.speed_factor.empty()) {
        auto it = rl.speed_factor.find(cls);
        if (it == rl.speed_factor.end()) it = rl.speed_factor.find("*");
        if (it != rl.speed_factor.end()) *speed *= it->second;
      }
      OGRGeometry* mine = feat->StealGeometry();
      owned.geoms.push_back(OGRGeometry::ToHandle(mine));
      if (ct && mine->transform(ct.get()) != OGRERR_NONE) {
        ++skipped;
        ++report.skipped_classes[cls + " (cannot be reprojected)"];
        continue;
      }
      roads.push_back({*speed, OGRGeometry::ToHandle(mine)});
    }
    failures.throw_if_failed(what, std::to_string(features) + " features (" + std::to_string(roads.size()) +
                                       " roads)",
                             "download or export the file again and check it is complete");
  }
  if (roads.empty()) {
    // The user named a road file: burning nothing would silently turn a road network into background speed.
    std::string classes;
    for (const auto& [cls, count] : report.skipped_classes) {
      if (classes.size() > 200) {
        classes += ", ...";
        break;
      }
      classes += (classes.empty() ? "" : ", ") + cls + " " + std::to_string(count);
    }
    throw InputError(what + ": a road file without roads: no line of a class in profile '" + rl.profile.name() +
                     "' within the grid (" + std::to_string(features) + " features near the grid" +
                     (rl.where.empty() ? "" : " matching '" + rl.where + "'") + "; " + std::to_string(unclassified) +
                     " without a '" + rl.class_field + "' value" +
                     (classes.empty() ? "" : "; classes not used: " + classes) +
                     "). Check that the file covers the study area, the class field and the profile");
  }
  // Slowest first: the rasteriser burns in order (REPLACE), so the fastest road ends up in each cell.
  std::stable_sort(roads.begin(), roads.end(), [](const Road& a, const Road& b) { return a.speed < b.speed; });
  std::vector<OGRGeometryH> geoms;
  std::vector<double> burn;
  geoms.reserve(roads.size());
  burn.reserve(roads.size());
  for (const auto& r : roads) {
    geoms.push_back(r.geom);
    burn.push_back(r.speed);
  }
  std::vector<double> road(static_cast<size_t>(grid.size()), kNaN);
  rasterize_into(road.data(), grid, geoms, burn, rl.all_touched, what);
  int64_t cells = 0;
  for (size_t i = 0; i < road.size(); ++i) {
    if (std::isnan(road[i])) continue;
    ++cells;
    max_into(speed_kmh[i], road[i]);
  }
  report.road_features += static_cast<int64_t>(roads.size());
  report.road_features_skipped += skipped;
  report.road_cells += cells;
  std::map<double, int64_t> per_speed;
  for (const auto& r : roads) ++per_speed[r.speed];
  std::string note = what + ": " + std::to_string(roads.size()) + " lines burned (profile '" + rl.profile.name() +
                     "', " + (rl.all_touched ? "ALL_TOUCHED" : "cell centre on line") + ", fastest wins) on " +
                     std::to_string(cells) + " cells; " + std::to_string(used_maxspeed) + " at their maxspeed; " +
                     std::to_string(skipped) + " skipped (class not in the profile or not a line); " +
                     std::to_string(unclassified) + " features without a '" + rl.class_field + "' value ignored";
  report.notes.push_back(note);
}

namespace {

// Marks the barrier cells of `covered` (1 = covered by the source: inside a geometry or a non-zero mask cell,
// 0 = not covered, NaN = no data) as NaN in `values`: the covered cells, or with b.outside (a land mask)
// every cell that is not covered. Returns the number of cells marked.
int64_t mark_barrier_cells(const Barrier& b, const std::string& what, const std::vector<double>& covered,
                           double* values) {
  const size_t n = covered.size();
  int64_t marked = 0;
  int64_t land = 0;
  for (size_t i = 0; i < n; ++i) {
    const bool is_covered = !std::isnan(covered[i]) && covered[i] != 0.0;
    if (is_covered) ++land;
    if (is_covered != b.outside) {
      values[i] = kNaN;
      ++marked;
    }
  }
  if (b.outside && land == 0) {
    throw InputError(what + ": used as a land mask (outside = barrier) it marks no cell of the grid as land, so "
                     "every cell would be impassable; check the file, layer, filter and CRS");
  }
  return marked;
}

}  // namespace

int64_t apply_barrier(const Barrier& b, const GridSpec& grid, double* values, std::string* note) {
  detail::check_grid(grid, "barrier '" + b.path + "'");
  const size_t n = static_cast<size_t>(grid.size());
  if (b.is_raster) {
    const std::string what = "barrier mask '" + b.path + "' band " + std::to_string(b.band);
    std::vector<double> mask = read_onto(b.path, grid, Resampling::Nearest, b.band, nullptr);
    const int64_t marked = mark_barrier_cells(b, what, mask, values);
    if (note) {
      *note = what + (b.outside ? " (land mask: zero, nodata and off-raster cells = barrier): "
                                : " (non-zero = barrier): ") +
              std::to_string(marked) + " cells impassable";
    }
    return marked;
  }
  detail::DatasetPtr ds_owner = detail::open_vector(b.path, "barriers");
  auto ds = static_cast<GDALDatasetH>(ds_owner.get());
  OGRLayerH lyr = pick_layer(ds, b.path, b.layer, false);
  const std::string what = "barriers '" + b.path + "' layer '" + OGR_L_GetName(lyr) + "'";
  auto grid_srs = detail::parse_srs(grid.crs_wkt, "grid CRS");
  detail::SrsPtr layer_srs;
  auto ct = layer_to_grid(lyr, what, grid_srs, layer_srs);
  filter_layer(lyr, what, grid, *layer_srs, *grid_srs, b.where);
  GeomList owned;
  {
    detail::GdalReadFailures failures;  // a damaged file ends the stream early (see add_road_speeds)
    OGR_L_ResetReading(lyr);
    while (OGRFeatureH f = OGR_L_GetNextFeature(lyr)) {
      OGRGeometryH g = OGR_F_StealGeometry(f);
      OGR_F_Destroy(f);
      if (g == nullptr) continue;
      owned.geoms.push_back(g);
      if (ct && OGR_G_Transform(g, OGRCoordinateTransformation::ToHandle(ct.get())) != OGRERR_NONE) {
        throw CrsError(what + ": a geometry cannot be reprojected to the grid CRS");
      }
    }
    failures.throw_if_failed(what, std::to_string(owned.geoms.size()) + " geometries",
                             "export the file again and check it is complete");
  }
  std::vector<double> mask(n, 0.0);
  std::vector<double> ones(owned.geoms.size(), 1.0);
  rasterize_into(mask.data(), grid, owned.geoms, ones, b.all_touched, what);
  const int64_t marked = mark_barrier_cells(b, what, mask, values);
  if (note) {
    const char* rule = b.all_touched ? "all touched cells" : "cells whose centre is inside";
    *note = what + ": " + std::to_string(owned.geoms.size()) + " geometries (" +
            (b.outside ? std::string("land mask: every cell outside them is a barrier; land = ") + rule
                       : std::string(rule)) +
            "): " + std::to_string(marked) + " cells impassable";
  }
  return marked;
}

FrictionReport build_friction_surface_into(const GridSpec& grid, const FrictionInputs& in, double* out,
                                           RunControl* control) {
  ProgressSpan span(control, 0.0, 1.0, "friction");
  detail::check_grid(grid, "friction surface");
  validate_inputs(in);
  const size_t n = static_cast<size_t>(grid.size());
  FrictionReport rep;
  double* speed = out;  // the speed grid lives in the output buffer until the final conversion
  std::fill(speed, speed + n, kNaN);
  bool speed_empty = true;  // still all NaN: the next raster can be warped straight into it, no temporary

  // Raster layers first (the max-combine does not depend on the order): the first one needs no extra
  // grid-sized buffer, which matters at tens of millions of cells.
  auto add_raster = [&](const std::string& path, Resampling resampling, int band, const char* role,
                        auto&& to_speed) -> int64_t {
    std::vector<double> tmp;
    double* v = speed;
    if (!speed_empty) {
      tmp.resize(n);
      v = tmp.data();
    }
    {
      // Progress: the first raster layer's warp moves the bar to 90 % (the warps are the work); later
      // layers poll for cancellation but cannot move a monotone bar back.
      ProgressSpan warp(control, 0.0, 0.9);
      detail::require_data_on_grid(read_raster_into(path, grid, resampling, band, v, control), grid, role);
    }
    int64_t cells = 0;
    for (size_t i = 0; i < n; ++i) {
      if (std::isnan(v[i])) continue;
      const double kmh = to_speed(v[i]);
      ++cells;
      if (v == speed) speed[i] = kmh;
      else max_into(speed[i], kmh);
    }
    speed_empty = false;
    return cells;
  };
  if (in.speed_raster) {
    const auto& sr = *in.speed_raster;
    int64_t cells = add_raster(sr.path, sr.resampling, sr.band, "speed raster", [&](double kmh) {
      if (kmh < 0.0) {
        throw InputError("speed raster '" + sr.path + "': negative speed " + fmt(kmh) +
                         " km/h; speeds must be >= 0 (declare the nodata value if it is a fill)");
      }
      return kmh;
    });
    rep.notes.push_back("speed raster '" + sr.path + "' band " + std::to_string(sr.band) + " (km/h, " +
                        resampling_name(sr.resampling) + ") on " + std::to_string(cells) + " cells");
  }
  if (in.friction_raster) {
    const auto& fr = *in.friction_raster;
    const double factor = seconds_per_metre_per_unit(fr.unit);
    int64_t cells = add_raster(fr.path, fr.resampling, fr.band, "friction raster", [&](double f) {
      if (f < 0.0) {
        throw InputError("friction raster '" + fr.path + "': negative friction " + fmt(f) +
                         "; friction must be >= 0 (declare the nodata value if it is a fill)");
      }
      // As a speed so it max-combines with the other layers: 0 s/m -> +inf km/h -> back to 0 s/m.
      return f == 0.0 ? std::numeric_limits<double>::infinity() : 3.6 / (f * factor);
    });
    static const char* unit_names[] = {"s/m", "min/m", "s/km", "min/km", "h/km"};
    rep.notes.push_back("friction raster '" + fr.path + "' band " + std::to_string(fr.band) + " (" +
                        unit_names[static_cast<int>(fr.unit)] + ", " + resampling_name(fr.resampling) + ") on " +
                        std::to_string(cells) + " cells");
  }
  if (in.background_speed_kmh) {
    const double bg = *in.background_speed_kmh;
    for (size_t i = 0; i < n; ++i) max_into(speed[i], bg);
    rep.notes.push_back("background speed " + fmt(bg) + " km/h on every cell");
  }
  if (in.speed_kmh_on_grid != nullptr) {
    int64_t cells = 0;
    for (size_t i = 0; i < n; ++i) {
      const double v = in.speed_kmh_on_grid[i];
      if (v < 0.0 || std::isinf(v)) {
        throw InputError("speed array: value " + fmt(v) + " km/h at row " + std::to_string(i / grid.width) +
                         ", column " + std::to_string(i % grid.width) +
                         " is not a finite speed >= 0 (use NaN for 'no speed here')");
      }
      if (!std::isnan(v)) ++cells;
      max_into(speed[i], v);
    }
    rep.notes.push_back("speed array on the grid (km/h) on " + std::to_string(cells) + " cells");
  }
  throw_if_cancelled(control);
  if (in.landcover) rep.notes.push_back(add_landcover_speeds(*in.landcover, grid, speed));
  throw_if_cancelled(control);
  if (in.landcover_fractions) rep.notes.push_back(add_landcover_fraction_speeds(*in.landcover_fractions, grid, speed));
  throw_if_cancelled(control);
  for (const auto& r : in.roads) {
    add_road_speeds(r, grid, speed, rep);
    throw_if_cancelled(control);
  }
  for (const auto& b : in.barriers) {
    throw_if_cancelled(control);
    std::string note;
    rep.barrier_cells += apply_barrier(b, grid, speed, &note);
    rep.notes.push_back(note);
  }
  int64_t impassable = 0;
  for (size_t i = 0; i < n; ++i) {
    out[i] = speed_kmh_to_seconds_per_metre(speed[i]);
    if (std::isnan(out[i])) ++impassable;
  }
  rep.impassable_cells = impassable;
  rep.notes.push_back("friction = 3.6 / speed_kmh s/m, fastest layer per cell; " + std::to_string(impassable) +
                      " of " + std::to_string(n) + " cells impassable (speed 0, barrier, or no data in any layer)");
  return rep;
}

FrictionSurface build_friction_surface(const GridSpec& grid, const FrictionInputs& inputs, RunControl* control) {
  detail::check_grid(grid, "friction surface");
  FrictionSurface fs;
  fs.grid = grid;
  fs.seconds_per_metre.resize(static_cast<size_t>(grid.size()));
  fs.report = build_friction_surface_into(grid, inputs, fs.seconds_per_metre.data(), control);
  return fs;
}

}  // namespace careshed
