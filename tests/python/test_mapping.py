"""careshed.mapping: publication-map pieces, each checked on the drawn figure (text objects, their boxes in
display units, the fonts that hold their glyphs), not by looking at pixels.

What is checked: Chinese text is drawn with the Noto CJK font found through matplotlib's font_manager and every
Chinese and Arabic character of the Comoros / Quzhou names resolves to a font that has it (a character no font
has is refused at save time, nothing written); 70 real Comoros facility labels do not overlap (boxes pairwise
disjoint, inside the map, the most important placed, the others counted); the colour scale clips an outlier at
Tukey's fences and says so; class colours and the sequential colour map keep their order in greyscale; the
legend and colour bar sit beside the data extent; long notes wrap and stay on the page; titles name the place;
before/after/difference panels count people by hand-worked numbers; PNG and PDF are written atomically.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from shapely.geometry import box

import careshed
from careshed.errors import DataIOError
from careshed.io.raster import Grid
from careshed.mapping import (BEYOND_COLOUR, CHANGE_COLOURS, COVERED_COLOUR, UNREACHABLE_COLOUR, add_colourbar,
                              cjk_font_name, display_text, draw_polygons, frame_zones, legend_beside, map_axes,
                              map_footnotes, map_fonts, map_title, missing_glyphs, new_figure, place_labels,
                              place_name, robust_scale, save_figure, save_png, scale_bar, scenario_maps)
from conftest import ROOT

COMOROS_HEALTH = ROOT / "data" / "comoros" / "health.gpkg"
ARABIC = "الصحة العسكرية"          # a facility of data/comoros/health.gpkg: "Santé Militaire الصحة العسكرية"
CHINESE = ["柯城区", "衢江区", "龙游县", "江山市", "常山县", "开化县"]   # data/quzhou/counties.geojson


def grey(colour) -> float:
    """Lightness as a greyscale printer renders it (ITU-R BT.601 luma)."""
    r, g, b = to_rgb(colour)
    return 0.299 * r + 0.587 * g + 0.114 * b


def test_polygons_scale_bar_and_an_atomic_png(tmp_path):
    fig = new_figure(4, 4, 50)
    ax = fig.add_axes([0, 0, 1, 1])
    draw_polygons(ax, [box(0, 0, 1000, 1000), box(1000, 0, 3000, 1000).union(box(1500, 1000, 2000, 2000))])
    assert len(ax.patches) == 2
    assert scale_bar(ax, 0, 0, 3000, 2000) == 500          # a fifth of 3 km, rounded down to 1/2/5 x 10^k
    out = save_png(fig, tmp_path / "m.png")
    assert out.read_bytes()[:4] == b"\x89PNG"
    pdf = save_figure(fig, tmp_path / "m.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pdf", "m.png"]


def test_a_failing_png_leaves_nothing(tmp_path):
    class Broken:
        def savefig(self, path, format):
            open(path, "wb").write(b"half")
            raise RuntimeError("disk full")
    with pytest.raises(RuntimeError):
        save_png(Broken(), tmp_path / "m.png")
    assert list(tmp_path.iterdir()) == []


def test_chinese_labels_use_the_cjk_font_and_every_glyph_resolves(tmp_path):
    cjk = cjk_font_name()
    assert "Noto Sans CJK" in cjk
    family = map_fonts(CHINESE)
    assert family == ["DejaVu Sans", cjk]
    fig = new_figure(4, 3, 60)
    ax = map_axes(fig)
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    placed = place_labels(ax, [(1 + 1.5 * i, 5, name, 1) for i, name in enumerate(CHINESE)], kind="area",
                          fontsize=7)
    assert {t.get_text() for t in placed.texts} <= set(CHINESE) and placed.texts
    for t in placed.texts:
        assert cjk in t.get_fontfamily()
        assert missing_glyphs(t.get_text(), t.get_fontfamily()) == []
    # the check can fail: DejaVu Sans alone has no Chinese glyphs
    assert missing_glyphs("柯城区", ["DejaVu Sans"]) == list("柯城区")
    save_figure(fig, tmp_path / "zh.png")   # no missing-glyph error


def test_arabic_names_are_shaped_and_their_glyphs_resolve(tmp_path):
    shown = display_text(f"Santé Militaire {ARABIC}")
    assert shown.startswith("Santé Militaire ")
    arabic = [ch for ch in shown if not ch.isascii() and ch != "é"]
    # joined presentation forms (U+FE70-FEFF), in visual (right-to-left) order
    assert arabic and all(0xFE70 <= ord(ch) <= 0xFEFF for ch in arabic if not ch.isspace())
    assert shown.endswith(display_text(ARABIC)) and display_text(ARABIC) != ARABIC
    assert missing_glyphs(ARABIC, map_fonts([ARABIC])) == []
    fig = new_figure(4, 3, 60)
    ax = map_axes(fig)
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    placed = place_labels(ax, [(2, 5, f"Santé Militaire {ARABIC}", 1)])
    assert [t.get_text() for t in placed.texts] == [shown]
    save_figure(fig, tmp_path / "ar.png")


def test_a_character_no_font_has_is_refused_and_nothing_is_written(tmp_path):
    text = "clinic \U000e0100\ue000"      # a variation selector and a private-use character: in no font
    assert missing_glyphs(text, map_fonts([text]))
    fig = new_figure(3, 2, 50)
    fig.text(0.1, 0.5, text)
    with pytest.raises(DataIOError, match="no installed font can draw"):
        save_figure(fig, tmp_path / "boxes.png")
    assert list(tmp_path.iterdir()) == []


def test_seventy_comoros_facility_labels_do_not_pile_up():
    facilities = careshed.read_vector(COMOROS_HEALTH).to_crs("EPSG:32738")
    assert len(facilities) == 70
    xs, ys = facilities.geometry.x.to_numpy(), facilities.geometry.y.to_numpy()
    names = [n if isinstance(n, str) and n else f"#{i}" for i, n in enumerate(facilities["name"])]
    priority = np.arange(70, 0, -1, dtype=float)            # facility 0 first
    fig = new_figure()
    ax = map_axes(fig)
    ax.scatter(xs, ys)
    pad = 5000
    ax.set_xlim(xs.min() - pad, xs.max() + pad)
    ax.set_ylim(ys.min() - pad, ys.max() + pad)
    ax.set_aspect("equal")
    placed = place_labels(ax, [(x, y, n, p) for x, y, n, p in zip(xs, ys, names, priority)])
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_bbox_patch().get_window_extent(renderer) for t in placed.texts]
    assert 10 <= len(boxes) < 70 and placed.skipped == 70 - len(boxes) and placed.total == 70
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            assert not boxes[i].overlaps(boxes[j]), (placed.texts[i].get_text(), placed.texts[j].get_text())
    frame = ax.get_window_extent(renderer)
    assert all(frame.x0 <= b.x0 and b.x1 <= frame.x1 and frame.y0 <= b.y0 and b.y1 <= frame.y1 for b in boxes)
    assert placed.texts[0].get_text() == display_text(names[0])          # the first in priority is always drawn
    assert placed.note("facilities").startswith(f"Labels: {len(boxes)} of 70 facilities")
    # a second call avoids the first call's boxes
    more = place_labels(ax, [(xs[0], ys[0], "another label on the first facility", 1)], avoid=placed.boxes)
    for t in more.texts:
        b = t.get_bbox_patch().get_window_extent(renderer)
        assert not any(b.overlaps(o) for o in boxes)


def test_colour_scale_clips_an_outlier_and_says_so():
    beds = [2.1, 3.0, 3.4, 4.2, 5.0, 5.5, 6.8, 8.0, 45.0]    # one county at 45 beds per 1000
    scale = robust_scale(beds)
    # Tukey's upper fence: Q3 + 1.5 IQR with Q1 = 3.4, Q3 = 6.8 (numpy's linear percentiles) -> 11.9
    assert scale.hi == pytest.approx(6.8 + 1.5 * (6.8 - 3.4))
    assert scale.lo == pytest.approx(2.1) and scale.extend == "max"
    assert "clipped to 2.1–11.9 per 1000" in scale.note("per 1000") and "data 2.1–45" in scale.note("per 1000")
    # the counties of 2 and 8 beds are far apart in colour now (min-max over 2..45 puts them 0.14 apart)
    assert scale.norm(8.0) - scale.norm(2.1) > 0.6
    plain = robust_scale([1.0, 2.0, 3.0, 4.0])
    assert plain.extend == "neither" and plain.note() is None and (plain.lo, plain.hi) == (1.0, 4.0)
    assert robust_scale([5.0, 6.0], centre=8.0).hi == 8.0                # a target stays on the scale
    fig = new_figure()
    cb = add_colourbar(fig, scale, "beds per 1000 residents", unit="per 1000", marks={7.8: "target"})
    assert cb.extend == "max" and "clipped to" in cb.ax.get_ylabel()


def test_colours_keep_their_order_in_greyscale():
    lightness = sorted(grey(c) for c in (COVERED_COLOUR, BEYOND_COLOUR, UNREACHABLE_COLOUR))
    assert min(np.diff(lightness)) > 0.15
    change = sorted(grey(c) for c in CHANGE_COLOURS.values())
    assert min(np.diff(change)) > 0.1
    from matplotlib import colormaps
    ramp = [grey(colormaps["cividis"](v)[:3]) for v in np.linspace(0, 1, 64)]
    assert np.all(np.diff(ramp) > 0)                    # monotone: a greyscale print keeps the order
    assert robust_scale([1.0, 2.0]).cmap.name.startswith("cividis")


def zones_and_grid():
    zones = careshed.read_vector(ROOT / "data" / "quzhou" / "counties.geojson").to_crs("EPSG:32650")
    x0, y0, x1, y1 = zones.total_bounds
    return zones, Grid(40, 50, (x0, (x1 - x0) / 40, 0.0, y1, 0.0, -(y1 - y0) / 50), "EPSG:32650")


def test_legend_and_colour_bar_are_off_the_data_and_notes_stay_on_the_page():
    zones, _ = zones_and_grid()
    fig = new_figure()
    ax = map_axes(fig)
    draw_polygons(ax, list(zones.geometry), fill=False)
    frame_zones(ax, zones)
    from matplotlib.patches import Patch
    legend = legend_beside(fig, [Patch(facecolor=COVERED_COLOUR, label="covered (response within urban 11 min, "
                                                                        "rural 15 min of the nearest station)")])
    cb = add_colourbar(fig, robust_scale([1, 2, 3, 50]), "people", unit="people")
    long = "MODELLED population: " + "a very long explanation of the modelled input, " * 12
    notes = map_footnotes(fig, [long, "MODELLED roads: short"], None, "")
    title = map_title(fig, "Quzhou: who ambulance stations reach within the response standard", "subtitle")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    x0, y0, x1, y1 = zones.total_bounds
    (dx0, dy0), (dx1, dy1) = ax.transData.transform([(x0, y0), (x1, y1)])
    from matplotlib.transforms import Bbox
    data = Bbox([[dx0, dy0], [dx1, dy1]])
    assert not legend.get_window_extent(renderer).overlaps(data)
    assert not cb.ax.get_window_extent(renderer).overlaps(data)
    page = fig.bbox
    map_box = ax.get_window_extent(renderer)
    assert len(notes) >= 3                                   # the long note was wrapped, not cut
    assert "".join(t.get_text() for t in notes).replace(" ", "").count("averylongexplanation") == 12
    for t in notes + title:
        b = t.get_window_extent(renderer)
        assert page.x0 <= b.x0 and b.x1 <= page.x1 and page.y0 <= b.y0 and b.y1 <= page.y1, t.get_text()
    for t in notes:
        assert not t.get_window_extent(renderer).overlaps(map_box)
    assert not title[0].get_window_extent(renderer).overlaps(map_box)


def test_titles_name_the_place():
    named = SimpleNamespace(region_label="Quzhou", keep=[], frame=None, ids=[1])
    assert place_name(named) == "Quzhou"
    import pandas as pd
    islands = SimpleNamespace(region_label="region", keep=["name"],
                              frame=pd.DataFrame({"name": ["Nzwani", "Ngazidja", "Mwali"]}), ids=["a", "b", "c"])
    assert place_name(islands) == "Nzwani, Ngazidja and Mwali"
    many = SimpleNamespace(region_label="region", keep=[], frame=None, ids=list(range(1, 8)))
    assert place_name(many) == "1, 2, 3 and 4 more zones"


def test_scenario_maps_count_the_people_newly_covered():
    zones, grid = zones_and_grid()
    people = np.zeros(grid.shape)
    people[10, 10], people[20, 20], people[30, 30], people[40, 5] = 100.0, 250.0, 40.0, 7.0
    before = np.zeros(grid.shape, bool)
    after = np.zeros(grid.shape, bool)
    before[10, 10] = after[10, 10] = True         # kept: 100
    after[20, 20] = True                          # gained: 250
    before[30, 30] = True                         # lost: 40
    fig = scenario_maps(zones, grid, before, after, people, title="Quzhou: MCLP", names=("existing", "chosen"),
                        added_points=(np.array([zones.total_bounds[0] + 1000]),
                                      np.array([zones.total_bounds[1] + 1000])), added_labels=["1"])
    titles = [ax.get_title().replace("\n", " ") for ax in fig.careshed_panels]
    assert titles == ["existing: 140 people covered", "chosen: 350 people covered",
                      "difference: +250 people newly covered, −40 no longer"]
    assert fig._suptitle.get_text() == "Quzhou: MCLP"
    with pytest.raises(ValueError, match="shape"):
        scenario_maps(zones, grid, before[:-1], after, people, title="x")


def test_chinese_labels_without_a_cjk_font_are_a_clear_error(monkeypatch):
    from matplotlib import font_manager

    monkeypatch.setattr(font_manager.fontManager, "ttflist",
                        [e for e in font_manager.fontManager.ttflist if "CJK" not in e.name])
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: [])
    assert map_fonts(["Moroni"]) == ["DejaVu Sans"]          # no Chinese: no CJK font needed
    with pytest.raises(DataIOError, match="install Debian's fonts-noto-cjk"):
        map_fonts(CHINESE)
