// Bindings of careshed/multimodal.hpp (walk + ride in one search). Python side: careshed.arrays.multimodal,
// which checks and converts the arrays (friction float64, int64 ids) before they arrive here.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "careshed/error.hpp"
#include "careshed/multimodal.hpp"
#include "init.hpp"
#include "run_watch.hpp"

namespace py = pybind11;

namespace careshed::bindings {

namespace {
using F64 = py::array_t<double, py::array::c_style | py::array::forcecast>;
using I64 = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;
}  // namespace

void init_multimodal(py::module_& m) {
  m.def(
      "_multimodal_travel_time",
      [](const F64& friction, const I64& sources, double dx, double dy, std::int64_t n_nodes, const I64& tails,
         const I64& heads, const F64& seconds, const I64& node_cell, double board_s, double alight_s,
         double max_seconds, const py::object& offsets, bool toward, const py::object& progress) {
        if (friction.ndim() != 2) throw InputError("friction must be a 2-D array");
        if (sources.ndim() != 2 || sources.shape(1) != 2) throw InputError("sources must have shape (K, 2)");
        if (tails.size() != heads.size() || tails.size() != seconds.size())
          throw InputError("ride edges: tails, heads and seconds must have the same length");
        if (node_cell.size() != n_nodes) throw InputError("node_cell must have one cell per ride node");
        MultimodalNetwork net;
        net.walk.friction_f64 = friction.data();
        net.walk.rows = friction.shape(0);
        net.walk.cols = friction.shape(1);
        net.walk.dx_m = dx;
        net.walk.dy_m = dy;
        CsrGraph ride;
        if (n_nodes > 0) {
          ride = CsrGraph::from_edges(n_nodes, tails.data(), heads.data(), seconds.data(),
                                      static_cast<std::size_t>(tails.size()));
          net.ride = &ride;
          net.node_cell = node_cell.data();
        }
        net.board_seconds = board_s;
        net.alight_seconds = alight_s;
        MultimodalOptions o;
        o.max_seconds = max_seconds;
        o.direction = toward ? TravelDirection::TowardSources : TravelDirection::FromSources;
        F64 off;
        if (!offsets.is_none()) {
          off = py::cast<F64>(offsets);
          if (off.size() != sources.shape(0)) throw InputError("start offsets: one per source");
          o.source_offsets_s = off.data();
        }
        const std::vector<py::ssize_t> shape{friction.shape(0), friction.shape(1)};
        py::array_t<double> secs(shape);
        py::array_t<std::int32_t> nearest(shape);
        py::array_t<std::uint8_t> rides(shape);
        double* s = secs.mutable_data();
        std::int32_t* nn = nearest.mutable_data();
        std::uint8_t* rr = rides.mutable_data();
        const std::int64_t* src = sources.data();
        const auto n_src = static_cast<std::size_t>(sources.shape(0));
        const MultimodalStats st = run_interruptible(
            progress, [&](RunControl* c) { return multimodal_travel_time(net, src, n_src, o, s, nn, rr, c); });
        py::dict d;
        d["nodes_settled"] = st.nodes_settled;
        d["cells_reached"] = st.cells_reached;
        d["cells_riding"] = st.cells_riding;
        return py::make_tuple(secs, nearest, rides, d);
      },
      py::arg("friction"), py::arg("sources"), py::arg("dx"), py::arg("dy"), py::arg("n_nodes"), py::arg("tails"),
      py::arg("heads"), py::arg("seconds"), py::arg("node_cell"), py::arg("board_seconds"),
      py::arg("alight_seconds"), py::arg("max_seconds"), py::arg("source_offsets"), py::arg("toward_sources"),
      py::arg("progress") = py::none(),
      "Walk + ride in one search; returns (seconds float64 (H, W), nearest int32, rides uint8, stats). Use "
      "careshed.arrays.travel_time_multimodal.");
}

}  // namespace careshed::bindings
