"""A QGIS project (``.qgz``) that opens careshed's outputs styled and in a sensible order.

:func:`write_qgis_project` reads what it needs from the files themselves — each GeoPackage's layers, their CRS,
extent and default style (the ``layer_styles`` table, :mod:`careshed.io.qgis_styles`), each GeoTIFF's grid and
its ``.qml`` sidecar — and writes a zipped ``.qgs`` whose layers point at them by relative paths (``./x.gpkg``),
so the folder can be moved or copied as a whole. Layer order, top to bottom: points (facilities, sites; the layer
with fewer points above, e.g. chosen sites above all candidates), lines (referral links), polygons drawn as
outlines, the ``zones`` layer, other polygons (catchments, isochrones), then the rasters. Every layer is in the
project; a layer hidden under an opaque polygon layer above it starts switched off (tick it in the Layers panel).

Needs no QGIS; tests/python/test_report_qgis_project.py opens the projects with real QGIS.
"""
from __future__ import annotations

import os
import sqlite3
import uuid
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence
from xml.sax.saxutils import escape, quoteattr

from ..errors import DataIOError, InputError
from ..io.atomic import write_atomically
from ..io.qgis_styles import QGIS_VERSION, read_layer_styles
from ..io.raster import raster_info

__all__ = ["ProjectLayer", "project_layers", "qgs_xml", "write_qgis_project"]

_GEOMETRY_OF = {"POINT": "Point", "MULTIPOINT": "Point", "LINESTRING": "Line", "MULTILINESTRING": "Line",
                "POLYGON": "Polygon", "MULTIPOLYGON": "Polygon"}
_WKB_TYPE = {"POINT": "Point", "MULTIPOINT": "MultiPoint", "LINESTRING": "LineString",
             "MULTILINESTRING": "MultiLineString", "POLYGON": "Polygon", "MULTIPOLYGON": "MultiPolygon"}
_RANK = {"Point": 0, "Line": 1, "Polygon": 2, "raster": 3}


@dataclass
class ProjectLayer:
    """One layer of the project: `source` relative to the project's folder (``./x.gpkg|layername=zones`` or
    ``./x.tif``), `kind` ``"vector"`` / ``"raster"``, its geometry (Point/Line/Polygon, or "raster"), CRS WKT,
    extent (xmin, ymin, xmax, ymax), the style element (``<renderer-v2>`` or ``<pipe>``) and whether the style
    fills polygons."""
    name: str
    source: str
    kind: str
    geometry: str
    wkt_type: str
    crs_wkt: str
    extent: tuple
    style_xml: str
    filled: bool = True
    layer: str = ""
    visible: bool = True
    features: int = 0

    @property
    def id(self) -> str:
        base = "".join(ch if ch.isalnum() else "_" for ch in self.name)
        return f"{base}_{uuid.uuid5(uuid.NAMESPACE_URL, self.source).hex[:12]}"


def project_layers(files: Sequence, folder) -> list:
    """The layers of `files` (GeoPackages: every layer with a default style; GeoTIFFs: the raster, styled by its
    ``.qml`` sidecar when there is one) as :class:`ProjectLayer` s with paths relative to `folder`, in the
    project's order (top first) and with the layers under an opaque polygon layer switched off."""
    folder = Path(folder)
    layers = []
    for f in files:
        f = Path(f)
        if f.suffix.lower() == ".gpkg":
            layers.extend(_geopackage_layers(f, folder))
        elif f.suffix.lower() in (".tif", ".tiff"):
            layers.append(_raster_layer(f, folder))
        else:
            raise InputError(f"{f}: a QGIS project of careshed's outputs takes GeoPackages (.gpkg) and GeoTIFFs (.tif)")
    order = {id(lay): n for n, lay in enumerate(layers)}
    layers.sort(key=lambda lay: (_RANK[lay.geometry], lay.geometry == "Polygon" and lay.filled,
                                 lay.layer != "zones", lay.features if lay.geometry == "Point" else 0,
                                 order[id(lay)]))
    covered = False
    for lay in layers:
        lay.visible = not covered
        covered = covered or (lay.geometry == "Polygon" and lay.filled)
    return layers


def _relative(path: Path, folder: Path) -> str:
    return "./" + Path(os.path.relpath(path.resolve(), folder.resolve())).as_posix()


def _geopackage_layers(path: Path, folder: Path) -> list:
    styles = read_layer_styles(path)
    try:
        con = sqlite3.connect(f"file:{os.fspath(path)}?mode=ro", uri=True)
        try:
            rows = con.execute(
                "SELECT c.table_name, g.geometry_type_name, c.min_x, c.min_y, c.max_x, c.max_y, s.definition "
                "FROM gpkg_contents c JOIN gpkg_geometry_columns g ON g.table_name = c.table_name "
                "LEFT JOIN gpkg_spatial_ref_sys s ON s.srs_id = c.srs_id ORDER BY c.rowid").fetchall()
            counts = {t: con.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t, *_ in rows if t in styles}
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise DataIOError(f"{path}: cannot read the GeoPackage's layers ({exc})") from exc
    out = []
    for table, gtype, x0, y0, x1, y1, wkt in rows:
        if table not in styles:
            continue
        geometry = _GEOMETRY_OF.get(str(gtype).upper())
        if geometry is None:
            continue
        renderer = _element(styles[table]["styleQML"], "renderer-v2", path, table)
        fills = [o.get("value") for o in renderer.iter("Option") if o.get("name") == "style"]
        out.append(ProjectLayer(
            name=f"{table} ({styles[table]['styleName']})", source=f"{_relative(path, folder)}|layername={table}",
            kind="vector", geometry=geometry, wkt_type=_WKB_TYPE[str(gtype).upper()], crs_wkt=wkt or "",
            extent=(x0, y0, x1, y1), style_xml=ET.tostring(renderer, encoding="unicode"),
            filled=geometry != "Polygon" or not fills or any(v != "no" for v in fills), layer=table,
            features=counts[table]))
    return out


def _raster_layer(path: Path, folder: Path) -> ProjectLayer:
    grid = raster_info(os.fspath(path))["grid"]
    qml = path.with_suffix(".qml")
    pipe = ""
    if qml.is_file():
        pipe = ET.tostring(_element(qml.read_text(encoding="utf-8"), "pipe", qml, path.name), encoding="unicode")
    return ProjectLayer(name=path.stem, source=_relative(path, folder), kind="raster", geometry="raster",
                        wkt_type="", crs_wkt=grid.crs, extent=grid.bounds, style_xml=pipe, layer=path.stem)


def _element(text: str, tag: str, where, layer: str):
    try:
        root = ET.fromstring(text.split("\n", 1)[1] if text.startswith("<!DOCTYPE") else text)
    except ET.ParseError as exc:
        raise DataIOError(f"{where}: the style of {layer!r} is not valid QML ({exc})") from exc
    found = root.find(tag)
    if found is None:
        raise DataIOError(f"{where}: the style of {layer!r} has no <{tag}>")
    return found


def _srs(wkt: str, ind: str) -> str:
    return f"{ind}<spatialrefsys>\n{ind} <wkt>{escape(wkt)}</wkt>\n{ind}</spatialrefsys>"


def _extent(tag: str, box: tuple, ind: str) -> str:
    names = ("xmin", "ymin", "xmax", "ymax")
    return (f"{ind}<{tag}>" + "".join(f"<{n}>{float(v)!r}</{n}>" for n, v in zip(names, box)) + f"</{tag}>")


def _union(boxes) -> tuple:
    boxes = [b for b in boxes if b and all(v is not None for v in b)]
    if not boxes:
        return (0.0, 0.0, 1.0, 1.0)
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def qgs_xml(layers: Sequence, *, title: str = "careshed") -> str:
    """The .qgs document (QGIS 3 project XML) of `layers` (top first), in the CRS of the first layer."""
    if not layers:
        raise InputError("a QGIS project needs at least one styled layer with geometry (a GeoPackage layer with a "
                         "default style, or a GeoTIFF); these outputs have none")
    crs = next((lay.crs_wkt for lay in layers if lay.crs_wkt), "")
    extent = _union([lay.extent for lay in layers])
    tree = []
    for lay in layers:
        provider = "ogr" if lay.kind == "vector" else "gdal"
        checked = "Qt::Checked" if lay.visible else "Qt::Unchecked"
        tree.append(f"  <layer-tree-layer id={quoteattr(lay.id)} name={quoteattr(lay.name)} "
                    f"source={quoteattr(lay.source)} providerKey=\"{provider}\" checked=\"{checked}\" "
                    "expanded=\"1\"><customproperties/></layer-tree-layer>")
    maps = []
    for lay in layers:
        if lay.kind == "vector":
            head = (f"  <maplayer type=\"vector\" geometry=\"{lay.geometry}\" wkbType=\"{lay.wkt_type}\" "
                    "styleCategories=\"AllStyleCategories\" hasScaleBasedVisibilityFlag=\"0\" readOnly=\"0\" "
                    "labelsEnabled=\"0\" minScale=\"0\" maxScale=\"0\">")
            provider = "   <provider encoding=\"UTF-8\">ogr</provider>"
            tail = ("   <blendMode>0</blendMode>\n   <featureBlendMode>0</featureBlendMode>\n"
                    "   <layerOpacity>1</layerOpacity>")
        else:
            head = ("  <maplayer type=\"raster\" styleCategories=\"AllStyleCategories\" "
                    "hasScaleBasedVisibilityFlag=\"0\" minScale=\"1e+08\" maxScale=\"0\">")
            provider = "   <provider>gdal</provider>"
            tail = "   <blendMode>0</blendMode>"
        maps.append("\n".join([
            head, _extent("extent", lay.extent, "   "), f"   <id>{escape(lay.id)}</id>",
            f"   <datasource>{escape(lay.source)}</datasource>", f"   <layername>{escape(lay.name)}</layername>",
            "   <srs>", _srs(lay.crs_wkt, "    "), "   </srs>", provider, lay.style_xml, tail, "  </maplayer>"]))
    order = "\n".join(f"  <layer id={quoteattr(lay.id)}/>" for lay in reversed(layers))
    return "\n".join([
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>",
        f"<qgis projectname={quoteattr(title)} version={quoteattr(QGIS_VERSION)}>",
        " <homePath path=\"\"/>",
        f" <title>{escape(title)}</title>",
        " <projectCrs>", _srs(crs, "  "), " </projectCrs>",
        " <layer-tree-group>", " <customproperties/>", *tree, " </layer-tree-group>",
        " <projectlayers>", *maps, " </projectlayers>",
        " <layerorder>", order, " </layerorder>",
        " <mapcanvas name=\"theMapCanvas\">", "  <units>meters</units>", _extent("extent", extent, "  "),
        "  <rotation>0</rotation>", "  <destinationsrs>", _srs(crs, "   "), "  </destinationsrs>",
        " </mapcanvas>",
        " <properties>",
        "  <Paths><Absolute type=\"bool\">false</Absolute></Paths>",
        "  <SpatialRefSys><ProjectionsEnabled type=\"int\">1</ProjectionsEnabled></SpatialRefSys>",
        " </properties>",
        "</qgis>", ""])


def write_qgis_project(path, files: Sequence, *, title: str | None = None) -> Path:
    """A ``.qgz`` QGIS project at `path` opening `files` (GeoPackages with default styles, GeoTIFFs with ``.qml``
    sidecars — written before, in the project's folder or below it) by relative paths; written atomically.
    `title`: the project's title (default the file name's stem)."""
    path = Path(path)
    if path.suffix.lower() != ".qgz":
        raise InputError(f"{path}: a QGIS project is written as a .qgz file")
    text = qgs_xml(project_layers(files, path.parent), title=title or path.stem)

    def write(tmp: Path) -> None:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
            z.writestr(f"{path.stem}.qgs", text.encode("utf-8"))

    return write_atomically(path, write)
