// cbc_support.hpp — internal (not installed): the one process-wide lock around CBC / CLP and the set-up every
// careshed use of them shares (quiet, no SIGINT handler of their own, stopped by the run's RunControl).
//
// Why one lock: CBC 2.10's standalone driver (CbcMain0/CbcMain1, which the C interface wraps too) keeps
// process-wide state — static parameter tables, the "-quit"/abort flags, the message handlers' statics — so two
// solves at once in one process, even on separate CbcModel objects, can corrupt each other. Every call into CBC or
// CLP in careshed (site optimisation's MIPs and relaxations, outreach's set-partitioning MIP and column-generation
// LPs) holds cbc_mutex() for the whole solve; separate mutexes per file would let them overlap.
// Thread-safety: the helpers below only touch the objects they are given; the caller holds cbc_mutex().
#pragma once

#include <coin/CbcEventHandler.hpp>
#include <coin/CbcModel.hpp>
#include <coin/CbcSolver.hpp>
#include <coin/ClpEventHandler.hpp>
#include <coin/ClpSimplex.hpp>
#include <coin/ClpSolve.hpp>
#include <coin/OsiClpSolverInterface.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "careshed/progress.hpp"

namespace careshed::cbc {

/// The process-wide lock: hold it for every CBC / CLP solve (see the file comment). An inline function's static
/// is one object across all translation units.
inline std::mutex& cbc_mutex() {
  static std::mutex m;
  return m;
}

/// Stops CBC's branch and cut at its next event once the run is cancelled.
class CbcStop : public CbcEventHandler {
 public:
  explicit CbcStop(RunControl* control) : control_(control) {}
  CbcAction event(CbcEvent) override { return control_ && control_->cancel_requested() ? stop : noAction; }
  CbcEventHandler* clone() const override { return new CbcStop(*this); }

 private:
  RunControl* control_;
};

/// Stops CLP's simplex after the current iteration once the run is cancelled or once the deadline passed (pass
/// time_point::max() for none): CLP does not check its time limit inside the initial solve, and one LP of a large
/// instance can take minutes.
class ClpStop : public ClpEventHandler {
 public:
  using Clock = std::chrono::steady_clock;
  ClpStop(RunControl* control, Clock::time_point deadline) : control_(control), deadline_(deadline) {}
  int event(Event e) override {
    if (e != endOfIteration) return -1;
    if (control_ && control_->cancel_requested()) return 5;
    return ((++count_ & 63) == 0 && Clock::now() > deadline_) ? 5 : -1;
  }
  ClpEventHandler* clone() const override { return new ClpStop(*this); }

 private:
  RunControl* control_;
  Clock::time_point deadline_;
  std::uint64_t count_ = 0;
};

/// Quiet CLP under `solver`, stopped by `stop` (cloned into CBC's copies; may be null), and without CLP's own SIGINT
/// handler: initialSolve installs one unless special option 2 = 1, and with it Ctrl-C would stop the LP silently
/// instead of reaching the caller (Python's KeyboardInterrupt -> the RunControl). primal_or_sprint: CLP's primal
/// simplex (sprint on many columns) instead of its default dual start — an order of magnitude faster on covering
/// LPs with many columns per row.
inline void quiet_clp(OsiClpSolverInterface& solver, ClpEventHandler* stop, bool primal_or_sprint = false) {
  solver.messageHandler()->setLogLevel(0);
  solver.getModelPtr()->setLogLevel(0);
  if (stop) solver.getModelPtr()->passInEventHandler(stop);
  ClpSolve options;
  options.setSpecialOption(2, 1);
  if (primal_or_sprint) options.setSolveType(ClpSolve::usePrimalorSprint);
  solver.setSolveOptions(options);
}

inline int cbc_no_callback(CbcModel*, int) { return 0; }

/// MIPs up to this many rows and columns run without CBC's heuristics (see run_cbc_driver): every abort found was on
/// such a MIP (35 x 33 and smaller in the heuristics; one more, 98 rows, in CBC's own tree, which this does not
/// avoid: docs/optimize.md), and there they cost little (benchmarks/optimize.py's 500 x 50
/// exact MCLP, 347 x 394: 0.07 s of CPU without, 0.05 s with). Larger MIPs keep them, because without them CBC can
/// take far longer: 798 x 894 (1,000 x 100) 0.64 s instead of 0.34 s, 3,452 x 3,851 (4,000 x 400) 68 s instead of
/// 1.6 s, 4,394 x 4,893 (5,000 x 500) 121 s instead of 11.7 s (BENCHMARKS.md, "CBC without its heuristics").
constexpr int kNoHeuristicsMaxRows = 500, kNoHeuristicsMaxCols = 500;

/// Whether run_cbc_driver should let CBC use its heuristics on `solver`'s MIP: only when it is larger than
/// kNoHeuristicsMaxRows x kNoHeuristicsMaxCols.
inline bool heuristics_for_size(const OsiSolverInterface& solver) {
  return solver.getNumRows() > kNoHeuristicsMaxRows || solver.getNumCols() > kNoHeuristicsMaxCols;
}

/// heuristics = false runs CBC without its primal heuristics (`-heur off`). Debian builds CBC 2.10 / CLP 1.17 with
/// their assertions on, and three assertion failures that abort the whole process were found inside CBC's
/// heuristics, on small MIPs of careshed's capacitated single-source path (issue 10; docs/optimize.md, "CBC without
/// its heuristics"):
/// - OsiClpSolverInterface::crunch(): `whichRow[i] >= -CoinMax(...)`, and ClpSimplexDual::updateDualsInDual:
///   `iStatus > 0`, both inside CbcHeuristic::smallBranchAndBound, the "mini branch and bound" that the feasibility
///   pump (also RINS, greedy, RENS, DINS, ...) runs on a copy of the model with most integers fixed. Below 300 rows
///   and 500 columns it puts the copy's CLP in its fast mode (setupForRepeatedUse(2, 0): each resolve "crunches" the
///   LP down to the rows and columns still free; dual simplex with special options).
/// - ClpNonLinearCost::checkInfeasibilities: `lowerValue <= upperValue`, in the diving heuristic's resolve through
///   the same crunch.
/// Upstream says the crunch check misfires on tiny models (coin-or/Clp#288; the same abort in coin-or/Cbc#684);
/// `iStatus > 0` is an open report (coin-or/Clp#81). Switching off only the heuristics that run sub-MIPs
/// (`-feas off -rins off -greedy off`) still left the diving abort. Without heuristics none of these paths runs:
/// CBC's preprocessing, cuts and tree search remain, and careshed keeps its own heuristic answer unless CBC finds a
/// better one. The cost is measured in BENCHMARKS.md ("CBC without its heuristics"); it is why large MIPs keep them.
///
/// Branch and cut on `model` with CBC's standalone driver (CbcMain0 + CbcMain1: the same cut generators and, with
/// `heuristics`, the same heuristics as the `cbc` program), quiet, no SIGINT handler of its own
/// (useSignalHandler_ = false), stopped at its next event once `control` is cancelled (the caller then checks the
/// control: a stopped run's status reads as "infeasible" or "limit"). time_limit: wall seconds (+inf: none);
/// gap_target: relative gap to stop at (<= 0: prove optimality). The caller holds cbc_mutex().
inline void run_cbc_driver(CbcModel& model, RunControl* control, double time_limit, double gap_target,
                           bool heuristics) {
  auto text = [](double v) {
    std::ostringstream s;
    s << v;
    return s.str();
  };
  model.setLogLevel(0);
  CbcSolverUsefulData data;
  data.noPrinting_ = true;
  data.useSignalHandler_ = false;
  CbcMain0(model, data);
  CbcStop cbc_stop(control);
  model.passInEventHandler(&cbc_stop);
  std::vector<std::string> args = {"careshed", "-log", "0", "-slog", "0", "-timeMode", "elapsed"};
  if (!heuristics) args.insert(args.end(), {"-heur", "off"});
  if (std::isfinite(time_limit)) args.insert(args.end(), {"-sec", text(time_limit > 0.01 ? time_limit : 0.01)});
  if (gap_target > 0) args.insert(args.end(), {"-ratioGap", text(gap_target)});
  args.insert(args.end(), {"-solve", "-quit"});
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  CbcMain1(int(argv.size()), argv.data(), model, cbc_no_callback, data);
}

}  // namespace careshed::cbc
