// Bindings of careshed/memory.hpp: the estimate, the machine's available memory and the check, for the
// Python layer (max_memory=) and the CLI (--max-memory). The API is documented in careshed/memory.hpp.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <limits>
#include <string>

#include "careshed/memory.hpp"
#include "init.hpp"
#include "memory_py.hpp"

namespace py = pybind11;

namespace careshed::bindings {

void refuse_if_too_big(MemoryRequest request, std::uint64_t max_memory_bytes, const std::string& what) {
  request.count_inputs = false;
  check_memory(estimate_memory(request), max_memory_bytes, available_memory(), what);
}

namespace {

MemoryRequest request_of(const std::string& analysis, std::int64_t rows, std::int64_t cols, std::int64_t facilities,
                         double max_seconds, int k, int threads, std::int64_t zones, int friction_extra_grids,
                         double reach_cells_per_facility, double typical_seconds_per_cell, bool count_inputs) {
  MemoryRequest r;
  r.analysis = memory_analysis_from_string(analysis);
  r.rows = rows;
  r.cols = cols;
  r.facilities = facilities;
  r.max_seconds = max_seconds;
  r.k = k;
  r.threads = threads;
  r.zones = zones;
  r.friction_extra_grids = friction_extra_grids;
  r.reach_cells_per_facility = reach_cells_per_facility;
  r.typical_seconds_per_cell = typical_seconds_per_cell;
  r.count_inputs = count_inputs;
  return r;
}

py::dict estimate_dict(const MemoryEstimate& e) {
  py::list items;
  for (const MemoryItem& i : e.items) items.append(py::make_tuple(i.what, i.bytes));
  py::dict d;
  d["peak_bytes"] = e.peak_bytes;
  d["items"] = items;
  d["reach_is_upper_bound"] = e.reach_is_upper_bound;
  d["text"] = e.describe();
  return d;
}

}  // namespace

void init_memory(py::module_& m) {
  const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  m.def(
      "estimate_memory",
      [](const std::string& analysis, std::int64_t rows, std::int64_t cols, std::int64_t facilities, double max_seconds,
         int k, int threads, std::int64_t zones, int friction_extra_grids, double reach_cells_per_facility,
         double typical_seconds_per_cell, bool count_inputs) {
        return estimate_dict(estimate_memory(request_of(analysis, rows, cols, facilities, max_seconds, k, threads,
                                                        zones, friction_extra_grids, reach_cells_per_facility,
                                                        typical_seconds_per_cell, count_inputs)));
      },
      py::arg("analysis"), py::arg("rows"), py::arg("cols"), py::arg("facilities") = 0, py::arg("max_seconds") = inf,
      py::arg("k") = 1, py::arg("threads") = 0, py::arg("zones") = 0, py::arg("friction_extra_grids") = 1,
      py::arg("reach_cells_per_facility") = nan, py::arg("typical_seconds_per_cell") = nan,
      py::arg("count_inputs") = true,
      "Estimated peak bytes of one analysis: {'peak_bytes', 'items': [(what, bytes)], 'reach_is_upper_bound',\n"
      "'text'}. analysis: friction, travel_time, k_nearest, reach_lists, coverage, catchments, access, zonal.\n"
      "See careshed/memory.hpp for the model.");
  m.def(
      "available_memory",
      [] {
        const AvailableMemory a = available_memory();
        py::dict d;
        d["bytes"] = a.bytes;
        d["source"] = a.source;
        return d;
      },
      "{'bytes': what this process can allocate now (0 = unknown), 'source': which limit decided}: the smallest\n"
      "of MemAvailable, the cgroup (v2/v1) limit minus usage, and ulimit -v minus the process size.");
  m.def(
      "check_memory",
      [](const std::string& analysis, std::int64_t rows, std::int64_t cols, std::int64_t facilities, double max_seconds,
         int k, int threads, std::int64_t zones, int friction_extra_grids, double reach_cells_per_facility,
         double typical_seconds_per_cell, bool count_inputs, std::uint64_t max_memory_bytes, const std::string& what) {
        const MemoryEstimate e = estimate_memory(request_of(analysis, rows, cols, facilities, max_seconds, k, threads,
                                                            zones, friction_extra_grids, reach_cells_per_facility,
                                                            typical_seconds_per_cell, count_inputs));
        const AvailableMemory a = available_memory();
        {
          py::gil_scoped_release release;  // reads /proc and /sys only, but never hold the GIL over file IO
          check_memory(e, max_memory_bytes, a, what);
        }
        return estimate_dict(e);
      },
      py::arg("analysis"), py::arg("rows"), py::arg("cols"), py::arg("facilities") = 0, py::arg("max_seconds") = inf,
      py::arg("k") = 1, py::arg("threads") = 0, py::arg("zones") = 0, py::arg("friction_extra_grids") = 1,
      py::arg("reach_cells_per_facility") = nan, py::arg("typical_seconds_per_cell") = nan,
      py::arg("count_inputs") = true, py::arg("max_memory_bytes") = 0, py::arg("what") = "",
      "estimate_memory(...) checked against the available memory and max_memory_bytes (0 = no limit of the\n"
      "caller's): returns the estimate dict, or raises careshed.errors.MemoryLimitError (a MemoryError) naming the\n"
      "estimate, the limit and what to change.");
}

}  // namespace careshed::bindings
