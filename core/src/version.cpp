#include "careshed/version.hpp"

namespace careshed {

const char* version() { return CARESHED_VERSION_STRING; }

}  // namespace careshed
