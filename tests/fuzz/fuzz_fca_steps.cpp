// Fuzz target: the accessibility kernel's argument checks on hostile arrays — step weights (bounds and
// weights, as the CLI's --steps and Python's steps= hand them over), Gaussian/power parameters, and a
// sparse cost table with arbitrary indices, costs (NaN, inf, negative) and duplicates.
#include <cstring>
#include <vector>

#include "careshed/access.hpp"
#include "careshed/error.hpp"

namespace {
struct Reader {
  const uint8_t* p;
  size_t n;
  template <class T>
  T take() {
    T v{};
    const size_t k = n < sizeof(T) ? n : sizeof(T);
    std::memcpy(&v, p, k);
    p += k;
    n -= k;
    return v;
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader r{data, size};
  const uint8_t shape = r.take<uint8_t>();
  const size_t n_demand = 1 + (shape & 7), n_supply = 1 + ((shape >> 3) & 7);
  const uint8_t n_steps = r.take<uint8_t>() % 6;
  std::vector<double> demand(n_demand), supply(n_supply), upper(n_steps), weight(n_steps);
  for (auto& v : demand) v = r.take<double>();
  for (auto& v : supply) v = r.take<double>();
  for (size_t k = 0; k < n_steps; ++k) upper[k] = r.take<double>(), weight[k] = r.take<double>();
  careshed::FcaOptions o;
  const uint8_t mode = r.take<uint8_t>();
  switch (mode % 5) {
    case 0: o.weights = careshed::DecayWeights::steps(upper, weight); break;
    case 1: o.weights = careshed::DecayWeights::binary(); break;
    case 2: o.weights = careshed::DecayWeights::gaussian(r.take<double>()); break;
    case 3: o.weights = careshed::DecayWeights::power(r.take<double>(), r.take<double>()); break;
    default:
      try { o.weights = careshed::DecayWeights::luo_qi(r.take<double>()); } catch (const careshed::Error&) { return 0; }
  }
  o.method = (mode & 8) ? careshed::FcaMethod::ThreeStep : careshed::FcaMethod::TwoStep;
  o.normalize = (mode & 16) != 0;
  o.max_cost = r.take<double>();
  std::vector<int64_t> origin, dest;
  std::vector<double> cost;
  while (r.n > 0 && origin.size() < 64) {
    // Mostly in-range indices (so the kernel runs), sometimes raw ones (so the checks are exercised).
    const uint8_t sel = r.take<uint8_t>();
    if (sel & 1) {
      origin.push_back(r.take<int64_t>());
      dest.push_back(r.take<int64_t>());
    } else {
      origin.push_back((sel >> 1) % static_cast<int64_t>(n_demand));
      dest.push_back((sel >> 4) % static_cast<int64_t>(n_supply));
    }
    cost.push_back(r.take<double>());
  }
  try {
    (void)careshed::fca(demand.data(), n_demand, supply.data(), n_supply, origin.data(), dest.data(), cost.data(),
                        cost.size(), o);
  } catch (const careshed::Error&) {
  }
  return 0;
}
