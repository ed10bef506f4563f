"""careshed.progress: who hears the core's progress (CLI bar, notebooks, callables); Ctrl-C is the core's."""
from __future__ import annotations

import io

import pytest

import careshed
from careshed import progress
from strip_case import cell_centre, points, strip_study


def test_reporting_installs_a_reporter_for_the_block_only():
    calls = []
    assert progress.current() is None
    with progress.reporting(lambda f, phase: calls.append((f, phase))) as r:
        assert progress.current() is r
        with progress.reporting(None):
            assert progress.current() is None
        assert progress.current() is r
    assert progress.current() is None


def test_a_study_method_reports_monotone_progress_to_a_callable():
    calls = []
    study = strip_study()
    r = study.reach(points(["s1"], [cell_centre(1, 0)]), dispatch_minutes=2,
                    progress=lambda fraction, phase: calls.append((fraction, phase)))
    assert r.table.loc["region", "population"] > 0
    assert calls, "no progress reported"
    by_phase: dict = {}
    for fraction, phase in calls:
        assert 0.0 <= fraction <= 1.0 and isinstance(phase, str)
        by_phase.setdefault(phase, []).append(fraction)
    for phase, fractions in by_phase.items():      # within a phase the fraction never goes back
        assert fractions == sorted(fractions), (phase, fractions)
    assert calls[-1][0] == 1.0                    # the last call says the last step finished
    # a Study being prepared reports too
    seen = []
    careshed.Study(study.frame, zone_id="zone", population="pop", friction=study.friction,
                   progress=lambda fraction, phase: seen.append(phase))
    assert seen


def test_progress_bar_draws_phase_and_percentage():
    out = io.StringIO()
    bar = progress.ProgressBar(delay=0.0, disable=False, file=out)
    bar(0.25, "raster search")
    bar(1.0, "raster search")
    bar.close()
    text = out.getvalue()
    assert "raster search" in text and "100%" in text


def test_progress_keyword_values():
    assert progress.as_reporter(None) is None and progress.as_reporter(False) is None
    f = (lambda fraction, phase: None)
    assert progress.as_reporter(f) is f
    bar = progress.as_reporter(True)
    assert isinstance(bar, progress.ProgressBar)
    bar.close()
    with pytest.raises(TypeError, match="progress="):
        progress.as_reporter("yes")


def test_a_callable_that_raises_stops_the_run():
    """The core cancels a run whose progress callable raises (so a notebook's stop button or a timeout works the
    same way as Ctrl-C); the exception arrives as it was raised."""
    class Stop(Exception):
        pass

    def stop(fraction, phase):
        raise Stop(phase)
    with pytest.raises(Stop):
        strip_study().reach(points(["s1"], [cell_centre(1, 0)]), progress=stop)
