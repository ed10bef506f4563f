// cutoff_ticks.hpp — the inclusive cut-off of the raster engines in integer ticks, derived from the contract
// (tests/cpp/cutoff_contract_test.cpp) for the oracles: a cell is reached when its output seconds, float32(ticks *
// tick), are <= max_seconds. Closed form, independent of the engine's search for the same boundary: F is the
// largest float32 <= max_seconds, m the midpoint between F and the next float32 up; float32(x) <= F exactly when
// x < m, or x == m and F's last mantissa bit is even (round half to even).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace careshed_test {

/// The largest tick count whose float32 seconds are <= max_seconds (+inf for no cut-off). tick: a power of two.
inline double cutoff_ticks(double max_seconds, double tick) {
  if (!(max_seconds < std::numeric_limits<double>::infinity())) return std::numeric_limits<double>::infinity();
  float F = static_cast<float>(max_seconds);
  if (static_cast<double>(F) > max_seconds) F = std::nextafter(F, -std::numeric_limits<float>::infinity());
  const double m = (static_cast<double>(F) + static_cast<double>(std::nextafter(F, std::numeric_limits<float>::infinity()))) / 2.0;
  std::uint32_t bits;
  std::memcpy(&bits, &F, sizeof bits);
  const double x = m / tick;  // exact: tick is a power of two
  return (x == std::floor(x) && (bits & 1u) == 0) ? x : std::ceil(x) - 1.0;
}

}  // namespace careshed_test
