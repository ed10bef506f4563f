// io.cpp — OGR vector reading (read_vector) and atomic multi-layer writing (write_vector).
#include "careshed/io.hpp"

#include <cpl_conv.h>
#include <cpl_string.h>
#include <gdal.h>
#include <gdal_priv.h>
#include <ogr_api.h>
#include <ogrsf_frmts.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <random>
#include <sstream>
#include <system_error>

#include "careshed/error.hpp"
#include "careshed/progress.hpp"
#include "crs_internal.hpp"
#include "gdal_util.hpp"

namespace fs = std::filesystem;

namespace careshed {

// ---- Column / VectorTable helpers -----------------------------------------------------------------

Column Column::of_ints(std::string name, std::vector<int64_t> values) {
  Column c;
  c.name = std::move(name);
  c.type = Type::Int64;
  c.ints = std::move(values);
  return c;
}

Column Column::of_reals(std::string name, std::vector<double> values) {
  Column c;
  c.name = std::move(name);
  c.type = Type::Float64;
  c.reals = std::move(values);
  return c;
}

Column Column::of_strings(std::string name, std::vector<std::string> values) {
  Column c;
  c.name = std::move(name);
  c.type = Type::String;
  c.string_null.assign(values.size(), 0);
  c.strings = std::move(values);
  return c;
}

std::size_t Column::size() const {
  switch (type) {
    case Type::Int64: return ints.size();
    case Type::Float64: return reals.size();
    case Type::String: return strings.size();
  }
  return 0;
}

bool Column::is_null(std::size_t i) const {
  switch (type) {
    case Type::Int64: return false;
    case Type::Float64: return std::isnan(reals[i]);
    case Type::String: return string_null[i] != 0;
  }
  return true;
}

std::string Column::text(std::size_t i) const {
  if (is_null(i)) return "";
  switch (type) {
    case Type::Int64: return std::to_string(ints[i]);
    case Type::Float64: {
      double v = reals[i];
      if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9.0e15) {
        return std::to_string(static_cast<int64_t>(v));
      }
      std::ostringstream s;
      s.precision(17);
      s << v;
      return s.str();
    }
    case Type::String: return strings[i];
  }
  return "";
}

namespace {

/// Parses a whole string (leading/trailing blanks allowed) as a finite or infinite double.
std::optional<double> parse_number(const std::string& s) {
  const char* begin = s.c_str();
  while (*begin != '\0' && std::isspace(static_cast<unsigned char>(*begin))) ++begin;
  if (*begin == '\0') return std::nullopt;
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(begin, &end);
  if (end == begin) return std::nullopt;
  while (*end != '\0' && std::isspace(static_cast<unsigned char>(*end))) ++end;
  if (*end != '\0' || std::isnan(v)) return std::nullopt;
  return v;
}

/// An integer as written in a CSV that is safe to store as int64: optional sign, digits, no leading zero
/// (so identifiers like "0012" stay text).
bool is_plain_integer(const std::string& s, int64_t* out) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  if (i == s.size() || s.size() - i > 18) return false;
  if (s[i] == '0' && s.size() - i > 1) return false;
  for (std::size_t j = i; j < s.size(); ++j) {
    if (!std::isdigit(static_cast<unsigned char>(s[j]))) return false;
  }
  *out = std::strtoll(s.c_str(), nullptr, 10);
  return true;
}

std::string join(const std::vector<std::string>& items, const std::string& sep = ", ") {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

std::string quoted_list(const std::vector<std::string>& items) {
  std::vector<std::string> q;
  q.reserve(items.size());
  for (const auto& s : items) q.push_back("'" + s + "'");
  return q.empty() ? std::string("(none)") : join(q);
}

}  // namespace

std::optional<double> Column::number(std::size_t i) const {
  if (is_null(i)) return std::nullopt;
  switch (type) {
    case Type::Int64: return static_cast<double>(ints[i]);
    case Type::Float64: return reals[i];
    case Type::String: return parse_number(strings[i]);
  }
  return std::nullopt;
}

int VectorTable::column_index(const std::string& name) const {
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

const Column& VectorTable::column(const std::string& name) const {
  int i = column_index(name);
  if (i < 0) {
    std::vector<std::string> names;
    for (const auto& c : columns) names.push_back(c.name);
    throw InputError(describe() + ": no field '" + name + "'; available fields: " + quoted_list(names));
  }
  return columns[static_cast<std::size_t>(i)];
}

std::string VectorTable::describe() const {
  std::string s = source.empty() ? std::string("<in-memory table>") : source;
  if (!layer.empty()) s += " (layer '" + layer + "')";
  return s;
}

std::string VectorTable::describe_row(std::size_t i) const {
  std::string s = "data row " + std::to_string(i + 1);
  if (i < fid.size()) s += " (fid " + std::to_string(fid[i]) + ")";
  return s;
}

// ---- reading ----------------------------------------------------------------------------------------

namespace {

struct DatasetClose {
  void operator()(GDALDataset* ds) const {
    if (ds) GDALClose(GDALDataset::ToHandle(ds));
  }
};
using DatasetPtr = std::unique_ptr<GDALDataset, DatasetClose>;

/// "PG:...", "MySQL:...", "WFS:http..." and /vsi paths are not files: never answer "no such file" for them.
/// A single letter before ':' is a Windows drive, which is a file path.
bool looks_like_connection_string(const std::string& s) {
  if (s.rfind("/vsi", 0) == 0) return true;
  std::size_t colon = s.find(':');
  if (colon == std::string::npos || colon < 2) return false;
  for (std::size_t i = 0; i < colon; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (!(std::isalnum(c) || c == '_')) return false;
  }
  return true;
}

DatasetPtr open_vector(const std::string& source) {
  detail::ensure_gdal_registered();
  if (source.empty()) throw DataIOError("read_vector: the source path is empty");
  if (!looks_like_connection_string(source)) {
    std::error_code ec;
    if (!fs::exists(fs::path(source), ec)) {
      throw DataIOError(source + ": no such file (check the path; relative paths are relative to " +
                        fs::current_path(ec).string() + ")");
    }
  }
  detail::QuietGdalErrors quiet;
  GDALDatasetH h = GDALOpenEx(source.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, nullptr, nullptr, nullptr);
  if (h == nullptr) {
    detail::throw_gdal_io(source, "cannot open as a vector data source (is it a GeoJSON, GeoPackage, "
                                  "Shapefile, CSV or a reachable PostGIS database?)");
  }
  return DatasetPtr(GDALDataset::FromHandle(h));
}

std::vector<std::string> layer_names(GDALDataset& ds) {
  std::vector<std::string> names;
  for (int i = 0; i < ds.GetLayerCount(); ++i) {
    OGRLayer* l = ds.GetLayer(i);
    if (l) names.emplace_back(l->GetName());
  }
  return names;
}

std::string geometry_type_name(OGRwkbGeometryType t) {
  switch (wkbFlatten(t)) {
    case wkbNone: return "None";
    case wkbPoint: return "Point";
    case wkbLineString: return "LineString";
    case wkbPolygon: return "Polygon";
    case wkbMultiPoint: return "MultiPoint";
    case wkbMultiLineString: return "MultiLineString";
    case wkbMultiPolygon: return "MultiPolygon";
    case wkbGeometryCollection: return "GeometryCollection";
    default: return "Unknown";
  }
}

Wkb to_wkb(const OGRGeometry& g) {
  Wkb out(g.WkbSize());
  g.exportToWkb(wkbNDR, out.data(), wkbVariantIso);
  return out;
}

// Per-field accumulation while reading; finalised into Column once all features are read.
struct FieldReader {
  std::string name;
  int ogr_index = -1;
  OGRFieldType ogr_type = OFTString;
  std::vector<int64_t> ints;
  std::vector<uint8_t> null;
  std::vector<double> reals;
  std::vector<std::string> strings;
};

/// CSV columns arrive as text: type them here (instead of OGR's AUTODETECT_TYPE, which turns "0012" into
/// 12 and would lose identifiers' leading zeros). All non-empty values plain integers → Int64 (Float64 with
/// NaN if some are empty); all numeric → Float64; else String.
Column type_text_column(FieldReader& f) {
  Column c;
  c.name = f.name;
  const std::size_t n = f.strings.size();
  bool all_int = true, all_num = true, any_value = false, any_empty = false;
  std::vector<int64_t> ints(n, 0);
  std::vector<double> reals(n, std::numeric_limits<double>::quiet_NaN());
  for (std::size_t i = 0; i < n && all_num; ++i) {
    const std::string& s = f.strings[i];
    if (f.null[i] || s.empty()) {
      any_empty = true;
      continue;
    }
    any_value = true;
    int64_t iv = 0;
    if (all_int && is_plain_integer(s, &iv)) {
      ints[i] = iv;
      reals[i] = static_cast<double>(iv);
      continue;
    }
    all_int = false;
    auto v = parse_number(s);
    if (!v || s.find_first_of("xXpP") != std::string::npos) {  // refuse hex floats like "0x10"
      all_num = false;
      break;
    }
    // Leading-zero numbers like "007" are codes, not quantities.
    std::size_t k = (s[0] == '-' || s[0] == '+') ? 1 : 0;
    if (s.size() > k + 1 && s[k] == '0' && std::isdigit(static_cast<unsigned char>(s[k + 1]))) {
      all_num = false;
      break;
    }
    reals[i] = *v;
  }
  if (any_value && all_num && all_int && !any_empty) {
    c.type = Column::Type::Int64;
    c.ints = std::move(ints);
  } else if (any_value && all_num) {
    c.type = Column::Type::Float64;
    c.reals = std::move(reals);
  } else {
    c.type = Column::Type::String;
    c.strings = std::move(f.strings);
    c.string_null = std::move(f.null);
  }
  return c;
}

Column finalise(FieldReader& f, bool type_text) {
  Column c;
  c.name = f.name;
  switch (f.ogr_type) {
    case OFTInteger:
    case OFTInteger64: {
      bool any_null = std::any_of(f.null.begin(), f.null.end(), [](uint8_t b) { return b != 0; });
      if (!any_null) {
        c.type = Column::Type::Int64;
        c.ints = std::move(f.ints);
      } else {
        c.type = Column::Type::Float64;
        c.reals.resize(f.ints.size());
        for (std::size_t i = 0; i < f.ints.size(); ++i) {
          c.reals[i] = f.null[i] ? std::numeric_limits<double>::quiet_NaN() : static_cast<double>(f.ints[i]);
        }
      }
      return c;
    }
    case OFTReal:
      c.type = Column::Type::Float64;
      c.reals = std::move(f.reals);
      return c;
    default:
      if (type_text && f.ogr_type == OFTString) return type_text_column(f);
      c.type = Column::Type::String;
      c.strings = std::move(f.strings);
      c.string_null = std::move(f.null);
      return c;
  }
}

std::string short_crs_name(const OGRSpatialReference& srs) {
  const char* name = srs.GetName();
  auto epsg = detail::srs_epsg(srs);
  std::string s = name ? name : "unnamed CRS";
  if (epsg) s += " (EPSG:" + std::to_string(*epsg) + ")";
  return s;
}

/// Coordinates impossible in a geographic CRS are almost always projected metres under a lon/lat label
/// (GeoJSON is lon/lat by RFC 7946): refusing them here saves a silently empty analysis later.
void check_lonlat(double minx, double maxx, double miny, double maxy, const std::string& where,
                  const VectorTable& t, std::size_t row) {
  constexpr double tol = 1e-7;
  if (minx < -180.0 - tol || maxx > 180.0 + tol || miny < -90.0 - tol || maxy > 90.0 + tol) {
    std::ostringstream s;
    s.precision(10);
    s << where << ": " << t.describe_row(row) << " has coordinates (x " << minx << ".." << maxx << ", y "
      << miny << ".." << maxy << ") that cannot be longitude/latitude, but the CRS is geographic"
      << (t.epsg ? " (EPSG:" + std::to_string(*t.epsg) + ")" : std::string())
      << ". The coordinates are probably projected (metres): declare their real CRS (crs=... for a CSV, "
         "or fix the file's CRS; a GeoJSON must be in lon/lat) or check that x is longitude and y latitude";
    throw CrsError(s.str());
  }
}

}  // namespace

std::vector<std::string> list_layers(const std::string& source) {
  DatasetPtr ds = open_vector(source);
  return layer_names(*ds);
}

VectorTable read_vector(const std::string& source, const ReadOptions& options, RunControl* control) {
  ProgressSpan span(control, 0.0, 1.0, "reading");
  DatasetPtr ds = open_vector(source);
  detail::QuietGdalErrors quiet;

  // -- layer
  OGRLayer* layer = nullptr;
  if (options.layer.empty()) {
    std::vector<std::string> names = layer_names(*ds);
    if (names.empty()) throw InputError(source + ": contains no vector layer");
    if (names.size() > 1) {
      throw InputError(source + ": has " + std::to_string(names.size()) +
                       " layers, say which one to read (layer=...): " + quoted_list(names));
    }
    layer = ds->GetLayer(0);
  } else {
    layer = ds->GetLayerByName(options.layer.c_str());
    if (layer == nullptr) {
      detail::take_gdal_error();
      throw InputError(source + ": no layer '" + options.layer + "'; available layers: " +
                       quoted_list(layer_names(*ds)));
    }
  }

  VectorTable t;
  t.source = source;
  t.layer = layer->GetName();
  const std::string where = t.describe();
  OGRFeatureDefn* defn = layer->GetLayerDefn();
  const bool is_csv = ds->GetDriver() != nullptr && EQUAL(ds->GetDriver()->GetDescription(), "CSV");

  // -- fields
  std::vector<std::string> available;
  for (int i = 0; i < defn->GetFieldCount(); ++i) available.emplace_back(defn->GetFieldDefn(i)->GetNameRef());
  auto field_index = [&](const std::string& name, const char* role) {
    int idx = defn->GetFieldIndex(name.c_str());
    if (idx < 0) {
      throw InputError(where + ": no field '" + name + "'" + role + "; available fields: " +
                       quoted_list(available));
    }
    return idx;
  };
  std::vector<FieldReader> readers;
  std::vector<std::string> wanted = options.fields ? *options.fields : available;
  for (const auto& name : wanted) {
    FieldReader f;
    f.ogr_index = field_index(name, "");
    f.name = defn->GetFieldDefn(f.ogr_index)->GetNameRef();
    f.ogr_type = defn->GetFieldDefn(f.ogr_index)->GetType();
    readers.push_back(std::move(f));
  }
  const bool from_xy = !options.x_field.empty() || !options.y_field.empty();
  int x_idx = -1, y_idx = -1;
  if (from_xy) {
    if (options.x_field.empty() || options.y_field.empty()) {
      throw InputError(where + ": give both x_field and y_field (got x_field='" + options.x_field +
                       "', y_field='" + options.y_field + "')");
    }
    x_idx = field_index(options.x_field, " (x_field)");
    y_idx = field_index(options.y_field, " (y_field)");
  }
  const bool has_geometry = from_xy || layer->GetGeomType() != wkbNone;

  // -- CRS
  detail::SrsPtr srs;
  const OGRSpatialReference* layer_srs = has_geometry ? layer->GetSpatialRef() : nullptr;
  if (!options.crs.empty()) {
    srs = detail::parse_srs(options.crs, where + ": argument crs");
    if (layer_srs != nullptr && !detail::srs_equivalent(*layer_srs, *srs)) {
      throw CrsError(where + ": the data declares the CRS " + short_crs_name(*layer_srs) +
                     " but crs='" + options.crs + "' was given; drop the crs argument (or reproject the data "
                     "first if its declared CRS is wrong)");
    }
  } else if (layer_srs != nullptr) {
    srs.reset(layer_srs->Clone());
    srs->SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  } else if (has_geometry) {
    throw CrsError(where + ": has no coordinate reference system; pass crs='EPSG:4326' (or the right one) "
                           "saying what the coordinates are");
  }
  if (srs) {
    t.crs_wkt = detail::srs_to_wkt2(*srs);
    t.epsg = detail::srs_epsg(*srs);
    t.is_geographic = srs->IsGeographic() != 0;
  }
  t.geometry_type = from_xy ? "Point" : geometry_type_name(layer->GetGeomType());

  // -- features. A damaged file (truncated GeoJSON/GeoPackage/Shapefile) makes the driver report an error and
  // end the stream early: that is an error here, never a table of the rows that happened to come first.
  detail::GdalReadFailures failures;
  layer->ResetReading();
  std::size_t row = 0;
  const double n_features = control ? static_cast<double>(layer->GetFeatureCount(FALSE)) : -1.0;  // -1: unknown
  for (auto& feature : *layer) {
    if (control && row % 4096 == 0) {
      control->throw_if_cancelled();
      if (n_features > 0) control->report(static_cast<double>(row) / n_features);
    }
    ++row;
    t.fid.push_back(feature->GetFID());
    for (auto& f : readers) {
      const int k = f.ogr_index;
      const bool null = !feature->IsFieldSetAndNotNull(k);
      f.null.push_back(null ? 1 : 0);
      switch (f.ogr_type) {
        case OFTInteger:
        case OFTInteger64: f.ints.push_back(null ? 0 : feature->GetFieldAsInteger64(k)); break;
        case OFTReal:
          f.reals.push_back(null ? std::numeric_limits<double>::quiet_NaN() : feature->GetFieldAsDouble(k));
          break;
        default: f.strings.emplace_back(null ? "" : feature->GetFieldAsString(k)); break;
      }
    }
    if (from_xy) {
      double xy[2];
      const int idx[2] = {x_idx, y_idx};
      const std::string* names[2] = {&options.x_field, &options.y_field};
      for (int a = 0; a < 2; ++a) {
        std::optional<double> v;
        std::string raw;
        if (feature->IsFieldSetAndNotNull(idx[a])) {
          raw = feature->GetFieldAsString(idx[a]);
          OGRFieldType ft = defn->GetFieldDefn(idx[a])->GetType();
          v = (ft == OFTReal || ft == OFTInteger || ft == OFTInteger64)
                  ? std::optional<double>(feature->GetFieldAsDouble(idx[a]))
                  : parse_number(raw);
        }
        if (!v || !std::isfinite(*v)) {
          throw InputError(where + ": " + t.describe_row(row - 1) + ", field '" + *names[a] + "': " +
                           (raw.empty() ? std::string("empty value") : "'" + raw + "' is not a number") +
                           "; every row needs numeric coordinates (fix or remove the row)");
        }
        xy[a] = *v;
      }
      OGRPoint p(xy[0], xy[1]);
      t.wkb.push_back(to_wkb(p));
      if (t.is_geographic) check_lonlat(xy[0], xy[0], xy[1], xy[1], where, t, row - 1);
    } else if (has_geometry) {
      const OGRGeometry* g = feature->GetGeometryRef();
      t.wkb.push_back(g ? to_wkb(*g) : Wkb());
      if (t.is_geographic && g != nullptr && !g->IsEmpty()) {
        OGREnvelope env;
        g->getEnvelope(&env);
        check_lonlat(env.MinX, env.MaxX, env.MinY, env.MaxY, where, t, row - 1);
      }
    } else {
      t.wkb.emplace_back();
    }
  }
  failures.throw_if_failed(where, std::to_string(row) + " features",
                           "export the layer again (e.g. with ogr2ogr) and check the file is complete");
  for (auto& f : readers) t.columns.push_back(finalise(f, is_csv));
  return t;
}

// ---- writing ----------------------------------------------------------------------------------------

namespace {

std::string driver_for(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".geojson" || ext == ".json") return "GeoJSON";
  if (ext == ".shp") return "ESRI Shapefile";
  if (ext == ".fgb") return "FlatGeobuf";
  if (ext == ".csv") return "CSV";
  return "GPKG";
}

OGRwkbGeometryType geometry_type_from_name(const std::string& name, const std::string& where) {
  std::string n;
  for (char c : name) {
    if (c != ' ' && c != '_') n += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (n == "none") return wkbNone;
  if (n.empty() || n == "unknown" || n == "geometry") return wkbUnknown;
  static const std::pair<const char*, OGRwkbGeometryType> names[] = {
      {"point", wkbPoint},           {"linestring", wkbLineString},
      {"polygon", wkbPolygon},       {"multipoint", wkbMultiPoint},
      {"multilinestring", wkbMultiLineString}, {"multipolygon", wkbMultiPolygon},
      {"geometrycollection", wkbGeometryCollection}};
  for (const auto& [k, v] : names) {
    if (n == k) return v;
  }
  throw InputError(where + ": unknown geometry type '" + name +
                   "' (use Point, LineString, Polygon, MultiPoint, MultiLineString, MultiPolygon, "
                   "GeometryCollection, Unknown or None)");
}

/// Removes a temporary directory on scope exit unless released.
class TempDir {
 public:
  explicit TempDir(const fs::path& dir) : dir_(dir) {}
  ~TempDir() {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return dir_; }

 private:
  fs::path dir_;
};

void write_layer(GDALDataset& ds, const VectorTable& t, const std::string& where) {
  const std::string lw = where + ", layer '" + t.layer + "'";
  if (t.layer.empty()) throw InputError(where + ": every layer needs a name");
  const std::size_t n = t.wkb.size();
  for (const auto& c : t.columns) {
    if (c.size() != n) {
      throw InputError(lw + ": column '" + c.name + "' has " + std::to_string(c.size()) + " values but there are " +
                       std::to_string(n) + " geometries");
    }
    if (c.type == Column::Type::String && c.string_null.size() != c.strings.size()) {
      throw InputError(lw + ": column '" + c.name + "': string_null must have one flag per value");
    }
  }
  OGRwkbGeometryType gtype = geometry_type_from_name(t.geometry_type, lw);
  detail::SrsPtr srs;
  if (!t.crs_wkt.empty()) srs = detail::parse_srs(t.crs_wkt, lw + ": crs_wkt");
  OGRLayer* layer = ds.CreateLayer(t.layer.c_str(), srs.get(), gtype, nullptr);
  if (layer == nullptr) detail::throw_gdal_io(lw, "cannot create the layer");
  for (const auto& c : t.columns) {
    OGRFieldType ft = c.type == Column::Type::Int64 ? OFTInteger64
                      : c.type == Column::Type::Float64 ? OFTReal
                                                       : OFTString;
    OGRFieldDefn fd(c.name.c_str(), ft);
    if (layer->CreateField(&fd) != OGRERR_NONE) detail::throw_gdal_io(lw, "cannot create field '" + c.name + "'");
  }
  OGRFeatureDefn* defn = layer->GetLayerDefn();
  // Fields are created in column order, so field k of the layer is column k even if the driver laundered
  // its name (e.g. Shapefile's 10-character limit).
  const bool transaction = layer->StartTransaction() == OGRERR_NONE;
  for (std::size_t i = 0; i < n; ++i) {
    OGRFeature feature(defn);
    for (std::size_t k = 0; k < t.columns.size(); ++k) {
      const Column& c = t.columns[k];
      const int idx = static_cast<int>(k);
      if (c.is_null(i)) {
        feature.SetFieldNull(idx);
        continue;
      }
      switch (c.type) {
        case Column::Type::Int64: feature.SetField(idx, static_cast<GIntBig>(c.ints[i])); break;
        case Column::Type::Float64: feature.SetField(idx, c.reals[i]); break;
        case Column::Type::String: feature.SetField(idx, c.strings[i].c_str()); break;
      }
    }
    if (!t.wkb[i].empty() && gtype != wkbNone) {
      OGRGeometry* g = nullptr;
      if (OGRGeometryFactory::createFromWkb(t.wkb[i].data(), nullptr, &g, t.wkb[i].size()) != OGRERR_NONE ||
          g == nullptr) {
        throw InputError(lw + ": geometry " + std::to_string(i) + " is not valid WKB");
      }
      feature.SetGeometryDirectly(g);
    }
    if (layer->CreateFeature(&feature) != OGRERR_NONE) {
      detail::throw_gdal_io(lw, "cannot write feature " + std::to_string(i));
    }
  }
  if (transaction && layer->CommitTransaction() != OGRERR_NONE) detail::throw_gdal_io(lw, "cannot commit");
}

}  // namespace

void write_vector(const std::string& path, const std::vector<VectorTable>& layers, const std::string& driver) {
  detail::ensure_gdal_registered();
  if (path.empty()) throw InputError("write_vector: the output path is empty");
  if (layers.empty()) throw InputError("write_vector " + path + ": no layers to write");
  const fs::path dest = fs::absolute(fs::path(path));
  const fs::path dir = dest.parent_path();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw DataIOError(path + ": the directory " + dir.string() + " does not exist (create it first)");
  }
  if (fs::is_directory(dest, ec)) throw DataIOError(path + ": is a directory, give a file name");
  const std::string driver_name = driver.empty() ? driver_for(dest) : driver;
  GDALDriver* drv = GetGDALDriverManager()->GetDriverByName(driver_name.c_str());
  if (drv == nullptr || drv->GetMetadataItem(GDAL_DCAP_VECTOR) == nullptr ||
      drv->GetMetadataItem(GDAL_DCAP_CREATE) == nullptr) {
    throw InputError("write_vector " + path + ": '" + driver_name +
                     "' is not an OGR vector driver that can create files (try 'GPKG')");
  }
  if (layers.size() > 1 && driver_name != "GPKG" && driver_name != "SQLite") {
    throw InputError("write_vector " + path + ": " + std::to_string(layers.size()) + " layers need a multi-layer "
                     "format; write a GeoPackage (.gpkg) or one file per layer");
  }

  // A fresh directory next to the destination (same file system, so the final rename is atomic per file);
  // the dataset is written inside under the destination's own name, so a Shapefile's side files come out
  // with the right names.
  std::random_device rd;
  fs::path tmp;
  for (int attempt = 0; attempt < 100; ++attempt) {
    tmp = dir / (".careshed-tmp-" + dest.filename().string() + "-" + std::to_string(rd() % 1000000000u));
    if (fs::create_directory(tmp, ec)) break;
    tmp.clear();
  }
  if (tmp.empty()) throw DataIOError(path + ": cannot create a temporary directory in " + dir.string());
  TempDir guard(tmp);
  const fs::path tmp_file = tmp / dest.filename();
  {
    detail::QuietGdalErrors quiet;
    DatasetPtr ds(drv->Create(tmp_file.string().c_str(), 0, 0, 0, GDT_Unknown, nullptr));
    if (!ds) detail::throw_gdal_io(path, "cannot create the file with the " + driver_name + " driver");
    for (const auto& t : layers) write_layer(*ds, t, "write_vector " + path);
    ds.reset();  // flush and close
    if (CPLGetLastErrorType() >= CE_Failure) detail::throw_gdal_io(path, "failed while closing the file");
    detail::take_gdal_error();
  }
  std::vector<fs::path> produced;
  for (const auto& entry : fs::directory_iterator(tmp)) produced.push_back(entry.path());
  if (produced.empty()) throw DataIOError(path + ": the " + driver_name + " driver wrote nothing");
  for (const auto& p : produced) {
    fs::rename(p, dir / p.filename(), ec);
    if (ec) throw DataIOError(path + ": cannot move the finished file into place: " + ec.message());
  }
}

}  // namespace careshed
