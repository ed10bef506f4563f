"""The `careshed` command line (through `python -m careshed` and cli.main) and the Quzhou demo."""
from __future__ import annotations

import pytest

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
    assert r.returncode == 2
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
