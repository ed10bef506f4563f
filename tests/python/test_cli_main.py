"""The `careshed` command line (through `python -m careshed` and cli.main) and the Quzhou demo."""
from __future__ import annotations

import os

import pytest

import careshed
from careshed import cli
from careshed.cli import main
from conftest import run_cli


def test_help(cli_env):
    r = run_cli(["--help"], cli_env)
    assert r.returncode == 0
    assert "density" in r.stdout and "demo" in r.stdout
    r = run_cli(["density", "--help"], cli_env)
    assert r.returncode == 0
    for text in ("--zone-id", "--resource", "--add", "examples:", "30,000"):
        assert text in r.stdout
    assert cli.SUBCOMMANDS.keys() >= {"density", "demo"}


def test_missing_file_subprocess(tmp_path, cli_env):
    r = run_cli(["density", tmp_path / "gone.gpkg", "--zone-id", "a", "--population", "b",
                 "--resource", "beds", "--out", tmp_path / "o"], cli_env)
    assert r.returncode == 1                      # a problem with the data (a missing file): status 1
    assert r.stderr.startswith("careshed: error: ") and "gone.gpkg" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "o").exists()


def test_no_subcommand_prints_help(capsys):
    assert cli.main([]) == 2
    assert "density" in capsys.readouterr().out


# ---- the Quzhou demo ------------------------------------------------------------------------------


def test_help_texts_have_examples(capsys):
    for cmd in ("catchments", "access"):
        with pytest.raises(SystemExit) as e:
            main([cmd, "--help"])
        assert e.value.code == 0
        text = capsys.readouterr().out
        assert "examples:" in text and f"careshed {cmd} " in text and "--max-minutes" in text


def test_one_vocabulary_across_subcommands():
    """An option that several subcommands have means the same there: same metavar, default, type, choices.
    Only the names of outputs and of what the facilities are differ by subcommand (--prefix, --label), and the
    demo, which always writes, defaults --out to out/."""
    parser = cli.build_parser()
    subs = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    seen: dict = {}
    for name, sp in subs.choices.items():
        for a in sp._actions:
            for opt in a.option_strings:
                sig = (a.dest, a.metavar, repr(a.default), getattr(a.type, "__name__", a.type), a.nargs, a.const,
                       tuple(a.choices or ()), type(a).__name__)
                seen.setdefault(opt, {}).setdefault(sig, []).append(name)
    differing = {opt: sigs for opt, sigs in seen.items() if len(sigs) > 1}
    assert set(differing) <= {"--prefix", "--label", "--out"}, differing
    writers = [n for n in subs.choices if n != "demo"]
    assert [v for v in differing.get("--out", {}).values() if "demo" not in v] == [writers]
    for opt in ("--cell-size", "--modelled", "--per", "--steps", "--method", "--facility-id", "--facilities-layer",
                "--zone-id", "--keep", "--no-map"):
        assert opt in seen, opt
    # the grid subcommands share one default cell size
    assert {s[2] for s in seen["--cell-size"]} == {"100.0"}


def test_former_option_spellings_still_parse():
    parser = cli.build_parser()
    args = parser.parse_args(["reach", "z.gpkg", "s.gpkg", "--zone-id", "id", "--station-id", "code",
                              "--stations-layer", "pts"])
    assert args.facility_id == "code" and args.facilities_layer == "pts"
    args = parser.parse_args(["density", "z.gpkg", "--zone-id", "id", "--population", "p", "--resource", "beds",
                              "--layer", "hospitals"])
    assert args.facilities_layer == "hospitals"


# ---- how a run ends: exit statuses and messages (docs/errors.md) -----------------------------------------

def _failing(exc):
    from careshed.cli.common import Subcommand

    def run(args):
        raise exc
    return Subcommand("density", "test", "", lambda p: None, run)


@pytest.mark.parametrize("exc, status, text", [
    (careshed.UsageError("--minutes: bad"), 2, "careshed: error: --minutes: bad"),
    (careshed.InputError("zones.gpkg: row 3 is empty"), 1, "careshed: error: zones.gpkg: row 3 is empty"),
    (PermissionError(13, "Permission denied", "out/reach.csv"), 1,
     "careshed: error: out/reach.csv: permission denied; choose a folder you may write to (--out)"),
    (MemoryError("std::bad_alloc"), 1, "careshed: error: out of memory; make the run smaller (a larger --cell-size"),
    (KeyboardInterrupt(), 130, "careshed: interrupted"),
    (ZeroDivisionError("division by zero"), 3, "careshed: internal error: ZeroDivisionError: division by zero"),
])
def test_every_ending_has_its_status_and_no_traceback(monkeypatch, capsys, exc, status, text):
    monkeypatch.setitem(cli.SUBCOMMANDS, "density", _failing(exc))
    assert main(["density"]) == status
    err = capsys.readouterr().err
    assert err.startswith(text) and "Traceback" not in err
    if status == 3:
        assert "please report" in err and "--debug" in err


def test_debug_shows_the_traceback_of_a_bug(monkeypatch):
    monkeypatch.setitem(cli.SUBCOMMANDS, "density", _failing(ZeroDivisionError("division by zero")))
    with pytest.raises(ZeroDivisionError):
        main(["density", "--debug"])


def test_ctrl_c_mid_run_exits_130_within_a_second_and_leaves_no_files(tmp_path, cli_env):
    """Issue 8: SIGINT while a run computes (a 3,000 x 3,000-cell reach) stops it within 1 s with status 130,
    'careshed: interrupted', no traceback, and no output file (the outputs are staged and only renamed at the end)."""
    import time

    import interrupt_case
    from conftest import polygon_feature, square, write_geojson

    zones = write_geojson(tmp_path / "zones.geojson", [polygon_feature({"zone": 1, "pop": 100000},
                                                                       square(500000, 1000000, 530000, 1030000))], 32631)
    (tmp_path / "st.csv").write_text("fid,x,y\ns1,505000,1005000\ns2,525000,1025000\n", encoding="utf-8")
    out = tmp_path / "out"
    args = ["reach", zones, tmp_path / "st.csv", "--zone-id", "zone", "--population", "pop", "--x", "x", "--y", "y",
            "--crs", "EPSG:32631", "--background-speed", "5", "--minutes", "600", "--cell-size", "10", "--out", out]
    proc = interrupt_case.start(["-m", "careshed", *args], env=cli_env)
    # Wait until the run is computing: its grids (9 M cells) lift the process past 300 MB (the imports stay
    # below ~150 MB), then give it half a second more.
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        rss_kb = next((int(line.split()[1]) for line in open(f"/proc/{proc.pid}/status")
                       if line.startswith("VmRSS:")), 0)
        if rss_kb > 300 * 1024:
            break
        time.sleep(0.05)
    time.sleep(0.5)
    r = interrupt_case.interrupt(proc)
    assert r.returncode == 130, r.stderr
    assert r.stderr.strip().endswith("careshed: interrupted") and "Traceback" not in r.stderr, r.stderr
    # 9 M cells: the search uses OpenMP's threads (up to 8), each may finish its round.
    r.check(threads=min(8, len(os.sched_getaffinity(0))))
    assert not out.exists() or not list(out.iterdir()), "an interrupted run left files"
