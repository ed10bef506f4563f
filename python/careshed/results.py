"""What every analysis result shares: the :class:`Result` face, notes (MODELLED marks), layers, metadata, maps.

The presentation tier below the analyses: an analysis module computes its numbers and returns a subclass of
:class:`Result`, so every result has the same face — ``.table``, ``.zones``, ``.rasters``, ``.summary()``,
``.to_csv()``, ``.to_geopackage()``, ``.to_geotiff()``, ``.plot()``, ``.save(folder)`` and a Jupyter view — writes
the same kinds of outputs and says MODELLED the same way.
"""
from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from .errors import InputError
from .io.atomic import OutputSet, check_file_name
from .io.qgis_styles import (LayerStyle, RasterStyle, facilities_style, share_style, travel_time_breaks,
                             travel_time_raster_style, write_raster_style)
from .io.raster import write_geotiff
from .io.table import csv_ready, write_table
from .io.vector import write_layers
from .mapping import map_footnotes, map_title, save_figure
from .report.charts import figure_data_uri
from .report.document import CIRCLE_SHARE, write_report
from .report.qgis_project import write_qgis_project

__all__ = ["Result", "modelled_notes", "points_frame", "zones_layer", "notes_frame", "save_map", "headline_prefix",
           "geotiff_metadata", "facility_layer_style", "coverage_layer_style", "minutes_raster_style",
           "COVERAGE_TARGET_SHARE"]

#: The covered share zones are styled against in QGIS (the "15-minute circle" standard: > 90 % of residents).
COVERAGE_TARGET_SHARE = CIRCLE_SHARE


class Result:
    """The common face of every analysis result (:class:`careshed.Reach`, :class:`careshed.Catchments`,
    :class:`careshed.AccessMap`, :class:`careshed.Density`).

    Attributes every result has: ``table`` (pandas DataFrame: the main table, its last row the region when it is
    a zone table), ``notes`` (list of str; "MODELLED ..." lines first), ``modelled`` (bool), ``study`` and
    ``grid`` (None for results without a grid).

    Properties and methods: ``zones`` (GeoDataFrame: the zone polygons with the zone table's numbers, and the
    region row with the dissolved outline), ``rasters`` ({name: array on ``grid``}), :meth:`summary`,
    :meth:`to_csv`, :meth:`to_geopackage`, :meth:`to_geotiff`, :meth:`plot`, :meth:`save` (every output into a
    folder, all or none) and ``_repr_html_`` for Jupyter.

    A subclass sets ``default_prefix`` and implements :meth:`summary`, :meth:`plot`, ``_layers()`` (GeoPackage
    layers), ``_layer_styles(layers)`` (their default QGIS styles) and, when it has them, ``_raster_layers()``,
    ``_raster_styles()`` and ``_extra_tables()``.
    """

    default_prefix = "result"
    table: pd.DataFrame
    notes: list
    modelled: bool
    study = None
    grid = None

    @classmethod
    def of(cls, **attributes):
        """A result of this class holding `attributes` (what an analysis computed: table, study, grid, ...)."""
        result = cls()
        for name, value in attributes.items():
            setattr(result, name, value)
        return result

    # -- what a subclass provides -----------------------------------------------------------------------

    def summary(self) -> str:
        """One line: what was computed and the headline number."""
        raise NotImplementedError

    def plot(self, path=None, **kwargs):
        """A map (matplotlib Figure); with `path` also a PNG written atomically."""
        raise NotImplementedError

    def _layers(self) -> dict:
        """{layer name: (Geo)DataFrame} of the GeoPackage."""
        raise NotImplementedError

    def _layer_styles(self, layers: dict) -> dict:
        """{layer name: :class:`careshed.io.qgis_styles.LayerStyle`}: the default QGIS style of each layer with
        geometry in `layers` (what ``_layers()`` returned), written into the GeoPackage's ``layer_styles`` table."""
        return {}

    def _raster_layers(self) -> dict:
        """{name: (array on ``grid``, nodata or None, metadata dict)} of the GeoTIFFs."""
        return {}

    def _raster_styles(self) -> dict:
        """{raster name: :class:`careshed.io.qgis_styles.RasterStyle`}: written as the ``.qml`` next to the
        GeoTIFF (QGIS loads it with the raster); rasters without one are drawn as QGIS chooses."""
        return {}

    def _extra_tables(self) -> dict:
        """{file suffix: (DataFrame, notes[, write the index])} of the CSVs besides the main table
        (``PREFIX_<suffix>.csv``)."""
        return {}

    @property
    def zone_table(self) -> pd.DataFrame:
        """The table with one row per zone and the region row (the main table unless a result says otherwise)."""
        return self.table

    # -- the common face ------------------------------------------------------------------------------

    @property
    def rasters(self) -> dict:
        """{name: numpy array of shape ``grid.shape``} — what :meth:`to_geotiff` writes."""
        return {name: layer[0] for name, layer in self._raster_layers().items()}

    @property
    def zones(self):
        """GeoDataFrame (grid CRS) of the zones with the zone table's columns, index the zone id; the region row
        last, its geometry the union of the zones (a row for people outside every zone has no geometry)."""
        import geopandas as gpd
        from shapely.ops import unary_union

        if getattr(self, "_zones_cache", None) is None:
            z = self.study.zones
            table = self.zone_table
            geoms = list(z.geometry) + [None] * (len(table) - len(z) - 1) + [unary_union(list(z.geometry))]
            self._zones_cache = gpd.GeoDataFrame(table.copy(), geometry=geoms, crs=z.crs)
        return self._zones_cache

    def to_csv(self, path, *, excel: bool = False) -> Path:
        """The main table as CSV (people as whole numbers, no comment lines), its notes in ``NAME.notes.txt``
        next to it (:func:`careshed.io.write_table`), atomically; `excel`: with the UTF-8 byte-order mark."""
        return write_table(self.table, path, notes=self.notes, excel=excel)

    def to_geopackage(self, path) -> Path:
        """Every layer of the result in one GeoPackage (grid CRS) with each layer's default QGIS style (the
        ``layer_styles`` table) and the notes in its metadata (and the ``notes`` layer), written under a temporary
        name and renamed."""
        layers = self._layers()
        write_layers(path, layers, styles=self._layer_styles(layers),
                     metadata=geotiff_metadata(self.notes, self.modelled))
        return Path(path)

    def to_geotiff(self, target=".", *, prefix=None):
        """Cloud-Optimised GeoTIFFs of :attr:`rasters`. `target`: a folder (files ``PREFIX_<name>.tif``), a dict
        {name: path}, or one ``.tif`` path for the first raster (then that path is returned instead of a dict).
        Each file is written under a temporary name and renamed; a raster with a QGIS style gets its ``.qml`` next
        to it (``PREFIX_minutes.qml``: QGIS loads it with the raster)."""
        layers = self._raster_layers()
        if not layers:
            raise InputError(f"to_geotiff: a {type(self).__name__} result has no rasters")
        single = not isinstance(target, Mapping) and str(target).lower().endswith((".tif", ".tiff"))
        if single:
            paths = {next(iter(layers)): Path(target)}
        elif isinstance(target, Mapping):
            paths = {k: Path(v) for k, v in target.items()}
        else:
            folder = Path(target)
            folder.mkdir(parents=True, exist_ok=True)
            paths = {name: folder / f"{prefix or self.default_prefix}_{name}.tif" for name in layers}
        unknown = [k for k in paths if k not in layers]
        if unknown:
            raise InputError(f"to_geotiff: unknown output {unknown[0]!r}; use {', '.join(layers)}")
        out = {}
        styles = self._raster_styles()
        for name, path in paths.items():
            array, nodata, meta = layers[name]
            out[name] = Path(write_geotiff(path, array, self.grid, nodata=nodata,
                                           metadata=geotiff_metadata(self.notes, self.modelled, **meta)))
            if name in styles:
                write_raster_style(Path(path).with_suffix(".qml"), styles[name])
        return out[next(iter(out))] if single else out

    def save(self, folder, *, prefix=None, draw_map=True, qgis_project=False, excel=False) -> list:
        """Every output into `folder`, all or none (staged, then renamed together): ``PREFIX.csv`` (main table),
        ``PREFIX_<name>.csv`` (further tables), each with its ``.notes.txt``, ``PREFIX.gpkg`` (with each layer's
        default QGIS style), ``PREFIX.png`` (unless ``draw_map=False``), ``PREFIX_<raster>.tif`` (and
        ``PREFIX_<raster>.qml``, its QGIS style, when it has one) and, with ``qgis_project=True``, ``PREFIX.qgz``: a
        QGIS project opening the GeoPackage's layers and the styled rasters by relative paths (docs/qgis.md).
        `excel`: the CSVs start with the UTF-8 byte-order mark. Returns the paths written."""
        prefix = check_file_name(prefix or self.default_prefix)
        with OutputSet(folder) as out:
            self.to_csv(out.path(f"{prefix}.csv"), excel=excel)
            for suffix, (frame, notes, *index) in self._extra_tables().items():
                write_table(frame, out.path(f"{prefix}_{suffix}.csv"), notes=notes, index=index[0] if index else True,
                            excel=excel)
            gpkg = self.to_geopackage(out.path(f"{prefix}.gpkg"))
            if draw_map:
                self.plot(out.path(f"{prefix}.png"))
            rasters = {name: out.path(f"{prefix}_{name}.tif") for name in self._raster_layers()}
            for name in self._raster_styles():
                out.path(f"{prefix}_{name}.qml")
            if rasters:
                self.to_geotiff(rasters)
            if qgis_project:
                styled = [rasters[name] for name in self._raster_styles() if name in rasters]
                write_qgis_project(out.path(f"{prefix}.qgz"), [gpkg] + styled,
                                   title=f"careshed {self.default_prefix}: {prefix}")
        return out.written

    def finish_map(self, fig, title: str, subtitle: str | None, tail: str, path=None, *, counted_on_grid=True,
                   extra_notes=()):
        """The end of every result's map: title and subtitle (wrapped), the MODELLED notes, `extra_notes` (e.g.
        labels left out) and (`counted_on_grid`) the grid people were counted on at the foot (wrapped, never cut
        off), then the file (PNG, or PDF for a ``.pdf`` path; atomically) when `path` is given. Returns the
        Figure."""
        map_title(fig, title, subtitle)
        map_footnotes(fig, self.notes, self.grid if counted_on_grid else None, tail,
                      extra=[n for n in extra_notes if n])
        if path is not None:
            save_map(fig, path)
        return fig

    def report(self, path, **kwargs) -> Path:
        """This result's offline HTML report (one file, everything inlined): :func:`careshed.report.write_report`
        with its keywords (lang, title, targets, record, ...). For several results of a study: ``study.report``."""
        return write_report(path, [self], **kwargs)

    def _html_table(self) -> pd.DataFrame:
        return self.table

    def __repr__(self) -> str:
        return f"{self.summary()}\n{self.table.to_string()}"

    def _repr_html_(self) -> str:
        """Jupyter: the summary, the main table (people as whole numbers, as in the CSV) beside a small map (the
        result's :meth:`plot` as an inlined PNG, when it has one), and the MODELLED notes."""
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes if n.startswith("MODELLED"))
        table, _ = csv_ready(self._html_table())
        return (f'<div class="careshed-result"><p><b>{html.escape(self.summary())}</b></p>'
                '<div style="display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start">'
                f'<div style="overflow-x:auto">{table.to_html(float_format=lambda v: f"{v:,.4g}")}</div>'
                f"{self._html_map()}</div>" + (f"<ul>{notes}</ul>" if notes else "") + "</div>")

    def _html_map(self) -> str:
        """The small map of the Jupyter view: :meth:`plot` at a thumbnail's resolution as a PNG data: URI ("" for a
        result without a map, e.g. zones without polygons)."""
        try:
            fig = self.plot(dpi=48)
        except (InputError, NotImplementedError):
            return ""
        return f'<img class="careshed-map" alt="map" style="max-width:480px" src="{figure_data_uri(fig)}">'


def facility_layer_style(points, name: str = "facilities") -> LayerStyle:
    """The QGIS style of a layer of facility points: by level or kind when it has such a field."""
    return facilities_style(list(points.columns), {c: points[c].tolist() for c in points.columns}, name=name)


def coverage_layer_style(field: str = "covered_share", *, target: float = COVERAGE_TARGET_SHARE, what="covered",
                         name="covered share") -> LayerStyle:
    """The QGIS style of zones by the share of people covered (`field`, 0..1) against the target share."""
    return share_style(field, target, name=name, what=what)


def minutes_raster_style(minutes, thresholds_minutes) -> RasterStyle:
    """The QGIS style of a travel-time raster (minutes, NaN/inf unreachable): classes up to each threshold the
    analysis used, then 30/60/90/120/... minutes up to the longest time."""
    finite = minutes[np.isfinite(minutes)]
    longest = float(finite.max()) if finite.size else None
    return travel_time_raster_style(travel_time_breaks(thresholds_minutes, longest))


def modelled_notes(modelled) -> list[str]:
    """``modelled=`` (str, list or {input: how}) as note lines starting with "MODELLED"."""
    if not modelled:
        return []
    if isinstance(modelled, str):
        return [f"MODELLED input: {modelled}"]
    if isinstance(modelled, Mapping):
        return [f"MODELLED {k}: {v}" for k, v in modelled.items()]
    return [f"MODELLED {k}: this input is modelled, not measured" for k in modelled]


def points_frame(frame: pd.DataFrame, crs):
    """A facility table (with x/y columns in `crs`) as a GeoDataFrame of points; text columns keep None."""
    import geopandas as gpd
    from shapely.geometry import Point

    f = frame.reset_index()
    for c in f.columns:
        if f[c].dtype == object:
            f[c] = f[c].map(lambda v: None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v))
    return gpd.GeoDataFrame(f, geometry=[Point(x, y) for x, y in zip(f["x"], f["y"])], crs=crs)


def zones_layer(study, table: pd.DataFrame):
    """The study's zone polygons (id, kept fields) with the zone rows of `table` as attributes."""
    z = study.zones
    keep = [k for k in study.keep if k in z.columns and k != study.zone_id]
    layer = z[[study.zone_id] + keep + [z.geometry.name]].copy()
    numbers = table.iloc[:len(study.ids)].drop(columns=[k for k in study.keep if k in table.columns])
    for col in numbers.columns:
        layer[col] = numbers[col].to_numpy()
    return layer


def notes_frame(notes) -> pd.DataFrame:
    """The notes as a one-column table (the GeoPackage's ``notes`` layer)."""
    return pd.DataFrame({"note": list(notes) or ["(none)"]})


def save_map(fig, path) -> None:
    """The map as PNG (PDF for a ``.pdf`` path), atomically; a character no installed font draws is an error
    (:func:`careshed.mapping.save_figure`), never an empty box."""
    save_figure(fig, path)


def headline_prefix(modelled: bool) -> str:
    """What every title and headline starts with: \"MODELLED — \" when an input is modelled."""
    return "MODELLED — " if modelled else ""


def geotiff_metadata(notes, modelled: bool, **items) -> dict:
    """GeoTIFF (and GeoPackage) metadata items: `items`, then the notes (``CARESHED_NOTE_00`` ...) and the MODELLED
    mark."""
    meta = dict(items)
    meta.update({f"CARESHED_NOTE_{i:02d}": n.replace("\n", " ") for i, n in enumerate(notes)})
    if modelled:
        meta["CARESHED_MODELLED"] = "yes: some inputs are MODELLED (see the notes)"
    return meta
