"""The planner's report: one self-contained HTML file from a study's results (``study.report([...])``).

Everything is inlined — Leaflet's script and style (webmap.py), the charts (PNG data: URIs, charts.py), the
travel-time overlay, the run record — so the file opens on a computer with no network and no request leaves
the page. Sections: map, summary against the plan's targets, coverage curve, resources per 1000 against
targets, catchments, accessibility, equity, optimisation, referral between levels, mobile outreach, methods and
assumptions (every MODELLED input listed), run record.

Travel time in the report is to the nearest facility (from a catchments result when given; otherwise the
response time of a reach result, which includes its dispatch delay — the report says which).
"""
from __future__ import annotations

import datetime as _dt
import html
import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..arrays.equity import (concentration_index, gini, group_samples, lorenz, shares_beyond, theil,
                             weighted_quantile)
from ..constants import VERSION
from ..errors import InputError
from ..io.atomic import write_atomically
from ..io.fields import level_slug
from ..io.vector import read_table
from .charts import (bands_chart, chart_fonts, coverage_curve_chart, figure_data_uri, gain_curve_chart, lorenz_chart,
                     target_chart)
from .labels import check_language, has_text, text
from .webmap import MINUTE_BREAKS, hotspots, leaflet_assets, map_html, minute_colours, minutes_overlay, zone_features

__all__ = ["ReportTargets", "read_targets", "report_html", "write_report", "travel_equity", "CIRCLE_MINUTES",
           "CIRCLE_SHARE"]

#: The "15-minute medical service circle": share of residents within 15 minutes of care, standard > 90 %.
CIRCLE_MINUTES = 15.0
CIRCLE_SHARE = 0.90
#: Travel-time bands of the equity section, minutes (inclusive upper bounds).
EQUITY_BANDS = (15.0, 30.0, 60.0)


@dataclass
class ReportTargets:
    """Targets the report compares against: {resource: resources per 1000 residents (at least)}, the circle
    KPI (minutes, share) and where they come from."""
    per_1000: dict = field(default_factory=dict)
    circle_minutes: float = CIRCLE_MINUTES
    circle_share: float = CIRCLE_SHARE
    source: str = ""


def read_targets(path, *, column: str = "target_2025") -> ReportTargets:
    """Targets from a plan table like data/quzhou/plan_targets.csv (indicator, per, <column>, direction): every
    indicator counted per "1000 residents" with direction at_least and a value in `column`."""
    table = read_table(path)
    for need in ("indicator", "per", column, "direction"):
        if need not in table.columns:
            raise InputError(f"{path}: the targets table has no column {need!r} (expected indicator, per, "
                             f"{column}, direction)")
    out = {}
    for row in table.itertuples(index=False):
        value = pd.to_numeric(pd.Series([getattr(row, column)]), errors="coerce").iloc[0]
        if str(row.per).strip() == "1000 residents" and str(row.direction).strip() == "at_least" \
                and np.isfinite(value):
            out[str(row.indicator).strip()] = float(value)
    return ReportTargets(per_1000=out, source=f"{Path(path).name} ({column})")


# ---- numbers -----------------------------------------------------------------------------------------------


def _study_of(results) -> object:
    gridded = [r for r in results if getattr(r, "study", None) is not None]
    if not gridded:
        raise InputError("report: give at least one result of a study (study.reach / study.catchments / "
                         "study.access / study.density / study.optimize / study.referral / study.outreach)")
    study = gridded[0].study
    for r in gridded[1:]:
        if r.study is not study:
            raise InputError("report: the results come from different studies; make them on one careshed.Study")
    return study


def _kind(result) -> str:
    if hasattr(result, "levels") and hasattr(result, "two_leg_seconds"):
        return "referral"
    if hasattr(result, "effective_access") and hasattr(result, "schedule"):
        return "outreach"
    if hasattr(result, "diagnostics") and hasattr(result, "sites"):
        return "optimize"
    if hasattr(result, "rate_columns") and hasattr(result, "unassigned"):
        return "density"
    if hasattr(result, "stations") and hasattr(result, "curve"):
        return "reach"
    if hasattr(result, "polygons") and hasattr(result, "nearest"):
        return "catchments"
    if hasattr(result, "score") and hasattr(result, "rate_column"):
        return "access"
    raise InputError(f"report: cannot report a {type(result).__name__}; give results of study.reach, "
                     "study.catchments, study.access, study.density, study.optimize, study.referral or "
                     "study.outreach")


def travel_equity(minutes: np.ndarray, study, *, bands=EQUITY_BANDS, circle_minutes=CIRCLE_MINUTES,
                  standard_field: str | None = None) -> dict:
    """Equity numbers of a travel-time surface (minutes per cell, inf unreachable) over the study's people:
    a per-zone table (+ region row) with population, share within the circle, shares beyond each band,
    unreachable share, mean and median minutes (reached people), Gini; the region's Lorenz curve, Theil split
    between/within zones (and urban/rural with classes), concentration index by `standard_field`."""
    zr, ids = study.zones_counting_everybody()   # + "outside every zone" when the raster puts people there
    v, p, z = group_samples(minutes, study.population, zr.zone, zr.split_cell, zr.split_zone, zr.split_fraction)
    # people only, sorted by minutes once: every later (stable) sort of a selection is then a linear pass
    keep = p > 0
    order = np.argsort(v[keep], kind="stable")
    v, p, z = v[keep][order], p[keep][order], z[keep][order]
    rows = []
    groups = [(i, z == k) for k, i in enumerate(ids)] + [(study.region_label, np.ones(v.size, dtype=bool))]
    for label, sel in groups:
        vv, pp = v[sel], p[sel]
        people = float(pp.sum())
        reached = np.isfinite(vv) & (pp > 0)
        row = {"zone": label, "population": people,
               "within_circle": 1.0 - shares_beyond(vv, pp, [circle_minutes])[0] if people > 0 else np.nan}
        for b, s in zip(bands, shares_beyond(vv, pp, bands)):
            row[f"beyond_{b:g}"] = s
        row["unreachable"] = float(pp[~np.isfinite(vv)].sum()) / people if people > 0 else np.nan
        row["mean_minutes"] = float(np.sum(vv[reached] * pp[reached]) / pp[reached].sum()) if reached.any() else np.nan
        row["median_minutes"] = float(weighted_quantile(vv, pp, [0.5])[0]) if people > 0 else np.nan
        row["gini"] = gini(vv[reached], pp[reached]) if reached.any() and np.sum(vv[reached] * pp[reached]) > 0 \
            else np.nan
        rows.append(row)
    table = pd.DataFrame(rows).set_index("zone")
    out = {"table": table, "bands": tuple(bands), "circle_minutes": float(circle_minutes), "ids": ids}
    reached = np.isfinite(v) & (p > 0)
    if reached.any() and np.sum(v[reached] * p[reached]) > 0:
        out["lorenz"] = lorenz(v[reached], p[reached])
        out["theil_zones"] = theil(v[reached], p[reached], z[reached])
        if study.cell_class is not None and study.class_names and len(study.class_names) > 1:
            cls = np.asarray(study.cell_class).ravel()
            vc, pc = np.asarray(minutes, dtype=np.float64).ravel(), np.asarray(study.population).ravel()
            ok = np.isfinite(vc) & (pc > 0) & (cls != 255)
            out["theil_classes"] = theil(vc[ok], pc[ok], cls[ok].astype(np.int64))  # groups: class indices
        if standard_field is not None:
            values = pd.to_numeric(study.frame[standard_field], errors="coerce").to_numpy(dtype=np.float64)
            if np.any(~np.isfinite(values)):
                raise InputError(f"zones: field {standard_field!r} (living standard) has missing or non-numeric "
                                 "values; the concentration index needs one number per zone")
            out["concentration"] = (standard_field, concentration_index(v[reached], p[reached], values[z[reached]]))
    curve_max = float(np.clip(np.ceil(weighted_quantile(v[np.isfinite(v)], p[np.isfinite(v)], [0.99])[0] / 5) * 5,
                              30, 180)) if reached.any() else 60.0
    t = np.arange(0.0, curve_max + 0.5, 1.0)
    curves = {}
    for label, sel in groups:
        vv, pp = v[sel], p[sel]
        order = np.argsort(vv, kind="stable")
        cum = np.concatenate([[0.0], np.cumsum(pp[order])])
        total = cum[-1]
        curves[label] = cum[np.searchsorted(vv[order], t, side="right")] / total if total > 0 else np.zeros_like(t)
    out["curve"] = (t, curves)
    return out


# ---- HTML pieces -------------------------------------------------------------------------------------------

_CSS = """
body{font-family:"DejaVu Sans","Noto Sans CJK SC",Arial,sans-serif;margin:0;color:#1a1a1a;background:#fafafa}
header{background:#123c5a;color:#fff;padding:18px 28px}header h1{margin:0 0 6px 0;font-size:24px}
header p{margin:2px 0;font-size:13px;opacity:.9}.banner{background:#fff3cd;border-left:6px solid #d39e00;
padding:10px 16px;margin:14px 28px;font-weight:bold}main{padding:0 28px 40px 28px;max-width:1200px}
nav ol{columns:2;font-size:14px}section{background:#fff;border:1px solid #ddd;border-radius:6px;padding:14px 20px;
margin:18px 0}h2{font-size:19px;border-bottom:2px solid #123c5a;padding-bottom:4px}
.careshed-mapbox{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-start}
#careshed-map{flex:1 1 420px;height:560px;border:1px solid #999;background:#e8eef2}#careshed-legend{flex:0 0 auto}
table.data{border-collapse:collapse;font-size:13px;margin:8px 0}table.data th,table.data td{border:1px solid #ccc;
padding:4px 8px;text-align:right}table.data th{background:#eef2f5}table.data td.text{text-align:left}
td.ok{background:#d9ecf7}td.miss{background:#fbe3cf;font-weight:bold}.legend{background:#fff;padding:6px 10px;
font-size:12px;border:1px solid #999;line-height:18px}.swatch{display:inline-block;width:14px;height:14px;
margin-right:6px;vertical-align:middle;border:1px solid #555}table.popup th{text-align:left;padding-right:8px}
img.chart{max-width:100%;height:auto;display:block;margin:8px 0}li.modelled{color:#8a4b00;font-weight:bold}
code,pre{font-size:12px;background:#f1f1f1;padding:2px 4px}pre{white-space:pre-wrap;padding:8px}
p.modelled{color:#8a4b00;font-weight:bold}
@media print{#careshed-map{height:420px}section{break-inside:avoid}}
"""


def _esc(v) -> str:
    return html.escape(str(v))


def _people(v) -> str:
    return f"{v:,.0f}" if v is not None and np.isfinite(v) else "—"


def _pct(v) -> str:
    return f"{v * 100:.1f} %" if v is not None and np.isfinite(v) else "—"


def _num(v, digits=2) -> str:
    if v is None or not np.isfinite(v):
        return "∞" if v is not None and np.isposinf(v) else "—"
    return f"{v:,.{digits}f}"


def _table(header: list[str], rows: list[list], table_id: str) -> str:
    """rows: cells as text or (text, css class)."""
    out = [f'<table class="data" id="{table_id}"><thead><tr>'
           + "".join(f"<th>{_esc(h)}</th>" for h in header) + "</tr></thead><tbody>"]
    for row in rows:
        cells = []
        for c in row:
            txt, cls = (c if isinstance(c, tuple) else (c, ""))
            cells.append(f'<td class="{cls}">{_esc(txt)}</td>' if cls else f"<td>{_esc(txt)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    return "".join(out) + "</tbody></table>"


def _status(value, target, lang, higher=True):
    if target is None or value is None or not np.isfinite(value):
        return (text(lang, "no_target"), "")
    ok = value >= target if higher else value <= target
    return (text(lang, "meets" if ok else "misses"), "ok" if ok else "miss")


def _has_cjk(s) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in str(s))


def zone_labels(study, lang: str) -> list[str]:
    """Zone labels: a kept text field in the report's language (Chinese names for zh when the zones have
    them, names without Chinese characters for en), else the zone ids."""
    fields = [k for k in study.keep if k in study.frame.columns and study.frame[k].dtype == object]
    if not fields:
        return [str(i) for i in study.ids]
    cjk = [f for f in fields if study.frame[f].map(_has_cjk).any()]
    plain = [f for f in fields if f not in cjk]
    pick = (cjk or plain)[0] if lang == "zh" else (plain or cjk)[0]
    return [str(v) for v in study.frame[pick]]


def _section(sid: str, title: str, body: str) -> str:
    return f'<section id="{sid}"><h2>{_esc(title)}</h2>\n{body}\n</section>\n'


def _img(uri: str, alt: str) -> str:
    return f'<img class="chart" src="{uri}" alt="{_esc(alt)}">'


def _share_colour(share: float, target: float) -> str:
    """Zone fill by share within the circle against its target: blues at/above target, oranges below."""
    if share is None or not np.isfinite(share):
        return "#bdbdbd"
    if share >= target:
        return "#2166ac"
    if share >= target - 0.15:
        return "#fdb863"
    if share >= target - 0.40:
        return "#e66101"
    return "#7f2704"


def _ratio_colour(value: float, target: float) -> str:
    if value is None or not np.isfinite(value):
        return "#bdbdbd"
    r = value / target
    for bound, colour in ((1.0, "#2166ac"), (0.9, "#92c5de"), (0.75, "#fdb863"), (0.0, "#e66101")):
        if r >= bound:
            return colour
    return "#e66101"


def report_html(results, *, lang: str = "en", title: str | None = None, targets: ReportTargets | None = None,
                density: pd.DataFrame | None = None, record: dict | None = None, standard_field: str | None = None,
                facility_fields: dict | None = None) -> str:
    """The report as one HTML string (see :func:`write_report`)."""
    lang = check_language(lang)
    results = list(results)
    study = _study_of(results)
    by_kind: dict = {}
    for r in results:
        by_kind.setdefault(_kind(r), r)
    targets = targets or ReportTargets()
    catch, reach, access = by_kind.get("catchments"), by_kind.get("reach"), by_kind.get("access")
    opt = by_kind.get("optimize")
    referral, outreach = by_kind.get("referral"), by_kind.get("outreach")
    if density is None and "density" in by_kind:
        density = by_kind["density"].table
    timed = catch or reach
    labels = zone_labels(study, lang)
    region_name = text(lang, "whole_region") if lang == "zh" else str(study.region_label)
    place = title or str(study.region_label)
    modelled = any(bool(getattr(r, "modelled", False)) for r in results) or bool(getattr(study, "modelled", False))
    need_cjk = lang == "zh" or any(_has_cjk(x) for x in labels)
    circle = targets.circle_minutes
    parts = []
    toc = []

    def add(sid, key, body, **kw):
        toc.append((sid, text(lang, key, **kw)))
        parts.append(_section(sid, text(lang, key, **kw), body))

    with chart_fonts(need_cjk):
        eq = None
        if timed is not None:
            minutes = np.asarray(timed.seconds, dtype=np.float64) / 60.0
            # in no zone and nobody living there: not part of the study area (transparent on the map)
            outside = (np.asarray(study.zone_raster.zone) == -1) & ~(np.nan_to_num(study.population) > 0)
            eq = travel_equity(minutes, study, circle_minutes=circle, standard_field=standard_field)
            et = eq["table"]
            row_ids = list(eq["ids"]) + [study.region_label]
            row_labels = labels + [text(lang, "outside_zones")] * (len(eq["ids"]) - len(labels)) + [region_name]

        # -- map --
        js, css = leaflet_assets()
        zone_layers = []
        if eq is not None:
            vals = [et.loc[i, "within_circle"] for i in study.ids]
            zone_layers.append({"name": text(lang, "layer_zones_cov", m=circle), "features": zone_features(
                study.zones, labels,
                [{text(lang, "population"): _people(et.loc[i, "population"]),
                  text(lang, "within_minutes", m=circle): _pct(et.loc[i, "within_circle"]),
                  text(lang, "target"): _pct(targets.circle_share),
                  text(lang, "mean_minutes"): _num(et.loc[i, "mean_minutes"], 1)} for i in study.ids],
                [_share_colour(v, targets.circle_share) for v in vals])})
        rate = _zone_rates(study, access, density, targets)
        if rate is not None:
            rate = (resource_label(lang, rate[0]),) + tuple(rate[1:])
        if rate is not None:
            name, values, target = rate
            zone_layers.append({"name": text(lang, "layer_zones_res", resource=name), "features": zone_features(
                study.zones, labels,
                [{f"{name} {text(lang, 'per_1000')}": _num(v), text(lang, "target"): _num(target)} for v in values],
                [_ratio_colour(v, target) for v in values])})
        if referral is not None:
            layer = _referral_zone_layer(referral, study, labels, lang)
            if layer is not None:
                zone_layers.append(layer)
        if outreach is not None:
            zone_layers.append(_outreach_zone_layer(outreach, study, labels, lang))
        if not zone_layers:
            zone_layers.append({"name": text(lang, "zone"), "features": zone_features(
                study.zones, labels, [{} for _ in labels], ["#cccccc"] * len(labels))})
        data = {"zone_layers": zone_layers, "raster": None, "hotspots": None, "facilities": None,
                "legend": {"title": text(lang, "legend_minutes"), "items": []}}
        if timed is not None:
            over = minutes_overlay(np.where(outside, np.nan, minutes), study.grid)
            data["raster"] = {"name": text(lang, "layer_raster"), "show": False, **over}
            colours = minute_colours()
            lo = 0
            items = []
            for b, c in zip(MINUTE_BREAKS, colours):
                items.append([c, f"{lo:g}–{b:g}"])
                lo = b
            items.append([colours[-1], f"> {MINUTE_BREAKS[-1]:g}"])
            items.append(["#9e9e9e", text(lang, "unreachable")])
            data["legend"]["items"] = items
            spots = hotspots(np.where(outside, 0.0, minutes), study.population, study.grid, circle)
            word = text(lang, "layer_hotspots", m=circle)
            data["hotspots"] = {"name": word, "points": [
                {**s, "text": f"{_people(s['people'])} — {word}"} for s in spots]}
        fac = _facility_points(catch or access or reach, lang, facility_fields or {})
        if not fac and referral is not None:
            fac = _facility_points(referral, lang, {"level": referral.table["level"].to_dict()})
        if fac:
            data["facilities"] = {"name": text(lang, "layer_facilities"), "points": fac}
        if opt is not None:
            data["sites"] = {"name": text(lang, "layer_sites"), "points": _site_points(opt, lang)}
        if referral is not None:
            data.setdefault("lines", []).append(_referral_lines(referral, lang))
        if outreach is not None:
            lines, layers = _outreach_map(outreach, lang)
            data.setdefault("lines", []).append(lines)
            data["point_layers"] = layers
        add("map", "map", map_html(data))

        # -- summary against targets --
        if eq is not None:
            header = [text(lang, "zone"), text(lang, "population"),
                      f"{text(lang, 'kpi_circle')}: {text(lang, 'within_minutes', m=circle)}",
                      f"{text(lang, 'target')} > {targets.circle_share * 100:g} %", text(lang, "mean_minutes")]
            extra = []
            if reach is not None:
                header.append(text(lang, "covered_share"))
                extra.append(lambda zid: _pct(reach.table["covered_share"].get(zid, np.nan)))
            if rate is not None:
                name, values, target = rate
                header += [f"{name} {text(lang, 'per_1000')}", f"{text(lang, 'target')} {target:g}"]
                rate_of = dict(zip(list(study.ids) + [study.region_label], values))
                extra.append(lambda zid: _num(rate_of.get(zid, np.nan)))
                extra.append(lambda zid: _status(rate_of.get(zid, np.nan), target, lang))
            rows = []
            for zid, lab in zip(row_ids, row_labels):
                r = et.loc[zid]
                rows.append([("" + lab, "text"), _people(r["population"]), _pct(r["within_circle"]),
                             _status(r["within_circle"], targets.circle_share, lang), _num(r["mean_minutes"], 1)]
                            + [f(zid) for f in extra])
            note = f"<p>{_esc(text(lang, 'target'))}: {_esc(targets.source)}</p>" if targets.source else ""
            add("summary", "summary", _table(header, rows, "summary-table") + note)

            # -- coverage curve --
            t, curves = eq["curve"]
            named = {lab: curves[zid] for zid, lab in zip(study.ids, labels)}
            named[region_name] = curves[study.region_label]
            uri = coverage_curve_chart(t, named, title=text(lang, "curve_title"), xlabel=text(lang, "minutes_to_care"),
                                       ylabel=text(lang, "people_share"), marks=(circle,), region=region_name)
            add("curve", "coverage_curve", _img(uri, text(lang, "curve_title")))

        # -- density vs targets --
        if rate is not None:
            name, values, target = rate
            uri = target_chart(labels + [region_name], values, target,
                               title=text(lang, "density_title", resource=name),
                               ylabel=f"{name} {text(lang, 'per_1000')}", target_label=text(lang, "target"))
            add("density", "density", _img(uri, text(lang, "density_title", resource=name)))

        # -- catchments --
        if catch is not None:
            t = catch.table
            res = [c for c in t.columns if c.endswith("_per_1000")]
            header = [text(lang, "facility"), text(lang, "name"), text(lang, "served"), text(lang, "mean_minutes")]
            header += [c.replace("_per_1000", "") for c in res] + [f"{c.replace('_per_1000', '')} "
                                                                    f"{text(lang, 'per_1000')}" for c in res]
            rows = [[(str(fid), "text"), (str(r.get("name", "") or ""), "text"), _people(r["population"]),
                     _num(r["mean_minutes"], 1)] + [_people(r[c.replace("_per_1000", "")]) for c in res]
                    + [_num(r[c]) for c in res] for fid, r in t.iterrows()]
            add("catchments", "catchments", _table(header, rows, "catchments-table"))

        # -- accessibility --
        if access is not None:
            t = access.table
            header = [text(lang, "zone"), text(lang, "population"), access.rate_column, text(lang, "no_access")]
            ids = list(t.index[:-1])
            names = labels + [text(lang, "outside_zones")] * (len(ids) - len(labels)) + [region_name]
            rows = [[(lab, "text"), _people(t.loc[zid, "population"]), _num(t.loc[zid, access.rate_column]),
                     _people(t.loc[zid, "population_no_access"])]
                    for zid, lab in zip(ids + [t.index[-1]], names)]
            add("access", "accessibility", f"<p>{_esc(access.method.upper())}, {access.max_minutes:g} "
                f"{_esc(text(lang, 'minutes'))}</p>" + _table(header, rows, "access-table"))

        # -- equity --
        if eq is not None:
            add("equity", "equity", _equity_body(eq, study, row_ids, row_labels, lang))

        # -- optimisation --
        if opt is not None:
            add("optimisation", "optimisation", _optimisation_body(opt, study, labels, region_name, lang))

        # -- referral between levels --
        if referral is not None:
            add("referral", "referral", _referral_body(referral, labels, region_name, lang))

        # -- mobile outreach --
        if outreach is not None:
            add("outreach", "outreach", _outreach_body(outreach, labels, region_name, lang))

    # -- methods --
    notes = []
    for r in results:
        for n in list(getattr(r, "notes", [])):
            if n not in notes:
                notes.append(n)
    modelled_notes = [n for n in notes if n.startswith("MODELLED")]
    other = [n for n in notes if not n.startswith("MODELLED")]
    body = ""
    if timed is catch and catch is not None:
        body += "<p>Travel time: to the nearest facility (catchments), inclusive thresholds.</p>"
    elif timed is not None:
        body += ("<p>Travel time: the reach result's response time (dispatch delay + travel to the nearest "
                 "station).</p>")
    body += (f"<h3>{_esc(text(lang, 'modelled_inputs'))}</h3><ul>"
             + ("".join(f'<li class="modelled">{_esc(n)}</li>' for n in modelled_notes) or "<li>—</li>") + "</ul>")
    body += f"<h3>{_esc(text(lang, 'notes'))}</h3><ul>" + "".join(f"<li>{_esc(n)}</li>" for n in other) + "</ul>"
    body += _METHODS
    add("methods", "methods", body)

    # -- run record --
    if record is not None:
        add("record", "record", _record_body(record, lang))

    when = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    head = (f"<header><h1>{_esc(text(lang, 'title', place=place))}</h1>"
            f"<p>{_esc(text(lang, 'generated', version=VERSION, when=when))}</p></header>")
    banner = f'<div class="banner" id="modelled-banner">{_esc(text(lang, "modelled_banner"))}</div>' if modelled else ""
    nav = (f"<nav><h2>{_esc(text(lang, 'contents'))}</h2><ol>"
           + "".join(f'<li><a href="#{sid}">{_esc(t)}</a></li>' for sid, t in toc) + "</ol></nav>")
    record_json = ("" if record is None else '<script type="application/json" id="careshed-run-record">'
                   + json.dumps(record, ensure_ascii=False).replace("</", "<\\/") + "</script>")
    html_lang = "zh-CN" if lang == "zh" else "en"
    return (f'<!DOCTYPE html>\n<html lang="{html_lang}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
            "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
            f"<title>{_esc(text(lang, 'title', place=place))}</title>"
            f"<style>{css}</style><style>{_CSS}</style><script>{js}</script></head>\n<body>{head}{banner}<main>"
            f"{nav}{''.join(parts)}</main>{record_json}</body></html>\n")


_METHODS = """
<h3>Formulas</h3><ul>
<li>Travel time: accumulated cost over the friction surface from the nearest facility (GRASS r.cost rule,
8 neighbours); people are counted on the grid cells, never in display polygons; thresholds are inclusive.</li>
<li>Share within t minutes: people of cells with travel time &le; t over all people of the zone; unreachable
cells are beyond every threshold.</li>
<li>Gini (Gini 1912; weighted discrete form): G = 1 &minus; &Sigma;<sub>k</sub> (p<sub>k</sub> &minus;
p<sub>k&minus;1</sub>)(L<sub>k</sub> + L<sub>k&minus;1</sub>) over the Lorenz curve of travel time (people with a
facility in reach); equal to the mean absolute difference between people over twice the mean.</li>
<li>Theil T (Theil 1967; Shorrocks 1980): T = (1/W) &Sigma; w<sub>i</sub> (x<sub>i</sub>/&mu;)
ln(x<sub>i</sub>/&mu;), split exactly into within = &Sigma;<sub>g</sub> s<sub>g</sub> T<sub>g</sub> and between =
&Sigma;<sub>g</sub> s<sub>g</sub> ln(&mu;<sub>g</sub>/&mu;), s<sub>g</sub> the group's share of total travel
time.</li>
<li>Concentration index (Kakwani, Wagstaff &amp; van Doorslaer 1997): CI = 2 cov<sub>w</sub>(x, R)/&mu;, R the
fractional rank by the living-standard field (ties share the mid-point rank).</li>
<li>15-minute medical service circle: share of residents within 15 minutes of a facility; the standard is more
than 90 % (China's county-level health service capacity guidance).</li>
</ul>
"""


def resource_label(lang: str, name: str) -> str:
    """A resource's name in the report's language (beds, physicians, nurses known; others as given)."""
    key = f"resource_{name}"
    return text(lang, key) if has_text(key) else name


def _zone_rates(study, access, density, targets: ReportTargets):
    """(resource name, values per zone + region, target) for the resource-vs-target layer and chart: the
    density table's projected (else baseline) rate when given, else the access result's rate; None without a
    target for it."""
    if density is not None:
        for col in density.columns:
            for suffix in ("_per_1000_projected", "_per_1000_baseline", "_per_1000"):
                if col.endswith(suffix):
                    name = col[: -len(suffix)]
                    if name in targets.per_1000:
                        d = density[col]
                        d = d.set_axis([str(i) for i in d.index])
                        values = [float(d.get(str(i), np.nan)) for i in study.ids] + [float(d.iloc[-1])]
                        return name, values, targets.per_1000[name]
    if access is not None and access.supply_name in targets.per_1000 and float(access.per) == 1000.0:
        t = access.table[access.rate_column]
        return access.supply_name, [float(t.loc[i]) for i in study.ids] + [float(t.iloc[-1])], \
            targets.per_1000[access.supply_name]
    return None


def _facility_points(result, lang: str, fields: dict) -> list[dict]:
    """The facilities of a result as map points (lon/lat) with popup rows: name, level (when `fields` names a
    level field), resources, population served."""
    if result is None:
        return []
    from pyproj import Transformer

    table = getattr(result, "stations", None)
    if table is None or not hasattr(result, "curve"):
        table = result.table if hasattr(result, "polygons") or hasattr(result, "levels") else result.facilities
    placed = table["status"].astype(str).isin(["on grid", "snapped"]).to_numpy()
    t = table[placed]
    lon, lat = Transformer.from_crs(result.grid.crs, "EPSG:4326", always_xy=True).transform(
        t["x"].to_numpy(dtype=float), t["y"].to_numpy(dtype=float))
    served = next((c for c in ("population", "population_nearest") if c in t.columns), None)
    resources = [c[: -len("_per_1000")] for c in t.columns if c.endswith("_per_1000")]
    if "supply" in t.columns:
        resources = ["supply"]
    levels = fields.get("level", {})
    out = []
    for (fid, row), x, y in zip(t.iterrows(), np.atleast_1d(lon), np.atleast_1d(lat)):
        name = str(row["name"]) if "name" in t.columns and row["name"] else str(fid)
        rows = {text(lang, "facility"): str(fid)}
        if fid in levels or str(fid) in levels:
            rows[text(lang, "level")] = str(levels.get(fid, levels.get(str(fid))))
        for c in resources:
            if c in t.columns:
                rows[c] = _people(float(row[c]))
        if served:
            rows[text(lang, "served")] = _people(float(row[served]))
        out.append({"lat": float(y), "lon": float(x), "title": name, "rows": rows})
    return out


def _equity_body(eq, study, ids, names, lang) -> str:
    """The equity section: per-row table (zones, outside, region), band chart, Lorenz curve, indices."""
    et = eq["table"]
    bands = eq["bands"]
    header = [text(lang, "zone"), text(lang, "population"), text(lang, "within_minutes", m=eq["circle_minutes"])]
    header += [text(lang, "beyond_minutes", m=b) for b in bands]
    header += [text(lang, "unreachable"), text(lang, "median_minutes"), text(lang, "gini")]
    rows = []
    for zid, lab in zip(ids, names):
        r = et.loc[zid]
        rows.append([(lab, "text"), _people(r["population"]), _pct(r["within_circle"])]
                    + [_pct(r[f"beyond_{b:g}"]) for b in bands]
                    + [_pct(r["unreachable"]), _num(r["median_minutes"], 1), _num(r["gini"], 3)])
    body = _table(header, rows, "equity-table")
    # band shares: <=b1, b1-b2, ..., > last (reached), unreachable
    shares = []
    for zid in ids:
        r = et.loc[zid]
        beyond = [1.0] + [r[f"beyond_{b:g}"] for b in bands]
        row = [beyond[i] - beyond[i + 1] for i in range(len(bands))]
        row.append(beyond[-1] - r["unreachable"])
        row.append(r["unreachable"])
        shares.append(row)
    lo = 0.0
    band_labels = []
    for b in bands:
        band_labels.append(f"{lo:g}–{b:g} {text(lang, 'minutes')}")
        lo = b
    band_labels += [f"> {bands[-1]:g} {text(lang, 'minutes')}", text(lang, "unreachable")]
    body += _img(bands_chart(names, np.array(shares), band_labels, title=text(lang, "bands_title"),
                             xlabel=text(lang, "people_share")), text(lang, "bands_title"))
    items = []
    if "lorenz" in eq:
        p, L = eq["lorenz"]
        g = et.loc[study.region_label, "gini"]
        body += _img(lorenz_chart(p, L, title=text(lang, "lorenz_title"), xlabel=text(lang, "share_of_people"),
                                  ylabel=text(lang, "share_of_minutes"), equality=text(lang, "equality_line"),
                                  note=f"Gini = {g:.3f}"), text(lang, "lorenz_title"))
        tz = eq["theil_zones"]
        items.append(f"{text(lang, 'gini')}: {g:.4f}")
        items.append(f"{text(lang, 'theil')}: {tz.total:.4f} = {text(lang, 'theil_within')} {tz.within:.4f} + "
                     f"{text(lang, 'theil_between')} {tz.between:.4f}")
        if "theil_classes" in eq:
            tc = eq["theil_classes"]
            items.append(f"{text(lang, 'theil')}: {tc.total:.4f}; {text(lang, 'theil_urban')} {tc.between:.4f}")
        if "concentration" in eq:
            fld, ci = eq["concentration"]
            items.append(f"{text(lang, 'concentration', field=fld)}: {ci:.4f}")
    body += '<ul id="equity-indices">' + "".join(f"<li>{_esc(i)}</li>" for i in items) + "</ul>"
    return body


def _site_points(opt, lang: str) -> list[dict]:
    """The sites an optimisation added, as map points (lon/lat) with popups: rank, marginal gain, name."""
    from pyproj import Transformer

    s = opt.sites[opt.sites["open"] & ~opt.sites["fixed"]].sort_values("added_rank")
    lon, lat = Transformer.from_crs(opt.grid.crs, "EPSG:4326", always_xy=True).transform(
        s["x"].to_numpy(dtype=float), s["y"].to_numpy(dtype=float))
    out = []
    for (sid, row), x, y in zip(s.iterrows(), np.atleast_1d(lon), np.atleast_1d(lat)):
        rank = int(row["added_rank"]) if np.isfinite(row["added_rank"]) else None
        name = row["name"] if isinstance(row.get("name"), str) and row.get("name") else str(sid)
        rows = {text(lang, "rank"): str(rank) if rank else "—",
                text(lang, "marginal_gain"): _people(float(row["marginal_gain"]))}
        out.append({"lat": float(y), "lon": float(x), "title": f"{rank}: {name}" if rank else name, "rows": rows})
    return out


def _optimisation_body(opt, study, labels, region_name, lang) -> str:
    """Solver report (model, objective, bound, gap, time), covered before / after per zone, the marginal-gain
    curve and the before / after / difference maps."""
    d = opt.diagnostics
    s = opt.sites
    added = int((s["open"] & ~s["fixed"]).sum())
    solver_rows = [(text(lang, "model"), d["model"]), (text(lang, "solver"), f"{d['solver']} ({d['status']})"),
                   (text(lang, "objective"), f"{d['objective']:,.6g}"),
                   (text(lang, "bound"), f"{d['bound']:,.6g} ({d['bound_source']})"),
                   (text(lang, "gap"), f"{d['gap']:.3%}"),
                   (text(lang, "proven_optimal"), text(lang, "yes" if d["proven_optimal"] else "no")),
                   (text(lang, "solve_seconds"), f"{d['seconds']:.2f}"),
                   (text(lang, "candidates"), f"{d['candidates']:,}"),
                   (text(lang, "existing_sites"), f"{d['existing']:,}"), (text(lang, "added_sites"), f"{added:,}")]
    body = f"<h3>{_esc(text(lang, 'solver_report'))}</h3>" + _table(
        [text(lang, "indicator"), text(lang, "value")], [[(k, "text"), (v, "text")] for k, v in solver_rows],
        "solver-table")
    t = opt.table
    names = labels + [region_name]
    header = [text(lang, "zone"), text(lang, "population"), text(lang, "covered_before"), text(lang, "covered_after"),
              text(lang, "share_before"), text(lang, "share_after"), text(lang, "gained")]
    rows = [[(lab, "text"), _people(r["population"]), _people(r["covered_before"]), _people(r["covered_after"]),
             _pct(r["share_before"]), _pct(r["share_after"]), _people(r["gained"])]
            for lab, (_, r) in zip(names, t.iterrows())]
    body += _table(header, rows, "optimisation-table")
    curve = opt.curve
    if len(curve):
        covering = "objective" in curve.columns
        body += _img(gain_curve_chart(curve["rank"], curve["gain"],
                                      float(t.iloc[-1]["covered_before"]) if covering else 0.0,
                                      title=text(lang, "gain_title"), xlabel=text(lang, "rank"),
                                      ylabel=text(lang, "people_covered"), bar_label=text(lang, "people_added")),
                     text(lang, "gain_title"))
    if getattr(opt, "covered_cells_before", None) is not None and hasattr(opt, "plot_change"):
        body += _img(figure_data_uri(opt.plot_change(dpi=80)), text(lang, "change_title"))
    return body


def _modelled_line(result, lang: str) -> str:
    """The section's own MODELLED label (the banner says it for the page; a printed section says it too)."""
    return f'<p class="modelled">{_esc(text(lang, "modelled_section"))}</p>' if getattr(result, "modelled", False) \
        else ""


def _row_names(index, labels, region_name, lang) -> list[str]:
    """Row labels of a zone table (zones, then "outside every zone" rows, then the region)."""
    n = len(index) - 1
    return labels[:n] + [text(lang, "outside_zones")] * (n - len(labels)) + [region_name]


def _lonlat(grid_crs, x, y):
    from pyproj import Transformer

    return Transformer.from_crs(grid_crs, "EPSG:4326", always_xy=True).transform(np.asarray(x, dtype=float),
                                                                                 np.asarray(y, dtype=float))


#: Most referral routes drawn on the web map (gaps first), and most vertices per route line.
MAP_MAX_LINES, MAP_MAX_VERTICES = 3000, 200


def _referral_zone_layer(ref, study, labels, lang):
    """Zones coloured by the share within the first-contact standard (None when that level has no standard)."""
    lv = ref.first_contact
    if lv not in ref.standards_minutes:
        return None
    col = "share_within_" + level_slug(lv)
    zt = ref.zone_table
    m = ref.standards_minutes[lv]
    vals = [float(zt.loc[i, col]) for i in study.ids]
    return {"name": text(lang, "layer_referral_zones", level=lv, m=m), "features": zone_features(
        study.zones, labels,
        [{text(lang, "population"): _people(zt.loc[i, "population"]),
          text(lang, "within_level", level=lv, m=m): _pct(zt.loc[i, col]),
          text(lang, "mean_two_leg"): _num(zt.loc[i, "mean_two_leg_minutes"], 1)} for i in study.ids],
        [_share_colour(v, CIRCLE_SHARE) for v in vals])}


def _referral_lines(ref, lang) -> dict:
    """Each facility's least-time referral route as a line (vermillion and solid beyond its standard)."""
    t = ref.table
    grid = ref.grid
    order = np.argsort(~t["referral_gap"].to_numpy(dtype=bool), kind="stable")   # gaps first
    out = []
    for i in order:
        route = ref.routes[int(i)]
        if route is None or len(route) == 0 or len(out) >= MAP_MAX_LINES:
            continue
        route = np.asarray(route, dtype=np.int64)
        step = max(1, int(np.ceil(len(route) / MAP_MAX_VERTICES)))
        keep = np.unique(np.append(np.arange(0, len(route), step), len(route) - 1))
        r, c = np.divmod(route[keep], grid.shape[1])
        x, y = grid.xy(r, c)
        lon, lat = _lonlat(grid.crs, np.atleast_1d(x), np.atleast_1d(y))
        coords = [[float(b), float(a)] for a, b in zip(np.atleast_1d(lon), np.atleast_1d(lat))]
        if len(coords) == 1:
            coords = coords * 2
        row = t.iloc[int(i)]
        gap = bool(row["referral_gap"])
        name = row["name"] if "name" in t.columns and isinstance(row["name"], str) and row["name"] else str(t.index[i])
        target = row.get("target_name") if isinstance(row.get("target_name"), str) else row["target"]
        out.append({"coords": coords, "colour": "#e66101" if gap else "#2166ac", "weight": 3 if gap else 2,
                    "dash": None if gap else "6 4", "title": f"{name} → {target}",
                    "rows": {text(lang, "level"): str(row["level"]),
                             text(lang, "referral_minutes"): _num(row["referral_minutes"], 1),
                             text(lang, "referral_km"): _num(row["referral_km"], 1),
                             text(lang, "beyond_standard"): text(lang, "yes" if gap else "no")}})
    return {"name": text(lang, "layer_referral_lines"), "lines": out}


def _referral_body(ref, labels, region_name, lang) -> str:
    """Levels and standards; per zone the share within each level's standard, mean minutes per level, the two-leg
    referral time and the gaps; the facilities beyond their referral standard; the villages beyond theirs."""
    zt = ref.zone_table
    std, rstd = ref.standards_minutes, ref.referral_standards_minutes
    body = _modelled_line(ref, lang)
    body += "<p>" + _esc(text(lang, "referral_levels", levels=" → ".join(ref.levels), first=ref.first_contact))
    if std:
        body += "<br>" + _esc(text(lang, "standards") + ": " + ", ".join(f"{k} ≤ {v:g}" for k, v in std.items()))
    if rstd:
        body += "<br>" + _esc(text(lang, "referral_standards") + ": "
                              + ", ".join(f"{k} ≤ {v:g}" for k, v in rstd.items()))
    body += "</p>"
    header = [text(lang, "zone"), text(lang, "population")]
    header += [text(lang, "within_level", level=lv, m=m) for lv, m in std.items()]
    header += [text(lang, "mean_minutes_level", level=lv) for lv in ref.levels]
    header += [text(lang, "mean_two_leg"), text(lang, "first_contact_gap", level=ref.first_contact),
               text(lang, "referral_gaps")]
    rows = []
    for zid, lab in zip(zt.index, _row_names(zt.index, labels, region_name, lang)):
        r = zt.loc[zid]
        rows.append([(str(lab), "text"), _people(r["population"])]
                    + [_pct(r["share_within_" + level_slug(lv)]) for lv in std]
                    + [_num(r["mean_minutes_" + level_slug(lv)], 1) for lv in ref.levels]
                    + [_num(r["mean_two_leg_minutes"], 1), _people(r["first_contact_gap"]),
                       f"{int(r['referral_gaps'])} / {int(r['facilities'])}"])
    body += _table(header, rows, "referral-table")
    gaps = ref.gaps.sort_values("referral_minutes", ascending=False, kind="stable")
    body += f"<h3>{_esc(text(lang, 'referral_gap_title', n=len(gaps), total=len(ref.table)))}</h3>"
    if len(gaps):
        shown = gaps.head(50)
        grow = [[(str(fid), "text"), (str(r.get("name", "") or ""), "text"), (str(r["level"]), "text"),
                 (str(r.get("target_name") if isinstance(r.get("target_name"), str) else r["target"] or "—"), "text"),
                 _num(r["referral_minutes"], 1), _num(r["referral_km"], 1), _num(r["referral_standard_minutes"], 0)]
                for fid, r in shown.iterrows()]
        body += _table([text(lang, "facility"), text(lang, "name"), text(lang, "level"), text(lang, "target_facility"),
                        text(lang, "referral_minutes"), text(lang, "referral_km"), text(lang, "standard_minutes")],
                       grow, "referral-gaps-table")
        if len(gaps) > len(shown):
            body += f"<p>{_esc(text(lang, 'more_rows', n=len(gaps) - len(shown)))}</p>"
    if ref.village_table is not None:
        body += f"<p>{_esc(text(lang, 'village_gaps', n=len(ref.village_gaps), total=len(ref.village_table), level=ref.first_contact))}</p>"
    return body


#: Colours of outreach teams on the web map (cycled).
TEAM_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666",
                "#1f78b4", "#b2182b")


def _outreach_zone_layer(out, study, labels, lang) -> dict:
    """Zones coloured by the share of residents with fixed or monthly mobile service within the standard."""
    t = out.table
    vals = [float(t.loc[i, "share_effective"]) for i in study.ids]
    return {"name": text(lang, "layer_outreach_zones"), "features": zone_features(
        study.zones, labels,
        [{text(lang, "population"): _people(t.loc[i, "population"]),
          text(lang, "share_fixed"): _pct(t.loc[i, "share_fixed"]),
          text(lang, "share_effective"): _pct(t.loc[i, "share_effective"])} for i in study.ids],
        [_share_colour(v, CIRCLE_SHARE) for v in vals])}


def _outreach_map(out, lang):
    """(the team circuits as one line layer — each distinct day route once, base -> points -> base, straight
    segments between stops — and the service points and team bases as point layers)."""
    teams, pts = out.teams, out.points
    team_ids = list(teams.index)
    lon_t, lat_t = _lonlat(out.grid.crs, teams["x"], teams["y"])
    base_ll = {tid: (float(a), float(b)) for tid, a, b in zip(team_ids, np.atleast_1d(lat_t), np.atleast_1d(lon_t))}
    chosen = pts[pts["chosen"]]
    lon_p, lat_p = _lonlat(out.grid.crs, chosen["x"], chosen["y"])
    point_ll = {pid: (float(a), float(b)) for pid, a, b in zip(chosen.index, np.atleast_1d(lat_p),
                                                               np.atleast_1d(lon_p))}
    lines, seen = [], {}
    for _, r in out.routes.iterrows():
        key = (r["team"], tuple(r["points"]))
        if key in seen:
            seen[key]["rows"][text(lang, "days")] += f", {int(r['day'])}"
            continue
        coords = [list(base_ll[r["team"]])] + [list(point_ll[p]) for p in r["points"]] + [list(base_ll[r["team"]])]
        line = {"coords": coords, "colour": TEAM_COLOURS[team_ids.index(r["team"]) % len(TEAM_COLOURS)], "weight": 2,
                "title": f"{text(lang, 'team')} {r['team']}: " + " → ".join(str(p) for p in r["points"]),
                "rows": {text(lang, "days"): str(int(r["day"])),
                         text(lang, "duration_minutes"): _num(r["duration_minutes"], 0),
                         text(lang, "travel_minutes"): _num(r["travel_minutes"], 0)}}
        seen[key] = line
        lines.append(line)
    points = [{"lat": point_ll[pid][0], "lon": point_ll[pid][1],
               "title": str(r["name"]) if "name" in chosen.columns and isinstance(r["name"], str) and r["name"]
               else str(pid),
               "rows": {text(lang, "team"): str(r["team"]), text(lang, "visits_month"): str(int(r["visits"])),
                        text(lang, "people_reached"): _people(float(r["people_reached"]))}}
              for pid, r in chosen.iterrows()]
    bases = [{"lat": base_ll[tid][0], "lon": base_ll[tid][1], "title": f"{text(lang, 'team')} {tid}",
              "rows": {text(lang, "days_used"): f"{int(r['days_used'])} / {int(r['days_available'])}",
                       text(lang, "points"): str(int(r["points"]))}} for tid, r in teams.iterrows()]
    return ({"name": text(lang, "layer_circuits"), "lines": lines},
            [{"name": text(lang, "layer_service_points"), "colour": "#e66101", "radius": 6, "points": points},
             {"name": text(lang, "layer_bases"), "colour": "#111111", "radius": 7, "points": bases}])


def _outreach_body(out, labels, region_name, lang) -> str:
    """The plan's figures (points, teams, team-days, people reached, solver, bound and gap), per zone the fixed,
    gap, reached and effective population, the teams and their day routes."""
    d = out.diagnostics
    body = _modelled_line(out, lang)
    rows = [(text(lang, "points_chosen"), f"{d['points_chosen']} / {d['candidates']}"),
            (text(lang, "teams"), str(d["teams"])), (text(lang, "team_days"), str(d["team_days"])),
            (text(lang, "people_reached_month"), _people(d["people_reached_per_month"])),
            (text(lang, "person_visits"), _people(d["person_visits_per_month"])),
            (text(lang, "solver"), f"{d['solver']} ({d['status']})"),
            (text(lang, "travel_hours"), _num(d["travel_hours"], 1)),
            (text(lang, "bound_hours"), f"{_num(d['bound_hours'], 1)} ({d['bound_source']})"),
            (text(lang, "gap"), f"{d['gap']:.2%}"),
            (text(lang, "proven_optimal"), text(lang, "yes" if d["proven_optimal"] else "no")),
            (text(lang, "solve_seconds"), f"{d['seconds']:.2f}")]
    body += f"<h3>{_esc(text(lang, 'solver_report'))}</h3>" + _table(
        [text(lang, "indicator"), text(lang, "value")], [[(k, "text"), (v, "text")] for k, v in rows],
        "outreach-solver-table")
    t = out.table
    header = [text(lang, "zone"), text(lang, "population"), text(lang, "fixed_served"), text(lang, "gap_people"),
              text(lang, "people_reached"), text(lang, "effective"), text(lang, "share_fixed"),
              text(lang, "share_effective")]
    zrows = [[(str(lab), "text"), _people(r["population"]), _people(r["fixed"]), _people(r["gap"]),
              _people(r["reached"]), _people(r["effective"]), _pct(r["share_fixed"]), _pct(r["share_effective"])]
             for lab, (_, r) in zip(_row_names(t.index, labels, region_name, lang), t.iterrows())]
    body += _table(header, zrows, "outreach-table")
    trows = [[(str(tid), "text"), (str(r.get("name", "") or ""), "text"), f"{int(r['days_used'])}",
              f"{int(r['days_available'])}", str(int(r["points"])), _num(r["travel_hours"], 1),
              _num(r["service_hours"], 1)] for tid, r in out.teams.iterrows()]
    body += f"<h3>{_esc(text(lang, 'teams'))}</h3>" + _table(
        [text(lang, "team"), text(lang, "name"), text(lang, "days_used"), text(lang, "days_available"),
         text(lang, "points"), text(lang, "travel_hours"), text(lang, "service_hours")], trows, "outreach-teams-table")
    routes = out.routes.head(200)
    rrows = [[(str(r["team"]), "text"), str(int(r["day"])), (" → ".join(str(p) for p in r["points"]), "text"),
              _num(r["travel_minutes"], 0), _num(r["duration_minutes"], 0)] for _, r in routes.iterrows()]
    body += f"<h3>{_esc(text(lang, 'day_routes'))}</h3>" + _table(
        [text(lang, "team"), text(lang, "day"), text(lang, "stops"), text(lang, "travel_minutes"),
         text(lang, "duration_minutes")], rrows, "outreach-routes-table")
    if len(out.routes) > len(routes):
        body += f"<p>{_esc(text(lang, 'more_rows', n=len(out.routes) - len(routes)))}</p>"
    return body


def _record_body(record: dict, lang: str) -> str:
    cmd = record.get("command")
    if cmd:
        body = f"<p>{_esc(text(lang, 'rerun', command='careshed report --rerun record.json'))}</p>"
        body += f"<pre>careshed {_esc(' '.join(shlex.quote(c) for c in cmd))}</pre>"
    else:
        body = f"<p>{_esc(text(lang, 'rerun_api'))}</p>"
    rows = [[(r["name"], "text"), (r["path"], "text"), _people(r["bytes"]), (r["sha256"], "text")]
            for r in record.get("inputs", [])]
    body += _table([text(lang, "input"), "path", "bytes", text(lang, "sha256")], rows, "record-inputs")
    body += f"<h3>{_esc(text(lang, 'parameters'))}</h3><pre>{_esc(json.dumps(record.get('parameters', {}), ensure_ascii=False, indent=1))}</pre>"
    body += f"<h3>{_esc(text(lang, 'versions'))}</h3><pre>{_esc(json.dumps(record.get('versions', {}), indent=1))}</pre>"
    return body


def write_report(path, results, **kwargs) -> Path:
    """Write the report (one self-contained HTML file) atomically; keywords as :func:`report_html`:
    lang ("en"/"zh"), title (the place), targets (:class:`ReportTargets` or :func:`read_targets`), density (a
    careshed density table with per-1000 columns), record (a run record dict), standard_field (zone field of a
    living standard for the concentration index), facility_fields ({"level": {facility id: level}})."""
    page = report_html(results, **kwargs)
    return write_atomically(path, lambda tmp: Path(tmp).write_text(page, encoding="utf-8"))

