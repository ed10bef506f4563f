// Fuzz target: SpeedProfile::from_csv, the "class,speed_kmh" table a user may give instead of a shipped
// profile. The bytes are written to a real temporary file (from_csv reads with std::ifstream, not GDAL).
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "careshed/error.hpp"
#include "careshed/speed_profile.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = [] {
    const char* tmp = std::getenv("TMPDIR");
    return std::string(tmp ? tmp : "/tmp") + "/careshed_fuzz_profile_" + std::to_string(getpid()) + ".csv";
  }();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    careshed::SpeedProfile p = careshed::SpeedProfile::from_csv(path, "fuzz");
    // Contract: every speed of a loaded profile is finite and > 0, every class non-empty.
    for (const auto& [cls, kmh] : p.speeds_kmh()) {
      if (cls.empty() || !(std::isfinite(kmh) && kmh > 0.0)) __builtin_trap();
      if (p.speed_kmh(cls) != kmh) __builtin_trap();
    }
  } catch (const careshed::Error&) {
  }
  std::remove(path.c_str());
  return 0;
}
