"""Benchmark: the threaded grid search on a quiet machine and on a machine busy with other CPU-bound work.

Two cases on the seeded friction grids of benchmarks/raster_search.py (cells of 100 m, no cutoff):
  * "large": --size x --size cells, --sources random sources, 8 neighbours (long rounds: much work
    between two barriers);
  * "small rounds": 1100 x 1100 cells (just above the 2^20 cells where threads start), 1 source,
    16 neighbours (a narrow front: many short rounds, so many barriers per second).
Each is searched by careshed's raster travel time (the _core._raster_travel_time binding, called
directly so that the thread policy can be chosen) in three configurations:

  * 1 thread;
  * 2 threads, thread_policy="fixed": every thread to the end (the behaviour before the adaptive policy:
    a barrier per round, so a descheduled thread stalls the other);
  * 2 threads, thread_policy="adaptive" (the default): one thread carries on alone while the threads
    together would do less useful work per second than one thread does.

each on the quiet machine and under load: --busy CPU-bound busy-loop processes (default 2, one per core of
the project's 2-core box) are started for the loaded runs and stopped after. Configurations are
interleaved (1, fixed, adaptive, 1, fixed, ...) so that a change of background load hits them alike; each
is run --repeat times and the median and best wall times are reported with the CPU time of the median
run and the number of hand-overs to one thread. All runs must give identical bytes (checked).

The goals (issue 8): loaded 2-thread adaptive wall <= 2 x loaded 1-thread wall; quiet 2-thread adaptive
as fast as quiet 2-thread fixed. The machine's 1-minute load average before each condition is printed:
the box is shared, and "quiet" means only the other users' background.

    python benchmarks/busy_machine.py [--size 3000] [--sources 100] [--repeat 5] [--busy 2]
"""
import os
import statistics
import subprocess
import sys
import time

import numpy as np

from _common import parser
from raster_search import friction_grid, pick_sources

CONFIGS = [("1 thread", 1, "adaptive"), ("2 threads, fixed (old)", 2, "fixed"),
           ("2 threads, adaptive (new)", 2, "adaptive")]


def run_once(core, f, src, neighbours, threads, policy):
    c0 = time.process_time()
    t0 = time.perf_counter()
    buf, stats = core._raster_travel_time(f, src, 100.0, 100.0, None, neighbours, float("inf"), None,
                                          threads=threads, thread_policy=policy)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    return wall, cpu, stats, buf


def start_busy(n):
    """n CPU-bound busy loops (separate processes, so they compete for the cores like other users' jobs)."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    time.sleep(0.5)  # let them get going
    return procs


def stop_busy(procs):
    for p in procs:
        p.kill()
    for p in procs:
        p.wait()


def measure(core, f, src, neighbours, repeat, reference):
    rows = {name: [] for name, _, _ in CONFIGS}
    for _ in range(repeat):
        for name, threads, policy in CONFIGS:
            wall, cpu, stats, buf = run_once(core, f, src, neighbours, threads, policy)
            if reference[0] is None:
                reference[0] = buf
            elif not np.array_equal(buf, reference[0]):
                raise SystemExit(f"{name}: result differs from the first run (must be bit-identical)")
            rows[name].append((wall, cpu, int(stats.get("handovers_to_one_thread", 0))))
    return rows


def run_case(core, title, f, src, neighbours, a):
    print(f"\n### {title}: {f.shape[0]} x {f.shape[1]} ({f.size / 1e6:.1f} M cells), {len(src)} sources, "
          f"{neighbours} neighbours, no cutoff; repeat {a.repeat}, interleaved", flush=True)
    run_once(core, f, src, neighbours, 1, "adaptive")  # warm-up: page in the friction
    reference = [None]
    results = {}
    for condition in ("quiet", "loaded"):
        procs = start_busy(a.busy) if condition == "loaded" else []
        load = os.getloadavg()[0]
        try:
            results[condition] = measure(core, f, src, neighbours, a.repeat, reference)
        finally:
            stop_busy(procs)
        extra = f" + {a.busy} busy loops" if procs else ""
        print(f"{condition}{extra} (load average {load:.1f} at the start)")
        print(f"  {'configuration':28s} {'median wall':>12s} {'best wall':>10s} {'CPU (median run)':>17s} "
              f"{'hand-overs':>11s}")
        for name, _, _ in CONFIGS:
            runs = sorted(results[condition][name])
            med = runs[len(runs) // 2]
            print(f"  {name:28s} {med[0]:10.3f} s {runs[0][0]:8.3f} s {med[1]:15.3f} s {med[2]:11d}")

    def med(condition, name):
        return statistics.median(r[0] for r in results[condition][name])

    one, fixed, adaptive = (name for name, _, _ in CONFIGS)
    print("ratios of median wall times")
    print(f"  loaded: 2 threads adaptive / 1 thread = {med('loaded', adaptive) / med('loaded', one):.2f} "
          f"(goal <= 2); 2 threads fixed / 1 thread = {med('loaded', fixed) / med('loaded', one):.2f}")
    print(f"  quiet:  2 threads adaptive / fixed = {med('quiet', adaptive) / med('quiet', fixed):.2f} "
          f"(goal ~1); 1 thread / 2 threads adaptive = {med('quiet', one) / med('quiet', adaptive):.2f} "
          f"(speed-up)")
    print("  all runs gave identical bytes", flush=True)


def main():
    ap = parser(__doc__, repeat=5, seed=42)
    ap.add_argument("--size", type=int, default=3000)
    ap.add_argument("--sources", type=int, default=100)
    ap.add_argument("--busy", type=int, default=2, help="busy-loop processes for the loaded runs")
    a = ap.parse_args()
    from careshed import _core

    print(f"{os.cpu_count()} CPUs; loaded = {a.busy} extra busy-loop processes")
    f = friction_grid(a.size, a.seed)
    src = np.ascontiguousarray(pick_sources(f, a.sources, a.seed), dtype=np.int64)
    run_case(_core, "large", f, src, 8, a)
    f = friction_grid(1100, a.seed)
    src = np.ascontiguousarray(pick_sources(f, 1, a.seed), dtype=np.int64)
    run_case(_core, "small rounds", f, src, 16, a)


if __name__ == "__main__":
    main()
