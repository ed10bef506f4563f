#!/usr/bin/env python3
"""Build careshed's shipped Quzhou example (data/quzhou/) from the project's raw source data.

Usage (from the repository root; pure Python standard library, no network, deterministic)::

    python3 data/quzhou/build_quzhou_data.py [--source ../shared/data/quzhou] [--dest data/quzhou]

What it does, step by step:

1. counties.geojson — the six county polygons of Quzhou (EPSG:4326, unchanged coordinates) with
   properties ``adcode, name, name_en, pop_census2020`` (checked against census2020_population.csv:
   every county must match and the sum must be the official 2,276,184) plus the MODELLED field
   ``beds_2020_modelled`` = round_half_up(6.39 / 1000 × pop_census2020). 6.39 beds per 1000 residents
   is the plan's city-wide 2020 actual (plan_targets.csv, ``beds`` / ``baseline_2020``); per-county bed
   counts are not published anywhere we could find, so every county is given the city-wide rate.
2. plan_2021_2025_projects.csv — the plan's 39 projects, copied with one derived column
   ``beds_include_existing`` (yes for #34, whose 1200 planned beds include the beds of the hospital it
   replaces, as the plan's note "含原有床位" says; no for every other project).
3. census2020_population.csv, census2020_ghsl.csv, county_seats.csv, plan_targets.csv,
   infectious_beds_minimum.csv — copied byte for byte.

Running it twice gives byte-identical files (sorted features, fixed key order, no timestamps).
"""
from __future__ import annotations

import argparse
import csv
import decimal
import io
import json
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = HERE.parent.parent.parent / "shared" / "data" / "quzhou"

CENSUS_TOTAL_2020 = 2_276_184          # official city total of the 7th census (NBS)
CITY_BEDS_PER_1000_2020 = "6.39"       # plan_targets.csv: beds, baseline_2020 (string: exact decimal)
COPIED = ["census2020_population.csv", "census2020_ghsl.csv", "county_seats.csv",
          "plan_targets.csv", "infectious_beds_minimum.csv"]
RELOCATION_INCLUDES_EXISTING = {"34"}  # project numbers whose bed figure includes existing beds


def modelled_beds(population: int, rate_per_1000: str = CITY_BEDS_PER_1000_2020) -> int:
    """Whole beds at `rate_per_1000` for `population`, rounded half up (exact decimal arithmetic)."""
    value = decimal.Decimal(rate_per_1000) * population / 1000
    return int(value.quantize(decimal.Decimal(1), rounding=decimal.ROUND_HALF_UP))


def _read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def build_counties(source: Path) -> str:
    raw = json.loads((source / "counties.geojson").read_text(encoding="utf-8"))
    census = {int(r["CODE"]): int(r["POPU"]) for r in _read_csv(source / "census2020_population.csv")}
    if sum(census.values()) != CENSUS_TOTAL_2020:
        raise SystemExit(f"census2020_population.csv sums to {sum(census.values())}, "
                         f"expected {CENSUS_TOTAL_2020}")
    rate = _read_csv(source / "plan_targets.csv")
    beds_row = next(r for r in rate if r["indicator"] == "beds")
    if beds_row["baseline_2020"] != CITY_BEDS_PER_1000_2020:
        raise SystemExit(f"plan_targets.csv beds baseline_2020 is {beds_row['baseline_2020']}, "
                         f"expected {CITY_BEDS_PER_1000_2020}")
    features = []
    for feat in raw["features"]:
        p = feat["properties"]
        adcode = int(p["adcode"])
        pop = int(p["pop_census2020"])
        if census.get(adcode) != pop:
            raise SystemExit(f"county {adcode}: geojson population {pop} != census {census.get(adcode)}")
        features.append({
            "type": "Feature",
            "properties": {
                "adcode": adcode,
                "name": p["name"],
                "name_en": p["name_en"],
                "pop_census2020": pop,
                "beds_2020_modelled": modelled_beds(pop),
            },
            "geometry": feat["geometry"],
        })
    if len(features) != 6 or {f["properties"]["adcode"] for f in features} != set(census):
        raise SystemExit("expected exactly the six Quzhou counties")
    features.sort(key=lambda f: f["properties"]["adcode"])
    out = {
        "type": "FeatureCollection",
        "name": "quzhou_counties",
        "description": (
            "Quzhou (330800) county-level units, EPSG:4326. pop_census2020: 7th census (NBS 2022). "
            "beds_2020_modelled is MODELLED: city-wide 2020 rate 6.39 beds/1000 x county census "
            "population, rounded half up (per-county bed counts are not published). See README.md."),
        "features": features,
    }
    # One feature per line keeps diffs readable; ensure_ascii=False keeps the Chinese names legible.
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features]
    head = {k: v for k, v in out.items() if k != "features"}
    text = json.dumps(head, ensure_ascii=False)[:-1] + ', "features": [\n' + ",\n".join(lines) + "\n]}\n"
    json.loads(text)  # self-check: still valid JSON
    return text


def build_projects(source: Path) -> str:
    rows = _read_csv(source / "plan_2021_2025_projects.csv")
    if len(rows) != 39:
        raise SystemExit(f"expected 39 projects, found {len(rows)}")
    fields = list(rows[0].keys()) + ["beds_include_existing"]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    for r in rows:
        r["beds_include_existing"] = "yes" if r["no"] in RELOCATION_INCLUDES_EXISTING else "no"
        w.writerow(r)
    return buf.getvalue()


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=Path, default=DEFAULT_SOURCE,
                    help="raw source folder (default: %(default)s)")
    ap.add_argument("--dest", type=Path, default=HERE, help="output folder (default: %(default)s)")
    a = ap.parse_args(argv)
    a.dest.mkdir(parents=True, exist_ok=True)
    _write(a.dest / "counties.geojson", build_counties(a.source))
    _write(a.dest / "plan_2021_2025_projects.csv", build_projects(a.source))
    for name in COPIED:
        tmp = a.dest / (name + ".tmp")
        shutil.copyfile(a.source / name, tmp)
        tmp.replace(a.dest / name)
    print(f"wrote {len(COPIED) + 2} files to {a.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
