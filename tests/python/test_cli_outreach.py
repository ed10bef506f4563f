"""``careshed outreach`` (careshed/cli/outreach.py) on the strip study of strip_case.py: the outputs equal the
Python API's (the CLI only translates options; the numbers are checked against oracles in
test_analyses_outreach.py), help, and errors in the command line's words (docs/errors.md)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import careshed
from strip_case import CRS, cell_centre, strip_grid, strip_study, strip_zones, urban_polygon


def _files(tmp_path):
    grid = strip_grid()
    fric = careshed.write_geotiff(tmp_path / "friction.tif", np.full(grid.shape, 0.6), grid)
    strip_zones().to_file(tmp_path / "zones.gpkg", driver="GPKG")
    urban_polygon().to_file(tmp_path / "urban.gpkg", driver="GPKG")

    def csv(name, rows):
        lines = ["code,x,y"] + [f"{c},{cell_centre(r, col)[0]},{cell_centre(r, col)[1]}" for c, (r, col) in rows]
        (tmp_path / name).write_text("\n".join(lines) + "\n", encoding="utf-8")

    csv("cand.csv", [(f"c{k}", rc) for k, rc in enumerate([(1, 4), (1, 5), (1, 6), (1, 7), (1, 8), (2, 9)])])
    csv("fixed.csv", [("f", (1, 0))])
    csv("bases.csv", [("west", (1, 0)), ("east", (0, 9))])
    return ["outreach", str(tmp_path / "zones.gpkg"), str(tmp_path / "cand.csv"), "--x", "x", "--y", "y",
            "--crs", CRS, "--facility-id", "code", "--zone-id", "zone", "--population", "pop",
            "--friction", str(fric), "--urban-polygons", str(tmp_path / "urban.gpkg"), "--urban-minutes", "2.5",
            "--rural-minutes", "2.5", "--facilities", str(tmp_path / "fixed.csv"), "--bases",
            str(tmp_path / "bases.csv"), "--points", "3", "--working-days", "3", "--hours-per-day", "0.5",
            "--service-hours", "0.1", "--visits", "2", "--cell-size", "100"]


def test_cli_outreach_writes_what_the_api_computes(tmp_path, capsys):
    from careshed.cli import main

    args = _files(tmp_path)
    out = tmp_path / "out"
    assert main(args + ["--out", str(out), "--modelled", "test data"]) == 0
    printed = capsys.readouterr().out
    assert "outreach:" in printed and "MODELLED" in printed
    for name in ("outreach.csv", "outreach_schedule.csv", "outreach_routes.csv", "outreach_points.csv",
                 "outreach_teams.csv", "outreach.gpkg", "outreach.png", "outreach_effective_access.tif"):
        assert (out / name).is_file(), name
    table = pd.read_csv(out / "outreach.csv", comment="#", index_col=0)
    api = strip_study().outreach(str(tmp_path / "cand.csv"), x="x", y="y", crs=CRS, facility_id="code",
                                 facilities=str(tmp_path / "fixed.csv"), bases=str(tmp_path / "bases.csv"),
                                 points=3, thresholds_min={"urban": 2.5, "rural": 2.5}, working_days=3,
                                 hours_per_day=0.5, service_hours=0.1, visits_per_month=2)
    for col in ("population", "fixed", "reached", "effective"):
        assert table.loc["region", col] == pytest.approx(api.table.iloc[-1][col])
    routes = pd.read_csv(out / "outreach_routes.csv", comment="#")
    assert len(routes) == len(api.routes)
    assert routes["travel_minutes"].sum() == pytest.approx(api.routes["travel_minutes"].sum())


def test_cli_outreach_errors_in_cli_words(tmp_path, capsys):
    from careshed.cli import main

    args = _files(tmp_path)
    assert main(args[:-8] + ["--working-days", "1", "--hours-per-day", "0.5", "--service-hours", "0.1",
                             "--visits", "2", "--cell-size", "100"]) == 1
    err = capsys.readouterr().err
    assert "--working-days" in err and "working_days" not in err
    assert main(args + ["--points", "0"]) == 2
    assert "--points" in capsys.readouterr().err


def test_cli_outreach_help(capsys):
    from careshed.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["outreach", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for word in ("--facilities", "--bases", "--points", "--working-days", "--hours-per-day", "--service-hours",
                 "--visits", "--circuit-solver", "walking-hospital", "effective_access"):
        assert word in text, word
