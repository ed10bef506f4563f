// careshed._core — the pybind11 module. Thin: one file per area (bindings/<area>.cpp) defines
// init_<area>(m); this file only wires them together. Conventions for every binding:
//  * numpy in, numpy out; inputs are checked (shape, dtype, finiteness) *before* the GIL is released;
//  * compute runs under py::gil_scoped_release;
//  * C++ exceptions are translated once, in errors.cpp, to careshed.errors classes.
#include <pybind11/pybind11.h>

#include "careshed/version.hpp"
#include "init.hpp"

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
  m.doc() = "careshed C++ core (use the careshed package, not this module, directly)";
  m.attr("__version__") = careshed::version();
  careshed::bindings::init_errors(m);
  careshed::bindings::init_io(m);
  careshed::bindings::init_density(m);
  careshed::bindings::init_raster_search(m);
  careshed::bindings::init_network(m);
  careshed::bindings::init_friction(m);
  careshed::bindings::init_access(m);
  careshed::bindings::init_zonal(m);
  careshed::bindings::init_coverage(m);
  careshed::bindings::init_catchment(m);
  careshed::bindings::init_optimize(m);
  careshed::bindings::init_memory(m);
  careshed::bindings::init_referral(m);
  careshed::bindings::init_terrain(m);
  careshed::bindings::init_multimodal(m);
  careshed::bindings::init_outreach(m);
}
