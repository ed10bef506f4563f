"""Default QGIS styles that travel with careshed's outputs.

* :class:`LayerStyle` — how one vector layer is drawn: a single symbol, classes of a number (graduated) or one
  colour per value (categorised). :meth:`LayerStyle.qml` and :meth:`LayerStyle.sld` write it as QGIS's own QML and
  as OGC SLD 1.1 (what QGIS exports; GeoServer and others read it).
* :func:`write_layer_styles` — the styles into a GeoPackage's ``layer_styles`` table, the table QGIS itself
  writes (same columns and types, registered in ``gpkg_contents`` as an attribute table): QGIS draws each layer
  with its default style the moment the layer is added, no restyling.
* :class:`RasterStyle` — classes of a single-band raster (a discrete pseudocolour ramp); :func:`write_raster_style`
  writes it as the ``.qml`` next to a GeoTIFF, which QGIS loads by default with the raster.
* Builders for what careshed draws, in colour schemes readable by colour-blind readers (viridis, ColorBrewer's
  PuOr and PuBu, Okabe & Ito's qualitative palette): :func:`travel_time_style` / :func:`travel_time_raster_style`
  (bands in minutes), :func:`share_style` (covered share against a target), :func:`rate_style` (resources per N
  residents against a target), :func:`category_style` (one colour per value, e.g. catchments by facility; colours
  can be chosen so neighbours differ), :func:`facilities_style` (by level/kind when the layer has such a field),
  :func:`chosen_sites_style` (kept / added sites), :func:`line_style` (e.g. referral lines), :func:`outline_style`,
  :func:`category_raster_style` (a raster of codes, one colour per code).

Styles are written in the words of the data: minutes, shares in %, rates per N residents; every class has a label.
This module needs no QGIS; tests/python/test_io_qgis_styles.py checks the output with real QGIS.
"""
from __future__ import annotations

import math
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence
from xml.sax.saxutils import escape, quoteattr

from ..errors import DataIOError, InputError
from .atomic import write_atomically

__all__ = ["StyleClass", "LayerStyle", "RasterStyle", "write_layer_styles", "read_layer_styles",
           "write_raster_style", "travel_time_breaks", "travel_time_style", "travel_time_raster_style",
           "share_style", "rate_style", "category_style", "category_raster_style", "facilities_style",
           "chosen_sites_style", "line_style",
           "outline_style", "neighbour_colours", "OKABE_ITO", "VIRIDIS", "QGIS_VERSION", "LAYER_STYLES_COLUMNS",
           "FACILITY_KIND_FIELDS"]

#: The QGIS release whose formats careshed writes (QML and .qgs ``version``); older and newer QGIS 3 read them.
QGIS_VERSION = "3.22.16-Białowieża"

#: Okabe & Ito (2008) qualitative palette, distinguishable with every common colour-vision deficiency (black
#: left out: it is the outline colour).
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")

#: matplotlib's viridis at 0, 0.1, ..., 1 (perceptually uniform, colour-blind safe, readable in greyscale).
VIRIDIS = ("#440154", "#482475", "#414487", "#355f8d", "#2a788e", "#21918c", "#22a884", "#44bf70", "#7ad151",
           "#bddf26", "#fde725")

# ColorBrewer (Brewer & Harrower), both marked colour-blind safe: PuOr (orange = below the target, purple = meets
# it) and PuBu (sequential, more = darker).
_BELOW_TARGET = ("#b35806", "#e08214", "#fdb863", "#fee0b6")     # worst first
_MEETS_TARGET = ("#998ec3", "#542788")                # meets, well above
_PUBU = ("#f1eef6", "#bdc9e1", "#74a9cf", "#2b8cbe", "#045a8d")
_OUTLINE = "#232323"
_UNKNOWN = "#bdbdbd"

#: Fields that say what level or kind a facility is, tried in this order by :func:`facilities_style`.
FACILITY_KIND_FIELDS = ("level", "kind", "type", "facility_type", "category", "amenity", "healthcare")

#: The layer_styles table as QGIS (3.x, through OGR) creates it in a GeoPackage.
LAYER_STYLES_COLUMNS = ("f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column", "styleName",
                        "styleQML", "styleSLD", "useAsDefault", "description", "owner", "ui", "update_time")
_LAYER_STYLES_DDL = (
    'CREATE TABLE "layer_styles" ( "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "f_table_catalog" TEXT(256), '
    '"f_table_schema" TEXT(256), "f_table_name" TEXT(256), "f_geometry_column" TEXT(256), "styleName" TEXT(30), '
    '"styleQML" TEXT, "styleSLD" TEXT, "useAsDefault" BOOLEAN, "description" TEXT, "owner" TEXT(30), '
    '"ui" TEXT(30), "update_time" DATETIME DEFAULT (strftime(\'%Y-%m-%dT%H:%M:%fZ\',\'now\')))')

_GEOMETRIES = ("point", "line", "polygon")
_SYMBOL_TYPE = {"point": "marker", "line": "line", "polygon": "fill"}
_LAYER_GEOMETRY_TYPE = {"point": 0, "line": 1, "polygon": 2}
# QGIS SimpleMarker shape names -> SLD well-known names
_MARKERS = {"circle": "circle", "square": "square", "triangle": "triangle", "star": "star", "diamond": "square",
            "cross": "cross"}


# ---- what a style is -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StyleClass:
    """One legend entry: a range ``[lower, upper]`` of a number (graduated), one `value` (categorised) or
    neither (single symbol); its colour (``#rrggbb``), label, and for points the marker shape."""
    label: str
    colour: str
    lower: float | None = None
    upper: float | None = None
    value: object = None
    marker: str = "circle"
    size_mm: float | None = None


@dataclass(frozen=True)
class LayerStyle:
    """How one vector layer is drawn.

    kind: ``"single"`` (one class), ``"graduated"`` (classes of `field` by range) or ``"categorized"`` (one class
    per value of `field`). geometry: ``"point"``, ``"line"`` or ``"polygon"``. `inclusive`: which end of a
    graduated range belongs to it when two classes share a bound — ``"upper"`` (travel time: a cell at exactly
    T minutes is within T) or ``"lower"`` (a target: exactly the target meets it). `filled`: False draws polygons
    as outlines only. `order_by`: (field, ascending) — draw features in this order (the last on top), e.g. nested
    isochrones largest first. `name` (QGIS keeps at most 30 characters) and `description` go to layer_styles.
    """
    name: str
    geometry: str
    kind: str
    classes: tuple
    field: str | None = None
    inclusive: str = "upper"
    filled: bool = True
    order_by: tuple | None = None
    description: str = ""

    def __post_init__(self):
        if self.geometry not in _GEOMETRIES:
            raise InputError(f"LayerStyle {self.name!r}: geometry must be one of {', '.join(_GEOMETRIES)}, "
                             f"not {self.geometry!r}")
        if self.kind not in ("single", "graduated", "categorized"):
            raise InputError(f"LayerStyle {self.name!r}: kind must be single, graduated or categorized")
        if not self.classes:
            raise InputError(f"LayerStyle {self.name!r}: give at least one class")
        if self.kind != "single" and not self.field:
            raise InputError(f"LayerStyle {self.name!r}: a {self.kind} style needs the field it classifies")
        if self.kind == "single" and len(self.classes) != 1:
            raise InputError(f"LayerStyle {self.name!r}: a single-symbol style has exactly one class")
        if self.inclusive not in ("upper", "lower"):
            raise InputError(f"LayerStyle {self.name!r}: inclusive must be 'upper' or 'lower'")

    # -- QML (QGIS's own format) ---------------------------------------------------------------------------------

    def renderer_xml(self, indent: str = " ") -> str:
        """The ``<renderer-v2>`` element (also what a .qgs project embeds in its map layer)."""
        i1, i2 = indent * 2, indent * 3
        attrs = {"type": {"single": "singleSymbol", "graduated": "graduatedSymbol",
                          "categorized": "categorizedSymbol"}[self.kind],
                 "forceraster": "0", "symbollevels": "0", "referencescale": "-1",
                 "enableorderby": "1" if self.order_by else "0"}
        if self.kind != "single":
            attrs["attr"] = self.field
        if self.kind == "graduated":
            attrs["graduatedMethod"] = "GraduatedColor"
        head = " ".join(f"{k}={quoteattr(str(v))}" for k, v in attrs.items())
        lines = [f"{indent}<renderer-v2 {head}>"]
        classes = self._ordered_classes()
        if self.kind != "single":
            group, item = ("ranges", "range") if self.kind == "graduated" else ("categories", "category")
            lines.append(f"{i1}<{group}>")
            for n, c in enumerate(classes):
                key = (f"lower=\"{_num(c.lower)}\" upper=\"{_num(c.upper)}\"" if self.kind == "graduated"
                       else f"value={quoteattr(_text(c.value))}")
                lines.append(f"{i2}<{item} symbol=\"{n}\" {key} render=\"true\" label={quoteattr(c.label)}/>")
            lines.append(f"{i1}</{group}>")
        lines.append(f"{i1}<symbols>")
        for n, c in enumerate(classes):
            lines.append(self._symbol_xml(str(n), c, i2, indent))
        lines.append(f"{i1}</symbols>")
        if self.order_by:
            name, ascending = self.order_by
            lines.append(f"{i1}<orderby>")
            lines.append(f"{i2}<orderByClause asc=\"{int(bool(ascending))}\" nullsFirst=\"0\">"
                         f"{escape(_quoted_field(name))}</orderByClause>")
            lines.append(f"{i1}</orderby>")
        lines.append(f"{indent}</renderer-v2>")
        return "\n".join(lines)

    def qml(self) -> str:
        """The style as a QGIS QML document (symbology)."""
        return _qml_document(self.renderer_xml(), " <featureBlendMode>0</featureBlendMode>",
                             f" <layerGeometryType>{_LAYER_GEOMETRY_TYPE[self.geometry]}</layerGeometryType>")

    def _ordered_classes(self) -> list:
        # QGIS gives a value to the FIRST range whose closed interval holds it: list the ranges so the shared
        # bound goes to the class `inclusive` says (upper: ascending; lower: descending).
        if self.kind == "graduated" and self.inclusive == "lower":
            return sorted(self.classes, key=lambda c: -c.lower)
        if self.kind == "graduated":
            return sorted(self.classes, key=lambda c: c.lower)
        return list(self.classes)

    def _symbol_xml(self, name: str, c: StyleClass, ind: str, step: str) -> str:
        stype = _SYMBOL_TYPE[self.geometry]
        out = [f"{ind}<symbol name=\"{name}\" type=\"{stype}\" alpha=\"1\" clip_to_extent=\"1\" force_rhr=\"0\">"]
        props = self._symbol_layer_props(c)
        cls = {"marker": "SimpleMarker", "line": "SimpleLine", "fill": "SimpleFill"}[stype]
        out.append(f"{ind}{step}<layer class=\"{cls}\" enabled=\"1\" pass=\"0\" locked=\"0\">")
        out.append(f"{ind}{step * 2}<Option type=\"Map\">")
        for k, v in props.items():
            out.append(f"{ind}{step * 3}<Option name=\"{k}\" value={quoteattr(v)} type=\"QString\"/>")
        out.append(f"{ind}{step * 2}</Option>")
        for k, v in props.items():     # the pre-3.16 form, for older QGIS
            out.append(f"{ind}{step * 2}<prop k=\"{k}\" v={quoteattr(v)}/>")
        out.append(f"{ind}{step}</layer>")
        out.append(f"{ind}</symbol>")
        return "\n".join(out)

    def _symbol_layer_props(self, c: StyleClass) -> dict:
        colour = _rgba(c.colour)
        if self.geometry == "point":
            return {"name": _MARKERS.get(c.marker, "circle"), "color": colour, "outline_color": _rgba(_OUTLINE),
                    "outline_style": "solid", "outline_width": "0.3", "outline_width_unit": "MM",
                    "size": f"{c.size_mm or 3.0:g}", "size_unit": "MM", "angle": "0", "joinstyle": "bevel",
                    "scale_method": "diameter", "offset": "0,0", "offset_unit": "MM"}
        if self.geometry == "line":
            return {"line_color": colour, "line_style": "solid", "line_width": f"{c.size_mm or 0.6:g}",
                    "line_width_unit": "MM", "capstyle": "round", "joinstyle": "round", "offset": "0",
                    "offset_unit": "MM"}
        return {"color": colour, "style": "solid" if self.filled else "no",
                "outline_color": _rgba(_OUTLINE if self.filled or c.colour is None else c.colour),
                "outline_style": "solid", "outline_width": "0.26" if self.filled else f"{c.size_mm or 0.5:g}",
                "outline_width_unit": "MM", "joinstyle": "bevel", "offset": "0,0", "offset_unit": "MM"}

    # -- SLD (OGC Symbology Encoding 1.1, the form QGIS exports) ---------------------------------------------

    def sld(self, layer_name: str) -> str:
        """The style as an OGC SLD 1.1 document for layer `layer_name` (one rule per class, with its filter)."""
        rules = []
        ordered = self._ordered_classes()
        if self.kind == "graduated":
            ordered = sorted(self.classes, key=lambda c: c.lower)
        for n, c in enumerate(ordered):
            rules.append("\n".join([
                "    <se:Rule>",
                f"     <se:Name>{escape(c.label)}</se:Name>",
                f"     <se:Description><se:Title>{escape(c.label)}</se:Title></se:Description>",
                self._sld_filter(c, n, len(ordered)),
                self._sld_symbolizer(c),
                "    </se:Rule>"]))
        return "\n".join([
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<StyledLayerDescriptor xmlns="http://www.opengis.net/sld" version="1.1.0" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://www.opengis.net/sld '
            'http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd" '
            'xmlns:ogc="http://www.opengis.net/ogc" xmlns:xlink="http://www.w3.org/1999/xlink" '
            'xmlns:se="http://www.opengis.net/se">',
            " <NamedLayer>",
            f"  <se:Name>{escape(layer_name)}</se:Name>",
            "  <UserStyle>",
            f"   <se:Name>{escape(self.name)}</se:Name>",
            "   <se:FeatureTypeStyle>",
            *rules,
            "   </se:FeatureTypeStyle>",
            "  </UserStyle>",
            " </NamedLayer>",
            "</StyledLayerDescriptor>", ""])

    def _sld_filter(self, c: StyleClass, n: int, count: int) -> str:
        prop = f"<ogc:PropertyName>{escape(self.field or '')}</ogc:PropertyName>"
        if self.kind == "single":
            return ""
        if self.kind == "categorized":
            return (f"     <ogc:Filter><ogc:PropertyIsEqualTo>{prop}<ogc:Literal>{escape(_text(c.value))}"
                    "</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>")
        # ascending classes: with inclusive upper bounds only the first keeps its lower bound, with inclusive
        # lower bounds only the last keeps its upper bound: every value is in exactly one class.
        low_op = "GreaterThanOrEqualTo" if (self.inclusive == "lower" or n == 0) else "GreaterThan"
        high_op = "LessThanOrEqualTo" if (self.inclusive == "upper" or n == count - 1) else "LessThan"
        parts = []
        if math.isfinite(c.lower):
            parts.append(f"<ogc:PropertyIs{low_op}>{prop}<ogc:Literal>{_num(c.lower)}</ogc:Literal>"
                         f"</ogc:PropertyIs{low_op}>")
        if math.isfinite(c.upper):
            parts.append(f"<ogc:PropertyIs{high_op}>{prop}<ogc:Literal>{_num(c.upper)}</ogc:Literal>"
                         f"</ogc:PropertyIs{high_op}>")
        body = parts[0] if len(parts) == 1 else f"<ogc:And>{''.join(parts)}</ogc:And>"
        return f"     <ogc:Filter>{body}</ogc:Filter>"

    def _sld_symbolizer(self, c: StyleClass) -> str:
        if self.geometry == "point":
            size_px = (c.size_mm or 3.0) / 0.28          # SLD sizes are pixels of 0.28 mm
            return ("     <se:PointSymbolizer><se:Graphic><se:Mark>"
                    f"<se:WellKnownName>{_MARKERS.get(c.marker, 'circle')}</se:WellKnownName>"
                    f"<se:Fill><se:SvgParameter name=\"fill\">{c.colour}</se:SvgParameter></se:Fill>"
                    f"<se:Stroke><se:SvgParameter name=\"stroke\">{_OUTLINE}</se:SvgParameter>"
                    "<se:SvgParameter name=\"stroke-width\">1</se:SvgParameter></se:Stroke>"
                    f"</se:Mark><se:Size>{size_px:.0f}</se:Size></se:Graphic></se:PointSymbolizer>")
        if self.geometry == "line":
            return ("     <se:LineSymbolizer><se:Stroke>"
                    f"<se:SvgParameter name=\"stroke\">{c.colour}</se:SvgParameter>"
                    f"<se:SvgParameter name=\"stroke-width\">{(c.size_mm or 0.6) / 0.28:.0f}</se:SvgParameter>"
                    "</se:Stroke></se:LineSymbolizer>")
        fill = (f"<se:Fill><se:SvgParameter name=\"fill\">{c.colour}</se:SvgParameter></se:Fill>"
                if self.filled else "")
        stroke = _OUTLINE if self.filled else c.colour
        width = 1 if self.filled else max(1, round((c.size_mm or 0.5) / 0.28))
        return (f"     <se:PolygonSymbolizer>{fill}<se:Stroke><se:SvgParameter name=\"stroke\">{stroke}"
                f"</se:SvgParameter><se:SvgParameter name=\"stroke-width\">{width}</se:SvgParameter></se:Stroke>"
                "</se:PolygonSymbolizer>")


@dataclass(frozen=True)
class RasterStyle:
    """A single-band raster drawn in classes (QGIS "singleband pseudocolour", discrete): class k holds the values
    up to ``uppers[k]`` (inclusive; the last may be ``inf``). NaN / nodata are transparent."""
    name: str
    uppers: tuple
    colours: tuple
    labels: tuple
    description: str = ""
    band: int = 1
    opacity: float = 1.0
    extra: Mapping = field(default_factory=dict)

    def __post_init__(self):
        if not (len(self.uppers) == len(self.colours) == len(self.labels)) or not self.uppers:
            raise InputError(f"RasterStyle {self.name!r}: give as many colours and labels as class bounds (>= 1)")

    def renderer_xml(self, indent: str = " ") -> str:
        """The ``<pipe>`` element (also what a .qgs project embeds in its raster map layer)."""
        i = indent
        finite = [u for u in self.uppers if math.isfinite(u)]
        lo, hi = 0.0, (finite[-1] if finite else 1.0)
        items = "\n".join(f"{i * 6}<item alpha=\"255\" value=\"{_num(u)}\" label={quoteattr(lab)} color=\"{col}\"/>"
                          for u, col, lab in zip(self.uppers, self.colours, self.labels))
        return "\n".join([
            f"{i}<pipe>",
            f"{i * 2}<provider><resampling enabled=\"false\" maxOversampling=\"2\" "
            "zoomedInResamplingMethod=\"nearestNeighbour\" zoomedOutResamplingMethod=\"nearestNeighbour\"/></provider>",
            f"{i * 2}<rasterrenderer type=\"singlebandpseudocolor\" band=\"{self.band}\" opacity=\"{self.opacity:g}\" "
            f"alphaBand=\"-1\" classificationMin=\"{_num(lo)}\" classificationMax=\"{_num(hi)}\" nodataColor=\"\">",
            f"{i * 3}<rasterTransparency/>",
            f"{i * 3}<minMaxOrigin><limits>None</limits><extent>WholeRaster</extent><statAccuracy>Estimated"
            "</statAccuracy><cumulativeCutLower>0.02</cumulativeCutLower><cumulativeCutUpper>0.98"
            "</cumulativeCutUpper><stdDevFactor>2</stdDevFactor></minMaxOrigin>",
            f"{i * 3}<rastershader>",
            f"{i * 4}<colorrampshader colorRampType=\"DISCRETE\" classificationMode=\"1\" clip=\"0\" "
            f"minimumValue=\"{_num(lo)}\" maximumValue=\"{_num(hi)}\" labelPrecision=\"0\">",
            items,
            f"{i * 4}</colorrampshader>",
            f"{i * 3}</rastershader>",
            f"{i * 2}</rasterrenderer>",
            f"{i * 2}<brightnesscontrast brightness=\"0\" contrast=\"0\" gamma=\"1\"/>",
            f"{i * 2}<huesaturation saturation=\"0\" grayscaleMode=\"0\" invertColors=\"0\" colorizeOn=\"0\" "
            "colorizeRed=\"255\" colorizeGreen=\"128\" colorizeBlue=\"128\" colorizeStrength=\"100\"/>",
            f"{i * 2}<rasterresampler maxOversampling=\"2\"/>",
            f"{i * 2}<resamplingStage>resamplingFilter</resamplingStage>",
            f"{i}</pipe>"])

    def qml(self) -> str:
        """The style as a QGIS QML document."""
        return _qml_document(self.renderer_xml())


def _qml_document(renderer: str, *more: str) -> str:
    """A QML document (symbology) around a ``<renderer-v2>`` or ``<pipe>`` element."""
    return "\n".join(["<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>",
                      f"<qgis version={quoteattr(QGIS_VERSION)} styleCategories=\"Symbology\">",
                      renderer, " <blendMode>0</blendMode>", *more, "</qgis>", ""])


# ---- writing ------------------------------------------------------------------------------------------------

def write_layer_styles(path, styles: Mapping[str, LayerStyle]) -> Path:
    """Add `styles` ({layer name: LayerStyle}) to the GeoPackage at `path` as each layer's default style, in the
    ``layer_styles`` table QGIS reads (created as QGIS creates it when missing; a layer's earlier default is
    demoted). Writes `path` in place: call it on a file that is not yet in its final place (``write_layers`` does).
    Raises InputError for a layer the GeoPackage does not have or that has no geometry."""
    path = Path(path)
    if not styles:
        return path
    try:
        con = sqlite3.connect(os.fspath(path))
    except sqlite3.Error as exc:
        raise DataIOError(f"{path}: cannot open the GeoPackage to add its styles ({exc})") from exc
    try:
        with con:
            geometry_columns = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
            for layer in styles:
                if layer not in geometry_columns:
                    have = ", ".join(sorted(geometry_columns)) or "none"
                    raise InputError(f"{path}: no layer with geometry named {layer!r} to style (layers with "
                                     f"geometry: {have})")
            _ensure_layer_styles_table(con)
            for layer, style in styles.items():
                geom = geometry_columns[layer]
                con.execute("UPDATE layer_styles SET useAsDefault = 0 WHERE f_table_name = ? AND "
                            "f_geometry_column = ?", (layer, geom))
                con.execute(
                    "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
                    "styleName, styleQML, styleSLD, useAsDefault, description, owner, ui) "
                    "VALUES ('', '', ?, ?, ?, ?, ?, 1, ?, '', NULL)",
                    (layer, geom, style.name[:30], style.qml(), style.sld(layer), style.description))
    except sqlite3.Error as exc:
        raise DataIOError(f"{path}: cannot write the layer styles into the GeoPackage ({exc})") from exc
    finally:
        con.close()
    return path


def _ensure_layer_styles_table(con) -> None:
    if con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'layer_styles'").fetchone():
        return
    con.execute(_LAYER_STYLES_DDL)
    # registered as OGR registers an attribute table, so GDAL and QGIS list it like the one QGIS makes
    con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, srs_id) "
                "VALUES ('layer_styles', 'attributes', 'layer_styles', '', "
                "strftime('%Y-%m-%dT%H:%M:%fZ','now'), 0)")
    if con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'gpkg_ogr_contents'").fetchone():
        # NULL: count unknown, GDAL counts when asked (careshed adds no OGR count triggers)
        con.execute("INSERT INTO gpkg_ogr_contents (table_name, feature_count) VALUES ('layer_styles', NULL)")


def read_layer_styles(path) -> dict:
    """{layer name: {column: value}} of the default styles in a GeoPackage's layer_styles table ({} without one)."""
    con = sqlite3.connect(f"file:{os.fspath(path)}?mode=ro", uri=True)
    try:
        if not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'layer_styles'").fetchone():
            return {}
        cols = ", ".join(LAYER_STYLES_COLUMNS)
        rows = con.execute(f"SELECT {cols} FROM layer_styles WHERE useAsDefault = 1 ORDER BY id").fetchall()
    finally:
        con.close()
    return {r[2]: dict(zip(LAYER_STYLES_COLUMNS, r)) for r in rows}


def write_raster_style(path, style: RasterStyle) -> Path:
    """`style` as the QML file `path` (``<raster>.qml``, which QGIS loads with ``<raster>.tif``), atomically."""
    return write_atomically(path, lambda tmp: Path(tmp).write_text(style.qml(), encoding="utf-8"))


# ---- builders: what careshed draws ---------------------------------------------------------------------------

def travel_time_breaks(thresholds_minutes: Sequence[float], longest: float | None = None) -> list:
    """Upper bounds (minutes) of travel-time classes: the analysis' thresholds, then 30, 60, 90, 120, ... beyond
    the largest while `longest` (the longest finite time) lies beyond the last bound; a last open class (inf)
    when it still does."""
    breaks = sorted({float(t) for t in thresholds_minutes if math.isfinite(float(t)) and float(t) > 0})
    if not breaks:
        raise InputError("travel-time classes need at least one positive threshold in minutes")
    if longest is not None and math.isfinite(longest):
        step = 30.0
        while longest > breaks[-1] and len(breaks) < 8:
            nxt = (math.floor(breaks[-1] / step) + 1) * step
            breaks.append(nxt)
            if nxt >= 120:
                step = 60.0
        if longest > breaks[-1]:
            breaks.append(math.inf)
    return breaks


def _minutes_label(lo: float, hi: float) -> str:
    if not math.isfinite(hi):
        return f"more than {lo:g} min"
    return f"{lo:g}–{hi:g} min" if lo > 0 else f"within {hi:g} min"


def _viridis(n: int) -> list:
    """`n` colours of viridis from yellow (near, good) to purple (far)."""
    if n == 1:
        return [VIRIDIS[-1]]
    out = []
    for k in range(n):
        t = 1.0 - k / (n - 1)
        x = t * (len(VIRIDIS) - 1)
        j = min(int(x), len(VIRIDIS) - 2)
        out.append(_mix(VIRIDIS[j], VIRIDIS[j + 1], x - j))
    return out


def travel_time_style(field: str, breaks: Sequence[float], *, name="travel-time bands", geometry="polygon",
                      nested: bool = True, scale: Sequence[float] | None = None) -> LayerStyle:
    """Travel-time bands of `field` (minutes) in classes up to each of `breaks` (inclusive: a place at exactly
    T minutes is within T). `nested` (cumulative isochrones): the widest band is drawn first, the nearest on top.
    `scale`: the bounds of a wider scale these bands belong to (e.g. the travel-time raster's), so the same minutes
    get the same colour in both."""
    bounds = [0.0] + [float(b) for b in breaks]
    colours = _scale_colours(breaks, scale)
    classes = tuple(StyleClass(_minutes_label(lo, hi), col, lo, hi)
                    for lo, hi, col in zip(bounds[:-1], bounds[1:], colours))
    return LayerStyle(name, geometry, "graduated", classes, field, inclusive="upper",
                      order_by=(field, False) if nested else None,
                      description=f"careshed: travel time in minutes ({field}), classes up to "
                                  + ", ".join(f"{b:g}" for b in breaks) + " min (inclusive); viridis")


def _scale_colours(breaks: Sequence[float], scale: Sequence[float] | None) -> list:
    """viridis colours of `breaks`: spread over the breaks, or taken from their places in `scale`."""
    if not scale:
        return _viridis(len(breaks))
    full = sorted({float(b) for b in scale} | {float(b) for b in breaks})
    colours = dict(zip(full, _viridis(len(full))))
    return [colours[float(b)] for b in breaks]


def travel_time_raster_style(breaks: Sequence[float], *, name="travel time (minutes)") -> RasterStyle:
    """A travel-time raster in minutes in classes up to each of `breaks` (inclusive), viridis, near = yellow."""
    bounds = [0.0] + [float(b) for b in breaks]
    return RasterStyle(name, tuple(float(b) for b in breaks), tuple(_viridis(len(breaks))),
                       tuple(_minutes_label(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:])),
                       description="careshed: travel time in minutes; NaN (unreachable) transparent")


def share_style(field: str, target: float, *, name="covered share", what="covered") -> LayerStyle:
    """Zones by the share of people `what` (a 0..1 `field`) against `target` (a share, e.g. 0.9): orange classes
    below it (below 25 %, 25-50 %, 50-75 %, 75 % to the target; darker = further below), purple at or above it
    (exactly the target meets it)."""
    target = float(target)
    if not 0.0 < target <= 1.0:
        raise InputError(f"{name}: the target share must be in (0, 1], got {target:g}")
    below = [b for b in (0.0, 0.25, 0.5, 0.75) if b < target]
    bounds = below + [target]
    colours = list(_BELOW_TARGET[-len(below):])
    classes = [StyleClass(_share_label(lo, hi, target), col, lo, hi)
               for lo, hi, col in zip(bounds[:-1], bounds[1:], colours)]
    classes.append(StyleClass(f"{_pct(target)} or more (meets the target)", _MEETS_TARGET[1], target, 1.0))
    return LayerStyle(name, "polygon", "graduated", tuple(classes), field, inclusive="lower",
                      description=f"careshed: share of people {what} ({field}) against the {_pct(target)} target; "
                                  "ColorBrewer PuOr (colour-blind safe)")


def _pct(share: float) -> str:
    return f"{share * 100:g} %"


def _share_label(lo: float, hi: float, target: float) -> str:
    return f"below {_pct(hi)}" if lo == 0 else f"{_pct(lo)} to {_pct(hi)}"


def rate_style(field: str, values: Sequence[float], target: float | None = None, *, unit="per 1000 residents",
               name="resources per residents") -> LayerStyle:
    """Zones by a rate (`field`, e.g. beds per 1000 residents). With a `target` (at least): orange classes below
    50 %, 80 %, 100 % of it, purple at or above it (darker from 125 %). Without: five classes at the quantiles of
    `values` (ColorBrewer PuBu)."""
    finite = sorted(float(v) for v in values if v is not None and math.isfinite(float(v)))
    top = max(finite[-1] if finite else 0.0, (target or 0.0) * 2.0, 1.0) * 1.000001
    if target is not None and math.isfinite(target) and target > 0:
        t = float(target)
        bounds = [0.0, 0.5 * t, 0.8 * t, t, 1.25 * t, top]
        colours = [_BELOW_TARGET[0], _BELOW_TARGET[2], _BELOW_TARGET[3]] + list(_MEETS_TARGET)
        labels = [f"below {bounds[1]:.3g} (under half the target {t:g})", f"{bounds[1]:.3g} to {bounds[2]:.3g}",
                  f"{bounds[2]:.3g} to {t:g} (below the target)", f"{t:g} to {bounds[4]:.3g} (meets the target)",
                  f"{bounds[4]:.3g} or more"]
        desc = f"against the target {t:g} {unit} (at least); ColorBrewer PuOr"
    else:
        cuts = sorted({_quantile(finite, q) for q in (0.2, 0.4, 0.6, 0.8)} - {0.0}) if finite else []
        bounds = [0.0] + cuts + [top]
        colours = list(_PUBU[-(len(bounds) - 1):])
        labels = [f"below {hi:.3g}" if k == 0 else (f"{lo:.3g} or more" if k == len(bounds) - 2
                                                       else f"{lo:.3g} to {hi:.3g}")
                  for k, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:]))]
        desc = "quintiles of the zones (no target given); ColorBrewer PuBu"
    classes = tuple(StyleClass(lab, col, lo, hi) for lab, col, lo, hi in zip(labels, colours, bounds[:-1], bounds[1:]))
    return LayerStyle(name, "polygon", "graduated", classes, field, inclusive="lower",
                      description=f"careshed: {field} ({unit}) {desc}")


def _quantile(sorted_values: list, q: float) -> float:
    pos = q * (len(sorted_values) - 1)
    j = int(pos)
    nxt = sorted_values[min(j + 1, len(sorted_values) - 1)]
    return float(sorted_values[j] + (nxt - sorted_values[j]) * (pos - j))


def category_style(field: str, values: Sequence, labels: Sequence[str] | None = None, *, geometry="polygon",
                   name="categories", colours: Sequence[str] | None = None, description="") -> LayerStyle:
    """One class per value of `field` (in the order given; repeated values once), coloured from Okabe & Ito's
    palette in turn, or `colours` (one per value, e.g. from :func:`neighbour_colours`)."""
    seen, classes = set(), []
    labels = list(labels) if labels is not None else [str(v) for v in values]
    for k, (v, lab) in enumerate(zip(values, labels)):
        key = _text(v)
        if key in seen:
            continue
        seen.add(key)
        col = colours[k] if colours is not None else OKABE_ITO[len(classes) % len(OKABE_ITO)]
        classes.append(StyleClass(str(lab), col, value=v))
    if not classes:
        classes.append(StyleClass("(none)", _UNKNOWN, value=""))
    return LayerStyle(name, geometry, "categorized", tuple(classes), field,
                      description=description or f"careshed: one colour per {field} (Okabe & Ito palette)")


def neighbour_colours(geometries: Sequence, palette: Sequence[str] = OKABE_ITO) -> list:
    """A colour of `palette` per geometry such that geometries that touch or overlap get different colours where
    the palette allows (greedy colouring, largest number of neighbours first; deterministic)."""
    geoms = list(geometries)
    n = len(geoms)
    bounds = {k: geoms[k].bounds for k in range(n) if geoms[k] is not None and not geoms[k].is_empty}
    neighbours = [set() for _ in range(n)]
    active: list = []           # sweep along x: the boxes still open at this box's left edge
    for a in sorted(bounds, key=lambda k: bounds[k][0]):
        ax0, ay0, _, ay1 = bounds[a]
        active = [b for b in active if bounds[b][2] >= ax0]
        for b in active:
            if bounds[b][1] <= ay1 and ay0 <= bounds[b][3] and geoms[a].intersects(geoms[b]):
                neighbours[a].add(b)
                neighbours[b].add(a)
        active.append(a)
    colour_of = [None] * n
    for a in sorted(range(n), key=lambda k: (-len(neighbours[k]), k)):
        used = {colour_of[b] for b in neighbours[a]}
        free = [c for c in range(len(palette)) if c not in used]
        colour_of[a] = free[0] if free else a % len(palette)
    return [palette[c] for c in colour_of]


def facilities_style(columns: Sequence[str], rows: Mapping[str, Sequence] | None = None, *,
                     name="facilities", max_kinds: int = len(OKABE_ITO)) -> LayerStyle:
    """Facilities as points: one colour per level or kind when the layer has such a field (the first of
    FACILITY_KIND_FIELDS with 1..`max_kinds` distinct values in `rows` {column: values}), else white circles."""
    rows = rows or {}
    for f in FACILITY_KIND_FIELDS:
        if f in columns and f in rows:
            kinds = sorted({_text(v) for v in rows[f] if v is not None and _text(v) != ""})
            if 1 <= len(kinds) <= max_kinds:
                return category_style(f, kinds, kinds, geometry="point", name=name,
                                      description=f"careshed: facilities by {f} (Okabe & Ito palette)")
    return LayerStyle(name, "point", "single", (StyleClass("facility", "#ffffff", size_mm=3.2),),
                      description="careshed: facilities (white circles)")


def chosen_sites_style(field: str = "fixed", *, name="chosen sites") -> LayerStyle:
    """Sites a site choice kept open (`field` = 1: an existing site) or added (0: a new site, a vermillion star)."""
    return LayerStyle(name, "point", "categorized",
                      (StyleClass("added site", "#D55E00", value=0, marker="star", size_mm=5.0),
                       StyleClass("existing site, kept", "#000000", value=1, marker="circle", size_mm=2.6)), field,
                      description="careshed: sites chosen by the optimisation: added (star) and existing kept")


def line_style(field: str | None = None, values: Sequence | None = None, labels=None, *, name="lines",
               colour: str = "#0072B2", colours: Sequence[str] | None = None, width_mm: float = 0.6,
               description: str = "") -> LayerStyle:
    """Lines (e.g. referral links): one colour, or one colour per value of `field` (`colours`, or Okabe & Ito)."""
    if field is None:
        return LayerStyle(name, "line", "single", (StyleClass(name, colour, size_mm=width_mm),),
                          description=description or f"careshed: {name}")
    return category_style(field, list(values or []), labels, geometry="line", name=name, colours=colours,
                          description=description)


def category_raster_style(codes: Mapping[int, str], *, name: str, colours: Sequence[str] | None = None,
                          description: str = "") -> RasterStyle:
    """A raster of integer codes (e.g. outreach's effective access, the nearest hospital's index) drawn one colour per
    code: ``codes`` {code: label}, ascending; `colours` one per code (default Okabe & Ito, repeated)."""
    items = sorted((int(k), str(v)) for k, v in codes.items())
    if not items:
        raise InputError(f"RasterStyle {name!r}: give at least one code")
    palette = list(colours) if colours is not None else [OKABE_ITO[k % len(OKABE_ITO)] for k in range(len(items))]
    if len(palette) != len(items):
        raise InputError(f"RasterStyle {name!r}: {len(items)} codes but {len(palette)} colours")
    return RasterStyle(name, tuple(float(k) for k, _ in items), tuple(palette), tuple(v for _, v in items),
                       description=description or f"careshed: {name}, one colour per value")


def outline_style(*, name="outlines", colour: str = "#232323", width_mm: float = 0.5) -> LayerStyle:
    """Polygons drawn as outlines only (e.g. zones over catchments)."""
    return LayerStyle(name, "polygon", "single", (StyleClass(name, colour, size_mm=width_mm),), filled=False,
                      description="careshed: outlines only")


# ---- small helpers -------------------------------------------------------------------------------------------

def _rgb(colour: str) -> tuple:
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def _rgba(colour: str) -> str:
    return "{},{},{},255".format(*_rgb(colour))


def _mix(a: str, b: str, t: float) -> str:
    ra, rb = _rgb(a), _rgb(b)
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(ra, rb))


def _num(v: float) -> str:
    if v is None:
        return ""
    v = float(v)
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return repr(v) if v != int(v) else f"{int(v)}"


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(int(v))
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _quoted_field(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
