#include "init.hpp"

namespace careshed::bindings {

void init_network(pybind11::module_& /*m*/) {}

}  // namespace careshed::bindings
