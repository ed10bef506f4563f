// Bindings of careshed/raster_io.hpp and friction.hpp: analysis grids, reading rasters onto grids, COG
// writing, friction surfaces. The Python layer (python/careshed/raster.py, friction.py) wraps these in the
// Grid / FrictionSurface objects users see; here grids travel as plain (width, height, transform, crs_wkt)
// tuples so no second pybind class has to be registered for GridSpec.
//
// Every function validates its arguments with the GIL held, then releases it for the GDAL work (warping,
// rasterising, writing); outputs are numpy arrays allocated first and filled in place.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "careshed/error.hpp"
#include "careshed/friction.hpp"
#include "careshed/raster_io.hpp"
#include "careshed/speed_profile.hpp"
#include "grid_py.hpp"
#include "init.hpp"
#include "memory_py.hpp"
#include "io_numpy.hpp"  // to_numpy: hands a std::vector to numpy without copying
#include "run_watch.hpp"

namespace py = pybind11;

namespace careshed::bindings {
namespace {

Bounds bounds_from_py(const py::handle& b) {
  auto v = b.cast<std::vector<double>>();
  if (v.size() != 4) throw InputError("bounds: expected (min_x, min_y, max_x, max_y)");
  return Bounds{v[0], v[1], v[2], v[3]};
}

py::array_t<double> new_grid_array(const GridSpec& g) {
  return py::array_t<double>(std::vector<py::ssize_t>{static_cast<py::ssize_t>(g.height),
                                                      static_cast<py::ssize_t>(g.width)});
}

SpeedProfile profile_from_py(const py::handle& p) {
  if (p.is_none()) return SpeedProfile::car();
  if (py::isinstance<py::str>(p)) return SpeedProfile::by_name(p.cast<std::string>());
  if (py::isinstance<py::dict>(p)) return SpeedProfile("custom", p.cast<std::map<std::string, double>>());
  return p.cast<SpeedProfile>();
}

template <typename T>
std::optional<T> opt(const py::dict& d, const char* key) {
  if (!d.contains(key) || d[key].is_none()) return std::nullopt;
  return d[key].cast<T>();
}

Resampling resampling_of(const py::dict& d, const char* key, Resampling dflt) {
  auto s = opt<std::string>(d, key);
  return s ? resampling_from_string(*s) : dflt;
}

/// The inputs dict built by python/careshed/friction.py (keys documented there).
FrictionInputs inputs_from_py(const py::dict& d) {
  FrictionInputs in;
  if (d.contains("landcover") && !d["landcover"].is_none()) {
    py::dict lc = d["landcover"];
    LandcoverClasses c;
    c.path = path_of(lc["path"]);
    c.band = opt<int>(lc, "band").value_or(1);
    c.speed_kmh = lc["speed_kmh"].cast<std::map<int64_t, double>>();
    c.default_speed_kmh = opt<double>(lc, "default_speed_kmh");
    c.resampling = resampling_of(lc, "resampling", Resampling::Nearest);
    in.landcover = c;
  }
  if (d.contains("landcover_fractions") && !d["landcover_fractions"].is_none()) {
    py::dict lf = d["landcover_fractions"];
    LandcoverFractions f;
    for (auto p : lf["paths"]) f.paths.push_back(path_of(p));
    f.speeds_kmh = lf["speeds_kmh"].cast<std::vector<double>>();
    f.other_speed_kmh = lf["other_speed_kmh"].cast<double>();
    f.full_cover = opt<double>(lf, "full_cover").value_or(100.0);
    f.resampling = resampling_of(lf, "resampling", Resampling::Average);
    in.landcover_fractions = f;
  }
  if (d.contains("speed_raster") && !d["speed_raster"].is_none()) {
    py::dict s = d["speed_raster"];
    in.speed_raster = SpeedRaster{path_of(s["path"]), opt<int>(s, "band").value_or(1),
                                  resampling_of(s, "resampling", Resampling::Bilinear)};
  }
  if (d.contains("friction_raster") && !d["friction_raster"].is_none()) {
    py::dict s = d["friction_raster"];
    in.friction_raster = FrictionRaster{path_of(s["path"]), opt<int>(s, "band").value_or(1),
                                        friction_unit_from_string(opt<std::string>(s, "unit").value_or("s/m")),
                                        resampling_of(s, "resampling", Resampling::Bilinear)};
  }
  in.background_speed_kmh = opt<double>(d, "background_speed_kmh");
  if (d.contains("roads")) {
    for (auto r_ : d["roads"]) {
      py::dict r = py::reinterpret_borrow<py::dict>(r_);
      RoadLayer rl;
      rl.path = path_of(r["path"]);
      rl.layer = opt<std::string>(r, "layer").value_or("");
      rl.class_field = opt<std::string>(r, "class_field").value_or("highway");
      rl.where = opt<std::string>(r, "where").value_or("");
      rl.profile = profile_from_py(r.contains("profile") ? py::object(r["profile"]) : py::object(py::none()));
      rl.all_touched = opt<bool>(r, "all_touched").value_or(true);
      if (r.contains("speed_factor") && !r["speed_factor"].is_none())
        rl.speed_factor = r["speed_factor"].cast<std::map<std::string, double>>();
      in.roads.push_back(std::move(rl));
    }
  }
  if (d.contains("barriers")) {
    for (auto b_ : d["barriers"]) {
      py::dict b = py::reinterpret_borrow<py::dict>(b_);
      Barrier br;
      br.path = path_of(b["path"]);
      br.is_raster = opt<bool>(b, "is_raster").value_or(false);
      br.layer = opt<std::string>(b, "layer").value_or("");
      br.where = opt<std::string>(b, "where").value_or("");
      br.band = opt<int>(b, "band").value_or(1);
      br.all_touched = opt<bool>(b, "all_touched").value_or(false);
      br.outside = opt<bool>(b, "outside").value_or(false);
      in.barriers.push_back(std::move(br));
    }
  }
  return in;
}

py::dict friction_report_to_py(const FrictionReport& r) {
  py::dict d;
  d["notes"] = r.notes;
  d["road_features"] = r.road_features;
  d["road_features_skipped"] = r.road_features_skipped;
  d["skipped_classes"] = r.skipped_classes;
  d["road_cells"] = r.road_cells;
  d["barrier_cells"] = r.barrier_cells;
  d["impassable_cells"] = r.impassable_cells;
  return d;
}

void write_geotiff_py(const py::handle& path_obj, const py::array& array, const py::handle& grid_obj,
                      const py::object& nodata, const std::vector<std::string>& metadata, int block_size) {
  const std::string path = path_of(path_obj);
  GridSpec g = grid_from_py(grid_obj);
  if (array.ndim() != 2 || array.shape(0) != g.height || array.shape(1) != g.width) {
    throw InputError("write_geotiff('" + path + "'): the array must be 2-D with shape (height, width) = (" +
                     std::to_string(g.height) + ", " + std::to_string(g.width) + ")");
  }
  if (!(array.flags() & py::array::c_style)) {
    throw InputError("write_geotiff('" + path + "'): the array must be C-contiguous (numpy.ascontiguousarray)");
  }
  PixelType type;
  py::dtype dt = array.dtype();
  if (dt.is(py::dtype::of<double>())) type = PixelType::Float64;
  else if (dt.is(py::dtype::of<float>())) type = PixelType::Float32;
  else if (dt.is(py::dtype::of<int32_t>())) type = PixelType::Int32;
  else if (dt.is(py::dtype::of<uint32_t>())) type = PixelType::UInt32;
  else if (dt.is(py::dtype::of<int16_t>())) type = PixelType::Int16;
  else if (dt.is(py::dtype::of<uint16_t>())) type = PixelType::UInt16;
  else if (dt.is(py::dtype::of<uint8_t>())) type = PixelType::UInt8;
  else {
    throw InputError("write_geotiff('" + path + "'): dtype " + py::str(py::object(dt)).cast<std::string>() +
                     " is not supported; use float64, float32, int32, uint32, int16, uint16 or uint8");
  }
  GeoTiffOptions opt;
  if (!nodata.is_none()) opt.nodata = nodata.cast<double>();
  opt.metadata = metadata;
  opt.block_size = block_size;
  const void* data = array.data();
  py::gil_scoped_release release;
  write_geotiff(path, data, type, g, opt);
}

}  // namespace

void init_friction(py::module_& m) {
  m.def(
      "make_grid",
      [](const py::handle& bounds, double cell_size_m, const std::string& crs) {
        return grid_to_py(make_grid(bounds_from_py(bounds), cell_size_m, crs));
      },
      py::arg("bounds"), py::arg("cell_size_m"), py::arg("crs"),
      "Metric grid snapped to whole cells: (width, height, transform, crs_wkt).");
  m.def(
      "make_utm_grid",
      [](const py::handle& bounds, const std::string& bounds_crs, double cell_size_m) {
        return grid_to_py(make_utm_grid(bounds_from_py(bounds), bounds_crs, cell_size_m));
      },
      py::arg("bounds"), py::arg("bounds_crs"), py::arg("cell_size_m"),
      "Grid in the WGS 84 / UTM zone of the bounds' centre: (width, height, transform, crs_wkt).");
  m.def(
      "data_bounds",
      [](const py::handle& path, const std::string& layer) {
        std::string p = path_of(path), wkt;
        Bounds b;
        {
          py::gil_scoped_release release;
          b = data_bounds(p, &wkt, layer);
        }
        return py::make_tuple(py::make_tuple(b.min_x, b.min_y, b.max_x, b.max_y), wkt);
      },
      py::arg("path"), py::arg("layer") = "",
      "((min_x, min_y, max_x, max_y), crs_wkt) of a raster or of a vector source's layers.");
  m.def(
      "make_lonlat_grid",
      [](const py::handle& bounds, double cell_size_deg, const std::string& crs) {
        return grid_to_py(make_lonlat_grid(bounds_from_py(bounds), cell_size_deg, crs));
      },
      py::arg("bounds"), py::arg("cell_size_deg"), py::arg("crs") = "EPSG:4326");
  m.def(
      "row_cell_widths_m", [](const py::handle& grid) { return to_numpy(row_cell_widths_m(grid_from_py(grid))); },
      py::arg("grid"), "East-west cell size in metres per row (lon/lat grids: on the ellipsoid).");
  m.def(
      "row_cell_heights_m",
      [](const py::handle& grid) { return to_numpy(row_cell_heights_m(grid_from_py(grid))); },
      py::arg("grid"), "North-south cell size in metres per row.");
  m.def(
      "raster_info",
      [](const py::handle& path, int band) {
        RasterInfo info;
        std::string p = path_of(path);
        {
          py::gil_scoped_release release;
          info = raster_info(p, band);
        }
        py::dict d;
        d["grid"] = grid_to_py(info.grid);
        d["band_count"] = info.band_count;
        d["nodata"] = info.nodata ? py::object(py::float_(*info.nodata)) : py::object(py::none());
        d["data_type"] = info.data_type;
        return d;
      },
      py::arg("path"), py::arg("band") = 1);
  m.def(
      "read_raster_native",
      [](const py::handle& path, int band) {
        std::string p = path_of(path);
        auto* r = new Raster();
        try {
          py::gil_scoped_release release;
          *r = read_raster(p, band);
        } catch (...) {
          delete r;
          throw;
        }
        // Hand the vector to numpy: the capsule owns the Raster, so no pixel is copied.
        py::capsule owner(r, [](void* v) { delete static_cast<Raster*>(v); });
        py::array_t<double> out({static_cast<py::ssize_t>(r->grid.height), static_cast<py::ssize_t>(r->grid.width)},
                                r->values.data(), owner);
        return py::make_tuple(out, grid_to_py(r->grid), read_report_to_py(r->report));
      },
      py::arg("path"), py::arg("band") = 1);
  m.def(
      "read_raster_onto",
      [](const py::handle& path, const py::handle& grid, const std::string& resampling, int band,
         const py::object& progress) {
        std::string p = path_of(path);
        GridSpec g = grid_from_py(grid);
        Resampling r = resampling_from_string(resampling);
        py::array_t<double> out = new_grid_array(g);
        double* data = out.mutable_data();
        const ReadReport rep =
            run_interruptible(progress, [&](RunControl* c) { return read_raster_into(p, g, r, band, data, c); });
        return py::make_tuple(out, read_report_to_py(rep));
      },
      py::arg("path"), py::arg("grid"), py::arg("resampling"), py::arg("band") = 1, py::arg("progress") = py::none());
  m.def("write_geotiff", &write_geotiff_py, py::arg("path"), py::arg("array"), py::arg("grid"),
        py::arg("nodata") = py::none(), py::arg("metadata") = std::vector<std::string>{},
        py::arg("block_size") = 512, "Cloud-Optimised GeoTIFF (temporary file + rename).");
  m.def(
      "build_friction_surface",
      [](const py::handle& grid, const py::dict& inputs, const py::object& progress,
         std::uint64_t max_memory_bytes) {
        GridSpec g = grid_from_py(grid);
        FrictionInputs in = inputs_from_py(inputs);
        {  // Refuse before allocating (careshed/memory.hpp): the output + the layers' working grids.
          MemoryRequest req;
          req.analysis = MemoryAnalysis::friction;
          req.rows = g.height;
          req.cols = g.width;
          const int rasters = (in.landcover ? 1 : 0) + (in.speed_raster ? 1 : 0) + (in.friction_raster ? 1 : 0);
          req.friction_extra_grids = (rasters >= 2 || !in.roads.empty() || !in.barriers.empty()) ? 1 : 0;
          if (in.landcover_fractions)
            req.friction_extra_grids = std::max(req.friction_extra_grids,
                                                static_cast<int>(in.landcover_fractions->paths.size()));
          refuse_if_too_big(req, max_memory_bytes,
                            "a friction surface of " + std::to_string(g.height) + " x " + std::to_string(g.width) +
                                " cells");
        }
        // Kept alive (and C-contiguous float64) for the whole call; only read.
        py::array_t<double, py::array::c_style | py::array::forcecast> speed_array;
        if (inputs.contains("speed_kmh") && !inputs["speed_kmh"].is_none()) {
          speed_array = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(inputs["speed_kmh"]);
          if (!speed_array) throw InputError("speed_kmh: expected a numeric array");
          if (speed_array.ndim() != 2 || speed_array.shape(0) != g.height || speed_array.shape(1) != g.width) {
            throw InputError("speed_kmh: the array must have the grid's shape (height, width) = (" +
                             std::to_string(g.height) + ", " + std::to_string(g.width) + ")");
          }
          in.speed_kmh_on_grid = speed_array.data();
        }
        py::array_t<double> out = new_grid_array(g);
        double* data = out.mutable_data();
        const FrictionReport rep =
            run_interruptible(progress, [&](RunControl* c) { return build_friction_surface_into(g, in, data, c); });
        return py::make_tuple(out, friction_report_to_py(rep));
      },
      py::arg("grid"), py::arg("inputs"), py::arg("progress") = py::none(), py::arg("max_memory_bytes") = 0,
      "Friction surface in s/m (NaN impassable) and its report dict. Refused (MemoryLimitError) before\n"
      "allocating when the estimate exceeds the available memory or max_memory_bytes (> 0).");
  m.def(
      "speed_kmh_to_seconds_per_metre",
      [](py::array_t<double, py::array::c_style | py::array::forcecast> speed) {
        py::array_t<double> out(std::vector<py::ssize_t>(speed.shape(), speed.shape() + speed.ndim()));
        const double* s = speed.data();
        double* o = out.mutable_data();
        const py::ssize_t n = speed.size();
        py::gil_scoped_release release;
        for (py::ssize_t i = 0; i < n; ++i) o[i] = speed_kmh_to_seconds_per_metre(s[i]);
        return out;
      },
      py::arg("speed_kmh"), "3.6 / speed_kmh, NaN where the speed is 0, negative or NaN.");
  m.def("friction_unit_seconds_per_metre",
        [](const std::string& unit) { return seconds_per_metre_per_unit(friction_unit_from_string(unit)); },
        py::arg("unit"), "Seconds per metre in one unit ('s/m', 'min/m', 's/km', 'min/km', 'h/km').");
}

}  // namespace careshed::bindings
