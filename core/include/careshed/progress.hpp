// careshed/progress.hpp — stopping a long run from outside (cancellation) and watching how far it got
// (progress), through one small object the caller owns: careshed::RunControl.
//
// Use (C++):
//   careshed::RunControl control;                 // caller-owned, outlives the call
//   std::thread watcher([&] { ... control.fraction(), control.phase() ... control.request_cancel(); });
//   try { careshed::raster_travel_time(grid, src, n, options, out, &control); }
//   catch (const careshed::Cancelled&) { ... }  // the run's own memory is already freed (RAII)
//
// Contract of every long careshed function that takes a trailing `RunControl* control = nullptr`:
//  * Cancellation. The function polls control->cancel_requested() in each of its long loops, once per
//    chunk of work (a row, a source, a bucket of the search, a zone; every OpenMP thread polls its own
//    chunks), and after request_cancel() it stops at the next poll and throws careshed::Cancelled. Its
//    temporary memory is released on the way out. Caller-owned output buffers may hold partial results
//    and must then be discarded. Time from request_cancel() to the throw: one chunk, in practice well
//    under 100 ms on the grids careshed is made for (the Python tests check < 1 s end to end).
//  * Progress. The function reports how far it is as a fraction in [0, 1] (units: share of its work, an
//    estimate such as rows done / rows or search time reached / cutoff) and, for multi-stage work, a
//    phase name ("search", "allocation", ...). Reports only store into atomics: nothing is called back
//    from the compute threads. Whoever wants to show progress reads fraction() and phase() from its own
//    thread at its own pace (the Python bindings do it every 50 ms in the calling thread, which also
//    checks for Ctrl-C). fraction() never decreases and is 1.0 after a function returned normally.
//  * Absent control (nullptr, the default): no polling and no reporting beyond one pointer test per
//    chunk; results are identical with and without a control.
// Ownership: the caller owns the RunControl; functions only use it during the call and never retain it.
// Thread-safety: every member may be called from any thread concurrently (atomics, no locks);
// request_cancel() is also async-signal-safe (a lock-free atomic store). A RunControl is meant for one
// run at a time; reset() makes it reusable (not while a run is using it).
// Errors: careshed::Cancelled, deliberately not derived from careshed::Error so that no "any careshed
// error" handler can mistake a requested stop for a failure and rewrap it. The Python bindings turn it
// back into the KeyboardInterrupt (or the progress callable's exception) that caused it.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <exception>

namespace careshed {

/// Thrown by a long careshed function that saw RunControl::request_cancel() (see the file comment).
class Cancelled : public std::exception {
 public:
  const char* what() const noexcept override { return "careshed: run cancelled"; }
};

/// Cancellation flag + progress of one run. See the file comment for the contract.
class RunControl {
 public:
  RunControl() = default;
  RunControl(const RunControl&) = delete;
  RunControl& operator=(const RunControl&) = delete;

  // ---- cancellation --------------------------------------------------------------------------------
  /// Asks the run to stop (any thread, signal handlers included). Idempotent.
  void request_cancel() noexcept { cancel_.store(true, std::memory_order_relaxed); }
  /// True once request_cancel() was called. One relaxed atomic load: cheap enough for every chunk.
  bool cancel_requested() const noexcept { return cancel_.load(std::memory_order_relaxed); }
  /// Throws Cancelled if cancellation was requested. Not inside OpenMP regions (exceptions must not
  /// cross them): there, test cancel_requested(), skip the remaining chunks, and call this after.
  void throw_if_cancelled() const {
    if (cancel_requested()) throw Cancelled();
  }

  // ---- progress (readers) --------------------------------------------------------------------------
  /// Fraction of the whole run done, in [0, 1]; never decreases during a run.
  double fraction() const noexcept { return from_bits(done_bits_.load(std::memory_order_relaxed)); }
  /// Name of the current stage ("" when the function has none). A string with static storage.
  const char* phase() const noexcept { return phase_.load(std::memory_order_relaxed); }

  // ---- progress (writers: the careshed functions) --------------------------------------------------
  /// Records that `fraction` (0..1, clamped) of the current span is done. Any thread; a report below an
  /// earlier one is ignored (fraction() stays monotone).
  void report(double fraction) noexcept {
    const double lo = lo_.load(std::memory_order_relaxed), hi = hi_.load(std::memory_order_relaxed);
    const double f = lo + (hi - lo) * std::min(1.0, std::max(0.0, fraction));
    const std::uint64_t want = to_bits(f);
    std::uint64_t seen = done_bits_.load(std::memory_order_relaxed);
    // Non-negative doubles order like their bit patterns, so an integer max is a double max.
    while (want > seen && !done_bits_.compare_exchange_weak(seen, want, std::memory_order_relaxed)) {
    }
  }

  /// Clears the flag and the progress for another run (not while a run uses the control).
  void reset() noexcept {
    cancel_.store(false, std::memory_order_relaxed);
    done_bits_.store(0, std::memory_order_relaxed);
    lo_.store(0.0, std::memory_order_relaxed);
    hi_.store(1.0, std::memory_order_relaxed);
    phase_.store("", std::memory_order_relaxed);
  }

 private:
  friend class ProgressSpan;
  static std::uint64_t to_bits(double v) {
    std::uint64_t b;
    std::memcpy(&b, &v, sizeof b);
    return b;
  }
  static double from_bits(std::uint64_t b) {
    double v;
    std::memcpy(&v, &b, sizeof v);
    return v;
  }

  std::atomic<bool> cancel_{false};
  std::atomic<std::uint64_t> done_bits_{0};  // bits of a double in [0, 1]
  std::atomic<double> lo_{0.0}, hi_{1.0};    // the current span of the whole run (see ProgressSpan)
  std::atomic<const char*> phase_{""};
};

/// A stage of a function that composes others (e.g. capacity coverage = reach lists, then allocation):
/// while it lives, reports of the control map [0, 1] onto [from, to] of the enclosing span, and the
/// phase is `phase` (static storage). On normal exit from its scope the stage is reported complete; on
/// any exit the enclosing span and (if it had one) phase come back; the outermost phase name stays. Every long function opens one over [0, 1], so
/// fraction() reaches 1.0 exactly when the outermost function returns. Create and destroy it on the thread running the function, outside OpenMP
/// regions. With control == nullptr it does nothing.
class ProgressSpan {
 public:
  ProgressSpan(RunControl* control, double from, double to, const char* phase = nullptr) noexcept : c_(control) {
    if (!c_) return;
    lo0_ = c_->lo_.load(std::memory_order_relaxed);
    hi0_ = c_->hi_.load(std::memory_order_relaxed);
    phase0_ = c_->phase_.load(std::memory_order_relaxed);
    c_->lo_.store(lo0_ + (hi0_ - lo0_) * from, std::memory_order_relaxed);
    c_->hi_.store(lo0_ + (hi0_ - lo0_) * to, std::memory_order_relaxed);
    if (phase) c_->phase_.store(phase, std::memory_order_relaxed);
    exceptions0_ = std::uncaught_exceptions();
  }
  ~ProgressSpan() {
    if (!c_) return;
    if (std::uncaught_exceptions() == exceptions0_) c_->report(1.0);
    c_->lo_.store(lo0_, std::memory_order_relaxed);
    c_->hi_.store(hi0_, std::memory_order_relaxed);
    if (*phase0_ != '\0') c_->phase_.store(phase0_, std::memory_order_relaxed);  // the outermost name stays
  }
  ProgressSpan(const ProgressSpan&) = delete;
  ProgressSpan& operator=(const ProgressSpan&) = delete;

 private:
  RunControl* c_;
  double lo0_ = 0.0, hi0_ = 1.0;
  const char* phase0_ = "";
  int exceptions0_ = 0;
};

/// Counts chunks done, from any number of threads, and reports done / total to the control. The
/// helper long loops use: `if (!counter.tick()) continue;` at the start of each chunk skips the rest
/// of a cancelled run (OpenMP-safe), and control->throw_if_cancelled() after the loop throws.
class ProgressCounter {
 public:
  ProgressCounter(RunControl* control, std::uint64_t total) noexcept : c_(control), total_(total ? total : 1) {}
  /// Call at the start of a chunk: false if the run is cancelled (skip the chunk). Any thread.
  bool running() const noexcept { return !(c_ && c_->cancel_requested()); }
  /// Call when `chunks` chunks are done: reports progress; false if the run is cancelled. Any thread.
  bool done(std::uint64_t chunks = 1) noexcept {
    if (!c_) return true;
    const std::uint64_t d = done_.fetch_add(chunks, std::memory_order_relaxed) + chunks;
    c_->report(static_cast<double>(d) / static_cast<double>(total_));
    return !c_->cancel_requested();
  }

 private:
  RunControl* c_;
  std::uint64_t total_;
  std::atomic<std::uint64_t> done_{0};
};

/// Throws Cancelled if `control` is set and cancelled (nullptr-tolerant form for the end of loops).
inline void throw_if_cancelled(const RunControl* control) {
  if (control) control->throw_if_cancelled();
}
/// True if `control` is set and cancelled (nullptr-tolerant; the per-chunk test inside loops).
inline bool cancel_requested(const RunControl* control) noexcept { return control && control->cancel_requested(); }
/// Reports `fraction` of the current span (nullptr-tolerant).
inline void report_progress(RunControl* control, double fraction) noexcept {
  if (control) control->report(fraction);
}

}  // namespace careshed
