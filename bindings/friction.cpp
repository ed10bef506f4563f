#include "init.hpp"

namespace careshed::bindings {

void init_friction(pybind11::module_& /*m*/) {}

}  // namespace careshed::bindings
