// Bindings of careshed/terrain.hpp's DEM reader (the terrain search itself is bound with the other grid
// searches in raster_search.cpp, whose argument checks it shares). Python side: careshed.arrays.terrain.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "careshed/terrain.hpp"
#include "grid_py.hpp"
#include "init.hpp"
#include "run_watch.hpp"

namespace py = pybind11;

namespace careshed::bindings {

void init_terrain(py::module_& m) {
  m.def(
      "_read_elevation",
      [](const py::list& paths, const py::handle& grid, const std::string& resampling, const py::object& progress) {
        std::vector<std::string> ps;
        for (const py::handle& p : paths) ps.push_back(path_of(p));
        const GridSpec g = grid_from_py(grid);
        const Resampling r = resampling_from_string(resampling);
        py::array_t<float> out(std::vector<py::ssize_t>{static_cast<py::ssize_t>(g.height),
                                                        static_cast<py::ssize_t>(g.width)});
        float* data = out.mutable_data();
        const ElevationReport rep =
            run_interruptible(progress, [&](RunControl* c) { return read_elevation_into(ps, g, data, r, c); });
        py::dict d;
        d["sources"] = rep.sources;
        d["valid_cells"] = rep.valid_cells;
        d["min_m"] = rep.min_m;
        d["max_m"] = rep.max_m;
        return py::make_tuple(out, d);
      },
      py::arg("paths"), py::arg("grid"), py::arg("resampling") = "bilinear", py::arg("progress") = py::none(),
      "A DEM (one raster or several tiles, mosaicked through a VRT) on a grid: (float32 (H, W) metres, NaN = no "
      "data; report dict). Use careshed.arrays.read_elevation.");
}

}  // namespace careshed::bindings
