// exact_sum.hpp (private) — exact, order-independent sums of non-negative doubles, and fixed blocks for
// parallel reductions whose result must not depend on the number of threads.
//
// Why: a floating-point sum depends on the order of its terms. A parallel loop that keeps one partial sum per
// thread therefore gives results that differ in the last bits between thread counts, and tables written from
// them are not byte-identical across machines (issue 8). Two remedies, used where each fits:
//  * FixedPoint: every term is converted to an unsigned 128-bit fixed-point number with a scale chosen from a
//    bound on the total (so the sum cannot overflow); integer addition is associative, so any partition of the
//    terms over threads gives the same bits. Terms are truncated to the scale's resolution, 2^-scale: with a
//    bound B on the total, the resolution is about B · 2^-126 (e.g. 1e-24 people for B = 1e14), far below
//    anything printed. Used where the accumulators are histograms (coverage) whose size rules out one copy
//    per block.
//  * fixed_blocks: the range is cut into blocks that depend only on its length; each block is summed in order
//    and the block sums are added in block order. Used where a block's accumulator is small.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "parallel_errors.hpp"

namespace careshed::detail {

__extension__ typedef unsigned __int128 u128;  // GCC/Clang

/// A fixed-point scale for sums of non-negative doubles whose total is at most `bound` (finite, >= 0).
struct FixedPoint {
  int scale = 0;  ///< a term x is stored as floor(x · 2^scale)

  explicit FixedPoint(double bound) {
    if (bound > 0.0 && std::isfinite(bound)) {
      int e = 0;
      std::frexp(bound, &e);  // bound < 2^e
      scale = 126 - e;        // total < 2^126: one bit of headroom below 2^127
      if (scale > 1100) scale = 1100;
    }
  }
  FixedPoint() = default;

  /// floor(x · 2^scale) for 0 <= x <= bound (finite); bit arithmetic, no libgcc call (this is an inner loop).
  u128 to_fixed(double x) const {
    std::uint64_t bits;
    std::memcpy(&bits, &x, sizeof bits);
    const int biased = static_cast<int>((bits >> 52) & 0x7ff);
    std::uint64_t mant = bits & ((std::uint64_t(1) << 52) - 1);
    int lsb = -1074;  // exponent of the mantissa's last bit (subnormals)
    if (biased != 0) {
      mant |= std::uint64_t(1) << 52;
      lsb = biased - 1075;
    }
    const int shift = lsb + scale;
    if (shift >= 0) return static_cast<u128>(mant) << shift;  // < 2^127 by the choice of scale
    if (shift <= -64) return 0;
    return static_cast<u128>(mant >> -shift);
  }
  /// The nearest double to v · 2^-scale.
  double to_double(u128 v) const { return std::ldexp(static_cast<double>(v), -scale); }
};

/// Number of blocks for a deterministic parallel reduction over n items: depends on n only (never on the
/// thread count), ~`block` items each, at most max_blocks (so that max_blocks accumulators fit in memory).
inline std::int64_t fixed_block_count(std::int64_t n, std::int64_t block = 65536, std::int64_t max_blocks = 64) {
  if (n <= 0) return 1;
  const std::int64_t by_size = (n + block - 1) / block;
  return by_size < 1 ? 1 : (by_size < max_blocks ? by_size : max_blocks);
}
/// First item of block b of n_blocks over n items (block b is [block_begin(b), block_begin(b + 1))).
inline std::int64_t block_begin(std::int64_t n, std::int64_t n_blocks, std::int64_t b) { return n * b / n_blocks; }

/// block_sum(begin, end) for each fixed block of [0, n), run in parallel, returned in block order: the caller
/// combines them in that order, so the result does not depend on the thread count. What block_sum throws
/// (e.g. std::bad_alloc) is rethrown after the parallel loop (parallel_errors.hpp).
template <class Partial, class BlockSum>
std::vector<Partial> fixed_block_partials(std::int64_t n, BlockSum block_sum, std::int64_t max_blocks = 64) {
  const std::int64_t nb = fixed_block_count(n, 65536, max_blocks);
  std::vector<Partial> out(static_cast<std::size_t>(nb));
  FirstException errors;
#pragma omp parallel for schedule(dynamic, 1) if (nb > 1)
  for (std::int64_t b = 0; b < nb; ++b) {
    errors.run([&] { out[static_cast<std::size_t>(b)] = block_sum(block_begin(n, nb, b), block_begin(n, nb, b + 1)); });
  }
  errors.rethrow_if_failed();
  return out;
}

}  // namespace careshed::detail
