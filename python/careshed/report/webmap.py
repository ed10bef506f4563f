"""The report's interactive map: Leaflet (Debian's libjs-leaflet) inlined, no tile layer, nothing fetched.

The base map is the zones themselves (GeoJSON, coloured by a value against its target); over them the travel
time surface as an image overlay (reprojected to Web Mercator, PNG inlined as a data: URI) with a legend in
minutes, the facilities as circle markers with popups, lines (referral routes, outreach circuits) with popups,
and the uncovered people as hot spots; a layer switcher
and a scale bar. Every script, style and image is in the page: it works on a network with no internet.
"""
from __future__ import annotations

import base64
import html
import io
import json
import re
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import DataIOError

__all__ = ["LEAFLET_DIR", "leaflet_assets", "minutes_overlay", "hotspots", "zone_features", "map_html",
           "MINUTE_BREAKS", "minute_colours"]

#: Where Debian's libjs-leaflet puts Leaflet (apt-get install libjs-leaflet).
LEAFLET_DIR = Path("/usr/share/javascript/leaflet")
#: Travel-time classes of the overlay and its legend, minutes (upper bounds, inclusive).
MINUTE_BREAKS = (5, 10, 15, 30, 45, 60, 90, 120)
WEB_MERCATOR = "EPSG:3857"


def leaflet_assets(folder=LEAFLET_DIR) -> tuple[str, str]:
    """(javascript, css) of Leaflet with the CSS's images inlined as data: URIs and source-map links removed."""
    folder = Path(folder)
    js_path, css_path = folder / "leaflet.min.js", folder / "leaflet.css"
    if not js_path.is_file() or not css_path.is_file():
        raise DataIOError(f"Leaflet is not installed in {folder}: install Debian's libjs-leaflet "
                          "(apt-get install libjs-leaflet) to write the report's map")
    js = re.sub(r"//# sourceMappingURL=\S+", "", js_path.read_text(encoding="utf-8"))
    # the attribution prefix links to leafletjs.com: the report shows no attribution control, and keeps no link out
    js = js.replace('<a href="https://leafletjs.com" title="A JS library for interactive maps">Leaflet</a>', "Leaflet")
    css = re.sub(r"/\*# sourceMappingURL=\S+ \*/", "", css_path.read_text(encoding="utf-8"))

    def inline(match):
        image = folder / match.group(1)
        if not image.is_file():
            raise DataIOError(f"{css_path} refers to {image}, which is missing: reinstall libjs-leaflet")
        return f"url(data:image/png;base64,{base64.b64encode(image.read_bytes()).decode('ascii')})"

    css = re.sub(r"url\((images/[\w\-.]+\.png)\)", inline, css)
    css = re.sub(r"behavior:\s*url\(#default#VML\);?", "", css)  # Internet Explorer's VML hook: no use, not a file
    return js, css


def minute_colours() -> list[str]:
    """One colour per travel-time class of MINUTE_BREAKS, plus one for "beyond the last" (colour-blind safe:
    viridis reversed, so near = yellow-green, far = dark purple; readable in greyscale by lightness)."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    cmap = colormaps["viridis_r"]
    n = len(MINUTE_BREAKS) + 1
    return [to_hex(cmap(i / (n - 1))) for i in range(n)]


def _png_data_uri(rgba: np.ndarray) -> str:
    """An RGBA float image (0..1) as a PNG data: URI (Pillow, which matplotlib depends on)."""
    buf = io.BytesIO()
    Image.fromarray(np.round(np.clip(rgba, 0.0, 1.0) * 255).astype(np.uint8), mode="RGBA").save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def minutes_overlay(minutes: np.ndarray, grid, *, max_pixels: int = 700) -> dict:
    """The travel-time surface (minutes, inf = unreachable, NaN = no data) as an inlined PNG in Web Mercator:
    {"url": data URI, "bounds": [[south, west], [north, east]]}. Classes MINUTE_BREAKS; unreachable cells grey,
    no-data cells transparent. Nearest-neighbour resampling (classes must not blend)."""
    from pyproj import Transformer

    m = np.asarray(minutes, dtype=np.float64)
    to_merc = Transformer.from_crs(grid.crs, WEB_MERCATOR, always_xy=True)
    x0, y0, x1, y1 = grid.bounds
    edge_x = np.concatenate([np.linspace(x0, x1, 50), np.full(50, x1), np.linspace(x1, x0, 50), np.full(50, x0)])
    edge_y = np.concatenate([np.full(50, y0), np.linspace(y0, y1, 50), np.full(50, y1), np.linspace(y1, y0, 50)])
    mx, my = to_merc.transform(edge_x, edge_y)
    mx0, mx1, my0, my1 = float(np.min(mx)), float(np.max(mx)), float(np.min(my)), float(np.max(my))
    scale = max(mx1 - mx0, my1 - my0) / max_pixels
    width, height = max(1, int(np.ceil((mx1 - mx0) / scale))), max(1, int(np.ceil((my1 - my0) / scale)))
    cx = mx0 + (np.arange(width) + 0.5) * (mx1 - mx0) / width
    cy = my1 - (np.arange(height) + 0.5) * (my1 - my0) / height
    gx, gy = np.meshgrid(cx, cy)
    back = Transformer.from_crs(WEB_MERCATOR, grid.crs, always_xy=True)
    sx, sy = back.transform(gx.ravel(), gy.ravel())
    t = grid.transform
    col = np.floor((np.asarray(sx) - t[0]) / t[1]).astype(np.int64)
    row = np.floor((np.asarray(sy) - t[3]) / t[5]).astype(np.int64)
    inside = (col >= 0) & (col < grid.width) & (row >= 0) & (row < grid.height)
    values = np.full(col.size, np.nan)
    values[inside] = m[row[inside], col[inside]]
    colours = minute_colours()
    rgba = np.zeros((values.size, 4), dtype=np.float64)
    from matplotlib.colors import to_rgba
    finite = np.isfinite(values)
    cls = np.searchsorted(np.asarray(MINUTE_BREAKS, dtype=np.float64), values[finite], side="left")
    palette = np.array([to_rgba(c, 0.75) for c in colours])
    rgba[finite] = palette[cls]
    rgba[np.isposinf(values)] = to_rgba("#9e9e9e", 0.6)
    lon, lat = Transformer.from_crs(WEB_MERCATOR, "EPSG:4326", always_xy=True).transform([mx0, mx1], [my0, my1])
    return {"url": _png_data_uri(rgba.reshape(height, width, 4)),
            "bounds": [[float(lat[0]), float(lon[0])], [float(lat[1]), float(lon[1])]]}


def hotspots(minutes: np.ndarray, people: np.ndarray, grid, threshold_minutes: float, *, block_m: float = 3000.0,
             top: int = 15) -> list[dict]:
    """Where the uncovered people live: people beyond `threshold_minutes` (or unreachable) summed over blocks of
    about `block_m`, the `top` blocks with the most, as [{"lat", "lon", "people"}] (block centres)."""
    from pyproj import Transformer

    m = np.asarray(minutes, dtype=np.float64)
    p = np.where(~(m <= threshold_minutes), np.nan_to_num(np.asarray(people, dtype=np.float64)), 0.0)
    dx = abs(grid.transform[1])
    k = max(1, int(round(block_m / dx)))
    h, w = p.shape
    ph, pw = -h % k, -w % k
    blocks = np.pad(p, ((0, ph), (0, pw))).reshape((h + ph) // k, k, (w + pw) // k, k).sum(axis=(1, 3))
    flat = np.argsort(blocks, axis=None)[::-1][:top]
    rows, cols = np.unravel_index(flat, blocks.shape)
    keep = blocks[rows, cols] >= 1.0
    rows, cols = rows[keep], cols[keep]
    t = grid.transform
    x = t[0] + (cols * k + min(k, w) / 2.0) * t[1]
    y = t[3] + (rows * k + min(k, h) / 2.0) * t[5]
    lon, lat = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True).transform(x, y)
    return [{"lat": float(a), "lon": float(o), "people": float(n)}
            for a, o, n in zip(np.atleast_1d(lat), np.atleast_1d(lon), blocks[rows, cols])]


def zone_features(zones, labels: list[str], values: list[dict], colours: list[str]) -> dict:
    """A GeoJSON FeatureCollection (EPSG:4326) of the zones: per feature its label, popup rows ({name: text})
    and fill colour."""
    frame = zones.to_crs("EPSG:4326")
    features = []
    for geom, label, rows, colour in zip(frame.geometry, labels, values, colours):
        features.append({"type": "Feature", "geometry": _geojson(geom),
                         "properties": {"label": str(label), "rows": {str(k): str(v) for k, v in rows.items()},
                                        "colour": colour}})
    return {"type": "FeatureCollection", "features": features}


def _rounded(coords):
    if isinstance(coords, (list, tuple)) and coords and isinstance(coords[0], (int, float)):
        return [round(float(c), 6) for c in coords]
    return [_rounded(c) for c in coords]


def _geojson(geom) -> dict:
    """A shapely geometry as a GeoJSON dict with coordinates rounded to 1e-6 degrees (about 0.1 m)."""
    from shapely.geometry import mapping

    g = mapping(geom)
    return {"type": g["type"], "coordinates": _rounded(g["coordinates"])}


_MAP_SCRIPT = """
(function () {
  var data = JSON.parse(document.getElementById('careshed-map-data').textContent);
  var map = L.map('careshed-map', {zoomSnap: 0.25, attributionControl: false});
  window.careshedMap = map;
  function esc(s) { var d = document.createElement('div'); d.textContent = s; return d.innerHTML; }
  function rows(r) {
    var out = '<table class="popup">';
    Object.keys(r).forEach(function (k) { out += '<tr><th>' + esc(k) + '</th><td>' + esc(r[k]) + '</td></tr>'; });
    return out + '</table>';
  }
  var overlays = {}, layers = [];
  data.zone_layers.forEach(function (z, i) {
    var layer = L.geoJSON(z.features, {
      style: function (f) { return {color: '#333', weight: 1.2, fillColor: f.properties.colour, fillOpacity: 0.6}; },
      onEachFeature: function (f, l) {
        l.bindPopup('<b>' + esc(f.properties.label) + '</b>' + rows(f.properties.rows));
        l.bindTooltip(esc(f.properties.label), {sticky: true});
      }
    });
    overlays[z.name] = layer; layers.push(layer);
    if (i === 0) { layer.addTo(map); }
  });
  if (data.raster) {
    var img = L.imageOverlay(data.raster.url, data.raster.bounds, {opacity: 0.8});
    overlays[data.raster.name] = img; layers.push(img);
    if (data.raster.show) { img.addTo(map); }
  }
  if (data.hotspots && data.hotspots.points.length) {
    var biggest = Math.max.apply(null, data.hotspots.points.map(function (p) { return p.people; }));
    var hs = L.layerGroup(data.hotspots.points.map(function (p) {
      return L.circleMarker([p.lat, p.lon], {radius: 3 + 9 * Math.sqrt(p.people / biggest), color: '#b2182b',
        weight: 1, fillColor: '#ef8a62', fillOpacity: 0.7}).bindPopup(esc(p.text));
    }));
    overlays[data.hotspots.name] = hs; hs.addTo(map); layers.push(hs);
  }
  if (data.facilities) {
    var fac = L.layerGroup(data.facilities.points.map(function (p) {
      return L.circleMarker([p.lat, p.lon], {radius: 6, color: '#000', weight: 1.5, fillColor: '#ffffff',
        fillOpacity: 1}).bindPopup('<b>' + esc(p.title) + '</b>' + rows(p.rows)).bindTooltip(esc(p.title));
    }));
    overlays[data.facilities.name] = fac; fac.addTo(map); layers.push(fac);
  }
  (data.point_layers || []).forEach(function (group) {
    var pts = L.layerGroup(group.points.map(function (p) {
      return L.circleMarker([p.lat, p.lon], {radius: group.radius || 6, color: '#000', weight: 1.5,
        fillColor: group.colour, fillOpacity: 1}).bindPopup('<b>' + esc(p.title) + '</b>' + rows(p.rows))
        .bindTooltip(esc(p.title));
    }));
    overlays[group.name] = pts; pts.addTo(map); layers.push(pts);
  });
  (data.lines || []).forEach(function (group) {
    var lines = L.layerGroup(group.lines.map(function (ln) {
      return L.polyline(ln.coords, {color: ln.colour, weight: ln.weight || 2, opacity: 0.85,
        dashArray: ln.dash || null}).bindPopup('<b>' + esc(ln.title) + '</b>' + rows(ln.rows))
        .bindTooltip(esc(ln.title), {sticky: true});
    }));
    overlays[group.name] = lines; lines.addTo(map); layers.push(lines);
  });
  if (data.sites) {
    var sites = L.layerGroup(data.sites.points.map(function (p) {
      return L.circleMarker([p.lat, p.lon], {radius: 8, color: '#000', weight: 2, fillColor: '#e66101',
        fillOpacity: 1}).bindPopup('<b>' + esc(p.title) + '</b>' + rows(p.rows)).bindTooltip(esc(p.title));
    }));
    overlays[data.sites.name] = sites; sites.addTo(map); layers.push(sites);
  }
  var switcher = L.control.layers(null, overlays, {collapsed: false}).addTo(map);
  var scale = L.control.scale({metric: true, imperial: false}).addTo(map);
  // The legend is beside the map (map_html), never over it; the data are fitted clear of the controls in the
  // map's corners: the zoom buttons (top left), the layer switcher (top right) and the scale bar (bottom left).
  function size(c) { var e = c.getContainer(); return [e.offsetWidth + 20, e.offsetHeight + 20]; }
  var zoom = size(map.zoomControl), layersBox = size(switcher), scaleBox = size(scale);
  map.fitBounds(L.featureGroup(layers.slice(0, 1)).getBounds(),
                {paddingTopLeft: [zoom[0], 10], paddingBottomRight: [layersBox[0], scaleBox[1]]});
  window.careshedMapLayers = Object.keys(overlays);
})();
"""


def _legend_html(legend) -> str:
    """The legend panel beside the map (an empty string without items)."""
    if not legend or not legend.get("items"):
        return ""
    rows = "".join(f'<div><span class="swatch" style="background:{html.escape(colour)}"></span>{html.escape(label)}'
                   "</div>" for colour, label in legend["items"])
    return (f'<aside id="careshed-legend" class="legend"><b>{html.escape(legend.get("title") or "")}</b>{rows}'
            "</aside>")


def map_html(data: dict) -> str:
    """The map's <div>, its data (JSON in a non-executed script element) and the script that draws it. `data`:
    zone_layers [{name, features}], raster {name, url, bounds} or None, hotspots {name, points} or None,
    facilities {name, points [{lat, lon, title, rows}]} or None, sites (chosen sites of an optimisation, or an
    outreach plan's service points: like facilities) or None, lines (optional) [{name, lines [{coords [[lat, lon],
    ...], colour, weight, dash, title, rows}]}] (referral routes, team circuits; one switchable layer each),
    point_layers (optional) [{name, colour, radius, points [{lat, lon, title, rows}]}] (service points, team
    bases), legend {title, items [[colour, text]]} (drawn in a panel beside the map, so it never
    covers the data; none without items)."""
    payload = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    return ('<div class="careshed-mapbox"><div id="careshed-map" role="region" aria-label="map"></div>\n'
            f"{_legend_html(data.get('legend'))}</div>\n"
            f'<script type="application/json" id="careshed-map-data">{payload}</script>\n'
            f"<script>{_MAP_SCRIPT}</script>\n")

