// parallel_errors.hpp (private) — carrying an exception out of an OpenMP parallel region.
//
// Why: an exception may not leave an OpenMP structured block; if one does (typically std::bad_alloc from a
// per-thread scratch vector), the runtime calls std::terminate and the whole process — a Python session, a
// notebook — aborts instead of getting MemoryError (issue 8). So every parallel region that can throw runs its
// body through FirstException::run (or catches and calls capture), skips the remaining work once failed()
// is true, and calls rethrow_if_failed() after the region. The first exception captured wins; later ones are
// dropped (they are usually the same failure seen by another thread).
// Thread-safety: capture/failed from any thread of the region; rethrow_if_failed after it, on one thread.
#pragma once

#include <atomic>
#include <exception>
#include <mutex>

namespace careshed::detail {

class FirstException {
 public:
  /// Call from a catch block: keeps the exception being handled if it is the first one.
  void capture() noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!first_) first_ = std::current_exception();
    failed_.store(true, std::memory_order_release);
  }
  /// Runs f(), capturing what it throws. Skips f once anything failed.
  template <class F>
  void run(F&& f) noexcept {
    if (failed()) return;
    try {
      f();
    } catch (...) {
      capture();
    }
  }
  bool failed() const noexcept { return failed_.load(std::memory_order_acquire); }
  /// After the parallel region: rethrows the first captured exception, if any.
  void rethrow_if_failed() {
    if (failed()) std::rethrow_exception(first_);
  }

 private:
  std::mutex mutex_;
  std::exception_ptr first_;
  std::atomic<bool> failed_{false};
};

}  // namespace careshed::detail
