"""careshed.report.document: the equity numbers of the strip study worked by hand, and the report's HTML
(sections, rows, nothing fetched from a network, MODELLED said, Chinese labels)."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from careshed.arrays.equity import gini, theil
from careshed.errors import InputError
from careshed.report.document import ReportTargets, read_targets, report_html, travel_equity, write_report
from strip_case import SQ2, cell_centre, hand_minutes, points, strip_study


def hospital():
    return points(["h1"], [cell_centre(1, 0)], beds=[9.0])


@pytest.fixture(scope="module")
def strip():
    study = strip_study(modelled={"population": "spread evenly (test)"})
    return study, study.catchments(hospital(), resources={"beds": "beds"}), study.access(
        hospital(), supply="beds", max_minutes=30)


def test_travel_equity_by_hand(strip):
    study, catch, _ = strip
    eq = travel_equity(catch.seconds / 60.0, study, bands=(4.0, 8.0), circle_minutes=4.0)
    t = eq["table"]
    # The strip: zone A = columns 0-4 (1500 people over 15 cells: 100 each), B = columns 5-9 (3000: 200 each).
    # Minutes from cell (1, 0): row 1 -> c; rows 0 and 2 -> 1 at c = 0, sqrt2 + (c - 1) after (strip_case).
    minutes = np.array([[hand_minutes(r, c) for c in range(10)] for r in range(3)])
    people = np.where(np.arange(10) < 5, 100.0, 200.0)[None, :].repeat(3, axis=0)
    # A within 4 min (inclusive): row 1 c=0..4 (5 cells) + rows 0/2 c=0..3 (1, 1.41, 2.41, 3.41: 4 each) = 13/15
    assert t.loc["A", "within_circle"] == pytest.approx(13 / 15)
    assert t.loc["B", "within_circle"] == pytest.approx(0.0)
    assert t.loc["region", "within_circle"] == pytest.approx(1300 / 4500)
    # beyond 8 min: B row 1 c=9 (9 min) and rows 0/2 c=8,9 (sqrt2+7=8.41, 9.41): 5 cells x 200 = 1000 of 3000
    assert t.loc["B", "beyond_8"] == pytest.approx(1000 / 3000)
    assert t.loc["A", "beyond_8"] == 0.0
    # mean minutes of A: (0+1+2+3+4 + 2 x (1 + sqrt2 + (sqrt2+1) + (sqrt2+2) + (sqrt2+3))) / 15
    assert t.loc["A", "mean_minutes"] == pytest.approx((10 + 2 * (7 + 4 * SQ2)) / 15)
    assert t.loc["region", "population"] == pytest.approx(4500)
    assert t.loc["region", "unreachable"] == 0.0
    # median of A: 15 equal people sorted 0,1,1,1,1.41,1.41,2,2.41,2.41,3,...: F(2) = 7/15 < 1/2, F(2.41) = 9/15,
    # so the smallest value with at least half the people at or below it is sqrt2 + 1
    assert t.loc["A", "median_minutes"] == pytest.approx(SQ2 + 1, rel=1e-6)
    assert t.loc["region", "gini"] == pytest.approx(gini(minutes, people))
    tz = eq["theil_zones"]
    zone = np.where(np.arange(10) < 5, 0, 1)[None, :].repeat(3, axis=0)
    assert tz.total == pytest.approx(theil(minutes, people).total)
    assert tz.between == pytest.approx(theil(minutes, people, zone).between)
    # the urban/rural split exists (urban = columns 0-2)
    assert "theil_classes" in eq
    curve_t, curves = eq["curve"]
    assert curves["A"][int(np.where(curve_t == 4.0)[0][0])] == pytest.approx(13 / 15)


def test_concentration_index_from_a_zone_field(strip):
    study, catch, _ = strip
    study.frame["income"] = [10.0, 20.0]       # A poorer than B; B is farther: travel time falls on the rich
    try:
        eq = travel_equity(catch.seconds / 60.0, study, standard_field="income")
    finally:
        study.frame.drop(columns="income", inplace=True)
    assert eq["concentration"][0] == "income" and eq["concentration"][1] > 0


def test_report_html_sections_rows_and_nothing_fetched(strip, tmp_path):
    study, catch, acc = strip
    page = report_html([catch, acc], targets=ReportTargets(per_1000={"beds": 2.5}, circle_minutes=4.0),
                       title="Strip")
    for sid in ("map", "summary", "curve", "density", "catchments", "access", "equity", "methods"):
        assert f'<section id="{sid}">' in page, sid
    summary = re.search(r'<table class="data" id="summary-table">(.*?)</table>', page).group(1)
    assert summary.count("<tr>") == 1 + 3          # header + A, B, region
    assert "Alpha" in summary and "Beta" in summary
    # beds per 1000 (E2SFCA) vs 2.5: the region's rate is 9 beds / 4500 people = 2.0 per 1000 -> misses
    assert re.search(r"<td>2\.00</td><td class=\"miss\">misses</td></tr></tbody>", summary)
    assert 'id="modelled-banner"' in page and "MODELLED population: spread evenly (test)" in page
    # nothing that could leave the page: no src/href to a network, no url() but data:, a CSP that forbids it
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    styles = "".join(re.findall(r"<style>(.*?)</style>", page, flags=re.S))
    assert "leaflet-control-layers" in styles
    assert all(u.strip("'\"").startswith("data:") for u in re.findall(r"url\(([^)]*)\)", styles))
    assert "default-src 'none'" in page
    zh = report_html([catch, acc], lang="zh", targets=ReportTargets(per_1000={"beds": 2.5}))
    assert '<html lang="zh-CN">' in zh and "公平性" in zh and "对照规划目标的主要指标" in zh
    path = write_report(tmp_path / "r.html", [catch, acc])
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert not list(tmp_path.glob(".r.html.tmp*"))


def test_report_refuses_mixed_studies_and_unknown_results(strip):
    study, catch, _ = strip
    other = strip_study().catchments(hospital())
    with pytest.raises(InputError, match="different studies"):
        report_html([catch, other])
    with pytest.raises(InputError, match="cannot report a DataFrame"):
        report_html([pd.DataFrame({"study": [study]}).assign(study=study)])
    with pytest.raises(InputError, match="at least one result"):
        report_html([])


def test_read_targets_takes_per_1000_minimums(quzhou_dir):
    t = read_targets(quzhou_dir / "plan_targets.csv")
    # plan_targets.csv, target_2025 column, per "1000 residents", at_least: beds 7.8, physicians 4.0, nurses 4.5,
    # childcare_places 4.5, public_tcm_hospital_beds 0.73, tcm_physicians 0.7
    assert t.per_1000 == {"beds": 7.8, "physicians": 4.0, "nurses": 4.5, "childcare_places": 4.5,
                          "public_tcm_hospital_beds": 0.73, "tcm_physicians": 0.7}
    with pytest.raises(InputError, match="no column 'target_2030'"):
        read_targets(quzhou_dir / "plan_targets.csv", column="target_2030")


def test_people_outside_every_zone_have_their_row(tmp_path):
    """A population raster of 100 people per cell over the strip, zones over columns 0-7 only: columns 8-9 (600
    people) are in no zone. Hospital at (1, 0): column c of row 1 is c minutes away, so within 8 minutes are
    columns 0-8 of row 1 and 0-7 of rows 0/2 (sqrt2 + 7 = 8.41 > 8): outside the zones only cell (1, 8), 100 of
    600 people."""
    import careshed
    from shapely.geometry import box
    from strip_case import X0, Y1, gdf, strip_grid

    grid = strip_grid()
    careshed.write_geotiff(tmp_path / "pop.tif", np.full(grid.shape, 100.0), grid)
    zones = gdf({"zone": ["A", "B"], "name": ["Alpha", "Beta"]},
                [box(X0, Y1 - 300, X0 + 500, Y1), box(X0 + 500, Y1 - 300, X0 + 800, Y1)])
    study = careshed.Study(zones, zone_id="zone", population_raster=tmp_path / "pop.tif", keep=["name"],
                           friction=careshed.FrictionSurface(np.full(grid.shape, 0.6), grid))
    catch = study.catchments(hospital(), resources={"beds": "beds"})
    eq = travel_equity(catch.seconds / 60.0, study, circle_minutes=8.0)
    t = eq["table"]
    assert list(t.index) == ["A", "B", "outside every zone", "region"]
    assert t["population"].tolist() == pytest.approx([1500, 900, 600, 3000])
    assert t.loc["outside every zone", "within_circle"] == pytest.approx(100 / 600)
    page = report_html([catch, study.access(hospital(), supply="beds", max_minutes=60)])
    summary = re.search(r'<table class="data" id="summary-table">(.*?)</table>', page).group(1)
    assert summary.count("<tr>") == 1 + 4 and "outside every zone" in summary
    access = re.search(r'<table class="data" id="access-table">(.*?)</table>', page).group(1)
    assert access.count("<tr>") == 1 + 4


def test_density_result_and_result_report(strip, tmp_path):
    """study.density's result gives the resources-vs-target section (hospital h1 in zone A: 9 beds over the 4500
    people of the strip = 2.00 per 1000 in the region row); result.report writes one result's report."""
    study, catch, _ = strip
    density = study.density(hospital(), resources={"beds": "beds"}, targets={"beds": 2.5})
    page = report_html([catch, density], targets=ReportTargets(per_1000={"beds": 2.5}))
    assert '<section id="density">' in page
    summary = re.search(r'<table class="data" id="summary-table">(.*?)</table>', page).group(1)
    assert re.search(r"<td>2\.00</td><td class=\"miss\">misses</td></tr></tbody>", summary)
    path = catch.report(tmp_path / "one.html", lang="zh")
    assert '<html lang="zh-CN">' in path.read_text(encoding="utf-8")


def test_optimisation_results_in_the_report(strip):
    """An optimisation result adds its section (solver report, coverage before/after per zone, marginal-gain
    curve, before/after/difference maps) and its chosen sites as a map layer."""
    import json

    from pyproj import Transformer

    study, catch, _ = strip
    cand = points(["a", "b", "c"], [cell_centre(1, 3), cell_centre(1, 6), cell_centre(1, 9)])
    opt = study.optimize(cand, model="mclp", p=3, existing=hospital())
    page = report_html([catch, opt], title="Strip")
    assert '<section id="optimisation">' in page and 'href="#optimisation"' in page
    solver = dict(re.findall(r'<tr><td class="text">([^<]*)</td><td class="text">([^<]*)</td></tr>',
                             re.search(r'id="solver-table">(.*?)</table>', page).group(1)))
    d = opt.diagnostics
    assert solver["Model"] == "mclp" and solver["Gap"] == f"{d['gap']:.3%}" and solver["Proven optimal"] == "yes"
    assert solver["Objective"] == f"{d['objective']:,.6g}" and solver["Proven bound"].startswith(f"{d['bound']:,.6g}")
    added = opt.sites[opt.sites["open"] & ~opt.sites["fixed"]].sort_values("added_rank")
    assert len(added) >= 1 and solver["Added sites"] == str(len(added)) and solver["Existing sites (kept)"] == "1"
    assert float(solver["Time (seconds)"]) == pytest.approx(d["seconds"], abs=0.01)
    rows = re.findall(r"<tr>(.*?)</tr>", re.search(r'id="optimisation-table">(.*?)</table>', page).group(1))
    assert len(rows) == 1 + 3                                   # header + Alpha, Beta, region
    region = opt.table.iloc[-1]
    assert f"<td>{region['covered_before']:,.0f}</td><td>{region['covered_after']:,.0f}</td>" in rows[-1]
    assert f"<td>{region['gained']:,.0f}</td>" in rows[-1]
    data = json.loads(re.search(r'id="careshed-map-data">(.*?)</script>', page, flags=re.S).group(1))
    assert [p["title"].split(":")[0] for p in data["sites"]["points"]] == [str(k + 1) for k in range(len(added))]
    lon, lat = Transformer.from_crs(opt.grid.crs, "EPSG:4326", always_xy=True).transform(
        added["x"].to_numpy(float), added["y"].to_numpy(float))
    assert [p["lon"] for p in data["sites"]["points"]] == pytest.approx(list(lon))
    assert [p["lat"] for p in data["sites"]["points"]] == pytest.approx(list(lat))
    section = page[page.index('<section id="optimisation">'):]
    section = section[:section.index("</section>")]
    assert section.count('<img class="chart" src="data:image/png;base64,') == 2     # gain curve, change maps
    assert "Marginal gain of each added site" in section
    zh = report_html([catch, opt], lang="zh")
    assert "选址优化" in zh and "求解报告" in zh and "边际收益" in zh


def _section(page, sid):
    body = page[page.index(f'<section id="{sid}">'):]
    return body[:body.index("</section>")]


def _rows(page, table_id):
    return re.findall(r"<tr>(.*?)</tr>", re.search(rf'id="{table_id}">(.*?)</table>', page).group(1))


def test_referral_section_tables_and_routes_on_the_map(strip):
    """Referral on the strip: clinics c0 at (1, 0) and c1 at (1, 6), a hospital at (1, 9); 1 minute per rook step.
    c0's referral is 9 minutes (beyond the 5-minute standard: a gap), c1's 3 minutes. The section's zone table
    repeats the result's zone table (A, B, region), the gap table lists c0 alone, and the map draws both routes
    (the gap first, orange) from the clinic's cell to the hospital's."""
    import json

    study, catch, _ = strip
    fac = points(["c0", "c1", "h"], [cell_centre(1, 0), cell_centre(1, 6), cell_centre(1, 9)],
                 level=["clinic", "clinic", "hospital"], name=["West clinic", "East clinic", "Hospital"])
    ref = study.referral(fac, level_field="level", levels=["clinic", "hospital"], standards_minutes={"clinic": 4},
                         referral_standards_minutes={"clinic": 5})
    assert list(ref.gaps.index) == ["c0"]
    page = report_html([ref], title="Strip")
    assert '<section id="referral">' in page and 'href="#referral"' in page
    sec = _section(page, "referral")
    assert "MODELLED" in sec                                   # the strip's population is modelled
    rows = _rows(page, "referral-table")
    assert len(rows) == 1 + 3                                  # header + Alpha, Beta, region
    zt = ref.zone_table
    for row, zid in zip(rows[1:], ["A", "B", "region"]):
        assert f"<td>{zt.loc[zid, 'share_within_clinic'] * 100:.1f} %</td>" in row
        assert f"<td>{zt.loc[zid, 'first_contact_gap']:,.0f}</td>" in row
        assert f"<td>{int(zt.loc[zid, 'referral_gaps'])} / {int(zt.loc[zid, 'facilities'])}</td>" in row
    gaps = _rows(page, "referral-gaps-table")
    assert len(gaps) == 2 and "West clinic" in gaps[1] and "<td>9.0</td>" in gaps[1]
    data = json.loads(re.search(r'id="careshed-map-data">(.*?)</script>', page, flags=re.S).group(1))
    (lines,) = data["lines"]
    assert [ln["title"] for ln in lines["lines"]] == ["West clinic → Hospital", "East clinic → Hospital"]
    assert [ln["colour"] for ln in lines["lines"]] == ["#e66101", "#2166ac"]
    from pyproj import Transformer
    to_ll = Transformer.from_crs(study.grid.crs, "EPSG:4326", always_xy=True)
    for ln, start in zip(lines["lines"], [(1, 0), (1, 6)]):
        lon0, lat0 = to_ll.transform(*cell_centre(*start))
        lon1, lat1 = to_ll.transform(*cell_centre(1, 9))
        assert ln["coords"][0] == pytest.approx([lat0, lon0]) and ln["coords"][-1] == pytest.approx([lat1, lon1])
    assert [p["title"] for p in data["facilities"]["points"]] == ["West clinic", "East clinic", "Hospital"]
    zh = report_html([ref], lang="zh")
    assert "分级转诊" in zh and "超出转诊标准的机构" in zh


def test_outreach_section_and_circuits_on_the_map(strip, tmp_path):
    """Outreach on the strip (the set-up of test_analyses_outreach): the section's figures are the result's
    diagnostics, its zone table the result's table, one line per distinct day route, the chosen service points and
    both bases as point layers; Study.report writes it with the referral's section in one file."""
    import json

    study, catch, _ = strip
    cand = points([f"p{k}" for k in range(4)], [cell_centre(1, c) for c in (4, 5, 7, 8)])
    out = study.outreach(cand, facilities=points(["f"], [cell_centre(1, 0)]),
                         bases=points(["west", "east"], [cell_centre(1, 0), cell_centre(0, 9)], name=["W", "E"]),
                         points=2, working_days=3, hours_per_day=0.5, service_hours=0.1, visits_per_month=2,
                         thresholds_min={"urban": 2.5, "rural": 2.5})
    page = report_html([catch, out])
    assert '<section id="outreach">' in page and '<section id="summary">' in page
    sec = _section(page, "outreach")
    assert "MODELLED" in sec
    solver = dict(re.findall(r'<tr><td class="text">([^<]*)</td><td class="text">([^<]*)</td></tr>',
                             re.search(r'id="outreach-solver-table">(.*?)</table>', page).group(1)))
    d = out.diagnostics
    assert solver["Team-days a month"] == str(d["team_days"])
    assert solver["Gap"] == f"{d['gap']:.2%}" and solver["Solver"] == f"{d['solver']} ({d['status']})"
    assert solver["Service points chosen / candidates"] == f"{d['points_chosen']} / 4"
    rows = _rows(page, "outreach-table")
    region = out.table.iloc[-1]
    assert len(rows) == 1 + 3
    assert f"<td>{region['reached']:,.0f}</td><td>{region['effective']:,.0f}</td>" in rows[-1]
    assert len(_rows(page, "outreach-routes-table")) == 1 + len(out.routes)
    data = json.loads(re.search(r'id="careshed-map-data">(.*?)</script>', page, flags=re.S).group(1))
    (circuits,) = data["lines"]
    distinct = {(r["team"], tuple(r["points"])) for _, r in out.routes.iterrows()}
    assert len(circuits["lines"]) == len(distinct)
    for ln in circuits["lines"]:
        assert ln["coords"][0] == ln["coords"][-1]             # every circuit starts and ends at its base
    service, bases = data["point_layers"]
    assert len(service["points"]) == d["points_chosen"] and [p["title"] for p in bases["points"]] == \
        ["Team west", "Team east"]
    fac = points(["c0", "h"], [cell_centre(1, 0), cell_centre(1, 9)], level=["clinic", "hospital"])
    ref = study.referral(fac, level_field="level", levels=["clinic", "hospital"])
    path = study.report([out, ref], tmp_path / "both.html")
    both = path.read_text(encoding="utf-8")
    assert '<section id="outreach">' in both and '<section id="referral">' in both
    assert "巡回医疗" in report_html([out], lang="zh")
