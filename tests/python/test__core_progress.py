"""Ctrl-C and progress for the long-running careshed._core functions (bindings/run_watch.hpp).

A run started from Python's main thread is watched: SIGINT (Ctrl-C in a terminal, "interrupt" in Jupyter)
raises KeyboardInterrupt within a fraction of a second even while C++ computes with the GIL released, and
an optional ``progress(fraction, phase)`` callable sees increasing fractions ending at 1.0. The 1 s bound
below is the requirement of issue 8 (a functional bound, not a benchmark), measured as the child's CPU time
after SIGINT (tests/python/interrupt_case.py says why).
"""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from careshed import _core
import interrupt_case

# A search that takes seconds of CPU: 4000 x 4000 cells of random friction from one source, 16 neighbours, no
# cutoff, one thread (~3.5 s CPU; uniform friction with 8 neighbours took 0.7 s, less than the 1 s bound, so a
# run that ignored Ctrl-C would still have "stopped" in time).
LONG_RUN = r"""
import sys, time
import numpy as np
from careshed import _core
n = 4000
friction = np.random.default_rng(1).uniform(0.02, 0.5, size=(n, n)).astype(np.float32)
source = np.array([[n // 2, n // 2]], dtype=np.int64)
seen = [0.0]
def progress(fraction, phase):
    seen[0] = fraction
    print("progress", fraction, flush=True)
print("start", flush=True)
t0 = time.monotonic()
try:
    _core._raster_travel_time(friction, source, 100.0, 100.0, None, 16, float("inf"), None, 1,
                              progress=progress if "progress" in sys.argv else None)
except KeyboardInterrupt:
    print("interrupted at", seen[0], flush=True)
    sys.exit(3)
print("finished after", time.monotonic() - t0, flush=True)
"""


def _interrupt(with_progress: bool) -> interrupt_case.Interrupted:
    p = interrupt_case.start(["-c", LONG_RUN] + (["progress"] if with_progress else []))
    if with_progress:  # wait until the C++ search is demonstrably running
        read = interrupt_case.wait_for_progress(p)
    else:
        read = p.stdout.readline()
        assert read.strip() == "start", read
        time.sleep(0.3)
    return interrupt_case.interrupt(p, read)


@pytest.mark.parametrize("with_progress", [False, True], ids=["plain", "with-progress"])
def test_sigint_stops_a_long_search_within_one_second(with_progress):
    r = _interrupt(with_progress)
    assert r.returncode == 3, (r.stdout, r.stderr)  # the child caught KeyboardInterrupt around the _core call
    assert "finished" not in r.stdout
    r.check(threads=1)  # the search runs on one thread
    if with_progress:
        fraction = float(r.stdout.split("interrupted at")[1].split()[0])
        assert 0.0 < fraction < 1.0


def test_the_bound_fails_a_search_that_ignores_ctrl_c():
    """The check above can fail. The same search started from a worker thread is not watched (run_watch.hpp), so
    nothing cancels it; on Ctrl-C the child waits for it, as a _core call whose loops did not poll would return only
    at the end of its work, and then exits as an interrupted run (status 3, no "finished"). Only the work done after
    SIGINT tells the two apart."""
    # (An Event, not Thread.join(): a join interrupted by Ctrl-C marks the thread stopped in CPython 3.11, and the
    # interpreter would then exit without waiting for it.)
    unpolled = LONG_RUN.replace("try:\n    _core._raster_travel_time(", "def run():\n    _core._raster_travel_time(", 1)
    unpolled = unpolled.replace("progress=progress if \"progress\" in sys.argv else None)\nexcept KeyboardInterrupt:",
                                "progress=None)\n    done.set()\nimport threading\ndone = threading.Event()\n"
                                "threading.Thread(target=run).start()\ntry:\n    done.wait()\n"
                                "except KeyboardInterrupt:\n    done.wait()", 1)
    assert unpolled.count("done.wait()") == 2 and "def run():" in unpolled
    p = interrupt_case.start(["-c", unpolled])
    read = p.stdout.readline()
    assert read.strip() == "start", read
    time.sleep(0.3)
    # The CPU bound fails, or on a very busy machine already the wall bound (the whole search may need > 20 s).
    with pytest.raises(AssertionError, match="SIGINT"):
        r = interrupt_case.interrupt(p, read)
        assert r.returncode == 3 and "finished" not in r.stdout, (r.stdout, r.stderr)
        r.check(threads=1)


def _search_args(n, sources=((0.05, 0.1), (0.75, 0.9), (0.5, 0.1))):
    """Random friction on n x n cells; sources given as fractions of the side."""
    rng = np.random.default_rng(12345)
    friction = rng.uniform(0.02, 0.5, size=(n, n)).astype(np.float32)
    return friction, (np.array(sources) * (n - 1)).astype(np.int64)


def test_progress_is_called_with_increasing_fractions_up_to_one_and_results_unchanged():
    friction, sources = _search_args(1500)
    calls = []
    labels, _ = _core._raster_travel_time(friction, sources, 100.0, 100.0, None, 8, float("inf"), None, 1,
                                          progress=lambda f, phase: calls.append((f, phase)))
    plain, _ = _core._raster_travel_time(friction, sources, 100.0, 100.0, None, 8, float("inf"), None, 1)
    np.testing.assert_array_equal(labels, plain)
    fractions = [f for f, _ in calls]
    assert fractions, "progress was never called"
    assert fractions[-1] == 1.0
    assert all(a < b for a, b in zip(fractions, fractions[1:])), fractions
    assert all(phase == "travel time" for _, phase in calls[-1:]), calls


def test_progress_on_other_long_functions_ends_at_one():
    friction, sources = _search_args(200)
    calls = []
    offsets, cells, seconds, _ = _core._raster_reach_lists(
        friction, sources, 100.0, 100.0, None, 8, 600.0, None, progress=lambda f, p: calls.append(f))
    assert calls[-1] == 1.0
    plain = _core._raster_reach_lists(friction, sources, 100.0, 100.0, None, 8, 600.0, None)
    np.testing.assert_array_equal(cells, plain[1])
    calls.clear()
    g = _core.CsrGraph(4, np.array([0, 1, 2]), np.array([1, 2, 3]), np.array([1.0, 2.0, 3.0]))
    secs, nearest = g.nearest(np.array([0]), progress=lambda f, p: calls.append(f))
    np.testing.assert_array_equal(secs, [0.0, 1.0, 3.0, 6.0])
    assert calls == [1.0]


def test_an_exception_in_the_progress_callable_stops_the_run_and_propagates():
    friction, sources = _search_args(2000)

    class Stop(Exception):
        pass

    def progress(fraction, phase):
        if fraction > 0.0:
            raise Stop(phase)

    with pytest.raises(Stop):
        _core._raster_travel_time(friction, sources, 100.0, 100.0, None, 8, float("inf"), None, 1,
                                  progress=progress)


def test_progress_must_be_callable():
    friction, sources = _search_args(20, ((0.5, 0.5),))
    with pytest.raises(TypeError, match="progress"):
        _core._raster_travel_time(friction, sources, 100.0, 100.0, None, 8, float("inf"), None, 1, progress=3)


def test_progress_from_a_worker_thread():
    friction, sources = _search_args(300)
    result = {}

    def work():
        try:
            calls = []
            labels, _ = _core._raster_travel_time(friction, sources, 100.0, 100.0, None, 8, float("inf"), None, 1,
                                                  progress=lambda f, p: calls.append(f))
            result["calls"], result["labels"] = calls, labels
        except BaseException as e:  # reported by the assertions below
            result["error"] = e

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert "error" not in result, result.get("error")
    assert result["calls"][-1] == 1.0
    plain, _ = _core._raster_travel_time(friction, sources, 100.0, 100.0, None, 8, float("inf"), None, 1)
    np.testing.assert_array_equal(result["labels"], plain)


def test_progress_of_the_readers(tmp_path):
    """The readers name their phase in every report. The watcher's periodic reports wait until the run has
    reported: before, on a busy machine, it once showed the control's initial (0.0, "") when the worker thread had
    not started the read within the first 100 ms (run_watch.cpp, reported())."""
    from pathlib import Path
    pbf = Path(__file__).resolve().parents[2] / "data" / "osm" / "helsinki.osm.pbf"
    calls = []
    graph = _core.RoadGraph.from_osm(str(pbf), "car", progress=lambda f, p: calls.append((f, p)))
    assert graph.n_nodes > 0
    assert calls[-1] == (1.0, "reading roads")
    assert all(p == "reading roads" for _, p in calls), calls
    assert all(a[0] < b[0] for a, b in zip(calls, calls[1:])), calls
    sites = tmp_path / "sites.geojson"
    sites.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"a": 1}, '
                     '"geometry": {"type": "Point", "coordinates": [1, 2]}}]}')
    calls.clear()
    table = _core.read_vector(str(sites), progress=lambda f, p: calls.append((f, p)))
    # One feature: the report at the end; and when opening the file outlasts the watcher's first 100 ms (a busy
    # machine), the true report of that moment first: reading, nothing read yet.
    assert calls in ([(1.0, "reading")], [(0.0, "reading"), (1.0, "reading")]), calls
    assert list(table["fid"]) == [0]
