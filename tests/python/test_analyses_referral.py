"""careshed.analyses.referral (study.referral) on the strip study of strip_case.py, worked by hand.

The strip: 3 x 10 cells of 100 m, one minute per rook step (diagonal sqrt 2 minutes); zone A (cols 0-4) 100
people per cell, zone B (cols 5-9) 200 per cell. Facilities, all on row 1:

    c1 clinic   col 2      h1 hospital col 0      t tertiary col 5
    c2 clinic   col 7      h2 hospital col 9      levels: clinic < hospital < tertiary < national (none)

By hand: c1 -> h1 2 min (0.2 km; h2 is 7 min), c2 -> h2 2 min; h1 -> t 5 min, h2 -> t 4 min; t -> nothing (no
national facility). Within 1 minute of a clinic (inclusive): the clinic's cell and its 4 rook neighbours -> 500 people
in A, 1000 in B. Within 3 minutes of the tertiary: cols 2-8 of row 1 (7 cells), and rows 0/2 at cols 3..7 (sqrt 2 +
|dc| - 1 <= 3 -> |dc| <= 2: cols 3-7) -> row 1: A cols 2-4 (300), B cols 5-8 (800); rows 0/2: A cols 3-4 (2 x 2 x 100
= 400), B cols 5-7 (2 x 3 x 200 = 1200) -> A 700, B 2000.
Two legs from cell (1, 0): 2 min to c1, then c1's 2 min = 4 min.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import careshed
from careshed.analyses.referral import gaps_closed, level_slug
from careshed.errors import InputError, UsageError
from strip_case import cell_centre, points, strip_study

LEVELS = ["clinic", "hospital", "tertiary", "national"]


def facilities(**extra):
    ids = ["c1", "c2", "h1", "h2", "t"]
    cols = [2, 7, 0, 9, 5]
    return points(ids, [cell_centre(1, c) for c in cols], level=["clinic", "clinic", "hospital", "hospital", "tertiary"],
                  name=["C1", "C2", "H1", "H2", "T"], **extra)


def run(study=None, fac=None, **kw):
    args = dict(level_field="level", levels=LEVELS, standards_minutes={"clinic": 1, "tertiary": 3},
                referral_standards_minutes={"clinic": 1.5, "hospital": 4.5, "tertiary": 10})
    args.update(kw)
    return (study or strip_study()).referral(facilities() if fac is None else fac, **args)


def test_targets_times_and_gaps_by_hand():
    r = run()
    assert isinstance(r, careshed.Referral) and isinstance(r, careshed.Result)
    t = r.table
    assert t["target"].tolist() == ["h1", "h2", "t", "t", None]
    assert t["target_level"].tolist() == ["hospital", "hospital", "tertiary", "tertiary", None]
    assert t["referral_minutes"].tolist()[:4] == pytest.approx([2, 2, 5, 4], rel=1e-6)
    assert math.isinf(t.loc["t", "referral_minutes"]) and math.isinf(t.loc["t", "referral_km"])
    assert t["referral_km"].tolist()[:4] == pytest.approx([0.2, 0.2, 0.5, 0.4], rel=1e-9)
    # gaps: clinics 2 > 1.5; h1 5 > 4.5, h2 4 <= 4.5; t has no target although its level has a standard
    assert t["referral_gap"].tolist() == [True, True, True, False, True]
    assert list(r.gaps.index) == ["c1", "c2", "h1", "t"]
    z = r.zone_table
    assert z.loc["A", "within_clinic"] == pytest.approx(500) and z.loc["B", "within_clinic"] == pytest.approx(1000)
    assert z.loc["region", "share_within_clinic"] == pytest.approx(1500 / 4500)
    assert z.loc["A", "first_contact_gap"] == pytest.approx(1000) and z.loc["B", "first_contact_gap"] == \
        pytest.approx(2000)
    assert z.loc["A", "within_tertiary"] == pytest.approx(700) and z.loc["B", "within_tertiary"] == pytest.approx(2000)
    assert z.loc["region", "unreached_national"] == pytest.approx(4500)
    assert np.isnan(z.loc["region", "mean_minutes_national"])
    assert z.loc["A", "facilities"] == 2 and z.loc["B", "facilities"] == 3 and z.loc["region", "facilities"] == 5
    assert z.loc["A", "referral_gaps"] == 2 and z.loc["B", "referral_gaps"] == 2   # t (col 5) stands in B
    assert r.two_leg_seconds[1, 0] == pytest.approx(240.0, rel=1e-6)
    # per-level fields: index into the table; the national field is all unreachable
    k = LEVELS.index("hospital")
    assert r.nearest[k][1, 4] == 2 and r.nearest[k][1, 5] == 3    # col 4: h1 4 min vs h2 5 min
    assert (r.nearest[3] == -1).all() and np.isinf(r.seconds[3]).all()
    assert "first contact: clinic" in " ".join(r.notes)
    assert r.summary().startswith("Referral among 5 facilities in 4 levels")


def test_tie_goes_to_the_lowest_facility_index_and_assigned_target_wins():
    # a clinic at col 4 of row 1 would be 4 min from h1 (col 0) and 5 min from h2 (col 9); at col 4.5 there is no
    # cell, so use a hospital pair equidistant: h1 col 0, h2 col 4 -> clinic at col 2 is 2 min from both.
    fac = points(["c", "hb", "ha"], [cell_centre(1, 2), cell_centre(1, 4), cell_centre(1, 0)],
                 level=["clinic", "hospital", "hospital"])
    r = strip_study().referral(fac, level_field="level", levels=["clinic", "hospital"])
    assert r.table.loc["c", "target"] == "hb"           # index 1 beats index 2 at the same 2 minutes
    fac2 = points(["c", "hb", "ha"], [cell_centre(1, 2), cell_centre(1, 4), cell_centre(1, 0)],
                  level=["clinic", "hospital", "hospital"], refers_to=["ha", None, None])
    a = strip_study().referral(fac2, level_field="level", levels=["clinic", "hospital"], assigned_field="refers_to")
    assert a.table.loc["c", "target"] == "ha" and bool(a.table.loc["c", "assigned"])
    assert a.table.loc["c", "referral_minutes"] == pytest.approx(2.0)
    assert not bool(a.table.loc["hb", "assigned"])


def test_cutoff_and_numeric_level_field():
    fac = points(["a", "b"], [cell_centre(1, 0), cell_centre(1, 9)], rank=[1, 3])
    r = strip_study().referral(fac, level_field="rank", max_minutes=8)
    assert r.levels == ["1", "3"]
    assert r.table.loc["a", "target"] is None          # 9 minutes > 8: beyond the cut-off
    r2 = strip_study().referral(fac, level_field="rank", max_minutes=9)   # inclusive
    assert r2.table.loc["a", "target"] == "b"


def test_outputs_all_written_with_referral_lines(tmp_path):
    import geopandas as gpd

    r = run(modelled={"facilities": "made up for the test"})
    written = r.save(tmp_path)
    names = sorted(p.name for p in written)
    assert "referral.gpkg" in names and "referral_gaps.csv" in names and "referral_zones.csv" in names
    assert "referral.png" in names and "referral_two_leg_minutes.tif" in names
    assert f"referral_minutes_{level_slug('tertiary')}.tif" in names
    lines = gpd.read_file(tmp_path / "referral.gpkg", layer="referral_lines")
    assert sorted(lines["facility"]) == ["c1", "c2", "h1", "h2"]
    c1 = lines.set_index("facility").loc["c1"]
    assert c1.geometry.length == pytest.approx(200.0)     # along row 1 from col 2 to col 0
    assert "MODELLED" in c1["note"]
    assert r.summary().startswith("MODELLED")


def test_gaps_closed_by_an_added_clinic():
    study = strip_study()
    before = run(study)
    fac = facilities()
    extra = points(["c3"], [cell_centre(1, 4)], level=["clinic"], name=["C3"])
    after = run(study, pd.concat([fac, extra], ignore_index=True))
    g = gaps_closed(before, after)
    # c3 at col 4 covers (1,3..5), (0,4), (2,4): new people within 1 minute: A (1,3) was c1's, (1,4) (0,4) (2,4) new
    # -> 300 in A; (1,5) 200 in B
    assert g.loc["A", "people_gap_closed"] == pytest.approx(300)
    assert g.loc["B", "people_gap_closed"] == pytest.approx(200)
    with pytest.raises(InputError, match="same study"):
        gaps_closed(before, run())


def test_errors_name_the_row_field_and_level():
    with pytest.raises(InputError, match="row 5 has level 'tertiary'"):
        run(levels=["clinic", "hospital"], standards_minutes=None, referral_standards_minutes=None)
    with pytest.raises(InputError, match="no field 'grade'"):
        run(level_field="grade")
    with pytest.raises(UsageError, match="standards_minutes: 'icu'"):
        run(standards_minutes={"icu": 5})
    with pytest.raises(UsageError, match="first_contact"):
        run(first_contact="pharmacy")
    with pytest.raises(InputError, match="assigned to 'zz'"):
        run(fac=facilities(refers_to=["zz", None, None, None, None]), assigned_field="refers_to")
    with pytest.raises(InputError, match="ordered numeric field"):
        run(levels=None)


def test_docs_worked_example_runs_and_says_what_the_page_says(tmp_path, monkeypatch):
    """Every Python block of docs/referral.md, run in order; the numbers the page quotes are checked here."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    doc = (root / "docs" / "referral.md").read_text(encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CARESHED_DATA_DIR", str(root / "data"))   # data/osm is in the checkout only
    ns: dict = {}
    for block in re.findall(r"```python\n(.*?)```", doc, re.S):
        exec(compile(block, "docs/referral.md", "exec"), ns)
    before, after = ns["before"], ns["after"]
    region = before.zone_table.loc["Quzhou"]
    assert round(region["share_within_township_health_centre"], 3) == 0.915
    assert round(region["share_within_city_tertiary_hospital"], 3) == 0.856
    assert round(region["mean_two_leg_minutes"], 1) == 23.8
    assert round(after.zone_table.loc["Quzhou", "mean_two_leg_minutes"], 1) == 22.3
    assert round(before.zone_table.loc[330824, "share_within_township_health_centre"], 2) == 0.33
    assert len(before.table) == 107 and int(before.table["referral_gap"].sum()) == 49
    assert int(after.table["referral_gap"].sum()) == 43
    assert ns["change"]["referral_gaps_after"].tolist() == [0, 13, 5, 9, 7, 9, 43]
    assert int(after.table["target"].isin(["P5", "P9"]).sum()) == 20
    assert (ns["change"]["people_gap_closed"] == 0).all()
    assert before.summary().startswith("MODELLED") and any("MODELLED" in n for n in before.notes)
    assert (tmp_path / "out" / "referral_quzhou" / "referral.gpkg").exists()
    streets = ns["streets"]
    assert streets.target[0] in (1, 2) and np.isfinite(streets.target_seconds[0])
    on_roads = ns["on_roads"]                      # the road-graph study of the page's "On a road graph" section
    # the turn restrictions send the clinic to hospital A (B is 1.57 min on the plain streets, 2.46 min allowed)
    assert on_roads.table.loc["clinic", "target"] == "hospital A"
    assert round(on_roads.table.loc["clinic", "referral_minutes"], 2) == 2.17
    assert round(on_roads.table.loc["clinic", "referral_km"], 2) == 1.15
    plain = careshed.RoadGraph.from_osm(ns["find_data_dir"]("osm") / "helsinki.osm.pbf", profile="car",
                                        turn_restrictions=False)
    for graph, to_b in ((ns["roads"], 2.46), (plain, 1.57)):
        node = graph.snap(np.array([[24.945, 60.170], [24.950, 60.176]])).node
        assert round(graph.nearest_from_nodes([node[1]], reverse=True)[0][node[0]] / 60, 2) == to_b
    assert round(on_roads.zone_table.loc["region", "share_within_clinic"], 3) == 0.799


def test_villages_beyond_the_first_contact_standard_by_hand():
    # villages at (1, 3): 1 min from c1 (within), (0, 0): sqrt 2 + 1 min from c1 (beyond 1 min), (2, 7): c2's
    # neighbour (within), and one off the grid (beyond: no cell)
    vill = points(["v1", "v2", "v3", "v4"], [cell_centre(1, 3), cell_centre(0, 0), cell_centre(2, 7),
                                            (cell_centre(1, 0)[0] - 5000.0, cell_centre(1, 0)[1])],
                  name=["V1", "V2", "V3", "V4"])
    r = run(villages=vill)
    v = r.village_table
    assert v["first_contact"].tolist() == ["c1", "c1", "c2", None]
    assert v["first_contact_minutes"].tolist()[:3] == pytest.approx([1.0, 1.0 + math.sqrt(2), 1.0], rel=1e-6)
    assert v["beyond_standard"].tolist() == [False, True, False, True]
    assert v.loc["v1", "two_leg_minutes"] == pytest.approx(1.0 + 2.0, rel=1e-6)   # then c1 -> h1, 2 min
    assert list(r.village_gaps.index) == ["v2", "v4"]
    assert "(2 of 4 villages)" in r.summary()
    assert "villages" in r._layers() and "villages" in r._extra_tables()


def test_unreachable_people_are_a_first_contact_gap_without_a_standard():
    f = np.full((3, 10), 0.6)
    f[:, 5] = np.nan                                    # a wall: zone B cannot reach the clinic in A
    study = strip_study(friction=f)
    fac = points(["c"], [cell_centre(1, 1)], level=["clinic"])
    r = study.referral(fac, level_field="level", levels=["clinic"])
    assert r.zone_table.loc["A", "first_contact_gap"] == pytest.approx(0)
    assert r.zone_table.loc["B", "first_contact_gap"] == pytest.approx(3000)


def test_map_layout_names_the_place_keeps_the_legend_off_the_data_and_labels_apart():
    from map_checks import check_map_layout
    from strip_case import strip_zones

    r = run()
    fig = r.plot()
    ax, labels = check_map_layout(fig, strip_zones().total_bounds, place="Alpha and Beta", unit="minutes")
    assert fig._suptitle.get_text().replace("\n", " ") == "Alpha and Beta: referral between 4 levels of facilities"
    texts = [t.get_text() for t in labels]
    assert "T" in texts                                   # the highest level is labelled first, always drawn
    legend = [t.get_text().replace("\n", " ") for t in fig.legends[0].get_texts()]
    assert legend[:4] == ["clinic (2)", "hospital (2)", "tertiary (1)", "national (0)"]
    gaps = int(r.table["referral_gap"].sum())
    assert f"referral route beyond its standard ({gaps})" in legend
    # every route of a facility with a target drawn, orange where beyond its standard, black dashed otherwise
    from matplotlib.colors import to_hex
    drawn = [route is not None and len(route) >= 2 for route in r.routes]
    gap_routes = sum(1 for d, g in zip(drawn, r.table["referral_gap"]) if d and g)
    colours = [to_hex(line.get_color()) for line in ax.lines]
    assert sum(drawn) == 4 and gap_routes >= 1
    assert colours.count("#e66101") == gap_routes
    assert sum(1 for line in ax.lines if line.get_linestyle() == "--") == sum(drawn) - gap_routes


def test_road_graph_study_matches_networkx():
    """study.referral(..., network=RoadGraph): a random one-way/two-way street graph over the strip (in the grid's
    CRS), facilities of three levels at random points. Oracle: networkx Dijkstra on the graph's edge list (reversed
    for times TO a facility), nearest nodes by brute force (ties to the lowest node id), every cell's time = its
    straight walk to its nearest node at 5 km/h + that node's time; referral targets by forward Dijkstra from each
    facility's node among the next level's (ties to the lowest facility index); the share within the clinic
    standard summed from the oracle's cell times."""
    import os

    import networkx as nx

    from strip_case import X0, Y1

    seed = int(os.environ.get("CARESHED_TEST_SEED", np.random.SeedSequence().entropy % 2**32))
    print(f"CARESHED_TEST_SEED={seed}")
    rng = np.random.default_rng(seed)
    study = strip_study()
    for trial in range(3):
        n = 20
        xy = np.column_stack([rng.uniform(X0, X0 + 1000, n), rng.uniform(Y1 - 300, Y1, n)])
        pairs = [(a, a + 1) for a in range(n - 1)] + [tuple(rng.choice(n, 2, replace=False)) for _ in range(15)]
        lines = np.array([[xy[a], xy[b]] for a, b in pairs])
        speeds = rng.uniform(10, 60, len(pairs))
        oneway = rng.choice([-1, 0, 0, 1], len(pairs))
        net = careshed.RoadGraph.from_xy_lines(lines, speeds, oneway=oneway)
        levels = ["clinic", "clinic", "hospital", "hospital", "tertiary"]
        fxy = np.column_stack([rng.uniform(X0 + 1, X0 + 999, 5), rng.uniform(Y1 - 299, Y1 - 1, 5)])
        fac = points([f"f{k}" for k in range(5)], fxy, level=levels)
        ref = study.referral(fac, level_field="level", levels=["clinic", "hospital", "tertiary"],
                             standards_minutes={"clinic": 3}, network=net)
        what = f"trial {trial} (CARESHED_TEST_SEED={seed})"

        e = net.edges
        g = nx.MultiDiGraph()
        g.add_nodes_from(range(net.n_nodes))
        for t, h, s in zip(e["tails"], e["heads"], e["seconds"]):
            g.add_edge(int(t), int(h), weight=float(s))
        nodes = net.node_xy

        def nearest_node(p):
            d = np.hypot(nodes[:, 0] - p[0], nodes[:, 1] - p[1])
            return int(np.flatnonzero(d == d.min())[0]), float(d.min())

        fnode = [nearest_node(p)[0] for p in fxy]
        rev = g.reverse(copy=True)
        to_fac = [nx.single_source_dijkstra_path_length(rev, fnode[f], weight="weight") for f in range(5)]
        h, w = study.grid.shape
        for k, lv in enumerate(["clinic", "hospital", "tertiary"]):
            members = [f for f in range(5) if levels[f] == lv]
            expect = np.full((h, w), np.inf)
            near = np.full((h, w), -1)
            for r in range(h):
                for c in range(w):
                    node, dist = nearest_node(cell_centre(r, c))
                    best = min(((to_fac[f].get(node, np.inf), f) for f in members), default=(np.inf, -1))
                    if np.isfinite(best[0]):
                        expect[r, c] = best[0] + dist / (5.0 / 3.6)
                        near[r, c] = best[1]
            assert np.allclose(ref.seconds[k], expect, rtol=1e-5, atol=1e-3), what
            assert np.array_equal(ref.nearest[k], near), what
        for f in range(4):
            nxt = {"clinic": "hospital", "hospital": "tertiary"}[levels[f]]
            dist = nx.single_source_dijkstra_path_length(g, fnode[f], weight="weight")
            best = min(((dist.get(fnode[j], np.inf), j) for j in range(5) if levels[j] == nxt))
            row = ref.table.loc[f"f{f}"]
            if np.isfinite(best[0]):
                assert row["target"] == f"f{best[1]}", what
                assert row["referral_minutes"] == pytest.approx(best[0] / 60.0, rel=1e-9), what
                x, y = ref.route_coordinates(f)
                assert (x[0], y[0]) == pytest.approx(tuple(nodes[fnode[f]])), what
                assert (x[-1], y[-1]) == pytest.approx(tuple(nodes[fnode[best[1]]])), what
            else:
                assert row["target"] is None and math.isinf(row["referral_minutes"]), what
        pop = np.nan_to_num(study.population)
        within = ref.seconds[0] <= 3 * 60.0
        assert ref.zone_table.loc["region", "within_clinic"] == pytest.approx(float(pop[within].sum())), what
        assert ref.table["network_snap_m"].to_numpy() == pytest.approx([nearest_node(p)[1] for p in fxy]), what
    assert "road graph" in " ".join(ref.notes)
