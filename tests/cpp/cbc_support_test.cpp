// Tests of core/src/cbc_support.hpp.
// (1) The solver process (SolverProcess, solve_mip): every CBC / CLP solve runs in a child process, so that a
// child that aborts, crashes, is killed or never answers is a reported outcome and never ends or hangs this
// process; answers travel back intact (checked against brute force and the fractional knapsack on seeded
// random knapsacks).
// (2) careshed's CBC driver runs, without CBC's heuristics, the three MIPs on which
// Debian's CBC 2.10 / CLP 1.17 (built with assertions on) aborted the process (issue 10). The MIPs are the ones
// careshed built for the capacitated single-source instances of test_capacitated_random_instances_equal_pulp_cbc
// (CARESHED_TEST_SEED=260 p-median round 0, 5348 MCLP round 5, 311 MCLP round 4), written by CLP's MPS writer in its
// exact IEEE form (tests/data/cbc_aborts): a decimal copy of the seed-5348 MIP no longer aborts, the bits matter.
// Each solve runs in a forked child, so that an abort fails the test instead of ending the test binary. The
// optima were checked with an independent solver (scipy's HiGHS on the same MIPs: 8679, 4.1041666666666661,
// 1.0535714285714286).
// (3) The byte messages between the processes: empty vectors round-trip, a short message is an error.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cbc_support.hpp"
#include "test_seed.hpp"

namespace {

using careshed::cbc::run_cbc_driver;

const std::string kDir = std::string(CARESHED_SOURCE_DIR) + "/tests/data/cbc_aborts/";

/// Exit codes of the child: 0 solved to `expected`, 2 not proven optimal, 3 another objective, 4 infeasible
/// solution, 5 unreadable file.
int solve_child(const std::string& file, bool heuristics, double expected) {
  OsiClpSolverInterface solver;
  solver.messageHandler()->setLogLevel(0);
  if (solver.readMps(file.c_str(), "") != 0) return 5;
  careshed::cbc::quiet_clp(solver, nullptr);
  CbcModel model(solver);
  run_cbc_driver(model, nullptr, HUGE_VAL, 0.0, heuristics);
  if (!model.isProvenOptimal() || !model.bestSolution()) return 2;
  if (std::fabs(model.getObjValue() - expected) > 1e-9 * std::max(1.0, std::fabs(expected))) return 3;
  // the solution against the rows and bounds, recomputed here from the matrix
  const OsiSolverInterface& s = *model.solver();
  const double* x = model.bestSolution();
  const CoinPackedMatrix* a = s.getMatrixByRow();
  for (int i = 0; i < s.getNumRows(); ++i) {
    double v = 0.0;
    const CoinShallowPackedVector row = a->getVector(i);
    for (int k = 0; k < row.getNumElements(); ++k) v += row.getElements()[k] * x[row.getIndices()[k]];
    if (v < s.getRowLower()[i] - 1e-6 || v > s.getRowUpper()[i] + 1e-6) return 4;
  }
  for (int j = 0; j < s.getNumCols(); ++j) {
    if (x[j] < s.getColLower()[j] - 1e-6 || x[j] > s.getColUpper()[j] + 1e-6) return 4;
    if (s.isInteger(j) && std::fabs(x[j] - std::round(x[j])) > 1e-6) return 4;
  }
  return 0;
}

/// The child's wait status (fork + solve_child + _exit).
int solve_in_child(const std::string& file, bool heuristics, double expected) {
  const pid_t pid = fork();
  if (pid == 0) {
    // Debian's CLP prints the failed assertion to stderr before abort(): keep it, the parent's log shows it.
    _exit(solve_child(file, heuristics, expected));
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

std::string describe(int status) {
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status)) + " (SIGABRT = 6: an assertion)";
  return "exit code " + std::to_string(WEXITSTATUS(status)) +
         " (0 solved, 2 not proven optimal, 3 another objective, 4 infeasible solution, 5 unreadable file)";
}

}  // namespace

// ---- (1) the solver process --------------------------------------------------------------------------------------

namespace {

using careshed::RunControl;
using careshed::cbc::Isolated;
using careshed::cbc::SolverProcess;
using Clock = std::chrono::steady_clock;

constexpr Clock::time_point kNoDeadline = Clock::time_point::max();

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string reversed(const std::string& s) { return std::string(s.rbegin(), s.rend()); }
std::string prints_then_aborts(const std::string&) {
  std::fprintf(stderr, "careshed test: a failed assertion would print this\n");
  std::abort();
}
std::string never_answers(const std::string&) {
  for (;;) ::pause();
}
std::string throws(const std::string& s) { throw std::runtime_error("thrown with " + s); }

}  // namespace

TEST(SolverProcess, AnswersManyRequestsFromOneChild) {
  SolverProcess process;
  long pid = -1;
  for (int k = 0; k < 50; ++k) {
    const std::string request = "request " + std::to_string(k) + std::string(std::size_t(k) * 5000, char('a' + k % 26));
    const Isolated r = process.call(reversed, request, nullptr, kNoDeadline);
    ASSERT_EQ(r.end, Isolated::End::kFinished) << r.failure;
    EXPECT_EQ(r.output, reversed(request));
    if (k == 0) pid = process.child_pid();
    EXPECT_EQ(process.child_pid(), pid) << "one child serves every call";
  }
  EXPECT_GT(pid, 0);
}

TEST(SolverProcess, AChildThatAbortsIsAFailureWithWhatItPrintedAndTheNextCallWorks) {
  SolverProcess process;
  const Isolated r = process.call(prints_then_aborts, "", nullptr, kNoDeadline);
  ASSERT_EQ(r.end, Isolated::End::kFailed);
  EXPECT_NE(r.failure.find("SIGABRT"), std::string::npos) << r.failure;
  EXPECT_NE(r.failure.find("a failed assertion would print this"), std::string::npos) << r.failure;
  EXPECT_EQ(process.child_pid(), -1);
  const Isolated again = process.call(reversed, "abc", nullptr, kNoDeadline);  // a new child
  ASSERT_EQ(again.end, Isolated::End::kFinished) << again.failure;
  EXPECT_EQ(again.output, "cba");
}

TEST(SolverProcess, AHandlerThatThrowsIsReportedWithItsMessage) {
  SolverProcess process;
  const Isolated r = process.call(throws, "xyz", nullptr, kNoDeadline);
  ASSERT_EQ(r.end, Isolated::End::kFailed);
  EXPECT_NE(r.failure.find("thrown with xyz"), std::string::npos) << r.failure;
}

TEST(SolverProcess, TheHardDeadlineKillsAChildThatNeverAnswers) {
  SolverProcess process;
  const Clock::time_point t0 = Clock::now();
  const Isolated r = process.call(never_answers, "", nullptr, t0 + std::chrono::milliseconds(300));
  EXPECT_EQ(r.end, Isolated::End::kTimedOut);
  EXPECT_GE(seconds_since(t0), 0.29);
  EXPECT_LT(seconds_since(t0), 5.0);  // functional bound: 0.3 s plus a poll interval and a kill
  EXPECT_EQ(process.child_pid(), -1);
}

TEST(SolverProcess, CancellationKillsTheChildWithinASecond) {
  SolverProcess process;
  RunControl control;
  const Clock::time_point t0 = Clock::now();
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    control.request_cancel();
  });
  const Isolated r = process.call(never_answers, "", &control, kNoDeadline);
  const double took = seconds_since(t0);
  canceller.join();
  EXPECT_EQ(r.end, Isolated::End::kCancelled);
  EXPECT_LT(took, 1.2);
}

TEST(SolverProcess, AChildKilledFromOutsideMidSolveIsAFailure) {
  SolverProcess process;
  ASSERT_EQ(process.call(reversed, "warm", nullptr, kNoDeadline).end, Isolated::End::kFinished);
  const long pid = process.child_pid();
  std::thread killer([pid] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ::kill(pid_t(pid), SIGKILL);  // as the OOM killer would
  });
  const Isolated r = process.call(never_answers, "", nullptr, Clock::now() + std::chrono::seconds(30));
  killer.join();
  ASSERT_EQ(r.end, Isolated::End::kFailed);
  EXPECT_NE(r.failure.find("SIGKILL"), std::string::npos) << r.failure;
}

TEST(SolverProcess, RunOnceSeesThisProcessesDataAndAnswers) {
  std::vector<int> data(100000);
  std::iota(data.begin(), data.end(), 1);
  const Isolated r = careshed::cbc::run_isolated_once(
      [&] { return std::to_string(std::accumulate(data.begin(), data.end(), 0LL)); }, nullptr, kNoDeadline);
  ASSERT_EQ(r.end, Isolated::End::kFinished) << r.failure;
  EXPECT_EQ(r.output, "5000050000");
  const Isolated dies = careshed::cbc::run_isolated_once([]() -> std::string { std::abort(); }, nullptr, kNoDeadline);
  EXPECT_EQ(dies.end, Isolated::End::kFailed);
}

// solve_mip through the child on seeded random 0/1 knapsacks: the MIP optimum equals brute force over all subsets,
// the solution is that value's, and the LP relaxation (relax = true) equals the fractional knapsack (items by
// value/weight, the last one split): the answer's x, bound and flags survive the trip through the pipe.
TEST(SolverProcess, SolveMipInAChildEqualsBruteForceOnRandomKnapsacks) {
  const std::uint64_t seed = careshed_test::fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  careshed::cbc::SolverSession session;  // one child for all rounds
  for (int round = 0; round < 20; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const int n = 3 + int(rng() % 10);
    std::vector<double> value(n), weight(n);
    for (int j = 0; j < n; ++j) value[j] = double(1 + rng() % 100), weight[j] = double(1 + rng() % 50);
    const double cap = std::floor(std::accumulate(weight.begin(), weight.end(), 0.0) * (0.2 + 0.6 * double(rng() % 100) / 100.0));
    careshed::cbc::Mip m;
    m.add_row(-HUGE_VAL, cap);
    for (int j = 0; j < n; ++j) {
      m.add_col(0.0, 1.0, value[j], true);
      m.entry(0, weight[j]);
      m.end_col();
    }
    double best = 0.0;
    for (std::uint32_t mask = 0; mask < (1u << n); ++mask) {
      double v = 0.0, w = 0.0;
      for (int j = 0; j < n; ++j) {
        if (mask >> j & 1) v += value[j], w += weight[j];
      }
      if (w <= cap) best = std::max(best, v);
    }
    const careshed::cbc::MipResult r = careshed::cbc::solve_mip(m, true, false, HUGE_VAL, 0.0);
    ASSERT_TRUE(r.failure.empty()) << r.failure;
    ASSERT_TRUE(r.proven_optimal && r.has_solution);
    ASSERT_EQ(r.x.size(), std::size_t(n));
    double v = 0.0, w = 0.0;
    for (int j = 0; j < n; ++j) v += value[j] * std::round(r.x[j]), w += weight[j] * std::round(r.x[j]);
    EXPECT_NEAR(v, best, 1e-9);
    EXPECT_LE(w, cap + 1e-9);
    EXPECT_NEAR(r.bound, best, 1e-6 * best);
    // the LP relaxation: the fractional knapsack
    std::vector<int> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int a, int b) { return value[a] * weight[b] > value[b] * weight[a]; });
    double room = cap, lp = 0.0;
    for (int j : order) {
      const double take = std::min(1.0, room / weight[j]);
      lp += take * value[j], room -= take * weight[j];
      if (room <= 0) break;
    }
    const careshed::cbc::MipResult relax = careshed::cbc::solve_mip(m, true, true, HUGE_VAL, 0.0);
    ASSERT_TRUE(relax.proven_optimal && relax.has_solution) << relax.failure;
    EXPECT_NEAR(relax.bound, lp, 1e-7 * lp);
    ASSERT_EQ(relax.row_dual.size(), 1u);
  }
}

// ---- (2) the MIPs that aborted inside CBC's heuristics ---------------------------------------------------------

namespace {

struct AbortCase {
  const char* file;
  double optimum;  // scipy's HiGHS on the same MIP
};

const AbortCase kCases[] = {
    {"seed260_single_source_assignment_crunch.mps", 8679.0},       // OsiClpSolverInterface::crunch() check
    {"seed5348_tie_break_update_duals.mps", 4.1041666666666661},   // ClpSimplexDual::updateDualsInDual iStatus > 0
    {"seed311_tie_break_diving.mps", 1.0535714285714286},          // ClpNonLinearCost, diving heuristic
};

}  // namespace

TEST(CbcDriver, MipsThatAbortedClpInsideCbcHeuristicsSolveWithoutThem) {
  for (const AbortCase& c : kCases) {
    const int status = solve_in_child(kDir + c.file, false, c.optimum);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << c.file << ": " << describe(status);
  }
}

// The power of the test above: with CBC's default heuristics the first two MIPs still abort in Debian's CBC 2.10.8 /
// CLP 1.17.6 (the third aborted with only the sub-MIP heuristics off: -feas off -rins off -greedy off). If a newer
// CBC or CLP no longer aborts, this says so (skipped) rather than failing: the workaround may then be revisited.
TEST(CbcDriver, WithCbcsHeuristicsTheFirstTwoMipsStillAbortInThisCbc) {
  int aborted = 0;
  for (int k = 0; k < 2; ++k) {
    const int status = solve_in_child(kDir + kCases[k].file, true, kCases[k].optimum);
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT) ++aborted;
  }
  if (aborted < 2) GTEST_SKIP() << "only " << aborted << " of 2 MIPs abort with CBC's heuristics on in this CBC/CLP";
  SUCCEED();
}

// ---- (3) the byte messages between the processes ------------------------------------------------------------------

// Requests and answers carry empty vectors (a MIP's row duals, a solve without a solution): they must round-trip
// like any other, next to values and non-empty vectors, and a message cut short must be an error, never a read past
// its end. (Under `make test-sanitize` this also checks that no null pointer reaches memcpy: an empty vector's
// data() may be null, and UBSan reported ByteReader's copy of it.)
TEST(ByteMessages, EmptyAndNonEmptyVectorsRoundTripAndAShortMessageIsAnError) {
  careshed::cbc::ByteWriter w;
  const std::vector<double> empty, some = {1.5, -2.0, 1e300};
  const std::vector<char> none;
  w.put(std::int32_t(7)), w.put(empty), w.put(some), w.put(none), w.put(2.5);
  careshed::cbc::ByteReader r{w.bytes};
  std::int32_t a = 0;
  std::vector<double> e = {9.0}, s;  // e starts non-empty: the read must empty it
  std::vector<char> n = {'x'};
  double b = 0.0;
  r.get(a), r.get(e), r.get(s), r.get(n), r.get(b);
  EXPECT_EQ(a, 7);
  EXPECT_TRUE(e.empty());
  EXPECT_EQ(s, some);
  EXPECT_TRUE(n.empty());
  EXPECT_EQ(b, 2.5);
  EXPECT_EQ(r.at, w.bytes.size());
  // every cut of the message short of its end is refused
  for (std::size_t cut = 0; cut < w.bytes.size(); ++cut) {
    const std::string part = w.bytes.substr(0, cut);
    careshed::cbc::ByteReader q{part};
    EXPECT_THROW((q.get(a), q.get(e), q.get(s), q.get(n), q.get(b)), std::logic_error) << "cut at " << cut;
  }
}

// A solve in a child of its own reports its progress to its copy of the control, which the caller never sees; with
// progress_seconds (the solve's time budget) the waiting parent reports the elapsed share of it instead, so a
// watcher sees the fraction move during the wait (values strictly between 0 and the 0.99 of the end), never past
// 0.99 (the function's end reports 1.0), and without progress_seconds nothing is reported.
TEST(SolverProcess, RunOnceReportsTheElapsedShareOfTheBudgetWhileTheChildWorks) {
  RunControl control;
  std::atomic<bool> done{false};
  std::atomic<int> seen_between{0};  // reports in (0, 0.99): only made while the child works
  std::thread watcher([&] {
    while (!done.load()) {
      const double f = control.fraction();
      if (f > 0.0 && f < 0.99) ++seen_between;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  const Isolated r = careshed::cbc::run_isolated_once([]() -> std::string { for (;;) ::pause(); }, &control,
                                                      Clock::now() + std::chrono::milliseconds(1500), 0.8);
  done = true;
  watcher.join();
  EXPECT_EQ(r.end, Isolated::End::kTimedOut);
  EXPECT_GT(seen_between.load(), 0) << "the fraction did not move while the child worked";
  EXPECT_DOUBLE_EQ(control.fraction(), 0.99) << "killed at 1.5 s, past the 0.8 s budget: capped at 0.99";
  RunControl quiet;
  careshed::cbc::run_isolated_once([]() -> std::string { for (;;) ::pause(); }, &quiet,
                                   Clock::now() + std::chrono::milliseconds(200));
  EXPECT_EQ(quiet.fraction(), 0.0);
}
