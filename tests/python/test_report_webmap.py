"""careshed.report.webmap: Leaflet inlined from Debian's libjs-leaflet (no URL left), the travel-time overlay
reprojected to Web Mercator with the right class in the right place, hot spots that add up."""
from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest

from careshed.errors import DataIOError
from careshed.report import webmap
from strip_case import strip_grid, strip_zones


def test_leaflet_is_inlined_with_its_images(tmp_path):
    js, css = webmap.leaflet_assets()
    assert "L.version" in js or "version" in js
    assert "sourceMappingURL" not in js and "sourceMappingURL" not in css
    urls = re.findall(r"url\(([^)]*)\)", css)
    assert urls and all(u.strip("'\"").startswith("data:image/png;base64,") for u in urls)
    with pytest.raises(DataIOError, match="libjs-leaflet"):
        webmap.leaflet_assets(tmp_path)


def decode(uri):
    from matplotlib.image import imread
    return imread(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])), format="png")


def test_overlay_puts_each_class_where_its_cells_are():
    from matplotlib.colors import to_rgba
    from pyproj import Transformer

    grid = strip_grid()                    # 3 x 10 cells of 100 m, UTM 31N
    minutes = np.zeros(grid.shape)
    minutes[:, 5:] = 40.0                  # left half 0-5 min class, right half 30-45 min class
    minutes[0, 9] = np.inf                 # one unreachable cell (grey)
    minutes[2, 0] = np.nan                 # one no-data cell (transparent)
    over = webmap.minutes_overlay(minutes, grid, max_pixels=200)
    img = decode(over["url"])
    (south, west), (north, east) = over["bounds"]
    to_ll = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True)
    colours = webmap.minute_colours()

    def pixel_at(r, c):
        x = grid.transform[0] + (c + 0.5) * 100.0
        y = grid.transform[3] - (r + 0.5) * 100.0
        lon, lat = to_ll.transform(x, y)
        merc = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
        mx, my = merc.transform(lon, lat)
        mx0, my0 = merc.transform(west, south)
        mx1, my1 = merc.transform(east, north)
        col = int((mx - mx0) / (mx1 - mx0) * img.shape[1])
        row = int((my1 - my) / (my1 - my0) * img.shape[0])
        return img[row, col]

    np.testing.assert_allclose(pixel_at(1, 1), to_rgba(colours[0], 0.75), atol=0.01)   # 0 min: class <= 5
    np.testing.assert_allclose(pixel_at(1, 7), to_rgba(colours[4], 0.75), atol=0.01)   # 40 min: class 30-45
    np.testing.assert_allclose(pixel_at(0, 9), to_rgba("#9e9e9e", 0.6), atol=0.01)     # unreachable
    assert pixel_at(2, 0)[3] == 0.0                                                     # no data: transparent


def test_hotspots_sum_the_people_beyond_the_threshold():
    grid = strip_grid()
    minutes = np.tile(np.arange(10.0), (3, 1)) * 3      # 0, 3, ..., 27 minutes by column
    people = np.full(grid.shape, 10.0)
    spots = webmap.hotspots(minutes, people, grid, 15.0, block_m=200.0, top=100)
    # beyond 15 min: columns 6..9 (18, 21, 24, 27 min) x 3 rows x 10 people = 120
    assert sum(s["people"] for s in spots) == pytest.approx(120.0)
    assert all(-90 < s["lat"] < 90 and -180 < s["lon"] < 180 for s in spots)
    biggest = webmap.hotspots(minutes, people, grid, 15.0, block_m=200.0, top=1)
    assert len(biggest) == 1 and biggest[0]["people"] == max(s["people"] for s in spots)


def test_zone_features_are_lon_lat_geojson():
    fc = webmap.zone_features(strip_zones(), ["Alpha", "Beta"], [{"x": 1}, {"x": 2}], ["#000000", "#ffffff"])
    assert [f["properties"]["label"] for f in fc["features"]] == ["Alpha", "Beta"]
    ring = np.array(fc["features"][0]["geometry"]["coordinates"][0])
    assert np.all((ring[:, 0] > 2) & (ring[:, 0] < 4) & (ring[:, 1] > 8) & (ring[:, 1] < 10))  # UTM 31N near 3E, 9N
    assert fc["features"][1]["properties"]["rows"] == {"x": "2"}


MEASURE = """<script>
(function () {
  var map = window.careshedMap, box = map.getContainer().getBoundingClientRect(), pts = [];
  map.eachLayer(function (l) {
    if (!l.feature) { return; }
    (function walk(c) {
      if (typeof c[0] === 'number') {
        var p = map.latLngToContainerPoint([c[1], c[0]]);
        pts.push([l.feature.properties.label, box.left + p.x, box.top + p.y]);
      } else { c.forEach(walk); }
    })(l.feature.geometry.coordinates);
  });
  function rect(e) { var r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }
  var boxes = {};
  document.querySelectorAll('.legend, .leaflet-control').forEach(function (e, i) {
    boxes[(e.id || e.className) + ' ' + i] = rect(e); });
  var out = document.createElement('pre');
  out.id = 'measured';
  out.textContent = JSON.stringify({map: rect(map.getContainer()), points: pts, boxes: boxes});
  document.body.appendChild(out);
})();
</script>"""


@pytest.mark.parametrize("width", [1200, 760])
def test_comoros_legend_and_controls_are_off_the_islands(tmp_path, width):
    """The report's map of the three Comoros islands drawn by a real browser (headless Chromium, Debian's
    chromium) in a wide and a narrow window: no vertex of any island lies under the legend or a map control, and every vertex is on the map.
    (The legend used to be a Leaflet control in the bottom-right corner, over the eastern tip of Nzwani in a 760-pixel window.)"""
    import html as html_mod
    import json
    import subprocess

    import careshed
    from careshed.report.document import _CSS
    from conftest import ROOT

    zones = careshed.read_vector(ROOT / "data" / "comoros" / "zones.geojson")
    islands = zones[zones["zone_id"].isin(["KM-A", "KM-G", "KM-M"])]
    names = list(islands["name"])
    features = webmap.zone_features(islands, names, [{} for _ in names], ["#cccccc"] * len(names))
    colours = webmap.minute_colours()
    data = {"zone_layers": [{"name": "islands", "features": features}], "raster": None, "hotspots": None,
            "facilities": None, "legend": {"title": "minutes", "items": [[c, f"class {k}"]
                                                                        for k, c in enumerate(colours)]}}
    js, css = webmap.leaflet_assets()
    page = tmp_path / "map.html"
    page.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'><style>{css}{_CSS}</style><script>{js}"
                    f"</script></head><body><main>{webmap.map_html(data)}</main>{MEASURE}</body></html>",
                    encoding="utf-8")
    dom = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
                          f"--window-size={width},900", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    found = re.search(r'<pre id="measured">(.*?)</pre>', dom, re.S)
    assert found, "the page did not draw its map"
    measured = json.loads(html_mod.unescape(found.group(1)))
    points, boxes, (mx0, my0, mx1, my1) = measured["points"], measured["boxes"], measured["map"]
    assert {p[0] for p in points} == set(names) and len(points) > 100
    assert any(k.startswith("careshed-legend") for k in boxes)     # the legend is drawn
    for label, x, y in points:
        assert mx0 <= x <= mx1 and my0 <= y <= my1, f"{label} off the map"
        for what, (x0, y0, x1, y1) in boxes.items():
            assert not (x0 <= x <= x1 and y0 <= y <= y1), f"{label} ({x:.0f}, {y:.0f}) under {what}"
