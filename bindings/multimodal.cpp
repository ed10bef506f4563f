// Bindings of careshed/multimodal.hpp (walk + ride in one search). Python side: careshed.arrays.multimodal,
// which checks and converts the arrays (int64 ids, uint8 modes) before they arrive here.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <limits>
#include <string>
#include <vector>

#include "careshed/error.hpp"
#include "careshed/multimodal.hpp"
#include "careshed/multimodal_walkcap.hpp"
#include "init.hpp"
#include "io_numpy.hpp"
#include "raster_search_py.hpp"
#include "run_watch.hpp"

namespace py = pybind11;

namespace careshed::bindings {

void init_multimodal(py::module_& m) {
  m.def(
      "_multimodal_travel_time",
      [](const py::array& friction, const py::array& sources, double dx, double dy, std::int64_t n_nodes,
         const Arr<std::int64_t>& tails, const Arr<std::int64_t>& heads, const Arr<double>& seconds,
         const Arr<std::int64_t>& node_cell, const Arr<std::uint8_t>& node_mode, const Arr<double>& board_s,
         const Arr<double>& alight_s, double max_seconds, const py::object& offsets, bool toward, int neighbours,
         double max_walk_seconds, const py::object& progress) {
        MultimodalNetwork net;
        net.walk = friction_grid_of(friction, dx, dy, py::none());
        std::size_t n_src = 0;
        const std::int64_t* src = cell_sources_of(sources, &n_src);
        if (tails.size() != heads.size() || tails.size() != seconds.size())
          throw InputError("ride edges: tails, heads and seconds must have the same length");
        if (node_cell.size() != n_nodes || node_mode.size() != n_nodes)
          throw InputError("node_cell and node_mode must have one value per ride node");
        if (board_s.size() != alight_s.size() || board_s.size() < 1)
          throw InputError("board and alight seconds: one value per mode (at least one mode)");
        net.modes.assign(static_cast<std::size_t>(board_s.size()), RideMode{});
        for (py::ssize_t i = 0; i < board_s.size(); ++i) net.modes[i] = RideMode{board_s.data()[i], alight_s.data()[i]};
        CsrGraph ride;
        if (n_nodes > 0) {
          ride = CsrGraph::from_edges(n_nodes, tails.data(), heads.data(), seconds.data(),
                                      static_cast<std::size_t>(tails.size()));
          net.ride = &ride;
          net.node_cell = node_cell.data();
          net.node_mode = node_mode.data();
        }
        MultimodalOptions o;
        o.max_seconds = max_seconds;
        o.neighbours = neighbours;
        o.direction = toward ? TravelDirection::TowardSources : TravelDirection::FromSources;
        Arr<double> off;
        if (!offsets.is_none()) {
          off = py::cast<Arr<double>>(offsets);
          if (static_cast<std::size_t>(off.size()) != n_src) throw InputError("start offsets: one per source");
          o.source_offsets_s = off.data();
        }
        const std::vector<py::ssize_t> shape{friction.shape(0), friction.shape(1)};
        py::array_t<double> secs(shape);
        py::array_t<std::int32_t> nearest(shape);
        py::array_t<std::uint8_t> mode(shape);
        double* s = secs.mutable_data();
        std::int32_t* nn = nearest.mutable_data();
        std::uint8_t* mm = mode.mutable_data();
        // A cap on the walking legs needs the two-criteria engine (multimodal_walkcap.hpp); without one — or
        // without rides, whose walking-only trips are not capped — the fast one (the same bits).
        const bool capped = !(max_walk_seconds == std::numeric_limits<double>::infinity()) && n_nodes > 0;
        const MultimodalStats st = run_interruptible(progress, [&](RunControl* c) {
          return capped ? multimodal_travel_time_walk_capped(net, src, n_src, o, max_walk_seconds, s, nn, mm, c)
                        : multimodal_travel_time(net, src, n_src, o, s, nn, mm, c);
        });
        py::dict d;
        d["tick_seconds"] = st.tick_seconds;
        d["cells_settled"] = st.cells_settled;
        d["nodes_settled"] = st.nodes_settled;
        d["cells_reached"] = st.cells_reached;
        d["cells_riding"] = st.cells_riding;
        d["grid_rounds"] = st.grid_rounds;
        return py::make_tuple(secs, nearest, mode, d);
      },
      py::arg("friction"), py::arg("sources"), py::arg("dx"), py::arg("dy"), py::arg("n_nodes"), py::arg("tails"),
      py::arg("heads"), py::arg("seconds"), py::arg("node_cell"), py::arg("node_mode"), py::arg("board_seconds"),
      py::arg("alight_seconds"), py::arg("max_seconds"), py::arg("source_offsets"), py::arg("toward_sources"),
      py::arg("neighbours") = 8, py::arg("max_walk_seconds") = std::numeric_limits<double>::infinity(),
      py::arg("progress") = py::none(),
      "Walk + ride in one search; returns (seconds float64 (H, W), nearest int32, mode uint8 (0 walking only, "
      "1 + m the highest ride mode m used), stats). max_walk_seconds (finite): every walking leg of a riding trip "
      "at most that long (careshed/multimodal_walkcap.hpp). Use careshed.arrays.travel_time_multimodal.");
}

}  // namespace careshed::bindings
