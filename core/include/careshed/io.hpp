// careshed/io.hpp — reading and writing vector data through GDAL/OGR.
//
// read_vector() opens anything OGR opens — GeoJSON, GeoPackage, Shapefile, CSV (points from two numeric
// columns), a PostGIS connection string "PG:dbname=... host=..." — and returns one layer as a VectorTable:
// a plain value holding the CRS, one ISO WKB geometry per feature, the feature ids and typed columns.
// write_vector() writes one or more VectorTables as layers of ONE file (GeoPackage by default), first to a
// temporary directory next to the destination, then renames, so a failure never leaves a partial file.
//
// Coordinates are in traditional GIS order (x = lon/easting, y = lat/northing), see crs.hpp.
// Errors (all messages name the source, layer, field and row concerned, and what to do):
//   DataIOError  missing file, unopenable source, write failure;
//   InputError   missing layer (lists the layers), missing field (lists the fields), bad x/y values;
//   CrsError     no CRS and none given, a given CRS contradicting the source's, coordinates impossible in a
//                geographic CRS (e.g. metres in a GeoJSON).
// Thread-safety: functions are re-entrant; different threads may read different (or the same) sources.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "careshed/crs.hpp"

namespace careshed {

class RunControl;  // careshed/progress.hpp

/// One attribute column of a VectorTable. Exactly one of ints / reals / strings is filled, by `type`.
struct Column {
  enum class Type {
    Int64,    ///< OGR Integer / Integer64 without nulls
    Float64,  ///< OGR Real, or an integer column with nulls; null = NaN
    String    ///< everything else, as OGR formats it; null = string_null[i] != 0
  };
  std::string name;
  Type type = Type::String;
  std::vector<int64_t> ints;
  std::vector<double> reals;
  std::vector<std::string> strings;
  std::vector<uint8_t> string_null;  ///< for String columns: 1 where the value is null

  /// Convenience constructors for building tables in memory.
  static Column of_ints(std::string name, std::vector<int64_t> values);
  static Column of_reals(std::string name, std::vector<double> values);  ///< NaN = null
  static Column of_strings(std::string name, std::vector<std::string> values);  ///< no nulls

  std::size_t size() const;
  /// True when row i is null (NaN for Float64, string_null for String; Int64 columns have no nulls).
  bool is_null(std::size_t i) const;
  /// Row i as text (integers without decimals, null → ""); for messages and ids.
  std::string text(std::size_t i) const;
  /// Row i as a number. Int64/Float64 directly, String parsed (whole string, surrounding blanks allowed).
  /// std::nullopt for null or non-numeric values.
  std::optional<double> number(std::size_t i) const;
};

/// One layer of a vector source, fully in memory.
struct VectorTable {
  std::string source;         ///< the path or connection string it was read from
  std::string layer;          ///< layer name
  std::string crs_wkt;        ///< WKT2; "" only for a table without geometry
  std::optional<int> epsg;    ///< EPSG code when the CRS is (equivalent to) one
  bool is_geographic = false; ///< lon/lat CRS
  std::string geometry_type;  ///< "Point", "LineString", "Polygon", "MultiPoint", "MultiLineString",
                              ///< "MultiPolygon", "GeometryCollection", "Unknown" (mixed) or "None"
  std::vector<Wkb> wkb;       ///< one per feature, layer order; empty = null geometry
  std::vector<int64_t> fid;   ///< OGR feature id per feature
  std::vector<Column> columns;

  std::size_t size() const { return fid.size(); }
  /// Index of a column, or -1.
  int column_index(const std::string& name) const;
  /// The column called `name`; InputError naming the source, layer and the available columns if absent.
  const Column& column(const std::string& name) const;
  /// "file.geojson (layer 'counties')" — the prefix every message about this table uses.
  std::string describe() const;
  /// "data row 3 (fid 2)" — how messages name row i (1-based data row + feature id).
  std::string describe_row(std::size_t i) const;
};

/// Options of read_vector. Every member is optional.
struct ReadOptions {
  /// Layer name; "" = the only layer (InputError listing the layers when the source has several).
  /// PostGIS tables may be given schema-qualified: "public.counties".
  std::string layer;
  /// Fields to read, in this order; std::nullopt = all fields in layer order. Missing → InputError.
  std::optional<std::vector<std::string>> fields;
  /// Build point geometries from these two numeric columns (CSV or any table without geometry).
  /// Empty/non-numeric value → InputError naming the row. Both or neither must be given.
  std::string x_field;
  std::string y_field;
  /// CRS of the data: required when the source has none (CSV); if the source has one and this differs →
  /// CrsError. Any string OGR understands.
  std::string crs;
};

/// Names of the layers of a source (DataIOError if it cannot be opened).
std::vector<std::string> list_layers(const std::string& source);

/// Reads one layer; see the file comment for errors. A CSV is opened with type detection over the whole
/// file (integers → Int64, decimals → Float64). A table with no geometry and no x/y fields needs no CRS
/// (crs_wkt = "", geometry_type = "None").
/// control (optional, careshed/progress.hpp): polled every 4096 features; progress = features read /
/// features in the layer when the driver knows the count cheaply; throws careshed::Cancelled.
VectorTable read_vector(const std::string& source, const ReadOptions& options = {}, RunControl* control = nullptr);

/// Writes `layers` (each VectorTable's `layer` is the layer name, `crs_wkt`, `geometry_type`, `wkb` and
/// `columns` are written; `fid` is ignored) into the single file `path`. driver = OGR driver name, or ""
/// to choose from the extension (.gpkg GPKG, .geojson/.json GeoJSON, .shp ESRI Shapefile, .fgb
/// FlatGeobuf, .csv CSV; anything else GPKG). Several layers need a multi-layer format (GPKG).
/// The file is written inside a temporary directory in the destination's directory, then renamed over
/// `path` (a Shapefile's side files move with it); on any error the temporary directory is removed and
/// `path` is untouched. NaN floats and null strings are written as nulls. DataIOError / InputError.
void write_vector(const std::string& path, const std::vector<VectorTable>& layers,
                  const std::string& driver = "");

}  // namespace careshed
