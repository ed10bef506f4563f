"""Ambulance reach: who is covered within the urban/rural response standard, per zone, in one run.

The plan's standard (Quzhou 2021-2025): average ambulance response within 11 minutes in urban areas and
15 minutes in rural ones, 95 % of ambulances leaving within 3 minutes of the call, one ambulance per 30,000
residents. careshed states it the way the planner thinks of it:

    response time = dispatch delay (dispatch_minutes, the same for every station)
                  + turnout (per station, seconds; optional)
                  + travel time over the friction surface (nearest station, GRASS r.cost rule)

and a person is COVERED when the response time of their cell is <= the threshold of their cell's class
(inclusive). People are counted on the grid, never in isochrone polygons (those are for display).

Entry point: ``study.reach(stations, ...)`` (:meth:`careshed.Study.reach`, implemented by :func:`run` here) on a
:class:`careshed.Study` prepared once. Returns a :class:`Reach`. See docs/reach.md.
"""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..arrays.coverage import ambulance_check, coverage_by_zone, isochrones
from ..arrays.geometry import assign_points_to_zones
from ..arrays.multimodal import RIDE_MODES, TRIP_MODE_NODATA, mode_split, trip_mode_legend, trip_mode_style
from ..arrays.network import RoadGraph, graph_travel_time_grid
from ..arrays.time_of_day import describe_factors, hour_factors as hour_factors_of
from ..constants import METADATA_MAX_CHARS, NO_CLASS, OUTSIDE_ZONES_LABEL, RESIDENTS_PER_VEHICLE
from ..errors import InputError, UsageError, keyword
from ..io.fields import as_list
from ..io.vector import write_layers
from ..mapping import (BEYOND_COLOUR, COVERED_COLOUR, UNREACHABLE_COLOUR, draw_polygons, frame_zones,
                       legend_beside, map_axes, new_figure, place_labels, place_name)
from ..placement import (Points, check_reachable_people, place_points, point_columns, read_points,
                         snap_distance)
from ..prepared import PreparedStudy, check_thresholds, thresholds_text
from ..io.qgis_styles import travel_time_style
from ..results import (Result, coverage_layer_style, facility_layer_style, geotiff_metadata, headline_prefix,
                       minutes_raster_style, modelled_notes, notes_frame, zones_layer)

__all__ = ["Reach", "run"]


class Reach(Result):
    """The result of :meth:`Study.reach` / :func:`reach`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per zone (index = zone id), then — only when people live on the grid outside every zone (a
        population raster reaching beyond the zones; zone totals are spread inside the zones) — a row
        ``"outside every zone"`` for them, and a last row for the region (all the people on the grid: the
        zones plus the outside row): `population`; per class C
        ``population_C``, ``covered_C``, ``covered_share_C``; ``covered``, ``uncovered``, ``unreachable``,
        ``covered_share``, ``mean_minutes`` (population-weighted, reached people only), ``p90_minutes`` (90 %
        of the people are reached within it; inf when more than 10 % are unreachable), ``stations``
        (stations standing in the zone), and with vehicles: ``vehicles``, ``vehicles_needed`` (one per
        30,000 residents), ``vehicles_shortfall``.
    stations : pandas.DataFrame
        One row per station given (index = station id): name, zone, x/y (grid CRS), row/col, status
        (on grid / snapped / outside grid / impassable), snapped_m, offset_minutes (dispatch + turnout),
        population_nearest (people whose nearest station it is), population_covered (… and within their
        class threshold), and with vehicles: vehicles, vehicles_needed, vehicles_shortfall.
    curve : pandas.DataFrame
        Covered share (0..1) of each zone (columns; the region last) within 0..curve_max_minutes minutes
        (index "minutes"), whatever the class.
    seconds, nearest, population, cell_class : numpy arrays of shape ``grid.shape``
        Response seconds (float32, inf unreachable), index of the nearest station in ``stations`` (int32, -1
        unreachable), people per cell, class index per cell (uint8, 255 none; None with one class).
    grid : careshed.Grid — geotransform and CRS of the arrays. ``transform`` is the GDAL geotransform.
    mode, mode_split : walk then ride only (``travel={"modes": ...}``; None otherwise). ``mode`` (uint8 raster):
        the trip of each cell — 0 walking only, 1 walk + road, 2 a trip with a ferry crossing (the highest mode
        of careshed.arrays.RIDE_MODES it uses), 255 unreachable. ``mode_split`` (DataFrame, one row per zone and
        the region row of all the people on the grid): people by trip mode (``people_walk_only``,
        ``people_walk_road``, ``people_walk_ferry``, ``people_unreachable``; fractions of people per cell, rounded
        to whole people in ``reach_modes.csv`` as every people count of careshed's CSVs) and their shares
        (``share_walk_only``, ..., ``share_unreachable``, from the unrounded counts).
    thresholds_min, class_names, dispatch_minutes, notes, modelled, timings.
    """

    default_prefix = "reach"
    table: pd.DataFrame
    stations: pd.DataFrame
    curve: pd.DataFrame
    mode = None
    mode_split = None

    @classmethod
    def _build(cls, study: PreparedStudy, st: Points, used, rr, cc, moved, status, seconds, nearest_used, cov,
               thresholds, dispatch, residents_per_vehicle, label, curve_max_minutes, run_notes, run_modelled,
               outside_row=False):
        self = cls.__new__(cls)
        self.study = study
        self.grid = study.grid
        self.label = label
        self.thresholds_min = dict(thresholds)
        self.class_names = list(thresholds)
        self.dispatch_minutes = dispatch
        self.residents_per_vehicle = float(residents_per_vehicle)
        self.seconds = seconds
        # nearest as an index into the full station table (stations left out never appear).
        self.nearest = np.where(nearest_used >= 0, used.astype(np.int32)[np.maximum(nearest_used, 0)], -1) \
            .astype(np.int32) if used.size != len(st.ids) else nearest_used
        self.population = study.population
        self.cell_class = study.cell_class
        self.bin_seconds = float(cov.bin_seconds)
        self.modelled = study.modelled or run_modelled
        self.notes = list(study.notes) + list(run_notes) + [
            f"response time = dispatch {dispatch:g} min + station turnout + travel; covered = response <= the "
            f"threshold of the cell's class ({thresholds_text(thresholds)}; inclusive)",
            f"p90_minutes is exact to {self.bin_seconds:g} s (histogram bins; never below the exact percentile)",
        ]
        self._isochrones = {}

        # -- zone table --------------------------------------------------------------------------
        z = cov.zones
        extra = [OUTSIDE_ZONES_LABEL] if outside_row else []
        zone_index = pd.Index(list(study.ids) + extra + [study.region_label], name=study.zone_id)
        cols: dict[str, Any] = {}
        for k in study.keep:
            cols[k] = list(study.frame[k].tolist()) + [None] * (len(extra) + 1)
        cols["population"] = z["population"].to_numpy()
        names = self.class_names
        if len(names) > 1:
            for c in names:
                for col in (f"population_{c}", f"covered_{c}", f"covered_share_{c}"):
                    cols[col] = z[col].to_numpy()
        for col in ("covered", "uncovered", "unreachable", "covered_share"):
            cols[col] = z[col].to_numpy()
        cols["mean_minutes"] = z["mean_response_min"].to_numpy()
        cols["p90_minutes"] = z["p90_response_min"].to_numpy()

        # stations per zone: the zone their (snapped) cell... no: the zone their POINT stands in.
        st_zone = assign_points_to_zones(study.zones.geometry, st.x, st.y)
        n_z = len(study.ids)
        # With the outside row, stations standing in no zone count there (zone index n_z).
        row_of = np.where(st_zone >= 0, st_zone, n_z if outside_row else -1)
        n_rows = n_z + len(extra)
        counts = np.bincount(row_of[row_of >= 0], minlength=n_rows).astype(np.int64)
        cols["stations"] = np.append(counts, counts.sum())
        if st.vehicles is not None:
            veh = np.zeros(n_rows)
            ok = row_of >= 0
            np.add.at(veh, row_of[ok], st.vehicles[ok])
            pop_all = z["population"].to_numpy(dtype=np.float64)
            check = ambulance_check(np.append(pop_all[:-1], pop_all[-1]), np.append(veh, veh.sum()),
                                    float(residents_per_vehicle))
            cols["vehicles"] = check["vehicles"].to_numpy()
            cols["vehicles_needed"] = check["needed"].to_numpy()
            cols["vehicles_shortfall"] = check["shortfall"].to_numpy()
            outside = int((st_zone < 0).sum())
            if outside:
                where = (f"the '{OUTSIDE_ZONES_LABEL}' row's check" if outside_row else "no zone's check")
                self.notes.append(f"{outside} station(s) stand in no zone: their vehicles count in {where}")
        self.table = pd.DataFrame(cols, index=zone_index)
        self.table.attrs["notes"] = self.notes
        self.table.attrs["thresholds_min"] = dict(thresholds)

        # -- station table ------------------------------------------------------------------------
        n_st = len(st.ids)
        pop_near = np.full(n_st, np.nan)
        pop_cov = np.full(n_st, np.nan)
        pop_near[used] = cov.stations["population"].to_numpy()
        pop_cov[used] = cov.stations["covered_population"].to_numpy()
        scols = point_columns(st, study, st_zone, rr, cc, moved, status)
        scols["offset_minutes"] = dispatch + st.turnout_s / 60.0
        scols["population_nearest"] = pop_near
        scols["population_covered"] = pop_cov
        if st.vehicles is not None:
            scols["vehicles"] = st.vehicles
            need = np.where(np.isfinite(pop_near), np.ceil(np.nan_to_num(pop_near) / residents_per_vehicle), np.nan)
            scols["vehicles_needed"] = need
            scols["vehicles_shortfall"] = np.where(np.isfinite(need), np.maximum(0.0, need - np.floor(st.vehicles)),
                                                   np.nan)
        self.stations = pd.DataFrame(scols, index=pd.Index(st.ids, name="station"))
        self._station_frame = st.frame

        # -- curve ---------------------------------------------------------------------------------
        self.curve = cov.curve.copy()
        self.curve.index.name = "minutes"
        self.curve.columns = zone_index
        return self

    def _set_modes(self, mode) -> None:
        """The trip mode raster and the people per zone by mode (walk then ride)."""
        self.mode = np.where(np.isfinite(self.seconds), mode, TRIP_MODE_NODATA).astype(np.uint8)
        # "people_..." columns: careshed.io.write_table rounds them to whole people in the CSV (and says so).
        names = ["walk_only"] + [f"walk_{m}" for m in RIDE_MODES] + ["unreachable"]
        index = pd.Index(list(self.study.ids) + [self.study.region_label], name=self.study.zone_id)
        table = pd.DataFrame(mode_split(mode, self.seconds, self.population, self.study.zone_raster), index=index,
                             columns=[f"people_{c}" for c in names])
        total = table.sum(axis=1).to_numpy()
        for c in names:
            table[f"share_{c}"] = np.where(total > 0, table[f"people_{c}"].to_numpy() / np.where(total > 0, total, 1.0),
                                           np.nan)
        self.mode_split = table

    # -- properties ----------------------------------------------------------------------------

    @property
    def minutes(self) -> np.ndarray:
        """Response time in minutes (float32, inf unreachable)."""
        return self.seconds / np.float32(60.0)

    @property
    def transform(self) -> tuple:
        """GDAL geotransform of the arrays."""
        return self.grid.transform

    @property
    def covered(self) -> np.ndarray:
        """Boolean per cell: response time <= the threshold of the cell's class (the float32 seconds compared
        exactly with the threshold in seconds, as the table's coverage does)."""
        thr = np.array([self.thresholds_min[c] * 60.0 for c in self.class_names], dtype=np.float64)
        if self.cell_class is None:
            # Not `seconds <= thr[0]`: NumPy 1.x compares a float32 array with a float64 scalar in float32,
            # which counts a cell whose time rounds to the threshold's float32 as covered.
            return self.seconds.astype(np.float64) <= thr[0]
        cls = np.where(self.cell_class == NO_CLASS, 0, self.cell_class)
        return self.seconds <= thr[cls]

    def summary(self) -> str:
        r = self.table.iloc[-1]
        thr = thresholds_text(self.thresholds_min)
        head = headline_prefix(self.modelled)
        return (f"{head}Reach of {len(self.stations)} {self.label} ({thr}, dispatch {self.dispatch_minutes:g} min): "
                f"{r['covered']:,.0f} of {r['population']:,.0f} people covered ({r['covered_share']:.1%}), mean "
                f"{r['mean_minutes']:.1f} min, p90 {r['p90_minutes']:.1f} min")

    # -- isochrones ----------------------------------------------------------------------------

    def isochrones(self, minutes=None, *, cumulative=True):
        """Isochrone polygons (display only; people are counted on the grid) as a GeoDataFrame in the grid CRS
        (:func:`careshed.isochrones`): one valid MultiPolygon per band with ``band``, ``from_min``, ``to_min``,
        ``label``, ``cells``, ``area_m2``, ``area_km2``. `minutes`: default the thresholds. `cumulative` bands
        contain every cell up to their time (nested); otherwise rings that tile."""
        if minutes is None:
            minutes = sorted(set(self.thresholds_min.values()))
        minutes = [float(m) for m in as_list(minutes)]
        key = (tuple(minutes), bool(cumulative))
        if key not in self._isochrones:
            t = time.perf_counter()
            frame = isochrones(self.seconds, self.grid, minutes, cumulative=bool(cumulative))
            frame["area_km2"] = frame["area_m2"] / 1e6
            self._isochrones[key] = frame
            if hasattr(self, "timings"):
                self.timings["isochrones"] = self.timings.get("isochrones", 0.0) + time.perf_counter() - t
        return self._isochrones[key]

    # -- outputs -------------------------------------------------------------------------------

    def station_points(self):
        """The stations as a GeoDataFrame (points in the grid CRS) with the station table's columns."""
        import geopandas as gpd
        from shapely.geometry import Point

        frame = self.stations.reset_index()
        return gpd.GeoDataFrame(frame, geometry=[Point(x, y) for x, y in zip(frame["x"], frame["y"])],
                                crs=self.grid.crs)

    def to_geopackage(self, path, *, isochrone_minutes=None, crs=None) -> Path:
        """One GeoPackage (written to a temporary name, then renamed) with layers: ``zones`` (polygons + the
        zone table), ``region`` (the "outside every zone" row, if any, and the region row), ``stations`` (points +
        the station table), ``isochrones`` (display polygons at the thresholds, cumulative), ``curve`` (covered
        share by minute) and ``notes``.

        `crs`: CRS of the layers — None (default) the analysis grid's metric CRS (the GeoTIFFs' too), ``"zones"``
        the zones' own CRS (e.g. lon/lat), or any CRS string."""
        layers = self._layers(isochrone_minutes, crs)
        write_layers(path, layers, styles=self._layer_styles(layers),
                     metadata=geotiff_metadata(self.notes, self.modelled))
        return Path(path)

    def _layer_styles(self, layers: dict) -> dict:
        """zones: covered share against the target; stations: facilities; isochrones: the travel-time bands."""
        breaks = sorted(set(layers["isochrones"]["to_min"].astype(float))) or sorted(self.thresholds_min.values())
        scale = self._raster_styles()["minutes"].uppers        # the same minutes, the same colour as the raster
        return {"zones": coverage_layer_style("covered_share"), "stations": facility_layer_style(layers["stations"]),
                "isochrones": travel_time_style("to_min", breaks, name="response-time bands", scale=scale)}

    def _raster_styles(self) -> dict:
        styles = {"minutes": minutes_raster_style(self.minutes, self.thresholds_min.values())}
        if self.mode is not None:
            styles["mode"] = trip_mode_style()
        return styles

    def _layers(self, isochrone_minutes=None, crs=None) -> dict:
        region = self.table.iloc[len(self.study.ids):].reset_index()  # the outside-every-zone row (if any), region
        region[self.study.zone_id] = region[self.study.zone_id].astype(str)
        curve = self.curve.copy()
        curve.columns = [f"share_{c}" for c in curve.columns]
        curve = curve.reset_index()
        iso = self.isochrones(isochrone_minutes).copy()
        iso["note"] = "display only: people are counted on the grid" + (" — MODELLED inputs" if self.modelled else "")
        stations = self.station_points()
        stations["status"] = stations["status"].astype(str)
        for c in ("zone", "name"):
            if c in stations.columns:
                stations[c] = stations[c].astype(object)
        zones = zones_layer(self.study, self.table)
        if crs is not None:
            target = self.study.frame.crs if crs == "zones" else crs
            zones, stations, iso = zones.to_crs(target), stations.to_crs(target), iso.to_crs(target)
        return {"zones": zones, "region": region, "stations": stations, "isochrones": iso, "curve": curve,
                "notes": notes_frame(self.notes)}

    def _outside_note(self) -> str:
        """' (N of them outside every zone)' when the table has that row, else ''."""
        if OUTSIDE_ZONES_LABEL not in self.table.index:
            return ""
        return f" ({self.table.loc[OUTSIDE_ZONES_LABEL, 'population']:,.0f} of them {OUTSIDE_ZONES_LABEL})"

    def _raster_layers(self) -> dict:
        """The response minutes (float32, NaN = unreachable), the nearest station (int32 index into ``stations``,
        -1 = none; the station ids in the metadata), the people per cell and, with classes, the class per cell."""
        m = np.where(np.isfinite(self.seconds), self.minutes, np.float32(np.nan)).astype(np.float32)
        ids = "|".join(str(i) for i in self.stations.index)
        layers = {"minutes": (m, None, {"UNITS": "minutes (response: dispatch + turnout + travel)"}),
                  "nearest": (self.nearest.astype(np.int32), -1, {"VALUES": "index of the nearest station, -1 none",
                                                                  "STATION_IDS": ids[:METADATA_MAX_CHARS]}),
                  "population": (self.population, None, {"UNITS": "people per cell"})}
        if self.cell_class is not None:
            layers["class"] = (self.cell_class, NO_CLASS,
                               {"CLASSES": "|".join(f"{i}={c}" for i, c in enumerate(self.class_names))})
        if self.mode is not None:
            layers["mode"] = (self.mode, TRIP_MODE_NODATA, {"VALUES": trip_mode_legend()})
        return layers

    def _extra_tables(self) -> dict:
        tables = {"stations": (self.stations, self.notes), "curve": (self.curve, self.notes)}
        if self.mode_split is not None:
            tables["modes"] = (self.mode_split, self.notes)
        return tables

    def plot(self, path=None, *, title=None, zone_label=None, dpi=120, max_labels=25):
        """A map: zones, stations, populated cells shaded covered / beyond the threshold / unreachable (colour-blind
        safe, distinct in greyscale), the legend beside the map, scale bar, north arrow; zone labels and (named
        stations) station labels placed without overlap, the most people first (at most `max_labels` stations);
        the title names the place and says MODELLED when any input is. Returns the matplotlib Figure; with
        `path`, also writes a PNG (PDF for ``.pdf``; temporary name, then renamed). `zone_label`: zone field to
        label zones with (default the last kept field)."""
        from matplotlib.colors import ListedColormap
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        study = self.study
        grid = self.grid
        fig = new_figure(dpi=dpi)
        ax = map_axes(fig)

        # Populated cells: 1 covered, 2 reached beyond the threshold, 3 unreachable; 0 transparent. Cells outside
        # every zone are shaded too: the region row (the subtitle) counts their people in its own row.
        with np.errstate(invalid="ignore"):
            populated = np.nan_to_num(self.population) > 0
        covered = self.covered
        cat = np.zeros(grid.shape, dtype=np.uint8)
        cat[populated & covered] = 1
        cat[populated & ~covered & np.isfinite(self.seconds)] = 2
        cat[populated & ~np.isfinite(self.seconds)] = 3
        x0, y0, x1, y1 = grid.bounds
        cmap = ListedColormap([(1, 1, 1, 0), COVERED_COLOUR, BEYOND_COLOUR, UNREACHABLE_COLOUR])
        ax.imshow(cat, cmap=cmap, vmin=-0.5, vmax=3.5, extent=(x0, x1, y0, y1), origin="upper",
                  interpolation="nearest", zorder=1)

        # Outline of the first class (e.g. "urban") when there are several: it explains the per-class thresholds.
        class_line = None
        if self.cell_class is not None and len(self.class_names) > 1:
            first = (self.cell_class == 0).astype(np.float32)
            if first.any() and not first.all():
                dx, dy = grid.cell_size
                xs = x0 + (np.arange(grid.width) + 0.5) * dx
                ys = y1 - (np.arange(grid.height) + 0.5) * dy
                ax.contour(xs, ys, first, levels=[0.5], colors="#3b3b98", linewidths=0.7, linestyles="--", zorder=4)
                class_line = f"{self.class_names[0]} area ({self.class_names[0]} threshold inside)"

        zones = study.zones
        draw_polygons(ax, list(zones.geometry), fill=False, edgecolor="#222222", linewidth=0.9, zorder=3)
        st = self.stations
        placed = st["status"].isin(["on grid", "snapped"]).to_numpy()
        ax.scatter(st["x"].to_numpy()[placed], st["y"].to_numpy()[placed], marker="^", s=60, c="black",
                   edgecolors="white", linewidths=1.0, zorder=7)
        if (~placed).any():
            ax.scatter(st["x"].to_numpy()[~placed], st["y"].to_numpy()[~placed], marker="x", s=50, c="black", zorder=7)
        frame_zones(ax, zones)

        label_field = zone_label or (study.keep[-1] if study.keep else None)
        table = self.table
        zone_items = []
        for i, geom in enumerate(zones.geometry):
            name = str(zones[label_field].iloc[i]) if label_field else str(study.ids[i])
            pt = geom.representative_point()
            zone_items.append((pt.x, pt.y, f"{name}\n{table['covered_share'].iloc[i]:.0%} covered",
                               table["population"].iloc[i]))
        zl = place_labels(ax, zone_items, kind="area", fontsize=8, zorder=9)
        extra = [zl.note("zones")]
        if "name" in st.columns:
            named = st[placed & st["name"].notna().to_numpy()]
            items = [(r["x"], r["y"], str(r["name"])[:32], r["population_nearest"]) for _, r in named.iterrows()
                     if str(r["name"]).strip()]
            sl = place_labels(ax, items, fontsize=6.5, max_labels=max_labels, avoid=zl.boxes)
            extra.append(sl.note(self.label))

        thr = thresholds_text(self.thresholds_min)
        handles = [Patch(facecolor=COVERED_COLOUR, label=f"covered (response within {thr})"),
                   Patch(facecolor=BEYOND_COLOUR, label="reached, but beyond the threshold"),
                   Patch(facecolor=UNREACHABLE_COLOUR, label="not reached"),
                   Line2D([], [], marker="^", color="black", markerfacecolor="black", linestyle="none",
                          label=self.label),
                   Patch(facecolor="none", edgecolor="#222222", label="zones")]
        if class_line:
            handles.append(Line2D([], [], color="#3b3b98", linestyle="--", linewidth=0.9, label=class_line))
        legend_beside(fig, handles, title="populated cells")

        region = table.iloc[-1]
        return self.finish_map(
            fig, title or f"{headline_prefix(self.modelled)}{place_name(study)}: who {self.label} reach within the "
            "response standard",
            f"{thr}; response = dispatch {self.dispatch_minutes:g} min + turnout + travel. {place_name(study)}: "
            f"{region['covered_share']:.1%} of {region['population']:,.0f} people covered{self._outside_note()}, mean "
            f"{region['mean_minutes']:.1f} min", "; shading shows populated cells only.", path, extra_notes=extra)


def run(study: PreparedStudy, stations, *, thresholds_min=None, dispatch_minutes=0.0, turnout_seconds=None, vehicles=None,
          facility_id=None, name_field=None, layer=None, x=None, y=None, crs=None, snap_max_m=None,
          unplaced="error", residents_per_vehicle=RESIDENTS_PER_VEHICLE, curve_max_minutes=60,
          max_minutes=None, neighbours=8, label="stations", modelled=None, notes=None, hour=None, network=None,
          offroad_speed_kmh=5.0, max_snap_distance_m=None, hour_factors=None) -> "Reach":
    """Response time from `stations` (:meth:`careshed.Study.reach`) and who is covered, per zone and for the region.

    Parameters
    ----------
    stations : path, OGR connection string, GeoDataFrame, or CSV with `x`/`y` (+ `crs`)
        Ambulance stations (or any facilities) as points, any CRS.
    thresholds_min : dict or number
        Minutes per class, e.g. ``{"urban": 11, "rural": 15}``, or one number for every class (``60`` for the
        one-hour circle). Inclusive: a cell at exactly T minutes is covered. Default: the study's
        `thresholds_min`, else the Quzhou plan's ``{"urban": 11, "rural": 15}``.
    dispatch_minutes : float
        Delay between the call and the ambulance leaving, the same for every station (e.g. 3 for "95 % leave
        within 3 minutes", taken at its bound). Added to every response time.
    turnout_seconds : str or number, optional
        Per-station extra delay in SECONDS (a field of `stations`, or one number). Added like dispatch.
    vehicles : str or number, optional
        Ambulances per station (a field, or one number) for the count check: one per
        `residents_per_vehicle` residents, per zone (stations counted in the zone they stand in) and per
        station (residents it is nearest to).
    station_id, name_field : str, optional
        Fields naming the stations (default a field called id / name, else the row number).
    layer, x, y, crs : optional
        How to read `stations` (layer; lon/lat fields and CRS of a CSV).
    snap_max_m : float, optional
        A station outside the grid or on an impassable cell moves to the nearest passable cell centre within
        this distance (default: 500 m or 2 cells, whichever is larger); the move is reported. Beyond it the
        station is refused (`unplaced="error"`, the default: InputError naming the stations) or left out
        with an :class:`UnplacedStationsWarning` (`unplaced="skip"`).
    residents_per_vehicle : float
        Default 30,000.
    curve_max_minutes : int
        The coverage curve runs from 0 to this many minutes (default 60).
    max_minutes : float, optional
        Stop the search beyond this response time (faster on big grids); farther cells count as
        unreachable. Default: no limit.
    neighbours : 8 or 16
        Moves of the raster search (16 adds knight's moves, as GRASS r.cost -k).
    label : str
        What the stations are ("ambulance stations", "top-tier hospitals"), for titles and notes.
    modelled, notes : optional
        As for :class:`Study`, for this call's inputs (e.g. modelled station positions).
    hour : int, optional
        Run at this hour of the day, with the road speed factors the Study's ``travel={"hours": ...}`` gives it
        (docs/travel-modes.md), or `hour_factors` with a `network`. Default: the travel model's own speeds.
    network : :class:`careshed.RoadGraph`, optional
        Drive on this road graph instead of crossing the study's friction surface (docs/network.md, "Reach on
        the road graph"): every station snaps to its nearest graph node and every passable cell centre to its
        nearest node, the straight off-road legs at `offroad_speed_kmh` (default 5: walking to the road) are
        added, and the time between the nodes is the graph's (one-way streets and turn restrictions count; FROM
        the stations, as an ambulance drives). Cells and stations farther than `max_snap_distance_m` from every
        node do not snap (cells: unreachable; stations: InputError). The friction surface only says which cells
        are passable. A Study that walks then rides or walks on terrain is refused.
    hour_factors : optional, with `network`
        Road speed factors by hour for the graph, ``{hour: {class: factor}}`` or a CSV (hour,class,factor) as
        :func:`careshed.arrays.time_of_day.hour_factors`; default: the Study's ``travel={"hours": ...}``. At
        `hour`, the graph runs at its speeds times the hour's class factors (:meth:`RoadGraph.with_speed_factors`).
    """
    t_all = time.perf_counter()
    timings = {}
    if thresholds_min is None:
        thresholds_min = study.thresholds_min
    if thresholds_min is None and study.class_names is None:
        raise UsageError("thresholds_min: this study has one class for every cell; give one threshold in "
                         "minutes, e.g. thresholds_min=15 (or give the Study urban/rural classes=)")
    thresholds = check_thresholds(thresholds_min, study.class_names)
    names = list(thresholds)
    if study.class_names is None and len(names) != 1:
        raise UsageError(f"thresholds_min: {len(names)} classes ({', '.join(names)}) but the study has no "
                         "urban/rural classes; give classes= to the Study, or one threshold")
    dispatch = float(dispatch_minutes)
    if not math.isfinite(dispatch) or dispatch < 0:
        raise UsageError(f"dispatch_minutes: {dispatch_minutes!r} must be a number of minutes >= 0")
    grid = study.grid
    snap = snap_distance(grid, snap_max_m, unplaced)

    t = time.perf_counter()
    st = read_points(stations, grid, facility_id=facility_id, name_field=name_field,
                        turnout_seconds=turnout_seconds, vehicles=vehicles, layer=layer, x=x, y=y, crs=crs)
    fric = study.friction.seconds_per_metre
    rr, cc, moved, status, used, run_notes = place_points(st, grid, np.isfinite(fric), snap, unplaced,
                                                        what="station(s)", one="station", stacklevel=4)
    timings["stations"] = time.perf_counter() - t

    # -- search: one pass from all stations, offsets = dispatch + turnout ---------------------
    t = time.perf_counter()
    offsets = dispatch * 60.0 + st.turnout_s[used]
    sources = np.ascontiguousarray(np.column_stack([rr[used], cc[used]]), dtype=np.int64)
    max_s = None if max_minutes is None else float(max_minutes) * 60.0
    mode = None
    search_again = None  # the run's own search without cut-off and offsets, when it is not walking on friction
    if network is not None:
        graph, graph_notes = network_at(study, network, hour, hour_factors)
        station_xy = np.column_stack([np.asarray(st.x, float)[used], np.asarray(st.y, float)[used]])

        def on_graph(offs, cut):
            return graph_travel_time_grid(graph, grid, station_xy, passable=np.isfinite(fric),
                                          start_offsets_seconds=offs, max_seconds=cut,
                                          offroad_speed_kmh=offroad_speed_kmh, max_snap_distance_m=max_snap_distance_m)

        seconds, nearest_used, station_node = on_graph(offsets, max_s)
        if (station_node < 0).any():
            far = st.ids[int(used[np.flatnonzero(station_node < 0)[0]])]
            raise InputError(f"{st.source}: station {far!r} is farther than {max_snap_distance_m:g} m "
                             f"({keyword('max_snap_distance_m')}) from every node of the road graph; raise the limit, "
                             "or leave the station out")
        search_again = lambda: on_graph(np.zeros(len(station_xy)), None)[0]  # noqa: E731
        run_notes = list(run_notes) + graph_notes
    elif study.ride is not None:
        if hour is not None:
            raise UsageError("hour=: walk then ride (travel={'modes': ...}) has no time of day yet; leave hour out")
        seconds, nearest_used, mode = study.nearest_travel_mode(sources, offsets, max_s, int(neighbours))
    else:
        seconds, nearest_used = study.nearest_travel_time(sources, offsets, max_s, int(neighbours), hour=hour)
    if hour is not None and network is None:
        run_notes = list(run_notes) + [n for n in study.friction_at(hour).notes if n.startswith("time of day:")]
    # nearest_used indexes `used`; map to the input station index (-1 stays -1).
    timings["search"] = time.perf_counter() - t
    # People no station can reach: said with the reason (an error when that is everybody).
    # The test of who is beyond the cut-off (rather than cut off) runs the search this run used, without the cut-off.
    unreached = check_reachable_people(
        seconds, study.population, fric if network is not None else study.friction_at(hour).seconds_per_metre,
        sources, grid.cell_size, int(neighbours), max_seconds=max_s, what="station", stacklevel=4,
        search=search_again or (lambda: study.nearest_travel_time(sources, np.zeros(len(sources)), None,
                                                                   int(neighbours), hour=hour)[0]),
        also_cut_off_by=None if network is not None else study.walk_cap_reason())
    if unreached:
        run_notes = list(run_notes) + [f"unreachable: {unreached}"]

    # -- coverage ---------------------------------------------------------------------------
    t = time.perf_counter()
    # People on the grid outside every zone get their own row (counted in the region row too).
    zones, zone_ids = study.zones_counting_everybody()
    outside_row = len(zone_ids) > len(study.ids)
    cov = coverage_by_zone(seconds, nearest_used, study.population, zones,
                           [thresholds[c] for c in names], study.cell_class, int(curve_max_minutes),
                           zone_ids=zone_ids, class_names=names,
                           station_ids=[st.ids[i] for i in used], n_stations=int(used.size),
                           region_label=study.region_label)
    timings["coverage"] = time.perf_counter() - t

    t = time.perf_counter()
    result = Reach._build(study, st, used, rr, cc, moved, status, seconds, nearest_used, cov, thresholds,
                          dispatch, residents_per_vehicle, label, curve_max_minutes,
                          modelled_notes(modelled) + run_notes + [str(n) for n in as_list(notes)],
                          bool(modelled), outside_row)
    if mode is not None:
        result._set_modes(mode)
    timings["tables"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t_all
    result.timings = timings
    return result


def network_at(study: PreparedStudy, network, hour, hour_factors) -> tuple:
    """(the road graph at `hour`, notes) for a reach on a road graph: the graph itself without an hour, else the
    graph at the hour's class factors (`hour_factors`, default the Study's ``travel={"hours": ...}``)."""
    if not isinstance(network, RoadGraph):
        raise UsageError(f"network: expected a careshed.RoadGraph (e.g. careshed.RoadGraph.from_osm(path, 'car')), got "
                         f"{type(network).__name__}")
    if study.ride is not None or study.terrain is not None:
        raise UsageError("network: a reach on a road graph replaces the study's travel surface; use a Study without "
                         "'modes' (walk then ride) or 'dem' (terrain)")
    notes = [f"travel on a road graph ({network.n_nodes:,} nodes, {network.n_edges:,} directed edges"
             f"{'; turn restrictions honoured' if network.has_turn_restrictions else ''}): stations and cell centres "
             "snap to their nearest node, the off-road legs walked in a straight line"]
    if hour is None:
        return network, notes
    spec = hour_factors_of(hour_factors) if hour_factors is not None else study.hours
    if spec is None:
        raise InputError(f"hour={hour!r}: give the road speed factors by hour (hour_factors= or the Study's "
                         "travel={'hours': ...})")
    if hour not in spec:
        raise InputError(f"hour={hour!r}: the speed factors are given for hours {', '.join(map(str, spec))}; choose "
                         "one of them")
    return network.with_speed_factors(spec[hour]), notes + [
        f"time of day: hour {hour}, road speeds {describe_factors(spec[hour])}"]

