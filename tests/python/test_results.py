"""careshed.results: the notes, layers and metadata every analysis result shares."""
from __future__ import annotations

import numpy as np
import pandas as pd

from careshed.results import geotiff_metadata, headline_prefix, modelled_notes, notes_frame, points_frame, zones_layer
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
