#include "init.hpp"

namespace careshed::bindings {

void init_io(pybind11::module_& /*m*/) {}

}  // namespace careshed::bindings
