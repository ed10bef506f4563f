"""``careshed optimize`` (careshed/cli/optimize.py) on the strip study of strip_case.py: outputs and help."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import careshed
from strip_case import CRS, cell_centre, strip_grid, strip_zones, urban_polygon


def test_cli_optimize_writes_the_outputs(tmp_path, capsys):
    from careshed.cli import main

    grid = strip_grid()
    fric = careshed.write_geotiff(tmp_path / "friction.tif", np.full(grid.shape, 0.6), grid)
    strip_zones().to_file(tmp_path / "zones.gpkg", driver="GPKG")
    urban_polygon().to_file(tmp_path / "urban.gpkg", driver="GPKG")
    rows = ["code,x,y"] + [f"c{c},{cell_centre(1, c)[0]},{cell_centre(1, c)[1]}" for c in (0, 2, 4, 6, 8)]
    (tmp_path / "cand.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    x, y = cell_centre(1, 9)
    (tmp_path / "existing.csv").write_text(f"code,x,y\ne,{x},{y}\n", encoding="utf-8")
    out = tmp_path / "out"
    args = ["optimize", "mclp", str(tmp_path / "zones.gpkg"), str(tmp_path / "cand.csv"), "--x", "x", "--y", "y",
            "--crs", CRS, "--facility-id", "code", "--zone-id", "zone", "--population", "pop",
            "--friction", str(fric), "--urban-polygons", str(tmp_path / "urban.gpkg"),
            "--urban-minutes", "4", "--rural-minutes", "6", "--existing", str(tmp_path / "existing.csv"),
            "--p", "2", "--cell-size", "100", "--out", str(out), "--modelled", "test data"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "gap" in printed and "MODELLED" in printed
    table = pd.read_csv(out / "optimize.csv", comment="#", index_col=0)
    # the same request through the API gives the same table (the CLI only translates options)
    from strip_case import strip_study
    api = strip_study().optimize(str(tmp_path / "cand.csv"), model="mclp", p=2, x="x", y="y", crs=CRS,
                                 facility_id="code", existing=str(tmp_path / "existing.csv"))
    assert table.loc["region", "covered_after"] == pytest.approx(api.table.iloc[-1]["covered_after"])
    assert table.loc["region", "covered_after"] == pytest.approx(4500.0)  # everyone (hand check in the API test)
    sites = pd.read_csv(out / "optimize_sites.csv", comment="#", index_col=0)
    assert int(sites["open"].sum()) == 2
    for name in ("optimize.gpkg", "optimize_curve.csv", "optimize.png"):
        assert (out / name).is_file(), name
    # capacities from a field of the candidate layer: the CLI gives what the API gives
    rows = ["code,x,y,beds"] + [f"c{c},{cell_centre(1, c)[0]},{cell_centre(1, c)[1]},{30 + c}"
                               for c in (0, 2, 4, 6, 8)]
    (tmp_path / "cand_cap.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    cap_args = [a if a != str(tmp_path / "cand.csv") else str(tmp_path / "cand_cap.csv") for a in args]
    cap_args = cap_args[:cap_args.index("--existing")] + cap_args[cap_args.index("--existing") + 2:]
    cap_out = tmp_path / "cap_out"
    cap_args[cap_args.index(str(out))] = str(cap_out)
    assert main(cap_args + ["--capacity", "beds", "--patients-per-bed", "10"]) == 0
    capsys.readouterr()
    cap_table = pd.read_csv(cap_out / "optimize.csv", comment="#", index_col=0)
    api_cap = strip_study().optimize(str(tmp_path / "cand_cap.csv"), model="mclp", p=2, x="x", y="y", crs=CRS,
                                     facility_id="code", capacity="beds", patients_per_bed=10)
    assert cap_table.loc["region", "covered_after"] == pytest.approx(api_cap.table.iloc[-1]["covered_after"])
    assert cap_table.loc["region", "covered_after"] <= 2 * 380 + 1e-6  # two sites of at most 380 each
    # --single-source: whole cells per site, the same as the API
    ss_out = tmp_path / "ss_out"
    cap_args[cap_args.index(str(cap_out))] = str(ss_out)
    assert main(cap_args + ["--capacity", "beds", "--patients-per-bed", "10", "--single-source"]) == 0
    capsys.readouterr()
    ss_table = pd.read_csv(ss_out / "optimize.csv", comment="#", index_col=0)
    api_ss = strip_study().optimize(str(tmp_path / "cand_cap.csv"), model="mclp", p=2, x="x", y="y", crs=CRS,
                                    facility_id="code", capacity="beds", patients_per_bed=10, single_source=True)
    assert ss_table.loc["region", "covered_after"] == pytest.approx(api_ss.table.iloc[-1]["covered_after"])
    assert ss_table.loc["region", "covered_after"] <= cap_table.loc["region", "covered_after"] + 1e-6
    assert main(args + ["--single-source"]) == 2 and "--capacity" in capsys.readouterr().err
    # bad input: an unknown zone in --zone-min-share is refused with exit status 2
    assert main(args[:-4] + ["--zone-min-share", "Z=0.5"]) == 2
    assert "zone_min_share" in capsys.readouterr().err


def test_cli_optimize_help_lists_models_and_options(capsys):
    from careshed.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["optimize", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for word in ("lscp", "mclp", "mexclp", "p-median", "p-center", "--existing", "--candidate-spacing", "--p",
                 "--solver", "--time-limit", "--zone-min-share", "--budget", "--capacity", "--patients-per-bed", "--single-source", "--closing-cost",
                 "--existing-vehicles", "proven bound"):
        assert word in text, word
