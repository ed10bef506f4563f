// Tests of core/src/cbc_support.hpp: careshed's CBC driver runs, without CBC's heuristics, the three MIPs on which
// Debian's CBC 2.10 / CLP 1.17 (built with assertions on) aborted the process (issue 10). The MIPs are the ones
// careshed built for the capacitated single-source instances of test_capacitated_random_instances_equal_pulp_cbc
// (CARESHED_TEST_SEED=260 p-median round 0, 5348 MCLP round 5, 311 MCLP round 4), written by CLP's MPS writer in its
// exact IEEE form (tests/data/cbc_aborts): a decimal copy of the seed-5348 MIP no longer aborts, the bits matter.
// Each solve runs in a forked child, so that an abort fails the test instead of ending the test binary. The
// optima were checked with an independent solver (scipy's HiGHS on the same MIPs: 8679, 4.1041666666666661,
// 1.0535714285714286).
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdlib>
#include <string>

#include "cbc_support.hpp"

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
