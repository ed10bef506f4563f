// memory_py.hpp — the memory check the long-running bindings run before allocating their outputs
// (careshed/memory.hpp). Defined in memory.cpp.
#pragma once

#include <cstdint>
#include <string>

#include "careshed/memory.hpp"

namespace careshed::bindings {

/// Estimates `request` (inputs already in memory: count_inputs is forced off) and throws MemoryLimitError when it
/// exceeds the available memory or max_memory_bytes (> 0). `what` names the run in the message.
void refuse_if_too_big(MemoryRequest request, std::uint64_t max_memory_bytes, const std::string& what);

}  // namespace careshed::bindings
