"""Every command of the README's ```sh blocks: the ones on the shipped data run (in process, outputs in a temporary
folder) and what the README says they produce is checked; the ones for the reader's own data (a block starting
with "# with your own data") must at least parse. The README's ```python blocks run too, in order, in a temporary
folder that sees the shipped data."""
from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pandas as pd
import pytest

from careshed.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CLAIM = re.compile(r"#\s*→\s*(\S+):\s*(\S+)\s+(\S+)\s+([-0-9.]+)\s*$")


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def commands(block: str) -> list[tuple[list[str], list]]:
    """[(argv after 'careshed', [claims (file, row, column, value) stated under it])]."""
    out: list = []
    for line in block.replace("\\\n", " ").splitlines():
        line = line.strip()
        claim = CLAIM.match(line)
        if claim and out:
            out[-1][1].append(claim.groups())
        elif line.startswith("careshed "):
            out.append((shlex.split(line)[1:], []))
    return out


SHIPPED = [c for b in blocks("sh") if not b.lstrip().startswith("# with your own data") for c in commands(b)]
OWN_DATA = [c for b in blocks("sh") if b.lstrip().startswith("# with your own data") for c in commands(b)]


def test_the_readme_has_commands_of_both_kinds():
    assert {argv[0] for argv, _ in SHIPPED if argv} >= {"density", "reach", "catchments", "demo"}
    assert {argv[0] for argv, _ in OWN_DATA} >= {"catchments", "access", "access-table"}
    assert any(claims for _, claims in SHIPPED)


@pytest.mark.parametrize("argv", [argv for argv, _ in OWN_DATA], ids=lambda a: a[0])
def test_own_data_commands_parse(argv):
    build_parser().parse_args(argv)


def with_out(argv: list, out) -> list:
    """argv with the value of --out replaced by `out`."""
    return [str(out) if prev == "--out" else a for prev, a in zip([""] + argv, argv)]


@pytest.mark.parametrize("argv,claims", SHIPPED, ids=[argv[0].lstrip("-") for argv, _ in SHIPPED])
def test_shipped_data_commands_run_and_say_what_they_produce(argv, claims, tmp_path, monkeypatch, capsys, request):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "out"
    if argv == ["--help"]:
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 0 and "careshed" in capsys.readouterr().out
        return
    if argv[0] == "demo":  # the same command as the session's one demo run (conftest.quzhou_demo): use its outputs
        demo = request.getfixturevalue("quzhou_demo")
        assert demo.args[-len(argv):] == with_out(argv, demo.out), (argv, demo.args)
        assert demo.returncode == 0, demo.stderr
        out = demo.out
    else:
        assert main(with_out(argv, out)) == 0, capsys.readouterr().err
    for file, row, column, value in claims:
        table = pd.read_csv(out / Path(file).name, comment="#", index_col=0)
        table.index = table.index.astype(str)
        assert table.loc[row, column] == pytest.approx(float(value), abs=0.5 * 10 ** -len(value.split(".")[-1]))


def test_python_blocks_run(tmp_path, monkeypatch):
    (tmp_path / "data").symlink_to(ROOT / "data")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict = {}
    for block in blocks("python"):
        exec(compile(block, "README.md", "exec"), namespace)
    assert os.path.isfile("reach.png") and os.path.isfile("out/catchments.csv")
