// Tests of careshed/progress.hpp itself: the RunControl flag, monotone progress, spans of composed
// functions, the chunk counter across threads. Each long routine's own cancellation and progress tests
// are in its mirrored <area>_test.cpp (with the helpers of run_control_checks.hpp).
#include "careshed/progress.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

namespace {

using careshed::Cancelled;
using careshed::ProgressCounter;
using careshed::ProgressSpan;
using careshed::RunControl;

TEST(RunControl, FreshControlIsNotCancelledAndAtZero) {
  RunControl c;
  EXPECT_FALSE(c.cancel_requested());
  EXPECT_EQ(c.fraction(), 0.0);
  EXPECT_STREQ(c.phase(), "");
  EXPECT_NO_THROW(c.throw_if_cancelled());
}

TEST(RunControl, CancelIsStickyAndThrowsCancelled) {
  RunControl c;
  c.request_cancel();
  c.request_cancel();  // idempotent
  EXPECT_TRUE(c.cancel_requested());
  EXPECT_THROW(c.throw_if_cancelled(), Cancelled);
  EXPECT_THROW(careshed::throw_if_cancelled(&c), Cancelled);
  EXPECT_TRUE(careshed::cancel_requested(&c));
  c.reset();
  EXPECT_FALSE(c.cancel_requested());
}

TEST(RunControl, NullControlHelpersDoNothing) {
  EXPECT_FALSE(careshed::cancel_requested(nullptr));
  EXPECT_NO_THROW(careshed::throw_if_cancelled(nullptr));
  careshed::report_progress(nullptr, 0.5);
  ProgressSpan span(nullptr, 0.0, 0.5, "x");
  ProgressCounter counter(nullptr, 10);
  EXPECT_TRUE(counter.running());
  EXPECT_TRUE(counter.done());
}

TEST(RunControl, CancelledIsNotACareshedError) {
  // So that no "any careshed error" handler can rewrap a requested stop as a failure.
  const Cancelled e;
  EXPECT_EQ(dynamic_cast<const std::runtime_error*>(static_cast<const std::exception*>(&e)), nullptr);
  EXPECT_NE(std::strlen(e.what()), 0u);
}

TEST(RunControl, ReportsAreMonotoneAndClamped) {
  RunControl c;
  c.report(0.3);
  EXPECT_DOUBLE_EQ(c.fraction(), 0.3);
  c.report(0.1);  // lower: ignored
  EXPECT_DOUBLE_EQ(c.fraction(), 0.3);
  c.report(2.0);  // clamped
  EXPECT_DOUBLE_EQ(c.fraction(), 1.0);
  c.reset();
  c.report(-1.0);
  EXPECT_DOUBLE_EQ(c.fraction(), 0.0);
}

TEST(ProgressSpan, NestedSpansMapOntoTheEnclosingRangeAndRestorePhase) {
  RunControl c;
  {
    ProgressSpan outer(&c, 0.0, 1.0, "outer");
    EXPECT_STREQ(c.phase(), "outer");
    {
      ProgressSpan first(&c, 0.0, 0.8, "search");
      EXPECT_STREQ(c.phase(), "search");
      c.report(0.5);  // half of [0, 0.8]
      EXPECT_DOUBLE_EQ(c.fraction(), 0.4);
      {
        ProgressSpan inner(&c, 0.5, 1.0);  // [0.4, 0.8] of the whole, phase unchanged
        c.report(0.5);
        EXPECT_DOUBLE_EQ(c.fraction(), 0.6);
        EXPECT_STREQ(c.phase(), "search");
      }
      EXPECT_DOUBLE_EQ(c.fraction(), 0.8);  // inner completed = its upper edge
    }
    EXPECT_STREQ(c.phase(), "outer");
    ProgressSpan second(&c, 0.8, 1.0, "allocation");
    c.report(0.5);
    EXPECT_DOUBLE_EQ(c.fraction(), 0.9);
  }
  EXPECT_DOUBLE_EQ(c.fraction(), 1.0);
  EXPECT_STREQ(c.phase(), "outer");  // the outermost name stays for the final report
}

TEST(ProgressSpan, AnExceptionLeavesTheSpanIncomplete) {
  RunControl c;
  try {
    ProgressSpan span(&c, 0.0, 1.0, "work");
    c.report(0.25);
    throw Cancelled();
  } catch (const Cancelled&) {
  }
  EXPECT_DOUBLE_EQ(c.fraction(), 0.25);
}

TEST(ProgressCounter, CountsChunksFromManyThreadsAndStopsOnCancel) {
  RunControl c;
  constexpr int kThreads = 4, kChunks = 1000;
  {
    ProgressCounter counter(&c, kThreads * kChunks);
    std::vector<std::thread> ts;
    for (int t = 0; t < kThreads; ++t)
      ts.emplace_back([&] {
        for (int i = 0; i < kChunks; ++i) EXPECT_TRUE(counter.done());
      });
    for (auto& t : ts) t.join();
  }
  EXPECT_DOUBLE_EQ(c.fraction(), 1.0);
  c.reset();
  ProgressCounter counter(&c, 10);
  EXPECT_TRUE(counter.running());
  c.request_cancel();
  EXPECT_FALSE(counter.running());
  EXPECT_FALSE(counter.done());
}

TEST(RunControl, CancelFromAnotherThreadIsSeenByAPollingLoop) {
  RunControl c;
  std::atomic<long> polls{0};
  std::thread canceller([&] {
    while (polls.load() < 1000) std::this_thread::yield();
    c.request_cancel();
  });
  bool stopped = false;
  try {
    for (;;) {
      c.throw_if_cancelled();
      ++polls;
    }
  } catch (const Cancelled&) {
    stopped = true;
  }
  canceller.join();
  EXPECT_TRUE(stopped);
  EXPECT_GE(polls.load(), 1000);
}

}  // namespace
