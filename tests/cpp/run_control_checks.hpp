// run_control_checks.hpp — the three checks every long routine's tests make with a careshed::RunControl
// (contract in careshed/progress.hpp):
//  * expect_stops_when_cancelled_midway: a second thread requests cancellation once the run has reported
//    some progress; the routine must then throw careshed::Cancelled (the run's own memory is released by
//    RAII; the sanitizer build checks that nothing leaks).
//  * expect_stops_when_cancelled_before: a control cancelled before the call stops the routine at its
//    first poll (so every routine polls at all, even on inputs too small to cancel midway).
//  * watch_progress: samples fraction() from a second thread during a run; the samples must never
//    decrease and the run must end at exactly 1.0.
// Results with a control are compared to results without one in each test file (same bits expected).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>
#include <vector>

#include "careshed/progress.hpp"

namespace careshed_test {

/// Runs run(&control) while another thread cancels it as soon as fraction() >= at_fraction. Expects
/// Cancelled. The input must be large enough that the run is still going when that thread wakes up
/// (~1 ms polling); `what` names the routine in the failure message.
inline void expect_stops_when_cancelled_midway(const std::function<void(careshed::RunControl*)>& run,
                                               const char* what, double at_fraction = 0.05) {
  careshed::RunControl control;
  std::atomic<bool> finished{false};
  std::atomic<double> fraction_at_cancel{-1.0};
  std::thread canceller([&] {
    while (!finished.load()) {
      const double f = control.fraction();
      if (f >= at_fraction && f < 1.0) {
        fraction_at_cancel = f;
        control.request_cancel();
        return;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  bool threw = false;
  try {
    run(&control);
  } catch (const careshed::Cancelled&) {
    threw = true;
  }
  finished = true;
  canceller.join();
  ASSERT_GE(fraction_at_cancel.load(), at_fraction)
      << what << ": finished before the test could cancel it (make the input larger)";
  EXPECT_TRUE(threw) << what << ": cancellation requested at fraction " << fraction_at_cancel.load()
                     << " but the routine returned normally";
  EXPECT_LT(control.fraction(), 1.0) << what << ": a cancelled run must not report completion";
}

/// A control cancelled before the call: the routine must throw Cancelled at its first poll.
inline void expect_stops_when_cancelled_before(const std::function<void(careshed::RunControl*)>& run,
                                               const char* what) {
  careshed::RunControl control;
  control.request_cancel();
  EXPECT_THROW(run(&control), careshed::Cancelled) << what;
}

/// Runs run(&control) while sampling fraction(); checks monotone samples and a final 1.0. Returns the
/// samples (for tests that want more).
inline std::vector<double> watch_progress(const std::function<void(careshed::RunControl*)>& run,
                                          const char* what) {
  careshed::RunControl control;
  std::atomic<bool> finished{false};
  std::vector<double> samples;
  std::thread sampler([&] {
    while (!finished.load()) {
      samples.push_back(control.fraction());
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  });
  run(&control);
  finished = true;
  sampler.join();
  samples.push_back(control.fraction());
  for (std::size_t i = 1; i < samples.size(); ++i)
    EXPECT_LE(samples[i - 1], samples[i]) << what << ": progress went back at sample " << i;
  EXPECT_EQ(control.fraction(), 1.0) << what << ": a finished run must report 1.0";
  EXPECT_FALSE(control.cancel_requested());
  return samples;
}

}  // namespace careshed_test
