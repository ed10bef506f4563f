"""Helpers shared by the benchmark scripts (imported as a sibling module: the scripts run as
``python benchmarks/<name>.py``, which puts this folder first on sys.path). run_all.py skips files whose
name starts with an underscore, so this one is never run as a benchmark."""
import argparse
import os
import sys
import time
from pathlib import Path

#: The source checkout (data/quzhou lives under it).
ROOT = Path(__file__).resolve().parents[1]


def best_of(repeat, fn):
    """(fastest wall-clock seconds of `repeat` calls of fn(), the last call's result)."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def parser(doc: str, *, repeat: int, seed: int) -> argparse.ArgumentParser:
    """An argument parser described by the script docstring's first paragraph, with --repeat and --seed."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=repeat)
    ap.add_argument("--seed", type=int, default=seed)
    return ap


def in_child(what: str, fn, *args) -> None:
    """Runs fn(*args) in a forked child (so that its peak memory is its own) and waits for it; SystemExit naming
    `what` if it failed. The child reports its results through files."""
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            fn(*args)
        except BaseException as e:  # noqa: BLE001 - report and leave the child whatever happened
            print(f"{what} child failed:", repr(e), file=sys.stderr)
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        raise SystemExit(f"{what} run failed")
