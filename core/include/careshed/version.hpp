// careshed/version.hpp — library version.
#pragma once

namespace careshed {

/// The careshed version as "MAJOR.MINOR.PATCH". Thread-safe; the string is static.
const char* version();

}  // namespace careshed
