// test_seed.hpp — random seeds for the randomised C++ tests: fresh each run, logged by the test with
// SCOPED_TRACE("CARESHED_TEST_SEED=..."), and replayed by setting that environment variable.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <random>

namespace careshed_test {

/// A fresh random seed, or the logged one passed back in CARESHED_TEST_SEED to replay a failure.
inline std::uint64_t fresh_or_replayed_seed() {
  if (const char* s = std::getenv("CARESHED_TEST_SEED")) return std::strtoull(s, nullptr, 10);
  return std::random_device{}();
}

}  // namespace careshed_test
