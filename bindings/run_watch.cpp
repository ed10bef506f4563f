// run_watch.cpp — the watcher of run_watch.hpp (see there for the why).
#include "run_watch.hpp"

#include <pythread.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>

namespace py = pybind11;

namespace careshed::bindings {

namespace {

constexpr auto kSignalPoll = std::chrono::milliseconds(50);
constexpr auto kProgressEvery = std::chrono::milliseconds(100);

// True once the run has said anything: opened a span with a phase or reported a fraction above 0. Until
// then the control holds only its initial (0.0, ""), which is no report of the run's: the worker thread may
// not even have started the work yet (on a busy machine it can wait longer than kProgressEvery to be
// scheduled), so the periodic reports wait for this. The report at the end is made regardless.
bool reported(const RunControl& control) {
  return control.fraction() > 0.0 || *control.phase() != '\0';
}

// Python runs signal handlers in its main thread only (PyErr_CheckSignals does nothing elsewhere).
bool in_python_main_thread() {
  static const unsigned long main_ident =
      py::module_::import("threading").attr("main_thread")().attr("ident").cast<unsigned long>();
  return PyThread_get_thread_ident() == main_ident;
}

// One long-lived worker thread runs the watched work: starting a thread (and, inside it, a new OpenMP
// team) for every call cost ~150 us per call, which small calls in loops felt. Used by the Python main
// thread only, one job at a time; a call made while it is busy (a progress callable calling _core)
// runs inline, unwatched. Its state is never destroyed (the thread may still wait on it at exit), and
// a forked child, which inherits the state but not the thread, makes its own.
class Worker {
 public:
  static Worker* get() {
    static Worker* w = nullptr;
    static pid_t owner = 0;
    if (w == nullptr || owner != getpid()) {
      Worker* fresh = new Worker();  // leaked on purpose, see above
      std::thread([fresh] { fresh->serve(); }).detach();
      w = fresh;
      owner = getpid();
    }
    return w;
  }
  // Starts `job` unless busy; `on_done` is called (in the worker) after it has finished and the worker is
  // free again, so the caller's next call finds it free.
  bool try_start(std::function<void()> job, std::function<void()> on_done) {
    std::lock_guard<std::mutex> lock(m_);
    if (job_) return false;
    job_ = std::move(job);
    on_done_ = std::move(on_done);
    cv_.notify_one();
    return true;
  }

 private:
  void serve() {
    std::unique_lock<std::mutex> lock(m_);
    for (;;) {
      cv_.wait(lock, [&] { return static_cast<bool>(job_); });
      std::function<void()> job = std::move(job_), on_done = std::move(on_done_);
      job_ = [] {};  // still busy until the job has run
      lock.unlock();
      job();
      lock.lock();
      job_ = nullptr;
      lock.unlock();
      on_done();
      lock.lock();
    }
  }
  std::mutex m_;
  std::condition_variable cv_;
  std::function<void()> job_, on_done_;
};

}  // namespace

void check_progress_arg(const py::object& progress) {
  if (!progress.is_none() && !PyCallable_Check(progress.ptr()))
    throw py::type_error("progress must be None or a callable taking (fraction, phase); got " +
                         py::repr(progress).cast<std::string>());
}

void run_watched(const py::object& progress, const std::function<void(RunControl*)>& work) {
  check_progress_arg(progress);
  const bool main_thread = in_python_main_thread();
  const bool has_progress = !progress.is_none();
  RunControl control;
  if (!main_thread && !has_progress) {  // nothing to watch for: no thread
    py::gil_scoped_release release;
    work(&control);
    return;
  }

  // Shared between the worker and this (watching) thread.
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  std::exception_ptr failure;
  // Touched by this thread only, with the GIL held.
  std::optional<py::error_already_set> python_error;
  double shown_fraction = -1.0;
  const char* shown_phase = nullptr;
  auto show_progress = [&] {  // GIL held; if the callable raises, its error is kept and the run cancelled
    const double f = control.fraction();
    const char* ph = control.phase();
    if (f == shown_fraction && ph == shown_phase) return;
    shown_fraction = f;
    shown_phase = ph;
    try {
      progress(f, ph);
    } catch (py::error_already_set& e) {
      python_error.emplace(std::move(e));
      control.request_cancel();
    }
  };

  Worker* worker = nullptr;  // looked up with the GIL held: the GIL serialises its creation
  try {
    worker = Worker::get();
  } catch (const std::system_error&) {  // no thread to be had: run unwatched (below)
  }
  {
    py::gil_scoped_release release;
    bool started = false;
    if (worker) {
      started = worker->try_start(
          [&] {
            try {
              work(&control);
            } catch (...) {
              failure = std::current_exception();
            }
          },
          [&] {
            std::lock_guard<std::mutex> lock(m);  // held while notifying: `cv` lives in the caller's frame
            done = true;
            cv.notify_one();
          });
    }
    if (!started) {  // busy (re-entrant call) or no thread: run here, unwatched
      try {
        work(&control);
      } catch (...) {
        failure = std::current_exception();
      }
      done = true;
    }
    auto last_shown = std::chrono::steady_clock::now();
    std::unique_lock<std::mutex> lock(m);
    while (!done) {
      if (cv.wait_for(lock, kSignalPoll, [&] { return done; })) break;
      lock.unlock();
      {
        py::gil_scoped_acquire gil;
        if (!python_error) {
          if (main_thread && PyErr_CheckSignals() != 0) {  // KeyboardInterrupt (or a handler's exception)
            python_error.emplace();
            control.request_cancel();
          } else if (has_progress && reported(control) &&
                     std::chrono::steady_clock::now() - last_shown >= kProgressEvery) {
            show_progress();
            last_shown = std::chrono::steady_clock::now();
          }
        }
      }
      lock.lock();
    }
  }
  // The GIL is held again. The Python exception that stopped the run wins (even if the run had finished).
  if (python_error) throw py::error_already_set(std::move(*python_error));
  if (failure) std::rethrow_exception(failure);
  if (has_progress) {
    show_progress();
    if (python_error) throw py::error_already_set(std::move(*python_error));
  }
}

}  // namespace careshed::bindings
