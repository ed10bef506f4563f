"""careshed.analyses.access_table: 2SFCA on the caller's own cost table, by hand.

v1 (100 people) reaches h1 (8 beds, 5 min) and h2 (12 beds, 10 min); v2 (300 people) reaches h2 (20 min).
R1 = 8 / 100, R2 = 12 / 400; v1 scores R1 + R2 = 0.11, v2 R2 = 0.03; 100 x 0.11 + 300 x 0.03 = 20 beds.
"""
from __future__ import annotations

import pandas as pd
import pytest

import careshed


def tables():
    demand = pd.DataFrame({"vid": ["v1", "v2"], "pop": [100.0, 300.0]})
    supply = pd.DataFrame({"hid": ["h1", "h2"], "beds": [8.0, 12.0]})
    costs = pd.DataFrame({"origin": ["v1", "v1", "v2"], "dest": ["h1", "h2", "h2"], "cost": [5.0, 10.0, 20.0]})
    return demand, supply, costs


def test_hand_case():
    dem, sup, res = careshed.access_table(*tables(), demand_id="vid", population="pop", supply_id="hid",
                                          capacity="beds", max_cost=30, per=1000)
    assert dem["score"].tolist() == pytest.approx([110.0, 30.0])
    assert sup["ratio"].tolist() == pytest.approx([80.0, 30.0])
    assert res.conservation["conservation_relative_error"] < 1e-12
    assert any("conservation" in n for n in dem.attrs["notes"])


def test_unknown_ids_and_missing_fields_are_named():
    demand, supply, costs = tables()
    costs.loc[2, "origin"] = "v9"
    with pytest.raises(careshed.InputError, match="costs table row 2: origin='v9' is not an id of the demand"):
        careshed.access_table(demand, supply, costs, demand_id="vid", population="pop", supply_id="hid",
                              capacity="beds", max_cost=30)
    with pytest.raises(careshed.InputError, match="supply table: no field 'doctors'"):
        careshed.access_table(*tables(), demand_id="vid", population="pop", supply_id="hid", capacity="doctors",
                              max_cost=30)
