"""Resources per N residents by zone, against targets (issue 2's first analysis).

``resource_density`` answers "are there enough beds (physicians, nurses, ambulances, ...) where people
live?": it totals each resource per zone, divides by the zone's residents, compares with the target
rate and reports the whole units missing. See docs/density.md for every column and rule.

Where the numbers come from (one of, per call):

* the zones' own attribute table (``facilities=None``): a planner's county totals;
* facility points (GeoJSON/GeoPackage/Shapefile/PostGIS points, or a CSV with lon/lat columns): each
  point goes to the zone that covers it (GEOS prepared point-in-polygon in a metric CRS; a point on a
  boundary shared by two zones goes to the zone listed first);
* a facility table with a zone-id column (e.g. the plan's projects with ``county_adcode``).

A scenario (``add=``, e.g. the beds of planned projects) is added on top of the baseline;
``compare_density`` puts baseline and projection side by side. Facilities that cannot be placed in a
zone are never dropped silently: they raise an :class:`UnassignedFacilitiesWarning` naming them and are
listed in ``result.attrs["unassigned"]``.

The arithmetic (rate, target, shortfall, region row) is done once, in C++ (:func:`careshed.arrays.density.density_table`).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..arrays.density import density_table
from ..arrays.geometry import assign_points_to_zones, check_polygons, metric_crs_for, transform_xy
from ..constants import DEFAULT_PER, DEFAULT_PER_OTHER
from ..errors import CRSError, InputError, UsageError
from ..io.fields import as_list, column, id_key, name_column, numeric_column, unique_ids
from ..io.vector import describe_source, load, points_xy, to_wkb
from ..mapping import (add_colourbar, draw_polygons, frame_zones, map_axes, new_figure, place_labels, place_name,
                       robust_scale)
from ..prepared import PreparedStudy
from ..io.qgis_styles import rate_style
from ..results import Result, headline_prefix, notes_frame

__all__ = ["resource_density", "compare_density", "Facilities", "UnassignedFacilitiesWarning", "DEFAULT_PER", "Density",
           "run"]



class UnassignedFacilitiesWarning(UserWarning):
    """Some facilities lie in no zone or carry an unknown zone id; they are not counted in any zone."""


@dataclass
class Facilities:
    """One facility source with its own options (use it when they differ from the call's defaults).

    source: path / OGR connection string / GeoDataFrame of points / DataFrame with a zone-id column.
    resources: ``["beds"]`` or ``{"beds": "beds_new_min"}`` — resource name -> field of this source.
               None = the mapping given to ``resource_density(resources=...)``.
    zone_id: field holding the zone id of each facility (table mode). None = use point geometry when
             there is one, else a field named like the zones' ``zone_id``.
    layer, x, y, crs: how to read it (see :func:`careshed.read_vector`).
    name_field: field used to name facilities in warnings (default: a field called "name" if present).
    label: short description used in notes and warnings (default: the file name).
    """

    source: Any
    resources: Any = None
    zone_id: str | None = None
    layer: str | None = None
    x: str | None = None
    y: str | None = None
    crs: str | None = None
    name_field: str | None = None
    label: str | None = None


# ---- small helpers ------------------------------------------------------------------------------

def _per_label(per: float) -> str:
    return str(int(per)) if float(per).is_integer() else f"{per:g}"


def _resource_mapping(resources, what="resources") -> dict[str, str]:
    if resources is None:
        raise InputError(f"{what}: name at least one resource, e.g. resources=['beds']")
    if isinstance(resources, str):
        resources = [resources]
    if isinstance(resources, Mapping):
        mapping = {str(k): str(v) for k, v in resources.items()}
    else:
        mapping = {}
        for item in resources:
            name, _, fld = str(item).partition("=")
            mapping[name] = fld or name
    if not mapping:
        raise InputError(f"{what}: name at least one resource, e.g. resources=['beds']")
    for name in mapping:
        if not name.isidentifier():
            raise InputError(f"{what}: resource name {name!r} must be a plain name (letters, digits, _) "
                             "because it becomes column names like <name>_per_1000")
    return mapping


def _per_resource(values, names: Sequence[str], what: str, default) -> dict[str, float]:
    if values is None:
        return {n: default(n) for n in names}
    if isinstance(values, (int, float, np.integer, np.floating)) and not isinstance(values, bool):
        return {n: float(values) for n in names}
    if not isinstance(values, Mapping):
        raise InputError(f"{what}: expected a number or a dict {{resource: value}}, got {type(values).__name__}")
    unknown = [k for k in values if k not in names]
    if unknown:
        raise InputError(f"{what}: {unknown[0]!r} is not one of the resources ({', '.join(names)})")
    out = {}
    for n in names:
        v = values.get(n, None)
        if v is None:
            out[n] = default(n)
            continue
        try:
            out[n] = float(v)
        except (TypeError, ValueError):
            raise InputError(f"{what}: value for {n!r} must be a number, got {v!r}") from None
    return out


# ---- zones --------------------------------------------------------------------------------------

class _Zones:
    """Zones read and checked once per call, with the metric geometry made on first need."""

    def __init__(self, zones, *, zone_id, population, layer, metric_crs):
        self.frame = load(zones, what="zones", layer=layer)
        self.source = describe_source(self.frame)
        self.zone_id = zone_id
        ids = column(self.frame, zone_id, "zone id")
        seen = unique_ids(self.source, zone_id, ids.tolist(), "zone")
        self.ids = list(ids.tolist())
        self.index_of = seen
        pop, _ = numeric_column(self.frame, population, "population", ids=self.ids)
        bad = np.flatnonzero(pop <= 0)
        if bad.size:
            i = int(bad[0])
            raise InputError(f"{self.source}: field {population!r} (population), row {i + 1} "
                             f"(zone {self.ids[i]!r}) is {pop[i]:g}; every zone needs a population > 0")
        self.population = pop
        self.metric_crs_arg = metric_crs
        self._metric = None
        if self.has_geometry:
            self._check_polygons()

    def _check_polygons(self) -> None:
        """Zones with geometry must be valid polygons, whatever the counts come from (issue 2)."""
        present = []
        for i, g in enumerate(self.frame.geometry):
            if g is None or g.is_empty:
                continue
            if g.geom_type not in ("Polygon", "MultiPolygon"):
                raise InputError(f"{self.source}: zone {self.ids[i]!r} (row {i + 1}) is a {g.geom_type}; "
                                 "zones must be polygons")
            present.append(i)
        problems = check_polygons([self.frame.geometry.iloc[i] for i in present])
        if problems:
            detail = "; ".join(f"zone {self.ids[present[j]]!r} (row {present[j] + 1}): {reason}"
                               for j, reason in problems[:5])
            raise InputError(f"{self.source}: {len(problems)} invalid polygon(s): {detail}. Repair them "
                             "first, e.g. `ogr2ogr -makevalid fixed.gpkg input.gpkg` or shapely's make_valid")

    @property
    def has_geometry(self) -> bool:
        geom_name = getattr(self.frame, "_geometry_column_name", None)
        return bool(geom_name) and geom_name in self.frame.columns and self.frame.geometry.notna().any()

    def metric(self):
        """(metric CRS, WKB of the zones in it), made once: the zones' CRS when projected, else the UTM
        zone of their centre, unless the caller chose `metric_crs`."""
        if self._metric is not None:
            return self._metric
        if not self.has_geometry:
            raise InputError(f"{self.source}: the zones have no polygons, so facility points cannot be "
                             "placed in them; give zones with geometry, or facilities with a zone-id field")
        gdf = self.frame
        if gdf.crs is None:
            raise CRSError(f"{self.source}: the zones have no CRS; pass crs='EPSG:4326' (or the right one) "
                           "when reading them, or gdf.set_crs(...)")
        for i, g in enumerate(gdf.geometry):
            if g is None or g.is_empty:
                raise InputError(f"{self.source}: zone {self.ids[i]!r} (row {i + 1}) has no geometry, so "
                                 "facility points cannot be placed in it; give every zone its polygon")
        crs = self.metric_crs_arg
        if crs is None:
            if gdf.crs.is_projected:
                crs = gdf.crs
            else:
                crs = metric_crs_for(gdf)
        projected = gdf.to_crs(crs)
        self._metric = (projected.crs, to_wkb(projected.geometry))
        return self._metric


# ---- facilities ---------------------------------------------------------------------------------

def _as_spec(item, defaults: dict) -> Facilities:
    if isinstance(item, Facilities):
        spec = Facilities(**{k: getattr(item, k) for k in Facilities.__dataclass_fields__})
    else:
        spec = Facilities(source=item)
    for k, v in defaults.items():
        if getattr(spec, k) is None and v is not None:
            setattr(spec, k, v)
    return spec


@dataclass
class _Assigned:
    amounts: np.ndarray            # (n_zones, n_res) totals placed in zones
    unassigned: list = field(default_factory=list)   # DataFrames of unassigned facilities
    notes: list = field(default_factory=list)


def _assign(spec: Facilities, zones: _Zones, mapping: dict[str, str], res_names: list[str]) -> _Assigned:
    """Place one facility source's resources in the zones."""
    frame = load(spec.source, what="facilities", layer=spec.layer, crs=spec.crs, x=spec.x, y=spec.y)
    src = spec.label or describe_source(frame)
    own = _resource_mapping(spec.resources, f"{src}: resources") if spec.resources is not None else mapping
    unknown = [r for r in own if r not in res_names]
    if unknown:
        raise InputError(f"{src}: resource {unknown[0]!r} is not one of the resources of this analysis "
                         f"({', '.join(res_names)})")
    n = len(frame)
    per_fac = np.zeros((n, len(res_names)))
    notes: list[str] = []
    for j, r in enumerate(res_names):
        if r in own:
            # An empty amount on a facility means "none of this resource" (a project without beds);
            # text that is not a number is an error naming the row.
            per_fac[:, j], n_null = numeric_column(frame, own[r], f"amount of {r}", allow_null=True)
            if n_null:
                notes.append(f"{src}: {n_null} of {n} facilities have no value in field {own[r]!r}; "
                             f"counted as 0 {r}")

    geom_name = getattr(frame, "_geometry_column_name", None)
    has_points = (spec.zone_id is None and geom_name in frame.columns
                  and any(g is not None for g in frame.geometry.values))
    zone_of = np.full(n, -1, dtype=np.int64)
    reasons = [""] * n
    coords = None
    if has_points:
        metric_crs, zone_wkb = zones.metric()
        if frame.crs is None:
            raise CRSError(f"{src}: the facilities have no CRS; pass crs='EPSG:4326' (or the right one)")
        px, py, kind = points_xy(frame.geometry)
        missing = kind == 1
        other = np.flatnonzero(kind == 2)
        if other.size:
            shapes = frame.geometry.iloc[other]
            for i, g in zip(other, shapes):
                p = g.representative_point()
                px[i], py[i] = p.x, p.y
            notes.append(f"{src}: {', '.join(sorted(set(shapes.geom_type)))} facilities are placed by a "
                         "point inside each shape (representative point)")
        present = ~missing
        px, py = px[present], py[present]
        if frame.crs == metric_crs:
            mx, my = px, py
        else:
            # Coordinates only (not shapely objects) go through PROJ in C++: fast for many points.
            mx, my = transform_xy(px, py, frame.crs.to_wkt(), metric_crs.to_wkt())
        idx = assign_points_to_zones(zone_wkb, mx, my)
        zone_of[present] = idx
        coords = np.full((n, 2), np.nan)
        coords[present, 0] = px
        coords[present, 1] = py
        for i in np.flatnonzero(zone_of < 0):
            reasons[i] = "no geometry" if missing[i] else "outside every zone"
        zone_values = [None] * n
    else:
        col_name = spec.zone_id or zones.zone_id
        if col_name not in frame.columns:
            raise InputError(f"{src}: the facilities have no point geometry and no zone-id field "
                             f"{col_name!r}; give x=/y= coordinate fields (and crs=) for a CSV with "
                             "coordinates, or the field that holds each facility's zone id "
                             f"(available fields: {', '.join(map(str, frame.columns))})")
        zone_values = frame[col_name].tolist()
        for i, v in enumerate(zone_values):
            k = id_key(v)
            if k is None:
                reasons[i] = f"no {col_name}"
            elif k not in zones.index_of:
                reasons[i] = f"unknown zone id {k} in {col_name}"
            else:
                zone_of[i] = zones.index_of[k]

    amounts = np.zeros((len(zones.ids), len(res_names)))
    ok = zone_of >= 0
    np.add.at(amounts, zone_of[ok], per_fac[ok])
    names = name_column(frame, spec.name_field)
    unassigned = []
    bad = np.flatnonzero(~ok)
    if bad.size:
        # Built column-wise: half a million points outside the zones must not cost a dict per row.
        zone_ids = np.empty(bad.size, dtype=object)
        zone_ids[:] = [None if v is None or (isinstance(v, float) and math.isnan(v)) else v
                       for v in (zone_values[i] for i in bad)]
        data = {"source": np.full(bad.size, src, dtype=object), "row": bad + 1,
                "name": (np.full(bad.size, None, dtype=object) if names is None
                         else names.iloc[bad].to_numpy(dtype=object)),
                "reason": np.asarray(reasons, dtype=object)[bad], "zone_id_value": zone_ids,
                "x": coords[bad, 0] if coords is not None else np.full(bad.size, np.nan),
                "y": coords[bad, 1] if coords is not None else np.full(bad.size, np.nan)}
        for j, r in enumerate(res_names):
            data[r] = per_fac[bad, j]
        unassigned.append(pd.DataFrame(data))
    return _Assigned(amounts, unassigned, notes)


def _warn_unassigned(frames: list, res_names: list[str], role: str, stacklevel: int) -> None:
    rows = _unassigned_frame(frames, res_names)
    if rows.empty:
        return
    parts = []
    for r in rows.head(8).to_dict("records"):
        label = f"row {r['row']}" + (f" ({r['name']})" if r.get("name") not in (None, "") else "")
        amounts = ", ".join(f"{r[n]:g} {n}" for n in res_names if r.get(n))
        parts.append(f"{r['source']} {label}: {r['reason']}" + (f" [{amounts}]" if amounts else ""))
    more = f"; and {len(rows) - 8} more" if len(rows) > 8 else ""
    warnings.warn(f"{len(rows)} {role} facilit{'y' if len(rows) == 1 else 'ies'} not counted in any zone: "
                  + "; ".join(parts) + more + " (listed in result.attrs['unassigned'])",
                  UnassignedFacilitiesWarning, stacklevel=stacklevel)


# ---- the analysis -------------------------------------------------------------------------------

@dataclass
class _Prepared:
    zones: _Zones
    res_names: list
    per: dict
    targets: dict
    base: np.ndarray
    added: np.ndarray
    base_unassigned: list
    add_unassigned: list
    notes: list
    keep: list
    region_label: Any
    unassigned_in_region: bool


def _prepare(zones, facilities, *, zone_id, population, resources, targets, per, add, facility_zone_id,
             zones_layer, facilities_layer, x, y, crs, metric_crs, keep, modelled, notes,
             unassigned_in_region, region_label, name_field) -> _Prepared:
    mapping = _resource_mapping(resources)
    res_names = list(mapping)
    per_d = _per_resource(per, res_names, "per", lambda n: float(DEFAULT_PER.get(n, DEFAULT_PER_OTHER)))
    for n, v in per_d.items():
        if not (math.isfinite(v) and v > 0):
            raise UsageError(f"per: {n!r} must be a number of residents > 0 (e.g. 1000), got {v:g}")
    tgt_d = _per_resource(targets, res_names, "targets", lambda n: math.nan)
    for n, v in tgt_d.items():
        if not math.isnan(v) and not (math.isfinite(v) and v >= 0):
            raise InputError(f"targets: {n!r} must be a rate >= 0 per {_per_label(per_d[n])} residents, got {v:g}")

    z = _Zones(zones, zone_id=zone_id, population=population, layer=zones_layer, metric_crs=metric_crs)
    if any(id_key(i) == id_key(region_label) for i in z.ids):
        raise InputError(f"{z.source}: a zone id equals the region row's label {region_label!r}; pass "
                         "region_label='...' with another label")
    out_notes: list[str] = []
    defaults = dict(zone_id=facility_zone_id, layer=facilities_layer, x=x, y=y, crs=crs, name_field=name_field)
    base_unassigned: list = []
    if facilities is None or (isinstance(facilities, (list, tuple)) and not facilities):
        base = np.zeros((len(z.ids), len(res_names)))
        for j, r in enumerate(res_names):
            base[:, j], _ = numeric_column(z.frame, mapping[r], f"amount of {r}", ids=z.ids)
    else:
        base = np.zeros((len(z.ids), len(res_names)))
        for item in as_list(facilities):
            got = _assign(_as_spec(item, defaults), z, mapping, res_names)
            base += got.amounts
            base_unassigned += got.unassigned
            out_notes += got.notes
    added = np.zeros_like(base)
    add_unassigned: list = []
    for item in as_list(add):
        # Scenario tables are usually tables with their own zone-id column: only the reading defaults
        # that make sense for every source are passed on.
        got = _assign(_as_spec(item, dict(name_field=name_field)), z, mapping, res_names)
        added += got.amounts
        add_unassigned += got.unassigned
        out_notes += got.notes

    if modelled:
        if isinstance(modelled, str):
            out_notes.insert(0, f"MODELLED input: {modelled}")
        elif isinstance(modelled, Mapping):
            for r, text in modelled.items():
                out_notes.insert(0, f"MODELLED {r}: {text}")
        else:
            for r in modelled:
                out_notes.insert(0, f"MODELLED {r}: these counts are modelled, not measured")
    for text in as_list(notes):
        out_notes.append(str(text))
    keep_l = [keep] if isinstance(keep, str) else list(keep or [])
    for k in keep_l:
        column(z.frame, k, "kept column")
    return _Prepared(z, res_names, per_d, tgt_d, base, added, base_unassigned, add_unassigned, out_notes,
                     keep_l, region_label, bool(unassigned_in_region))


def _prepare_and_warn(**arguments) -> _Prepared:
    """_prepare, then an UnassignedFacilitiesWarning each for the baseline and the added facilities that fit no
    zone (pointing at the caller of resource_density / compare_density)."""
    p = _prepare(**arguments)
    _warn_unassigned(p.base_unassigned, p.res_names, "baseline", stacklevel=4)
    _warn_unassigned(p.add_unassigned, p.res_names, "added (scenario)", stacklevel=4)
    return p


def _table(p: _Prepared, amounts: np.ndarray, unassigned: list, notes: list) -> pd.DataFrame:
    """Run the C++ arithmetic and shape the result frame."""
    pop = np.ascontiguousarray(p.zones.population, dtype=np.float64)
    per = np.array([p.per[r] for r in p.res_names], dtype=np.float64)
    tgt = np.array([p.targets[r] for r in p.res_names], dtype=np.float64)
    out = density_table(pop, amounts, per, tgt)
    res = out
    notes = list(notes)
    unassigned = _unassigned_frame(unassigned, p.res_names)
    un = unassigned[p.res_names].to_numpy(dtype=np.float64).sum(axis=0) if len(unassigned) else \
        np.zeros(len(p.res_names))
    if p.unassigned_in_region and len(unassigned):
        # The region row also counts facilities that belong to the region but to no known zone (e.g.
        # projects whose site is not decided yet). Same C++ arithmetic, on the region totals.
        region = density_table(np.array([out["population"][-1]]),
                                     (out["amount"][-1] + un)[None, :].astype(np.float64), per, tgt)
        for k in ("amount", "rate", "target", "shortfall"):
            out[k][-1] = np.asarray(region[k])[0]
        notes.append(f"region row includes {len(unassigned)} facilities not assigned to any zone ("
                     + ", ".join(f"{un[j]:g} {r}" for j, r in enumerate(p.res_names)) + ")")
    elif len(unassigned):
        notes.append(f"{len(unassigned)} facilities not assigned to any zone are not counted ("
                     + ", ".join(f"{un[j]:g} {r}" for j, r in enumerate(p.res_names)) + ")")

    index = pd.Index(list(p.zones.ids) + [p.region_label], name=p.zones.zone_id)
    cols: dict[str, Any] = {}
    for k in p.keep:
        cols[k] = list(p.zones.frame[k].tolist()) + [None]
    cols["population"] = _maybe_int(out["population"])
    for j, r in enumerate(p.res_names):
        label = _per_label(p.per[r])
        cols[r] = _maybe_int(out["amount"][:, j])
        cols[f"{r}_per_{label}"] = out["rate"][:, j]
        cols[f"{r}_target"] = out["target"][:, j]
        cols[f"{r}_shortfall"] = _maybe_int(out["shortfall"][:, j])
    frame = pd.DataFrame(cols, index=index)
    frame.attrs["notes"] = notes
    frame.attrs["unassigned"] = unassigned
    frame.attrs["per"] = dict(p.per)
    frame.attrs["targets"] = {r: v for r, v in p.targets.items() if not math.isnan(v)}
    frame.attrs["region_label"] = p.region_label
    ssz = np.asarray(res["shortfall_sum_of_zones"], dtype=np.float64)
    frame.attrs["shortfall_sum_of_zones"] = {r: (None if math.isnan(ssz[j]) else int(ssz[j]))
                                             for j, r in enumerate(p.res_names)}
    return frame


def _maybe_int(values: np.ndarray):
    v = np.asarray(values, dtype=np.float64)
    if np.all(np.isfinite(v)) and np.all(v == np.round(v)) and np.all(np.abs(v) < 2 ** 53):
        return v.astype(np.int64)
    return v


def _unassigned_frame(frames: list, res_names: list) -> pd.DataFrame:
    """One table of unassigned facilities (possibly none) with fixed columns."""
    columns = ["source", "row", "name", "reason", "zone_id_value", "x", "y"] + list(res_names)
    frames = [f for f in frames if len(f)]
    if frames:
        return pd.concat(frames, ignore_index=True)[columns]
    return pd.DataFrame({c: pd.Series(dtype="float64" if c in ("x", "y") or c in res_names else object)
                         for c in columns})


_DOC_PARAMS = """
    zones : path, OGR connection string, GeoDataFrame or DataFrame
        The zones (counties, districts) with an id and a resident population per zone. A plain DataFrame
        (no polygons) is enough when no facility points have to be placed.
    facilities : path / GeoDataFrame / DataFrame / Facilities, or a list of them, optional
        Baseline facilities. None: the resource counts are fields of the zones' own table.
        Points are placed in the zone that covers them (in `metric_crs`); a table without geometry needs a
        zone-id field (`facility_zone_id`, default: a field named like `zone_id`).
    zone_id : str
        Field of `zones` with a unique id per zone; it becomes the result's index.
    population : str
        Field of `zones` with the resident population (> 0 in every zone).
    resources : list of str or dict
        ``["beds", "physicians"]`` (resource = field name) or ``{"beds": "beds_2020"}`` (resource name ->
        field of the zones, or of the facilities when they are given). ``"beds=beds_2020"`` also works.
    targets : dict, optional
        Target rate per resource, in units per `per` residents: ``{"beds": 7.8}``.
    per : number or dict, optional
        Residents per rate unit per resource. Default :data:`DEFAULT_PER` (beds/physicians/nurses 1000,
        general_practitioners 10,000, ambulances 30,000; anything else 1000).
    add : same kinds as `facilities`, optional
        Scenario facilities added on top of the baseline (e.g. the plan's projects). Use
        :class:`Facilities` to give them their own field names: ``Facilities("projects.csv",
        resources={"beds": "beds_new_min"}, zone_id="county_adcode")``.
    facility_zone_id, facilities_layer, x, y, crs : optional
        Defaults for reading the baseline facilities (zone-id field, layer, lon/lat fields, CRS of a CSV).
    zones_layer : str, optional
        Layer of the zones source.
    metric_crs : str, optional
        CRS in which points are placed in zones. Default: the zones' CRS when projected, else the UTM zone
        of the zones' centre.
    keep : list of str, optional
        Zone fields copied into the result (e.g. ``["name"]``).
    modelled : str, list or dict, optional
        Marks modelled inputs: ``{"beds": "city-wide 6.39/1000 x census population"}``. The text goes to
        ``result.attrs["notes"]``, the CSV header and map titles.
    notes : str or list of str, optional
        Further notes to carry on the result.
    unassigned_in_region : bool
        Also count unassigned facilities (e.g. projects whose site is undecided but inside the region) in
        the region row. Default False: they are only reported.
    region_label : default "region"
        Index label of the whole-region row.
    name_field : str, optional
        Facility field used to name facilities in warnings (default: a field called "name").
"""


def resource_density(zones, facilities=None, *, zone_id, population, resources, targets=None, per=None,
                     add=None, facility_zone_id=None, zones_layer=None, facilities_layer=None, x=None,
                     y=None, crs=None, metric_crs=None, keep=None, modelled=None, notes=None,
                     unassigned_in_region=False, region_label="region", name_field=None) -> pd.DataFrame:
    p = _prepare_and_warn(**locals())  # every argument, as given
    return _table(p, p.base + p.added, p.base_unassigned + p.add_unassigned, p.notes)


resource_density.__doc__ = """Resources per N residents by zone, with targets and shortfalls.

    Returns a pandas.DataFrame with one row per zone (index = zone id, in the zones' order) and a last row
    for the whole region (index `region_label`). Columns: `population`, and for each resource R:
    ``R`` (total), ``R_per_<N>`` (rate per N residents), ``R_target`` (NaN without a target) and
    ``R_shortfall`` (whole units missing to reach the target, 0 when met; NaN without a target). The
    region row's rate and shortfall are computed from the region totals, so a surplus in one zone offsets
    a deficit in another; ``attrs["shortfall_sum_of_zones"]`` gives the sum of the zones' shortfalls.

    ``attrs`` also carries ``notes`` (modelled inputs and other caveats), ``unassigned`` (a DataFrame of
    facilities that lie in no zone or have an unknown/empty zone id; they also raise
    :class:`UnassignedFacilitiesWarning`), ``per`` and ``targets``.

    Parameters
    ----------""" + _DOC_PARAMS + """
    Raises
    ------
    careshed.InputError (ValueError): missing field, duplicate or empty zone id, zone without population,
        non-numeric or negative resource value, invalid polygon, bad targets/per.
    careshed.CRSError (ValueError): input without CRS, coordinates impossible in the declared CRS.
    careshed.DataIOError (OSError): missing file, unreadable layer.

    Example
    -------
    >>> table = careshed.resource_density("data/quzhou/counties.geojson", zone_id="adcode",
    ...     population="pop_census2020", resources={"beds": "beds_2020_modelled"}, targets={"beds": 7.8},
    ...     modelled={"beds": "city-wide 6.39 beds/1000 x census population"})
    """


def compare_density(zones, facilities=None, *, add, zone_id, population, resources, targets=None, per=None,
                    facility_zone_id=None, zones_layer=None, facilities_layer=None, x=None, y=None,
                    crs=None, metric_crs=None, keep=None, modelled=None, notes=None,
                    unassigned_in_region=False, region_label="region", name_field=None) -> pd.DataFrame:
    p = _prepare_and_warn(**locals())  # every argument, as given
    baseline = _table(p, p.base, p.base_unassigned, p.notes)
    projected = _table(p, p.base + p.added, p.base_unassigned + p.add_unassigned, p.notes)
    cols: dict[str, Any] = {k: baseline[k] for k in p.keep}
    cols["population"] = baseline["population"]
    for r in p.res_names:
        rate = f"{r}_per_{_per_label(p.per[r])}"
        cols[f"{r}_baseline"] = baseline[r]
        cols[f"{r}_added"] = _maybe_int(projected[r].to_numpy(np.float64) - baseline[r].to_numpy(np.float64))
        cols[f"{r}_projected"] = projected[r]
        cols[f"{rate}_baseline"] = baseline[rate]
        cols[f"{rate}_projected"] = projected[rate]
        cols[f"{r}_target"] = baseline[f"{r}_target"]
        cols[f"{r}_shortfall_baseline"] = baseline[f"{r}_shortfall"]
        cols[f"{r}_shortfall_projected"] = projected[f"{r}_shortfall"]
    frame = pd.DataFrame(cols, index=baseline.index)
    frame.attrs.update(projected.attrs)
    frame.attrs["notes"] = list(projected.attrs["notes"])
    frame.attrs["shortfall_sum_of_zones"] = {
        "baseline": baseline.attrs["shortfall_sum_of_zones"],
        "projected": projected.attrs["shortfall_sum_of_zones"]}
    frame.attrs["baseline"] = baseline
    frame.attrs["projected"] = projected
    return frame


compare_density.__doc__ = """Baseline and projected (baseline + `add`) resource density side by side.

    Same inputs as :func:`resource_density` (with `add` required). Columns: `population`, and for each
    resource R: ``R_baseline``, ``R_added``, ``R_projected``, ``R_per_<N>_baseline``,
    ``R_per_<N>_projected``, ``R_target``, ``R_shortfall_baseline``, ``R_shortfall_projected``.
    ``attrs["baseline"]`` and ``attrs["projected"]`` hold the two full :func:`resource_density` tables;
    ``attrs["unassigned"]`` lists unassigned baseline and scenario facilities; ``attrs["notes"]`` as there.
    """


# ---- the result and the Study method ----------------------------------------------------------------------

class Density(Result):
    """Resources per N residents by zone as a result with the common face (:class:`careshed.results.Result`):
    :meth:`careshed.Study.density`, and what ``careshed density`` writes.

    Attributes: ``table`` (the :func:`resource_density` / :func:`compare_density` table: one row per zone, the
    region last; ``attrs`` as documented there), ``frame`` (the zones as read; polygons when they have them),
    ``notes``, ``modelled``, ``study`` (or None), ``grid`` (the study's, or None: then there are no rasters),
    ``unassigned`` (facilities in no zone). The map shades each zone by the first resource's rate against its
    target; the rasters paint each zone's rate on the study's grid (``<resource>_per_<N>``).
    """

    default_prefix = "density"

    def __init__(self, table: pd.DataFrame, frame, *, study=None):
        self.table = table
        self.frame = frame
        self.study = study
        self.grid = None if study is None else study.grid
        self.notes = list(table.attrs.get("notes", []))
        self.modelled = any(str(n).startswith("MODELLED") for n in self.notes)
        self.unassigned = table.attrs.get("unassigned")
        self.zone_id = table.index.name

    @property
    def rate_columns(self) -> list:
        """The rate columns (``beds_per_1000``, ...; with a projection ``..._projected``) in resource order."""
        return [c for c in self.table.columns if "_per_" in c and not c.endswith("_baseline")]

    @property
    def has_polygons(self) -> bool:
        geom = getattr(self.frame, "_geometry_column_name", None)
        return bool(geom) and geom in self.frame.columns and self.frame.geometry.notna().all()

    @property
    def zones(self):
        """GeoDataFrame of the zones (their own CRS) with the table's numbers, index the zone id; the region row
        last with the union of the zones. Needs zones with polygons."""
        import geopandas as gpd
        from shapely.ops import unary_union

        if not self.has_polygons:
            raise InputError("density: the zones have no polygons (a plain table), so there is no zone layer")
        geoms = list(self.frame.geometry) + [unary_union(list(self.frame.geometry))]
        return gpd.GeoDataFrame(self.table.copy(), geometry=geoms, crs=self.frame.crs)

    def summary(self) -> str:
        r = self.table.iloc[-1]
        parts = []
        for col in self.rate_columns:
            name = col.split("_per_")[0]
            target = r.get(f"{name}_target", math.nan)
            short = r.get(f"{name}_shortfall", r.get(f"{name}_shortfall_projected", math.nan))
            parts.append(f"{col} {r[col]:.2f}" + (f" (target {target:g}, {short:,.0f} short)"
                                                  if not pd.isna(target) else ""))
        return (f"{headline_prefix(self.modelled)}Resources per residents by zone, {self.table.index[-1]}: "
                + "; ".join(parts))

    def _layers(self) -> dict:
        if not self.has_polygons:
            return {"density": self.table.reset_index(), "notes": notes_frame(self.notes)}
        numbers = self.table.iloc[:-1].drop(columns=[k for k in self.table.columns if k in self.frame.columns
                                                      and k != self.zone_id])
        layer = self.frame.copy()
        for col in numbers.columns:
            layer[col] = numbers[col].to_numpy()
        region = self.table.iloc[[-1]].reset_index()
        region[self.zone_id] = region[self.zone_id].astype(str)
        return {"density": layer, "region": region, "notes": notes_frame(self.notes)}

    def _layer_styles(self, layers: dict) -> dict:
        """density (zones with polygons): the first resource's rate against its target (quintiles without one)."""
        if not self.has_polygons or not self.rate_columns:
            return {}
        col = self.rate_columns[0]
        name, per = col.split("_per_", 1)
        target = self.table.iloc[-1].get(f"{name}_target", math.nan)
        target = None if pd.isna(target) else float(target)
        return {"density": rate_style(col, layers["density"][col].tolist(), target,
                                      unit=f"{name} per {per.replace('_projected', '')} residents",
                                      name=f"{name} per {per}"[:30])}

    def _raster_layers(self) -> dict:
        if self.study is None:
            return {}
        zone = self.study.zone_raster.zone
        layers = {}
        for col in self.rate_columns:
            values = self.table[col].to_numpy(dtype=np.float64)[:-1]
            painted = np.where(zone >= 0, values[np.maximum(zone, 0)], np.nan).astype(np.float32)
            layers[col] = (painted, None, {"UNITS": f"{col.replace('_per_', ' per ')} residents of the zone"})
        return layers

    def _extra_tables(self) -> dict:
        if self.unassigned is not None and len(self.unassigned):
            return {"unassigned": (self.unassigned, self.notes, False)}
        return {}

    def plot(self, path=None, *, title=None, dpi=120):
        """Map: zones shaded by the first resource's rate (cividis: readable in greyscale and by colour-blind
        readers; the range clipped at Tukey's fences and the colour bar saying so, the target marked on it),
        labelled with the rate (placed without overlap); MODELLED in the title when an input is. Returns the
        Figure; with `path` a PNG (PDF for ``.pdf``)."""
        if not self.has_polygons:
            raise InputError("density: the zones have no polygons, so there is no map; give zones with geometry")
        col = self.rate_columns[0]
        name = col.split("_per_")[0]
        zones = self.frame.to_crs(metric_crs_for(self.frame))
        rates = self.table[col].to_numpy(dtype=float)[:-1]
        target = float(self.table[f"{name}_target"].iloc[-1]) if f"{name}_target" in self.table else math.nan
        scale = robust_scale(rates, centre=target if math.isfinite(target) else None)
        fig = new_figure(dpi=dpi)
        ax = map_axes(fig)
        draw_polygons(ax, list(zones.geometry), facecolors=[scale.cmap(scale.norm(r)) if np.isfinite(r)
                                                             else (0.85, 0.85, 0.85, 1) for r in rates])
        names = next((self.table[c] for c in self.table.columns if self.table[c].dtype == object), None)
        names = self.table.index[:-1] if names is None else names.iloc[:-1]
        frame_zones(ax, zones)
        areas = [g.area for g in zones.geometry]
        zl = place_labels(ax, [(g.representative_point().x, g.representative_point().y, f"{zid}\n{rate:.2f}", a)
                               for zid, g, rate, a in zip(names, zones.geometry, rates, areas)],
                          kind="area", fontsize=8)
        what = col.replace("_per_", " per ").replace("_", " ")
        add_colourbar(fig, scale, f"{what} residents" + (f" (target {target:g})" if math.isfinite(target) else ""),
                      unit=f"per {what.split(' per ', 1)[1]}" if " per " in what else "",
                      marks={target: "target"} if math.isfinite(target) else {})
        place = place_name(self.study) if self.study is not None else str(self.table.index[-1])
        return self.finish_map(fig, title or f"{headline_prefix(self.modelled)}{place}: "
                               f"{what} residents by zone", None, ".", path,
                               counted_on_grid=False, extra_notes=[zl.note("zones")])


def run(study: PreparedStudy, facilities=None, *, resources, targets=None, per=None, add=None, **kwargs) -> Density:
    """Resources per N residents by zone on a study's zones and zone populations (:meth:`careshed.Study.density`).

    The zones, ``zone_id``, population field (the study's ``population=``), kept fields and region label are the
    study's; every other keyword is :func:`resource_density`'s (with ``add=``, :func:`compare_density`'s).
    Returns a :class:`Density`.
    """
    if study.population_field is None:
        raise InputError("density: the study has no zone population field (population=FIELD); resources per "
                         "residents are counted against the zones' census totals")
    common = dict(zone_id=study.zone_id, population=study.population_field, resources=resources, targets=targets,
                  per=per, keep=study.keep or None, region_label=study.region_label, **kwargs)
    table = (compare_density(study.frame, facilities, add=add, **common) if add is not None
             else resource_density(study.frame, facilities, **common))
    return Density(table, study.frame, study=study)
