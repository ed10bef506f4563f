#include "init.hpp"

namespace careshed::bindings {

void init_raster_search(pybind11::module_& /*m*/) {}

}  // namespace careshed::bindings
