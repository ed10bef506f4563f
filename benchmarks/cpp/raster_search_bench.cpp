// raster_search_bench — times careshed::raster_travel_time on a synthetic friction grid (C++ only, no
// Python). The authoritative side-by-side benchmark with GRASS r.cost and scikit-image is
// benchmarks/raster_search.py; this harness is for quick iterations on the kernel.
// Usage: raster_search_bench [size=6000] [sources=100] [neighbours=8] [max_seconds=inf] [adaptive|fixed]
//        [control=none|watched]
// Threads: OMP_NUM_THREADS (the search uses all OpenMP threads on grids of 2^20 cells or more).
// control: none = no RunControl (the default of every careshed function); watched = a RunControl read
// every 100 ms by a second thread, as the Python bindings do (careshed/progress.hpp). Built against a
// core without progress.hpp (an older checkout), only `none` exists: that is how the polling overhead in
// BENCHMARKS.md was measured (same harness, same grid, before/after).
// Grid: background 0.5-2 s/m (smooth random blobs), a lattice of "roads" (0.02-0.05 s/m) every ~150
// cells, NaN lakes (discs); 100 m cells; seeded (std::mt19937_64(42)).
#include <sys/resource.h>
#include <time.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "careshed/raster_search.hpp"
#if __has_include("careshed/progress.hpp")
#include <atomic>
#include <thread>

#include "careshed/progress.hpp"
#define CARESHED_BENCH_HAS_CONTROL 1
#endif

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 6000;
  const int ns = argc > 2 ? std::atoi(argv[2]) : 100;
  const int K = argc > 3 ? std::atoi(argv[3]) : 8;
  const double cut = argc > 4 ? std::atof(argv[4]) : std::numeric_limits<double>::infinity();
  const bool fixed = argc > 5 && std::string(argv[5]) == "fixed";
  const std::string control_mode = argc > 6 ? argv[6] : "none";
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<float> f(static_cast<size_t>(n * n));  // friction on ordinary pages, as numpy's would be
  // Smooth background: bilinear interpolation of a coarse random lattice (every 64 cells).
  const long cs = 64, m = n / cs + 2;
  std::vector<double> coarse(m * m);
  for (auto& c : coarse) c = 0.5 + 1.5 * u(rng);
  for (long r = 0; r < n; ++r)
    for (long c = 0; c < n; ++c) {
      const double y = double(r) / cs, x = double(c) / cs;
      const long i = long(y), j = long(x);
      const double a = y - i, b = x - j;
      f[r * n + c] = float((1 - a) * ((1 - b) * coarse[i * m + j] + b * coarse[i * m + j + 1]) +
                           a * ((1 - b) * coarse[(i + 1) * m + j] + b * coarse[(i + 1) * m + j + 1]));
    }
  for (long r = 75; r < n; r += 150)
    for (long c = 0; c < n; ++c) f[r * n + c] = 0.03f;
  for (long c = 75; c < n; c += 150)
    for (long r = 0; r < n; ++r) f[r * n + c] = 0.03f;
  for (int l = 0; l < int(n * n / 400000); ++l) {
    const long cr = long(u(rng) * n), cc = long(u(rng) * n), rad = 5 + long(u(rng) * 40);
    for (long r = std::max(0L, cr - rad); r < std::min(n, cr + rad); ++r)
      for (long c = std::max(0L, cc - rad); c < std::min(n, cc + rad); ++c)
        if ((r - cr) * (r - cr) + (c - cc) * (c - cc) < rad * rad) f[r * n + c] = NAN;
  }
  std::vector<std::int64_t> src;
  for (int s = 0; s < ns; ++s) {
    long r, c;
    do {
      r = long(u(rng) * n), c = long(u(rng) * n);
    } while (std::isnan(f[r * n + c]));
    src.push_back(r), src.push_back(c);
  }
  careshed::FrictionGrid g;
  g.friction_f32 = f.data();
  g.rows = g.cols = n;
  g.dx_m = g.dy_m = 100;
  careshed::RasterSearchOptions o;
  o.neighbours = K;
  o.max_seconds = cut;
  o.thread_policy = fixed ? careshed::ThreadPolicy::fixed : careshed::ThreadPolicy::adaptive;
  struct rusage ru0;
  getrusage(RUSAGE_SELF, &ru0);
  // Untouched output buffer, as numpy's np.empty gives (the library advises huge pages on it).
  auto* out = static_cast<careshed::CellLabel*>(std::malloc(size_t(n * n) * sizeof(careshed::CellLabel)));
  timespec c0, c1;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
  const auto t0 = std::chrono::steady_clock::now();
#ifdef CARESHED_BENCH_HAS_CONTROL
  careshed::RunControl control;
  std::atomic<bool> finished{false};
  std::thread watcher;
  if (control_mode == "watched")
    watcher = std::thread([&] {
      while (!finished.load()) {
        volatile double f = control.fraction();
        (void)f;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
  auto st = careshed::raster_travel_time(g, src.data(), ns, o, out, control_mode == "watched" ? &control : nullptr);
  finished = true;
  if (watcher.joinable()) watcher.join();
#else
  if (control_mode != "none") {
    std::fprintf(stderr, "this core has no careshed/progress.hpp: only control=none\n");
    return 2;
  }
  auto st = careshed::raster_travel_time(g, src.data(), ns, o, out);
#endif
  const auto t1 = std::chrono::steady_clock::now();
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
  const double cpu = (c1.tv_sec - c0.tv_sec) + 1e-9 * (c1.tv_nsec - c0.tv_nsec);
  struct rusage ru1;
  getrusage(RUSAGE_SELF, &ru1);
  // FNV-1a of the output bytes (seconds + nearest): before/after comparisons of a kernel change (same bits).
  std::uint64_t hash = 1469598103934665603ull;
  const auto* bytes = reinterpret_cast<const unsigned char*>(out);
  for (size_t i = 0; i < size_t(n * n) * sizeof(careshed::CellLabel); ++i) hash = (hash ^ bytes[i]) * 1099511628211ull;
  std::printf("size %ld sources %d K %d cutoff %g: %.3f s (cpu %.3f s), settled %llu, reached %llu, tick %.3g s, maxrss %.0f MB, handovers %llu, control %s, output fnv1a %016llx\n", n,
              ns, K, cut, std::chrono::duration<double>(t1 - t0).count(), cpu, (unsigned long long)st.cells_settled,
              (unsigned long long)st.cells_reached, st.tick_seconds, ru1.ru_maxrss / 1024.0,
              (unsigned long long)st.handovers_to_one_thread, control_mode.c_str(), (unsigned long long)hash);
  return 0;
}
