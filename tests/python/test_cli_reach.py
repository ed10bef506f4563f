"""``careshed reach`` (careshed/cli/reach.py) on the strip study of strip_case.py: the outputs it writes, its help."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import careshed
from strip_case import CRS, cell_centre, strip_grid, strip_zones, urban_polygon


def test_cli_reach_writes_the_outputs(tmp_path, capsys):
    from careshed.cli import main

    grid = strip_grid()
    fric = careshed.write_geotiff(tmp_path / "friction.tif", np.full(grid.shape, 0.6), grid)
    strip_zones().to_file(tmp_path / "zones.gpkg", driver="GPKG")
    urban_polygon().to_file(tmp_path / "urban.gpkg", driver="GPKG")
    x, y = cell_centre(1, 0)
    (tmp_path / "stations.csv").write_text(f"code,x,y,amb\ns1,{x},{y},1\n", encoding="utf-8")
    out = tmp_path / "out"
    code = main(["reach", str(tmp_path / "zones.gpkg"), str(tmp_path / "stations.csv"), "--x", "x", "--y", "y",
                 "--crs", CRS, "--station-id", "code", "--zone-id", "zone", "--population", "pop",
                 "--friction", str(fric), "--urban-polygons", str(tmp_path / "urban.gpkg"),
                 "--urban-minutes", "4", "--rural-minutes", "6", "--dispatch-minutes", "2",
                 "--vehicles-field", "amb", "--cell-size", "100", "--out", str(out), "--prefix", "t",
                 "--modelled", "test data"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "region" in printed and "MODELLED" in printed
    back = pd.read_csv(out / "t.csv", comment="#", index_col=0)
    assert back.loc["A", "covered"] == pytest.approx(1100)
    assert back.loc["A", "vehicles_needed"] == 1
    for name in ("t.gpkg", "t.png", "t_minutes.tif", "t_nearest.tif", "t_stations.csv", "t_curve.csv"):
        assert (out / name).is_file(), name

    assert main(["reach", str(tmp_path / "zones.gpkg"), str(tmp_path / "stations.csv"), "--zone-id", "zone",
                 "--population", "pop", "--friction", str(fric), "--x", "x", "--y", "y", "--crs", CRS,
                 "--minutes", "0"]) == 2
    assert "threshold" in capsys.readouterr().err


def test_cli_reach_help_explains_the_options(capsys):
    from careshed.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["reach", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for word in ("--dispatch-minutes", "--urban-minutes", "--rural-minutes", "--friction", "--speed-raster",
                 "--landcover", "--roads", "--cell-size", "--out", "response time = ", "one-hour"):
        assert word in text, word
