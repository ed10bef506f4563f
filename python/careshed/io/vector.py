"""Reading and writing vector data: zones, facilities, tables.

Everything goes through GDAL/OGR in the C++ core (``careshed._core.read_vector`` / ``write_vector``), so
every format OGR opens works the same way (GeoJSON, GeoPackage, Shapefile, CSV with lon/lat columns,
a PostGIS connection string ``"PG:host=... dbname=..."``) and every error names the file, the layer
and the field. This module turns the core's plain arrays into GeoPandas/pandas objects.

Functions here accept "a path or an already-loaded object" wherever an analysis takes data, so that a
planner can pass ``"counties.gpkg"`` and an analyst in Jupyter can pass the GeoDataFrame they already
hold; :func:`load` is the one place that decides.
"""
from __future__ import annotations

import math
import os
import re
import sqlite3
from pathlib import Path
from typing import Mapping
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import pandas as pd

from .. import _core
from ..errors import CareshedError, DataIOError, InputError, did_you_mean, keyword
from .atomic import write_atomically
from .qgis_styles import write_layer_styles

__all__ = ["NO_CRS_ADVICE", "read_vector", "read_table", "write_layers", "write_gpkg_metadata", "load",
           "describe_source", "mask_password", "points_xy",
           "to_wkb", "from_wkb"]

#: What to do about a layer with no CRS when careshed has no parameter for it (zones).
NO_CRS_ADVICE = ("assign the right one in the file, e.g. `ogr2ogr -a_srs EPSG:4326 fixed.gpkg <file>` (a GeoDataFrame: "
                 ".set_crs(...))")

# Suffixes read as plain attribute tables (no geometry) by read_table when no x/y columns are given.
_TABLE_SUFFIXES = {".csv", ".tsv", ".txt"}


def _gpd():
    try:
        import geopandas
    except ImportError as exc:  # pragma: no cover - geopandas is a Debian package in every setup we ship
        raise InputError("careshed needs geopandas for vector data: apt-get install python3-geopandas") from exc
    return geopandas


def _is_pathlike(obj) -> bool:
    return isinstance(obj, (str, os.PathLike))


def read_vector(source, layer=None, *, crs=None, x=None, y=None, fields=None, layer_keyword="layer",
                crs_keyword="crs"):
    """Read one layer of any OGR source into a ``geopandas.GeoDataFrame``.

    Parameters
    ----------
    source : str or path
        File (GeoJSON, GeoPackage, Shapefile, CSV, ...) or an OGR connection string such as
        ``"PG:host=127.0.0.1 port=5432 dbname=gis user=me"`` (PostGIS).
    layer : str, optional
        Layer name (e.g. ``"public.counties"`` for PostGIS). Needed only when the source has several.
    crs : str, optional
        CRS of the data when the source does not carry one (a CSV): ``"EPSG:4326"``, WKT or PROJ.
        Giving a CRS that contradicts the source's own is an error (:class:`careshed.CRSError`).
    x, y : str, optional
        Numeric columns holding point coordinates, for tables without geometry (``x="lon", y="lat"``).
    fields : list of str, optional
        Fields to read (default: all). A field that does not exist is an :class:`careshed.InputError`
        listing the fields that do.

    Returns
    -------
    geopandas.GeoDataFrame
        Fields in the source's order, a ``geometry`` column (None for null geometries), ``.crs`` set.
        ``attrs`` carries ``source``, ``layer`` (as given), ``layer_read``, ``geometry_type`` and ``fid``
        (OGR feature ids).

    layer_keyword, crs_keyword : str or None
        The caller's parameters for the layer and the CRS, named in the advice of errors (careshed.errors.keyword);
        ``crs_keyword=None``: the caller has none (zones), the advice says how to fix the file.

    Raises
    ------
    careshed.DataIOError (an OSError)
        Missing file, unopenable source or layer.
    careshed.InputError (a ValueError)
        Missing layer/field, non-numeric coordinates.
    careshed.CRSError (a ValueError)
        No CRS, contradicting CRS, or coordinates impossible in the CRS (metres in a GeoJSON).
    """
    gpd = _gpd()
    import pyproj

    src = os.fspath(source)
    try:
        raw = _core.read_vector(src, layer=layer, fields=None if fields is None else list(fields),
                                x_field=x, y_field=y, crs=crs)
    except CareshedError as exc:
        # never echo a database password into logs or tracebacks; advice in the words of the caller's interface
        text = core_advice(mask_password(str(exc)), layer_keyword, crs_keyword)
        if text != str(exc):
            raise type(exc)(text) from None
        raise
    geoms = from_wkb(raw["wkb"])
    epsg = raw.get("epsg")
    crs_obj = None
    if epsg:
        crs_obj = pyproj.CRS.from_epsg(int(epsg))
    elif raw.get("crs_wkt"):
        crs_obj = pyproj.CRS.from_wkt(raw["crs_wkt"])
    columns = {name: np.asarray(values) for name, values in raw["columns"].items()}
    frame = pd.DataFrame(columns, index=pd.RangeIndex(len(geoms)))
    gdf = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, index=frame.index, crs=crs_obj), crs=crs_obj)
    # attrs["layer"] is the layer the caller named (messages mention it only then); layer_read is the
    # layer actually read.
    gdf.attrs.update(source=raw.get("source", src), layer=layer, layer_read=raw.get("layer", layer),
                     geometry_type=raw.get("geometry_type"), fid=np.asarray(raw["fid"]))
    return gdf


def core_advice(text: str, layer_keyword: str | None = "layer", crs_keyword: str | None = "crs") -> str:
    """The core's vector-reading messages name Python arguments (``layer=...``, ``crs='EPSG:4326'``, ``x_field``);
    say them as the caller's parameters in the interface in use (careshed.errors.keyword), and suggest the closest
    field name for a misspelled one. The one place the core's reading advice is re-worded."""
    if layer_keyword:
        text = text.replace("(layer=...)", f"({keyword(layer_keyword)})")
    crs_fix = (f"give {keyword(crs_keyword, 'EPSG:4326')} (or the right one) saying what the coordinates are"
               if crs_keyword else NO_CRS_ADVICE)
    text = text.replace("pass crs='EPSG:4326' (or the right one) saying what the coordinates are", crs_fix)
    if not crs_keyword:
        text = text.replace("(crs=... for a CSV, or fix the file's CRS;", "(fix the file's CRS;")
    else:
        text = text.replace("(crs=... for a CSV,", f"({keyword(crs_keyword)} for a CSV,")
        text = text.replace("drop the crs argument", f"drop {keyword(crs_keyword)}")
        text = re.sub(r"but crs='([^']*)' was given", lambda m: f"but {keyword(crs_keyword, m.group(1))} was given",
                      text)
    text = text.replace("give both x_field and y_field", f"give both {keyword('x')} and {keyword('y')}")
    text = text.replace(" (x_field)", f" ({keyword('x')})").replace(" (y_field)", f" ({keyword('y')})")
    missing = re.search(r"no field '([^']*)'.*available fields: (.*)$", text)
    if missing:
        text += did_you_mean(missing.group(1), re.findall(r"'([^']*)'", missing.group(2)))
    return text


def read_table(source, layer=None, *, fields=None) -> pd.DataFrame:
    """Read an attribute table without geometry (a CSV, or any OGR layer with its geometry dropped).

    CSV files are read as text tables (pandas) so that no CRS is needed; other sources go through OGR.
    Empty cells become NaN/None. ``attrs["source"]`` names the file for later error messages.
    """
    src = os.fspath(source)
    if Path(src).suffix.lower() in _TABLE_SUFFIXES:
        if not Path(src).exists():
            raise DataIOError(f"{src}: no such file")
        sep = "\t" if Path(src).suffix.lower() == ".tsv" else ","
        try:
            table = pd.read_csv(src, sep=sep, encoding="utf-8")
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
            raise DataIOError(f"{src}: cannot read as a CSV table ({exc})") from exc
        if fields is not None:
            missing = [f for f in fields if f not in table.columns]
            if missing:
                raise InputError(f"{src}: no field {missing[0]!r}; available fields: "
                                 f"{', '.join(map(str, table.columns))}{did_you_mean(missing[0], table.columns)}")
            table = table[list(fields)]
        table.attrs["source"] = src
        return table
    gdf = read_vector(src, layer, fields=fields)
    table = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    table.attrs["source"] = gdf.attrs.get("source", src)
    return table


def load(obj, *, what: str, layer=None, crs=None, x=None, y=None, fields=None, table_ok=True, layer_keyword="layer",
         crs_keyword="crs"):
    """Return `obj` as a (Geo)DataFrame: a path/connection string is read, a loaded object passes through.

    what: a word for error messages ("zones", "facilities").
    A path to a CSV without ``x``/``y`` is read as a plain table (when ``table_ok``); everything else with
    :func:`read_vector`. A GeoDataFrame or DataFrame is returned unchanged (``attrs["source"]`` is set to
    a description if it has none, so messages can still name it).
    """
    if _is_pathlike(obj):
        src = os.fspath(obj)
        if table_ok and x is None and y is None and Path(src).suffix.lower() in _TABLE_SUFFIXES:
            return read_table(src, layer, fields=fields)
        return read_vector(src, layer, crs=crs, x=x, y=y, fields=fields, layer_keyword=layer_keyword,
                           crs_keyword=crs_keyword)
    if isinstance(obj, pd.DataFrame):
        if not obj.attrs.get("source"):
            obj = obj.copy(deep=False)
            obj.attrs["source"] = f"<{what} {type(obj).__name__}>"
        return obj
    raise InputError(f"{what}: expected a file path, an OGR connection string, a GeoDataFrame or a "
                     f"DataFrame, got {type(obj).__name__}")


def mask_password(text: str) -> str:
    """`text` with the value of any ``password=`` (OGR/libpq connection strings) replaced by ***."""
    return re.sub(r"(password\s*=\s*)('[^']*'|[^\s']+)", r"\1***", text, flags=re.IGNORECASE)


def describe_source(frame) -> str:
    """The file (and layer) a frame came from, for error messages (connection passwords masked)."""
    src = mask_password(str(frame.attrs.get("source") or "<data>"))
    layer = frame.attrs.get("layer")
    return f"{src} (layer {layer})" if layer and not str(src).endswith(str(layer)) else str(src)


def from_wkb(blobs) -> list:
    """Shapely geometries of WKB blobs from the core (None for an empty blob): the one way back."""
    from shapely import wkb as shapely_wkb

    return [shapely_wkb.loads(bytes(b)) if b is not None and len(b) else None for b in blobs]


def to_wkb(geoms, *, missing=b"") -> list:
    """WKB bytes of shapely geometries (`missing` for None/empty), the one form in which geometries are handed
    to the C++ core (zones to rasterise, polygons to check, points to place in zones, layers to write). Items
    that already are WKB bytes pass through."""
    from shapely import wkb as shapely_wkb

    out = []
    for g in geoms:
        if g is None:
            out.append(missing)
        elif isinstance(g, (bytes, bytearray, memoryview)):
            out.append(bytes(g))
        elif not hasattr(g, "geom_type"):
            raise InputError(f"expected shapely geometries or WKB bytes, got an item of type {type(g).__name__}")
        else:
            out.append(missing if g.is_empty else shapely_wkb.dumps(g))
    return out


# ---- writing ------------------------------------------------------------------------------------

def _column_for_ogr(series: pd.Series):
    """A column as the core's writer takes it: int64, float64, or a list of str/None."""
    if pd.api.types.is_bool_dtype(series):
        return series.astype("int64").to_numpy()
    if pd.api.types.is_integer_dtype(series) and not series.isna().any():
        return series.astype("int64").to_numpy()
    if pd.api.types.is_numeric_dtype(series):
        return series.astype("float64").to_numpy()
    out = []
    for v in series.tolist():
        if v is None or (isinstance(v, float) and math.isnan(v)):
            out.append(None)
        else:
            out.append(str(v))
    return out


def _layer_dict(name: str, frame: pd.DataFrame) -> dict:
    gpd = _gpd()
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns:
        geom = frame.geometry
        if frame.crs is None:
            raise InputError(f"write_layers: layer {name!r} has no CRS; set one with gdf.set_crs(...)")
        types = sorted({g.geom_type for g in geom if g is not None and not g.is_empty})
        if types == ["MultiPolygon", "Polygon"]:
            from shapely.geometry import MultiPolygon
            geom = geom.apply(lambda g: MultiPolygon([g]) if g is not None and g.geom_type == "Polygon" else g)
            types = ["MultiPolygon"]
        gtype = types[0] if len(types) == 1 else "Unknown"
        wkbs = to_wkb(geom)
        crs_wkt = frame.crs.to_wkt()
        attrs = frame.drop(columns=frame.geometry.name)
    else:
        gtype, crs_wkt = "None", ""
        wkbs = [b""] * len(frame)
        attrs = frame
    columns = {str(c): _column_for_ogr(attrs[c]) for c in attrs.columns}
    return {"name": name, "crs_wkt": crs_wkt, "geometry_type": gtype, "wkb": wkbs, "columns": columns}


def write_layers(path, layers: Mapping[str, pd.DataFrame], *, driver=None, styles=None, metadata=None) -> Path:
    """Write several layers into ONE file (GeoPackage by default), atomically.

    layers: {layer name: GeoDataFrame or DataFrame}; a plain DataFrame becomes a table without geometry.
    styles: {layer name: :class:`careshed.io.qgis_styles.LayerStyle`}, each layer's default QGIS style, written
    into the GeoPackage's ``layer_styles`` table (GeoPackage only: refused for another format).
    metadata: {key: text} for the file (a GeoPackage's dataset metadata, where GDAL and QGIS read it:
    ``gdalinfo`` / ``ogrinfo -so``, QGIS's layer properties); GeoPackage only.
    Written to a temporary file next to `path` and renamed over it, so a failure leaves nothing behind.
    The frames' index is not written (reset it first if it holds data). Returns the path.
    """
    if not layers:
        raise InputError("write_layers: no layers given")
    dicts = [_layer_dict(str(name), frame) for name, frame in layers.items()]
    if not styles and not metadata:
        _core.write_vector(os.fspath(path), dicts, driver=driver)
        return Path(path)
    if (driver or "GPKG").upper() != "GPKG" or Path(path).suffix.lower() != ".gpkg":
        raise InputError(f"write_layers {path}: layer styles and file metadata go into a GeoPackage (.gpkg); write "
                         "one, or give neither")

    def write(tmp: Path) -> None:
        _core.write_vector(os.fspath(tmp), dicts, driver="GPKG")
        if styles:
            write_layer_styles(tmp, styles)
        if metadata:
            write_gpkg_metadata(tmp, metadata)

    return write_atomically(path, write)


#: GeoPackage metadata extension (OGC 12-128r18, F.8) as GDAL writes a dataset's metadata items.
_GPKG_METADATA_SQL = (
    "CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, "
    "definition TEXT NOT NULL, scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, "
    "extension_name))",
    "CREATE TABLE IF NOT EXISTS gpkg_metadata (id INTEGER CONSTRAINT m_pk PRIMARY KEY ASC NOT NULL, "
    "md_scope TEXT NOT NULL DEFAULT 'dataset', md_standard_uri TEXT NOT NULL, "
    "mime_type TEXT NOT NULL DEFAULT 'text/xml', metadata TEXT NOT NULL DEFAULT '')",
    "CREATE TABLE IF NOT EXISTS gpkg_metadata_reference (reference_scope TEXT NOT NULL, table_name TEXT, "
    "column_name TEXT, row_id_value INTEGER, timestamp DATETIME NOT NULL DEFAULT "
    "(strftime('%Y-%m-%dT%H:%M:%fZ','now')), md_file_id INTEGER NOT NULL, md_parent_id INTEGER, "
    "CONSTRAINT crmr_mfi_fk FOREIGN KEY (md_file_id) REFERENCES gpkg_metadata(id), "
    "CONSTRAINT crmr_mpi_fk FOREIGN KEY (md_parent_id) REFERENCES gpkg_metadata(id))",
)


def write_gpkg_metadata(path, items: Mapping[str, str]) -> None:
    """Add {key: text} as the dataset metadata of the GeoPackage at `path` (the GeoPackage metadata extension,
    in GDAL's form: one ``GDALMultiDomainMetadata`` document referenced at ``geopackage`` scope)."""
    doc = "<GDALMultiDomainMetadata>\n  <Metadata>\n" + "".join(
        f"    <MDI key={quoteattr(str(k))}>{escape(str(v))}</MDI>\n" for k, v in items.items()) + \
        "  </Metadata>\n</GDALMultiDomainMetadata>\n"
    con = sqlite3.connect(os.fspath(path))
    try:
        with con:
            for sql in _GPKG_METADATA_SQL:
                con.execute(sql)
            for table in ("gpkg_metadata", "gpkg_metadata_reference"):
                con.execute("INSERT INTO gpkg_extensions (table_name, column_name, extension_name, definition, scope) "
                            "SELECT ?, NULL, 'gpkg_metadata', 'http://www.geopackage.org/spec120/#extension_metadata',"
                            " 'read-write' WHERE NOT EXISTS (SELECT 1 FROM gpkg_extensions WHERE table_name = ? AND "
                            "extension_name = 'gpkg_metadata')", (table, table))
            cur = con.execute("INSERT INTO gpkg_metadata (md_scope, md_standard_uri, mime_type, metadata) "
                              "VALUES ('dataset', 'http://gdal.org', 'text/xml', ?)", (doc,))
            con.execute("INSERT INTO gpkg_metadata_reference (reference_scope, table_name, column_name, row_id_value, "
                        "md_file_id) VALUES ('geopackage', NULL, NULL, NULL, ?)", (cur.lastrowid,))
    except sqlite3.Error as exc:
        raise DataIOError(f"{path}: cannot write the GeoPackage's metadata ({exc})") from exc
    finally:
        con.close()


# ---- fast point coordinates -----------------------------------------------------------------------

def points_xy(geoms):
    """(x, y, kind) float64/float64/int8 arrays of a sequence of shapely geometries.

    kind: 0 = a point (x, y set), 1 = missing or empty (NaN), 2 = not a point (NaN; the caller decides,
    e.g. a representative point). shapely's public API only: its vectorised functions (shapely >= 2); on shapely
    1.8 a table of points becomes one MultiPoint whose WKB numpy reads at once (~7x faster than each point's
    ``.x`` / ``.y``, which remain the way for tables with missing or non-point geometries).
    """
    vals = geoms.values if hasattr(geoms, "values") else geoms
    raw = getattr(vals, "data", None)        # geopandas' GeometryArray holds a numpy object array:
    vals = raw.tolist() if isinstance(raw, np.ndarray) else list(vals)   # iterating it is 10x faster
    n = len(vals)
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    kind = np.zeros(n, dtype=np.int8)
    import shapely
    from shapely import wkb as shapely_wkb
    if hasattr(shapely, "get_type_id"):      # shapely >= 2: vectorised
        arr = np.empty(n, dtype=object)
        arr[:] = vals
        type_id = shapely.get_type_id(arr)
        empty = shapely.is_empty(arr)
        kind[:] = np.where((type_id < 0) | empty, 1, np.where(type_id == 0, 0, 2))
        pts = kind == 0
        x[pts] = shapely.get_x(arr[pts])
        y[pts] = shapely.get_y(arr[pts])
        return x, y, kind
    from shapely.geometry import MultiPoint, Point
    if n and all(type(g) is Point for g in vals):
        try:
            blob = shapely_wkb.dumps(MultiPoint(vals))   # header (9 bytes), then 21 bytes per point
        except (ValueError, TypeError, AttributeError):  # an empty point: the per-geometry way below
            blob = b""
        if len(blob) == 9 + 21 * n:
            order = "<" if blob[0] == 1 else ">"
            rec = np.frombuffer(blob, dtype=np.dtype([("order", "u1"), ("type", order + "u4"), ("x", order + "f8"),
                                                      ("y", order + "f8")]), offset=9)
            x[:], y[:] = rec["x"], rec["y"]
            kind[np.isnan(x)] = 1
            return x, y, kind
    for i, g in enumerate(vals):
        if g is None or g.is_empty:
            kind[i] = 1
        elif g.geom_type != "Point":
            kind[i] = 2
        else:
            x[i], y[i] = g.x, g.y
    return x, y, kind
