#include "init.hpp"

namespace careshed::bindings {

void init_density(pybind11::module_& /*m*/) {}

}  // namespace careshed::bindings
