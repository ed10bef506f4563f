// Bindings of careshed/io.hpp, crs.hpp and geometry.hpp: read_vector, write_vector, CRS helpers and
// point-in-polygon. Contract: /work/briefs/contract_density.md (H1 ↔ H2).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <optional>

#include "careshed/crs.hpp"
#include "careshed/error.hpp"
#include "careshed/geometry.hpp"
#include "careshed/io.hpp"
#include "init.hpp"
#include "io_numpy.hpp"
#include "run_watch.hpp"

namespace py = pybind11;

namespace careshed::bindings {
namespace {

/// str or os.PathLike → std::string.
std::string path_string(const py::handle& p) {
  if (py::isinstance<py::str>(p)) return p.cast<std::string>();
  return py::module_::import("os").attr("fspath")(p).cast<std::string>();
}

/// String column → numpy object array of str / None, filled in place (no intermediate list).
py::array string_array(const Column& c) {
  const std::size_t n = c.strings.size();
  py::array out(py::dtype("O"), std::vector<py::ssize_t>{static_cast<py::ssize_t>(n)});
  auto** data = static_cast<PyObject**>(out.mutable_data());
  for (std::size_t i = 0; i < n; ++i) {
    PyObject* v = c.string_null[i] ? (Py_INCREF(Py_None), Py_None)
                                   : PyUnicode_DecodeUTF8(c.strings[i].data(), static_cast<py::ssize_t>(c.strings[i].size()),
                                                          "replace");
    if (v == nullptr) throw py::error_already_set();
    Py_XDECREF(data[i]);
    data[i] = v;
  }
  return out;
}

py::dict table_to_dict(VectorTable&& t) {
  py::dict d;
  d["source"] = t.source;
  d["layer"] = t.layer;
  d["crs_wkt"] = t.crs_wkt;
  d["epsg"] = t.epsg ? py::object(py::int_(*t.epsg)) : py::object(py::none());
  d["is_geographic"] = t.is_geographic;
  d["geometry_type"] = t.geometry_type;
  py::list wkb(t.wkb.size());
  for (std::size_t i = 0; i < t.wkb.size(); ++i) {
    wkb[i] = py::bytes(reinterpret_cast<const char*>(t.wkb[i].data()), t.wkb[i].size());
  }
  d["wkb"] = wkb;
  d["fid"] = to_numpy(std::move(t.fid));
  py::dict cols;
  for (auto& c : t.columns) {
    switch (c.type) {
      case Column::Type::Int64: cols[py::str(c.name)] = to_numpy(std::move(c.ints)); break;
      case Column::Type::Float64: cols[py::str(c.name)] = to_numpy(std::move(c.reals)); break;
      case Column::Type::String: cols[py::str(c.name)] = string_array(c); break;
    }
  }
  d["columns"] = cols;
  return d;
}

/// One value of an object column → (is_null, text).
std::pair<bool, std::string> object_text(const py::handle& v) {
  if (v.is_none()) return {true, ""};
  if (PyFloat_Check(v.ptr()) && std::isnan(PyFloat_AsDouble(v.ptr()))) return {true, ""};
  if (py::isinstance<py::bytes>(v)) return {false, v.cast<std::string>()};
  return {false, py::str(v).cast<std::string>()};
}

Column column_from_python(const std::string& name, const py::handle& values, const std::string& where) {
  py::module_ np = py::module_::import("numpy");
  py::array a = np.attr("asarray")(values);
  if (a.ndim() != 1) {
    throw InputError(where + ": column '" + name + "' must be 1-D, got " + std::to_string(a.ndim()) + " dimensions");
  }
  Column c;
  c.name = name;
  const char kind = a.dtype().kind();
  const auto n = static_cast<std::size_t>(a.shape(0));
  if (kind == 'i' || kind == 'u' || kind == 'b') {
    auto ai = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(a);
    c.type = Column::Type::Int64;
    c.ints.assign(ai.data(), ai.data() + n);
  } else if (kind == 'f') {
    auto af = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(a);
    c.type = Column::Type::Float64;
    c.reals.assign(af.data(), af.data() + n);
  } else {
    c.type = Column::Type::String;
    c.strings.resize(n);
    c.string_null.resize(n);
    py::list items = a.attr("tolist")();
    for (std::size_t i = 0; i < n; ++i) {
      auto [null, text] = object_text(items[i]);
      c.string_null[i] = null ? 1 : 0;
      c.strings[i] = std::move(text);
    }
  }
  return c;
}

VectorTable layer_from_python(const py::handle& obj, std::size_t index) {
  const std::string where = "write_vector: layers[" + std::to_string(index) + "]";
  if (!py::isinstance<py::dict>(obj)) throw InputError(where + ": expected a dict");
  py::dict d = py::reinterpret_borrow<py::dict>(obj);
  auto get_str = [&](const char* key, const char* fallback) -> std::string {
    if (!d.contains(key) || d[key].is_none()) {
      if (fallback) return fallback;
      throw InputError(where + ": missing key '" + key + "'");
    }
    return py::str(d[key]).cast<std::string>();
  };
  VectorTable t;
  t.layer = get_str("name", nullptr);
  t.crs_wkt = get_str("crs_wkt", "");
  t.geometry_type = get_str("geometry_type", "Unknown");
  if (d.contains("wkb") && !d["wkb"].is_none()) t.wkb = wkb_list(d["wkb"], (where + "['wkb']").c_str());
  if (d.contains("columns") && !d["columns"].is_none()) {
    py::dict cols = d["columns"].cast<py::dict>();
    for (auto item : cols) {
      t.columns.push_back(column_from_python(py::str(item.first).cast<std::string>(), item.second, where));
    }
  }
  if (t.wkb.empty() && !t.columns.empty()) {
    // An attribute-only layer: as many null geometries as rows.
    t.wkb.resize(t.columns.front().size());
    if (t.geometry_type == "Unknown") t.geometry_type = "None";
  }
  return t;
}

}  // namespace

void init_io(py::module_& m) {
  m.def(
      "read_vector",
      [](const py::object& source, std::optional<std::string> layer, std::optional<std::vector<std::string>> fields,
         std::optional<std::string> x_field, std::optional<std::string> y_field, std::optional<std::string> crs,
         const py::object& progress) {
        const std::string src = path_string(source);
        ReadOptions o;
        o.layer = layer.value_or("");
        o.fields = fields;
        o.x_field = x_field.value_or("");
        o.y_field = y_field.value_or("");
        o.crs = crs.value_or("");
        VectorTable t = run_interruptible(progress, [&](RunControl* c) { return read_vector(src, o, c); });
        return table_to_dict(std::move(t));
      },
      py::arg("source"), py::kw_only(), py::arg("layer") = py::none(), py::arg("fields") = py::none(),
      py::arg("x_field") = py::none(), py::arg("y_field") = py::none(), py::arg("crs") = py::none(),
      py::arg("progress") = py::none(),
      R"doc(Read one layer of any OGR vector source (GeoJSON, GeoPackage, Shapefile, CSV, "PG:..." PostGIS).

layer: layer name (None = the only layer; a PostGIS table may be "schema.table").
fields: field names to read, in this order (None = all).
x_field, y_field: build points from these numeric columns (CSV or any table without geometry).
crs: CRS of the data (needed when the source has none, e.g. a CSV); must agree with the source's own CRS.

Returns a dict: source, layer, crs_wkt (WKT2, "" for a table without geometry), epsg (int or None),
is_geographic, geometry_type ("Point", "Polygon", "MultiPolygon", ..., "None"), wkb (list of ISO WKB
bytes, b"" for a null geometry), fid (int64 array), columns (dict name -> numpy array: int64 for integers
without nulls, float64 for reals / integers with nulls (NaN = null), object array of str/None otherwise).
Coordinates are always x = longitude/easting, y = latitude/northing.

Raises DataIOError (missing file, unopenable source), InputError (missing layer or field, with the
available names; non-numeric x/y naming the row), CRSError (no CRS, contradicting CRS, coordinates
impossible for a geographic CRS).)doc");

  m.def(
      "write_vector",
      [](const py::object& path, const py::list& layers, std::optional<std::string> driver) {
        const std::string p = path_string(path);
        std::vector<VectorTable> tables;
        for (std::size_t i = 0; i < layers.size(); ++i) tables.push_back(layer_from_python(layers[i], i));
        py::gil_scoped_release nogil;
        write_vector(p, tables, driver.value_or(""));
      },
      py::arg("path"), py::arg("layers"), py::kw_only(), py::arg("driver") = py::none(),
      R"doc(Write one or more layers into ONE file (GeoPackage unless the extension or `driver` says otherwise).

layers: list of dicts {"name": str, "crs_wkt": str, "geometry_type": "Point" | "Polygon" | "MultiPolygon" |
"Unknown" | "None" ..., "wkb": list of WKB bytes (None/b"" = null), "columns": {name: 1-D array or list}}.
Integer arrays become Integer64 fields, floats Real (NaN written as null), anything else text (None = null).
The file is written under a temporary name in the same directory and renamed over `path` at the end, so a
failure leaves nothing behind and never half-overwrites an existing file.
Raises InputError (bad layer description), DataIOError (cannot write).)doc");

  m.def(
      "assign_points_to_zones",
      [](const py::object& zone_wkb, const DoubleArray& x, const DoubleArray& y) {
        std::vector<Wkb> zones = wkb_list(zone_wkb, "zone_wkb");
        require_1d(x, "x");
        require_1d(y, "y", x.shape(0));
        std::vector<int32_t> result;
        {
          py::gil_scoped_release nogil;
          result = assign_points_to_zones(zones, x.data(), y.data(), static_cast<std::size_t>(x.shape(0)));
        }
        return to_numpy(std::move(result));
      },
      py::arg("zone_wkb"), py::arg("x"), py::arg("y"),
      R"doc(Index of the zone covering each point (int32 array), -1 for points in no zone.

zone_wkb: sequence of Polygon/MultiPolygon WKB; x, y: float64 arrays in the SAME CRS as the zones.
"Covers": a point on a zone's boundary belongs to it; on a boundary shared by several zones the lowest zone
index wins. GEOS prepared geometries with a grid index; runs without the GIL (and on several threads for
large inputs). Raises InputError naming the zone index for unparseable, non-polygonal or invalid zones.)doc");

  m.def(
      "check_polygons",
      [](const py::object& zone_wkb) {
        std::vector<Wkb> zones = wkb_list(zone_wkb, "zone_wkb");
        py::gil_scoped_release nogil;
        return check_polygons(zones);
      },
      py::arg("zone_wkb"),
      R"doc(List of (index, reason) for every geometry that is not a valid Polygon/MultiPolygon (GEOS
isValidReason, e.g. "Self-intersection[118.4 29.1]"); empty when all are valid.)doc");

  m.def("proj_search_paths", &proj_search_paths,
        "Folders where the PROJ linked into careshed looks for proj.db, in its order of preference.");
  m.def("proj_data_dir", &proj_data_dir,
        "The PROJ data folder careshed's core uses (the first search path holding proj.db), or ''.");
  m.def("utm_epsg_for", &utm_epsg_for, py::arg("lon"), py::arg("lat"),
        R"doc(EPSG code of the WGS 84 UTM zone containing (lon, lat) in degrees: 326zz north, 327zz south
(Norway/Svalbard exceptions included). Raises InputError for coordinates outside lon/lat range.)doc");

  m.def(
      "utm_epsg_for_geometries",
      [](const py::object& wkb, const std::string& crs) {
        std::vector<Wkb> g = wkb_list(wkb, "wkb");
        py::gil_scoped_release nogil;
        return utm_epsg_for_geometries(g, crs);
      },
      py::arg("wkb"), py::arg("crs"),
      "EPSG code of the UTM zone at the centre of the geometries' bounding box (WKB in CRS `crs`).");

  m.def(
      "transform_xy",
      [](const DoubleArray& x, const DoubleArray& y, const std::string& src_crs, const std::string& dst_crs) {
        require_1d(x, "x");
        require_1d(y, "y", x.shape(0));
        const auto n = static_cast<std::size_t>(x.shape(0));
        std::vector<double> ox(x.data(), x.data() + n), oy(y.data(), y.data() + n);
        {
          py::gil_scoped_release nogil;
          transform_xy(ox.data(), oy.data(), n, src_crs, dst_crs);
        }
        return py::make_tuple(to_numpy(std::move(ox)), to_numpy(std::move(oy)));
      },
      py::arg("x"), py::arg("y"), py::arg("src_crs"), py::arg("dst_crs"),
      R"doc(Transform coordinates between two CRSs (any string OGR understands). Axis order is the
traditional GIS one for both: x = longitude/easting, y = latitude/northing (also for EPSG:4326).
Returns new float64 arrays (x, y). Raises CRSError for an unknown CRS or a point that cannot be transformed.)doc");

  m.def(
      "reproject_wkb",
      [](const py::object& wkb, const std::string& src_crs, const std::string& dst_crs) {
        std::vector<Wkb> g = wkb_list(wkb, "wkb");
        std::vector<Wkb> out;
        {
          py::gil_scoped_release nogil;
          out = reproject_wkb(g, src_crs, dst_crs);
        }
        py::list result(out.size());
        for (std::size_t i = 0; i < out.size(); ++i) {
          result[i] = py::bytes(reinterpret_cast<const char*>(out[i].data()), out[i].size());
        }
        return result;
      },
      py::arg("wkb"), py::arg("src_crs"), py::arg("dst_crs"),
      "Reproject WKB geometries (list of bytes; b\"\"/None = null) from src_crs to dst_crs; returns ISO WKB bytes.");

  m.def("crs_to_wkt", [](const std::string& crs) { return crs_to_wkt(crs, "crs"); }, py::arg("crs"),
        "WKT2 of any CRS string OGR understands (\"EPSG:32650\", WKT, PROJ). Raises CRSError if unparseable.");
  m.def("crs_epsg", &crs_epsg, py::arg("crs"), "EPSG code of a CRS (or an equivalent one), else None.");
  m.def("crs_is_geographic", &crs_is_geographic, py::arg("crs"), "True for a longitude/latitude CRS.");
  m.def("crs_equivalent", &crs_equivalent, py::arg("a"), py::arg("b"),
        "True when two CRS strings describe the same CRS (geographic axis order ignored).");
  m.def(
      "list_layers", [](const py::object& source) { return list_layers(path_string(source)); },
      py::arg("source"), "Names of the layers of a vector source. Raises DataIOError if it cannot be opened.");
  m.def(
      "geometry_areas",
      [](const py::object& wkb) {
        std::vector<Wkb> g = wkb_list(wkb, "wkb");
        std::vector<double> a;
        {
          py::gil_scoped_release nogil;
          a = geometry_areas(g);
        }
        return to_numpy(std::move(a));
      },
      py::arg("wkb"), "Area of each geometry in CRS units squared (m² in a metric CRS); 0 for null.");
}

}  // namespace careshed::bindings
