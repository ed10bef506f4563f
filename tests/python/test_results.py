"""careshed.results: the notes, layers and metadata every analysis result shares."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from careshed.results import (Result, geotiff_metadata, headline_prefix, modelled_notes, notes_frame, points_frame,
                              zones_layer)
from strip_case import strip_study


def test_modelled_notes_in_every_form():
    assert modelled_notes(None) == []
    assert modelled_notes("roads drawn by hand") == ["MODELLED input: roads drawn by hand"]
    assert modelled_notes({"roads": "drawn"}) == ["MODELLED roads: drawn"]
    assert modelled_notes(["roads"]) == ["MODELLED roads: this input is modelled, not measured"]
    assert headline_prefix(True) == "MODELLED — " and headline_prefix(False) == ""


def test_geotiff_metadata_carries_notes_and_the_modelled_mark():
    meta = geotiff_metadata(["a\nb", "c"], True, UNITS="minutes")
    assert meta == {"UNITS": "minutes", "CARESHED_NOTE_00": "a b", "CARESHED_NOTE_01": "c",
                    "CARESHED_MODELLED": "yes: some inputs are MODELLED (see the notes)"}
    assert "CARESHED_MODELLED" not in geotiff_metadata([], False)


def test_of_makes_a_result_of_the_class_holding_the_attributes():
    class Made(Result):
        default_prefix = "made"

    table = pd.DataFrame({"population": [1.0]})
    made = Made.of(table=table, notes=["n"], modelled=False)
    assert type(made) is Made and made.table is table and made.notes == ["n"] and made.modelled is False
    assert made.study is None and made.grid is None  # the class defaults stay where not given
    assert not hasattr(Result.of(), "table")


def test_layers_points_zones_and_notes():
    table = pd.DataFrame({"x": [1.0, 2.0], "y": [3.0, 4.0], "name": ["a", np.nan]}, index=pd.Index(["p", "q"]))
    pts = points_frame(table, "EPSG:32631")
    assert [(g.x, g.y) for g in pts.geometry] == [(1.0, 3.0), (2.0, 4.0)]
    assert pts["name"].tolist() == ["a", None]
    study = strip_study()
    zt = pd.DataFrame({"name": ["Alpha", "Beta", None], "covered": [1.0, 2.0, 3.0]},
                      index=pd.Index(["A", "B", "region"], name="zone"))
    layer = zones_layer(study, zt)
    assert list(layer["zone"]) == ["A", "B"] and list(layer["covered"]) == [1.0, 2.0]
    assert layer.crs == study.zones.crs
    assert notes_frame([])["note"].tolist() == ["(none)"]


# ---- the common face of every analysis result --------------------------------------------------------------

def all_results():
    import careshed
    from strip_case import cell_centre, points
    study = strip_study()
    hosp = points(["h1", "h2"], [cell_centre(1, 0), cell_centre(1, 9)], beds=[10.0, 30.0])
    study.frame["beds"] = [20.0, 10.0]
    return {"reach": study.reach(hosp, thresholds_min=5), "catchments": study.catchments(hosp, resources="beds"),
            "access": study.access(hosp, supply="beds", max_minutes=2),
            "density": study.density(resources="beds", targets={"beds": 5}),
            "optimize": study.optimize(hosp, model="mclp", p=1)}, careshed


@pytest.fixture(scope="module")
def results():
    return all_results()


def test_every_result_has_the_same_face(results, tmp_path):
    res, careshed = results
    for name, r in res.items():
        assert isinstance(r, careshed.Result), name
        assert isinstance(r.table, pd.DataFrame) and r.summary() and r.summary() in repr(r)
        html_text = r._repr_html_()        # Jupyter: summary, the table beside a small map, MODELLED notes
        assert html_text.startswith('<div class="careshed-result"><p><b>') and "<table" in html_text
        assert html_text.count('<img class="careshed-map" alt="map"') == 1, name
        assert re.search(r'src="data:image/png;base64,[A-Za-z0-9+/=]{2000,}"', html_text), name
        if "population" in r.table.columns:     # people as whole numbers, as in the CSV
            assert f"<td>{round(float(r.table['population'].iloc[-1]))}</td>" in html_text, name
        zones = r.zones
        assert type(zones).__name__ == "GeoDataFrame" and list(zones.index)[-1] == "region"
        assert zones.geometry.iloc[-1].area == pytest.approx(zones.geometry.iloc[:-1].area.sum())
        assert all(a.shape == r.grid.shape for a in r.rasters.values()), name
        assert bool(r.rasters) == (name != "optimize"), name      # site choice: tables and layers, no rasters
        written = r.save(tmp_path / name)
        names = {p.name for p in written}
        assert {f"{r.default_prefix}.csv", f"{r.default_prefix}.gpkg", f"{r.default_prefix}.png"} <= names
        assert {f"{r.default_prefix}_{k}.tif" for k in r.rasters} <= names
        assert sorted(p.name for p in (tmp_path / name).iterdir()) == sorted(names)   # no stage left behind


def test_save_is_all_or_none(results, tmp_path, monkeypatch):
    res, careshed = results
    r = res["reach"]

    def broken_map(self, path=None, **kw):
        raise RuntimeError("the map failed")
    monkeypatch.setattr(type(r), "plot", broken_map)
    with pytest.raises(RuntimeError, match="the map failed"):
        r.save(tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_to_geotiff_single_path_dict_and_unknown(results, tmp_path):
    res, careshed = results
    a = res["access"]
    path = a.to_geotiff(tmp_path / "score.tif")
    assert path == tmp_path / "score.tif" and path.is_file()
    with pytest.raises(careshed.InputError, match="unknown output 'speed'; use score"):
        a.to_geotiff({"speed": tmp_path / "s.tif"})
    d = res["density"]
    paths = d.to_geotiff(tmp_path, prefix="d")
    assert list(paths) == ["beds_per_1000"] and paths["beds_per_1000"].name == "d_beds_per_1000.tif"
