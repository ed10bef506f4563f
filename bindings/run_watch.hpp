// run_watch.hpp — how a long _core function runs: GIL released, Ctrl-C honoured, progress shown.
//
// Python runs signal handlers (KeyboardInterrupt on SIGINT, which is also Jupyter's "interrupt") only in
// the main thread, and only when that thread runs Python code. So a C++ computation started from the main
// thread runs in a worker thread, while the calling thread watches it: every 50 ms it takes the GIL, calls
// PyErr_CheckSignals() (a raised exception — normally KeyboardInterrupt — cancels the run through its
// careshed::RunControl) and, at most every 100 ms once the run has reported (a phase or a fraction > 0;
// never the control's initial (0.0, ""), which says nothing of the run), and once at the end, calls the
// optional Python `progress(fraction, phase)` callable with the RunControl's fraction (0..1, never
// decreasing, 1.0 at the end of a successful run) and phase name. An exception raised by the callable
// cancels the run too.
// The exception that stopped the run is re-raised as it was (the user's KeyboardInterrupt, with any handler
// they installed respected); a Cancelled without a Python cause becomes KeyboardInterrupt (errors.cpp).
// Called from another thread (no signals to check) without a progress callable, the work runs inline.
// Latency: the C++ core polls its RunControl per chunk (careshed/progress.hpp), so a run stops within
// ~50 ms + one chunk of the press of Ctrl-C (tests/python/test__core_progress.py checks < 1 s).
// OpenMP note: work started in the worker thread gets a fresh OpenMP team; omp_set_num_threads() calls
// made in the calling thread do not carry over (OMP_NUM_THREADS and explicit thread arguments do).
#pragma once

#include <pybind11/pybind11.h>

#include <exception>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "careshed/progress.hpp"

namespace careshed::bindings {

/// Runs work(control) under the watch described above. Must be called with the GIL held; `work` runs
/// without it (it must not touch Python objects). `progress`: None or a callable (fraction, phase).
void run_watched(const pybind11::object& progress, const std::function<void(RunControl*)>& work);

/// Typed form: returns what `work` returns.
template <class F>
auto run_interruptible(const pybind11::object& progress, F&& work) -> decltype(work(nullptr)) {
  using R = decltype(work(nullptr));
  if constexpr (std::is_void_v<R>) {
    run_watched(progress, [&](RunControl* c) { work(c); });
  } else {
    std::optional<R> result;
    run_watched(progress, [&](RunControl* c) { result.emplace(work(c)); });
    return std::move(*result);
  }
}

/// Checks that `progress` is None or callable (before any work starts); InputError otherwise.
void check_progress_arg(const pybind11::object& progress);

}  // namespace careshed::bindings
