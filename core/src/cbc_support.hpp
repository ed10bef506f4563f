// cbc_support.hpp — internal (not installed): the one process-wide lock around CBC / CLP and the set-up every
// careshed use of them shares (quiet, no SIGINT handler of their own, stopped by the run's RunControl).
//
// Why one lock: CBC 2.10's standalone driver (CbcMain0/CbcMain1, which the C interface wraps too) keeps
// process-wide state — static parameter tables, the "-quit"/abort flags, the message handlers' statics — so two
// solves at once in one process, even on separate CbcModel objects, can corrupt each other. Every call into CBC or
// CLP in careshed (site optimisation's MIPs and relaxations, outreach's set-partitioning MIP and column-generation
// LPs) holds cbc_mutex() for the whole solve; separate mutexes per file would let them overlap.
// Thread-safety: the helpers below only touch the objects they are given; the caller holds cbc_mutex().
//
// Why each solve runs in a child process (run_isolated): Debian builds CBC 2.10 / CLP 1.17 with their assertions on,
// and a failed assertion calls abort(), which would end the user's whole process (a Python session, a notebook).
// Avoiding the paths known to abort (run_cbc_driver's `heuristics`) made it rarer, not impossible (one MIP in about
// 5,200 random instances still aborted inside CBC's own tree), so every solve runs in a forked child that only
// solves, writes its answer through a pipe and _exits; the parent turns the child's death into a failure it can
// report, and kills the child at a hard deadline (CBC does not check its time limit inside the root LP) or at once
// on cancellation. docs/optimize.md, "CBC and CLP in a child process".
#pragma once

#include <coin/CbcEventHandler.hpp>
#include <coin/CbcModel.hpp>
#include <coin/CbcSolver.hpp>
#include <coin/ClpEventHandler.hpp>
#include <coin/ClpSimplex.hpp>
#include <coin/ClpSolve.hpp>
#include <coin/OsiClpSolverInterface.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#define CARESHED_CBC_FORK 1
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#endif

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

/// Whether run_cbc_driver should let CBC use its heuristics on a MIP (`solver`'s): only when it is larger than
/// kNoHeuristicsMaxRows x kNoHeuristicsMaxCols.
inline bool heuristics_for_size(int rows, int cols) {
  return rows > kNoHeuristicsMaxRows || cols > kNoHeuristicsMaxCols;
}
inline bool heuristics_for_size(const OsiSolverInterface& solver) {
  return heuristics_for_size(solver.getNumRows(), solver.getNumCols());
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
/// gap_target: relative gap to stop at (<= 0: prove optimality); extra_args: more of the `cbc` program's options,
/// before -solve. The caller holds cbc_mutex().
inline void run_cbc_driver(CbcModel& model, RunControl* control, double time_limit, double gap_target,
                           bool heuristics, const std::vector<std::string>& extra_args = {}) {
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
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  args.insert(args.end(), {"-solve", "-quit"});
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  CbcMain1(int(argv.size()), argv.data(), model, cbc_no_callback, data);
}

// ---- solves in a child process ------------------------------------------------------------------------------

/// How a solve run by SolverProcess::call ended.
struct Isolated {
  enum class End {
    kFinished,   ///< output holds what the handler returned
    kInProcess,  ///< no child (fork unavailable or failed, or CARESHED_CBC_IN_PROCESS=1): the handler ran here
    kFailed,     ///< the child died (a signal: CLP's abort(), the OOM killer, ...) or the handler threw; see failure
    kTimedOut,   ///< killed at the hard deadline
    kCancelled,  ///< killed because the run was cancelled
  };
  End end = End::kFinished;
  std::string output;
  std::string failure;  ///< kFailed: how the child ended, with the last line it printed (CLP's assertion text)
};

/// A solve as the child runs it: request bytes in, answer bytes out. A plain function (no captures): the child is a
/// fork of this process, so the function's address is the same there and travels with the request.
using SolveHandler = std::string (*)(const std::string& request);

/// CARESHED_CBC_IN_PROCESS=1 runs every solve in the calling process (for a debugger; an assertion inside CBC or
/// CLP then ends the process). Read once.
inline bool solve_in_process() {
  static const bool v = [] {
    const char* e = std::getenv("CARESHED_CBC_IN_PROCESS");
    return e && std::string(e) == "1";
  }();
  return v;
}

/// True in a solver child process (set right after the fork). A handler must then not follow pointers into memory
/// the parent may have changed since the fork (a RunControl: pass none to the solver there).
inline bool& in_solver_child() {
  static bool v = false;
  return v;
}

/// Requests and answers as bytes: trivially copyable values and vectors of them, in order.
struct ByteWriter {
  std::string bytes;
  template <class T>
  void put(const T& v) {
    static_assert(std::is_trivially_copyable<T>::value, "bytes only");
    bytes.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  template <class T>
  void put(const std::vector<T>& v) {
    put(std::uint64_t(v.size()));
    bytes.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
};
struct ByteReader {
  const std::string& bytes;
  std::size_t at = 0;
  void take(void* p, std::size_t n) {
    if (bytes.size() - at < n) throw std::logic_error("solver process: a message shorter than its contents");
    if (n == 0) return;  // an empty vector's data() may be null, and memcpy from or to null is undefined even for 0
    std::memcpy(p, bytes.data() + at, n);
    at += n;
  }
  template <class T>
  void get(T& v) {
    take(&v, sizeof v);
  }
  template <class T>
  void get(std::vector<T>& v) {
    std::uint64_t n = 0;
    get(n);
    if (n > (bytes.size() - at) / sizeof(T)) throw std::logic_error("solver process: a message shorter than its contents");
    v.resize(n);
    take(v.data(), n * sizeof(T));
  }
};

/// Extra seconds a child gets beyond the solve's own time limit before it is killed: CBC checks its limit only
/// between nodes, so a solve that honours it still overruns a little.
inline double hard_limit_grace(double time_limit) { return std::max(1.0, 0.1 * time_limit); }

#ifdef CARESHED_CBC_FORK
namespace detail {

/// send() without SIGPIPE (the peer may be dead: that is an error here, never a signal that ends the process).
inline bool send_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t k = ::send(fd, p, n, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    p += k;
    n -= std::size_t(k);
  }
  return true;
}
inline bool recv_all(int fd, char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t k = ::recv(fd, p, n, 0);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    p += k;
    n -= std::size_t(k);
  }
  return true;
}
/// A message: its length (8 bytes), then the bytes.
inline bool send_message(int fd, const std::string& a, const std::string& b) {
  const std::uint64_t n = a.size() + b.size();
  return send_all(fd, reinterpret_cast<const char*>(&n), sizeof n) && send_all(fd, a.data(), a.size()) &&
         send_all(fd, b.data(), b.size());
}

/// The last non-empty line of what the child printed (CLP prints its failed assertion before abort()).
inline std::string last_line(const std::string& s) {
  const std::size_t e = s.find_last_not_of(" \n\r\t");
  if (e == std::string::npos) return "";
  const std::size_t b = s.rfind('\n', e);
  const std::size_t from = b == std::string::npos ? 0 : b + 1;
  std::string line = s.substr(from, e - from + 1);
  if (line.size() > 400) line = line.substr(0, 400) + "...";
  return line;
}

inline std::string signal_name(int sig) {
  switch (sig) {
    case SIGABRT: return "SIGABRT (a failed assertion)";
    case SIGKILL: return "SIGKILL (killed from outside, e.g. out of memory)";
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    default: return "signal " + std::to_string(sig);
  }
}

/// Runs work() and sends its answer: a status byte (0 answered, 1 work() threw: its message follows), then the bytes.
inline bool answer(int sock, const std::function<std::string()>& work) {
  char status = 0;
  std::string out;
  try {
    out = work();
  } catch (const std::exception& e) {
    status = 1, out = e.what();
  } catch (...) {
    status = 1, out = "an unknown exception";
  }
  return send_message(sock, std::string(1, status), out);
}

/// The child: answers requests (handler address, then its bytes) until the parent closes the socket, then _exits
/// (no atexit handlers, no static destructors, no Python).
[[noreturn]] inline void serve(int sock) {
  for (;;) {
    std::uint64_t n = 0;
    if (!recv_all(sock, reinterpret_cast<char*>(&n), sizeof n)) ::_exit(0);  // closed: done
    std::string req(n, '\0');
    SolveHandler handler = nullptr;
    if (n < sizeof handler || !recv_all(sock, &req[0], n)) ::_exit(5);
    std::memcpy(&handler, req.data(), sizeof handler);
    if (!answer(sock, [&] { return handler(req.substr(sizeof handler)); })) ::_exit(4);
  }
}

}  // namespace detail
#endif

/// A child process that runs solves, so that nothing the solver does (an assertion's abort(), a crash, an endless
/// root LP) can end or hang the calling process. Started by the first call() (a fork of the process as it is then),
/// it serves one call after another (a fork costs ~1-2 ms in a Python process: a model solving hundreds of tiny
/// MIPs keeps one child, see SolverSession), and is restarted by the next call after it died or was killed. The
/// child runs only the handler (which must not call back into Python or take locks other threads may hold: CBC /
/// CLP on the bytes it is given); its stdout and stderr go to a pipe the parent reads (shown only in `failure`).
/// call() waits in poll(), checking `control` (cancelled: the child is killed with SIGKILL at once,
/// End::kCancelled; the caller then throws Cancelled) and `hard_deadline` (passed: killed, End::kTimedOut) at least
/// every 50 ms. Where fork is unavailable or fails, or with CARESHED_CBC_IN_PROCESS=1, the handler runs in the
/// calling process (End::kInProcess; a throw propagates): the solve works as before, without the protection.
/// Destruction closes the socket (the child exits) and reaps the child. Not thread-safe: one thread uses it (the
/// caller holds cbc_mutex()).
class SolverProcess {
 public:
  using Clock = std::chrono::steady_clock;
  SolverProcess() = default;
  SolverProcess(const SolverProcess&) = delete;
  SolverProcess& operator=(const SolverProcess&) = delete;
  ~SolverProcess() { stop(false); }

  Isolated call(SolveHandler handler, const std::string& request, RunControl* control,
                Clock::time_point hard_deadline) {
    Isolated r;
#ifdef CARESHED_CBC_FORK
    if (pid_ < 0 && !solve_in_process()) start();
    if (pid_ < 0) {
#endif
      r.end = Isolated::End::kInProcess;
      r.output = handler(request);
      return r;
#ifdef CARESHED_CBC_FORK
    }
    std::string head(sizeof handler, '\0');
    std::memcpy(&head[0], &handler, sizeof handler);
    printed_.clear();
    if (!detail::send_message(sock_, head, request)) return died(r, "");  // the child is gone: say how
    return await(control, hard_deadline);
#endif
  }

  /// work() in a new child of its own, forked now (so work() may use any data of this process as it is at the
  /// call, without sending it: the answer alone travels), which exits after answering; waited for as call() does.
  /// For a solve whose inputs are large or not easily sent (outreach's column generation). Without fork: in process.
  /// progress_seconds > 0: work() is a solve with that time budget, whose own progress reports stay in the child
  /// (its copy of `control`); while waiting, this process reports the elapsed share of the budget (at most 0.99)
  /// to `control` instead, so the caller's progress moves.
  Isolated run_once(const std::function<std::string()>& work, RunControl* control, Clock::time_point hard_deadline,
                    double progress_seconds = 0.0) {
    stop(false);
#ifdef CARESHED_CBC_FORK
    if (!solve_in_process()) start(&work);
    if (pid_ < 0) {
#endif
      Isolated r;
      r.end = Isolated::End::kInProcess;
      r.output = work();
      return r;
#ifdef CARESHED_CBC_FORK
    }
    printed_.clear();
    Isolated r = await(control, hard_deadline, progress_seconds);
    stop(false);  // it exits after its answer
    return r;
#endif
  }

  /// The child's process id (-1 when none is running), for tests.
  long child_pid() const { return pid_; }

 private:
#ifdef CARESHED_CBC_FORK
  /// Waits for the child's answer (see call(); progress_seconds: see run_once()).
  Isolated await(RunControl* control, Clock::time_point hard_deadline, double progress_seconds = 0.0) {
    const Clock::time_point t0 = Clock::now();
    Isolated r;
    std::string framed;
    std::uint64_t want = 0;
    std::vector<char> buf(1 << 16);
    bool open[2] = {true, true};
    while (open[0] || open[1]) {
      if (control && control->cancel_requested()) return killed(r, Isolated::End::kCancelled);
      const Clock::time_point now = Clock::now();
      if (now >= hard_deadline) return killed(r, Isolated::End::kTimedOut);
      if (control && progress_seconds > 0) {
        control->report(std::min(0.99, std::chrono::duration<double>(now - t0).count() / progress_seconds));
      }
      int wait_ms = 50;
      if (hard_deadline - now < std::chrono::milliseconds(50)) {
        wait_ms = int(std::chrono::duration_cast<std::chrono::milliseconds>(hard_deadline - now).count()) + 1;
      }
      pollfd fds[2] = {{open[0] ? sock_ : -1, POLLIN, 0}, {open[1] ? err_ : -1, POLLIN, 0}};
      const int n = ::poll(fds, 2, wait_ms);
      if (n < 0 && errno != EINTR) return died(r, std::string("waiting for it failed: ") + std::strerror(errno));
      for (int k = 0; k < 2 && n > 0; ++k) {
        if (!open[k] || !(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        const ssize_t got = ::read(fds[k].fd, buf.data(), buf.size());
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
          open[k] = false;
          continue;
        }
        if (k == 1) {
          printed_.append(buf.data(), std::size_t(got));
          if (printed_.size() > (1u << 16)) printed_.erase(0, printed_.size() - (1u << 15));
          continue;
        }
        framed.append(buf.data(), std::size_t(got));
        if (framed.size() >= sizeof want) std::memcpy(&want, framed.data(), sizeof want);
        if (framed.size() >= sizeof want && framed.size() - sizeof want >= want && want >= 1) {
          if (framed[sizeof want] == 0) {
            r.end = Isolated::End::kFinished;
            r.output = framed.substr(sizeof want + 1);
          } else {
            r.end = Isolated::End::kFailed;
            r.failure = "the solver threw: " + framed.substr(sizeof want + 1);
          }
          return r;
        }
      }
    }
    return died(r, "");  // both pipes closed without a whole answer: the child ended
  }

  /// Forks the child: a server of call()'s requests, or (once != null) the runner of that one piece of work.
  void start(const std::function<std::string()>* once = nullptr) {
    int sv[2] = {-1, -1}, err[2] = {-1, -1};
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return;
    if (::pipe(err) != 0) {
      ::close(sv[0]), ::close(sv[1]);
      return;
    }
    // close-on-exec: a subprocess another thread starts must not hold our ends open (EOF would never come)
    for (int fd : {sv[0], sv[1], err[0], err[1]}) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid == 0) {
      // Ctrl-C reaches the whole process group: the parent decides (and kills this child).
      ::signal(SIGINT, SIG_IGN);
      // The application's crash handlers (Python's faulthandler dumps Python's stacks) are not the child's: it dies
      // of the signal itself, and the parent reports it.
      for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) ::signal(sig, SIG_DFL);
      in_solver_child() = true;
#ifdef __linux__
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // the parent's waiting thread gone: so is the child
#endif
      if (::getppid() != parent) ::_exit(9);
      ::dup2(err[1], 1);
      ::dup2(err[1], 2);
      ::close(sv[0]);
      ::close(err[0]);
      if (once) ::_exit(detail::answer(sv[1], *once) ? 0 : 4);
      detail::serve(sv[1]);
    }
    ::close(sv[1]);
    ::close(err[1]);
    if (pid < 0) {
      ::close(sv[0]), ::close(err[0]);
      return;
    }
    pid_ = pid, sock_ = sv[0], err_ = err[0];
  }

  /// Closes our ends and reaps the child: kill = true kills it first, else it exits on the closed socket.
  int stop(bool kill) {
    if (pid_ < 0) return 0;
    if (kill) ::kill(pid_, SIGKILL);
    ::close(sock_);
    ::close(err_);
    int status = 0;
    pid_t w;
    while ((w = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
    }
    pid_ = -1, sock_ = -1, err_ = -1;
    return w < 0 ? -1 : status;  // -1: reaped elsewhere (SIGCHLD ignored by the application)
  }

  Isolated& killed(Isolated& r, Isolated::End why) {
    stop(true);
    r.end = why;
    return r;
  }

  /// The child ended without an answer: reap it and describe how, with the last line it printed.
  Isolated& died(Isolated& r, const std::string& what) {
    ::kill(pid_, SIGKILL);  // no-op when it is already dead; when it is alive (poll failed), it must go
    // (read what is left of its output first: CLP's assertion text)
    std::vector<char> buf(1 << 16);
    ssize_t got;
    ::fcntl(err_, F_SETFL, O_NONBLOCK);
    while ((got = ::read(err_, buf.data(), buf.size())) > 0) printed_.append(buf.data(), std::size_t(got));
    const int status = stop(false);
    r.end = Isolated::End::kFailed;
    if (!what.empty()) r.failure = "the solver process: " + what;
    else if (status >= 0 && WIFSIGNALED(status)) r.failure = "the solver process was killed by " + detail::signal_name(WTERMSIG(status));
    else r.failure = "the solver process ended without an answer (exit status " + std::to_string(status) + ")";
    const std::string said = detail::last_line(printed_);
    if (!said.empty()) r.failure += "; it printed: " + said;
    return r;
  }

  pid_t pid_ = -1;
  int sock_ = -1, err_ = -1;
  std::string printed_;
#else
  int stop(bool) { return 0; }
  long pid_ = -1;
#endif
};

/// While alive, solve_isolated on this thread uses one SolverProcess (one child for many solves) instead of a new
/// child per solve. Nested sessions share the outermost one's. Put one around code that solves many small MIPs.
class SolverSession {
 public:
  SolverSession() {
    if (!current()) current() = &own_, owner_ = true;
  }
  ~SolverSession() {
    if (owner_) current() = nullptr;
  }
  SolverSession(const SolverSession&) = delete;
  SolverSession& operator=(const SolverSession&) = delete;
  static SolverProcess*& current() {
    thread_local SolverProcess* p = nullptr;
    return p;
  }

 private:
  SolverProcess own_;
  bool owner_ = false;
};

/// work() in a child process of its own (SolverProcess::run_once): for work that needs this process's data as it is.
inline Isolated run_isolated_once(const std::function<std::string()>& work, RunControl* control,
                                  std::chrono::steady_clock::time_point hard_deadline, double progress_seconds = 0.0) {
  SolverProcess once;
  return once.run_once(work, control, hard_deadline, progress_seconds);
}

/// handler(request) in a child process: the session's (SolverSession) or, outside one, a new child for this solve.
inline Isolated solve_isolated(SolveHandler handler, const std::string& request, RunControl* control,
                               std::chrono::steady_clock::time_point hard_deadline) {
  if (SolverProcess* p = SolverSession::current()) return p->call(handler, request, control, hard_deadline);
  SolverProcess once;
  return once.call(handler, request, control, hard_deadline);
}

// ---- a MIP or LP, solved in a child process ---------------------------------------------------------------------

using Clock = std::chrono::steady_clock;
constexpr double kInfinity = std::numeric_limits<double>::infinity();

/// t0 + seconds, saturating at Clock::time_point::max() for an infinite, NaN or huge limit (the clock's int64
/// nanoseconds would wrap into the past).
inline Clock::time_point saturated_deadline(Clock::time_point t0, double seconds) {
  const double room = std::chrono::duration<double>(Clock::time_point::max() - t0).count();
  if (!(seconds < 0.5 * room)) return Clock::time_point::max();
  return t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(std::max(0.0, seconds)));
}

/// A MIP assembled column by column in CSC form for Cbc_loadProblem.
struct Mip {
  std::vector<double> collb, colub, obj;
  std::vector<char> integer;
  std::vector<CoinBigIndex> start{0};
  std::vector<int> index;
  std::vector<double> value;
  std::vector<double> rowlb, rowub;
  int add_row(double lb, double ub) {
    rowlb.push_back(lb);
    rowub.push_back(ub);
    return int(rowlb.size()) - 1;
  }
  int add_col(double lb, double ub, double c, bool is_int) {
    collb.push_back(lb);
    colub.push_back(ub);
    obj.push_back(c);
    integer.push_back(is_int);
    return int(collb.size()) - 1;
  }
  void entry(int row, double v) {
    index.push_back(row);
    value.push_back(v);
  }
  void end_col() { start.push_back(CoinBigIndex(index.size())); }
};

struct MipResult {
  std::vector<double> x;
  std::vector<double> row_dual;  // relaxations solved to optimality: the rows' dual values (CLP's signs)
  double bound = 0.0;
  bool has_solution = false, proven_optimal = false, proven_infeasible = false, stopped = false;
  std::string failure;  // non-empty: CBC / CLP died in both attempts (see solve_mip); nothing else is set
};

/// solve_mip's request to the solver process (SolverProcess) and its answer, as bytes.
struct MipRequest {
  bool maximise = false, relax = false, heuristics = false;
  int attempt = 0;
  double time_limit = 0.0, gap_target = 0.0;
  RunControl* control = nullptr;  // valid only when solved in this process (see in_solver_child)
};
inline std::string mip_request_bytes(const Mip& m, const MipRequest& q) {
  ByteWriter w;
  w.put(q);
  w.put(m.collb), w.put(m.colub), w.put(m.obj), w.put(m.integer), w.put(m.start), w.put(m.index), w.put(m.value);
  w.put(m.rowlb), w.put(m.rowub);
  return std::move(w.bytes);
}
inline std::string mip_result_bytes(const MipResult& r) {
  ByteWriter w;
  w.put(r.has_solution), w.put(r.proven_optimal), w.put(r.proven_infeasible), w.put(r.stopped), w.put(r.bound);
  w.put(r.x), w.put(r.row_dual);
  return std::move(w.bytes);
}
inline MipResult mip_result_from(const std::string& bytes) {
  ByteReader b{bytes};
  MipResult r;
  b.get(r.has_solution), b.get(r.proven_optimal), b.get(r.proven_infeasible), b.get(r.stopped), b.get(r.bound);
  b.get(r.x), b.get(r.row_dual);
  return r;
}

/// One attempt of solve_mip, in the calling process (solve_mip runs it in a child). attempt 1 is the retry after
/// the first attempt's process died: a relaxation switches between CLP's primal and dual simplex; a MIP runs
/// CBC without its preprocessing, cuts or heuristics (see kRetryArgs).
inline MipResult solve_mip_attempt(const Mip& m, const MipRequest& q) {
  const bool maximise = q.maximise, relax = q.relax, heuristics = q.heuristics;
  const int attempt = q.attempt;
  const double time_limit = q.time_limit, gap_target = q.gap_target;
  RunControl* control = in_solver_child() ? nullptr : q.control;
  const Clock::time_point deadline =
      relax ? saturated_deadline(Clock::now(), time_limit) : Clock::time_point::max();
  OsiClpSolverInterface solver;
  solver.loadProblem(int(m.collb.size()), int(m.rowlb.size()), m.start.data(), m.index.data(), m.value.data(),
                     m.collb.data(), m.colub.data(), m.obj.data(), m.rowlb.data(), m.rowub.data());
  for (std::size_t j = 0; j < m.integer.size(); ++j) {
    if (m.integer[j] && !relax) solver.setInteger(int(j));
  }
  solver.setObjSense(maximise ? -1.0 : 1.0);
  ClpStop clp_stop(control, deadline);
  // Relaxations: primal simplex (with sprint on many columns) — on the covering LPs (many y columns, one row per
  // demand) it is an order of magnitude faster than CLP's default dual start (0.4 s vs 5 s on 4,000 x 400).
  quiet_clp(solver, &clp_stop, relax && attempt == 0);
  MipResult r;
  if (relax) {
    solver.initialSolve();
    r.proven_optimal = solver.isProvenOptimal();
    r.proven_infeasible = solver.isProvenPrimalInfeasible();
    r.stopped = Clock::now() > deadline;
    const double* sol = solver.getColSolution();
    r.bound = maximise ? kInfinity : -kInfinity;
    if (sol && r.proven_optimal) {
      r.x.assign(sol, sol + m.collb.size());
      r.has_solution = true;
      double v = 0.0;  // the LP value from the columns (within their bounds: the simplex leaves ~1e-12 outside)
      for (std::size_t j = 0; j < m.collb.size(); ++j) {
        r.x[j] = std::min(m.colub[j], std::max(m.collb[j], r.x[j]));
        v += m.obj[j] * r.x[j];
      }
      r.bound = v;
      if (const double* dual = solver.getRowPrice()) r.row_dual.assign(dual, dual + m.rowlb.size());
    }
    return r;
  }
  CbcModel model(solver);
  // The retry: another path through CBC than the one that died (seed 3828's MIP aborted in CLP's primal pricing
  // inside CBC's tree after preprocessing, with or without heuristics).
  static const std::vector<std::string> kRetryArgs = {"-preprocess", "off", "-cuts", "off"};
  // No MIP start: the heuristic answer is kept by the caller unless CBC finds a strictly better one.
  run_cbc_driver(model, control, time_limit, gap_target, heuristics && attempt == 0,
                      attempt == 0 ? std::vector<std::string>() : kRetryArgs);
  r.proven_optimal = model.isProvenOptimal();
  r.proven_infeasible = model.isProvenInfeasible();
  r.stopped = model.isSecondsLimitReached();
  const double* best = model.bestSolution();
  if (best && !r.proven_infeasible) {
    r.x.assign(best, best + m.collb.size());
    r.has_solution = true;
  }
  r.bound = model.getBestPossibleObjValue();
  return r;
}

/// The solver process's side of solve_mip (a SolveHandler): the request's MIP solved, the answer as bytes.
inline std::string solve_mip_handler(const std::string& request) {
  ByteReader b{request};
  MipRequest q;
  Mip m;
  b.get(q);
  b.get(m.collb), b.get(m.colub), b.get(m.obj), b.get(m.integer), b.get(m.start), b.get(m.index), b.get(m.value);
  b.get(m.rowlb), b.get(m.rowub);
  return mip_result_bytes(solve_mip_attempt(m, q));
}

/// Solves the MIP (or, relax = true, its LP relaxation) with CBC's standalone driver: the same cut generators and
/// (see cbc_heuristics) heuristics as the `cbc` program, no SIGINT handler of its own (useSignalHandler_ = false, so Ctrl-C stays with
/// the caller: Python's KeyboardInterrupt reaches the RunControl), stopped by the control. Throws Cancelled.
/// cbc_heuristics: kBySize lets CBC use its heuristics only on MIPs above kNoHeuristicsMaxRows x MaxCols;
/// kOff never (the capacitated models' MIPs: see run_cbc_driver for the process aborts they avoid).
/// Each attempt runs in a child process (solve_isolated: the SolverSession's, or one for this solve): an
/// abort inside CBC / CLP ends the child only. Then
/// one retry runs with other settings (solve_mip_attempt); when that dies too, the result has only `failure` set
/// (no solution, bound +-inf, nothing proven) and the caller keeps its heuristic answer and says so. time_limit
/// is also a hard limit: a child still running time_limit + hard_limit_grace(time_limit) seconds after the
/// call began is killed, and the result reads as stopped (no solution, bound +-inf).
enum class CbcHeuristics { kBySize, kOff };
inline MipResult solve_mip(const Mip& m, bool maximise, bool relax, double time_limit, double gap_target,
                    RunControl* control = nullptr, CbcHeuristics cbc_heuristics = CbcHeuristics::kBySize) {
  std::lock_guard<std::mutex> lock(cbc_mutex());
  if (control) control->throw_if_cancelled();
  const Clock::time_point t0 = Clock::now();
  const Clock::time_point hard_deadline =
      std::isfinite(time_limit) ? saturated_deadline(t0, std::max(0.0, time_limit) + hard_limit_grace(time_limit))
                                : Clock::time_point::max();
  const bool heuristics = cbc_heuristics == CbcHeuristics::kBySize && heuristics_for_size(
      int(m.rowlb.size()), int(m.collb.size()));
  std::string failures;
  for (int attempt = 0; attempt < 2; ++attempt) {
    const double left = std::isfinite(time_limit) ? time_limit - std::chrono::duration<double>(Clock::now() - t0).count() : kInfinity;
    MipRequest q;
    q.maximise = maximise, q.relax = relax, q.heuristics = heuristics, q.attempt = attempt;
    q.time_limit = left, q.gap_target = gap_target, q.control = control;
    const Isolated run = solve_isolated(solve_mip_handler, mip_request_bytes(m, q), control, hard_deadline);
    if (control) control->throw_if_cancelled();  // a stopped run's status would read as "infeasible" or "limit"
    switch (run.end) {
      case Isolated::End::kFinished: return mip_result_from(run.output);
      case Isolated::End::kInProcess: return mip_result_from(run.output);
      case Isolated::End::kCancelled: throw Cancelled();
      case Isolated::End::kTimedOut: {
        MipResult r;
        r.stopped = true;
        r.bound = maximise ? kInfinity : -kInfinity;
        return r;
      }
      case Isolated::End::kFailed:
        failures += (failures.empty() ? "" : "; then, retried with other settings, ") + run.failure;
        break;
    }
  }
  MipResult r;
  r.bound = maximise ? kInfinity : -kInfinity;
  r.failure = std::string(relax ? "CLP" : "CBC") + " failed: " + failures;
  return r;
}

}  // namespace careshed::cbc
