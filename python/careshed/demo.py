"""The Quzhou demo: hospital beds per 1000 residents by county, 2020 (MODELLED baseline) vs the plan.

Quzhou's 2021-2025 health plan targets 7.8 beds per 1000 residents in 2025. Per-county bed counts are
not published, so the 2020 baseline is MODELLED: the city-wide 6.39 beds/1000 applied to each county's
census population (data/quzhou/README.md). On top of it come the new beds of the plan's 39 projects,
placed in counties by their (partly inferred) county code; projects whose site is undecided are counted
in the whole-city row only and reported as unassigned.

Then the ambulance reach (issue 4, :func:`quzhou_reach`): who lives within the plan's response standard
(11 minutes urban, 15 rural, 3 minutes to leave) of a station at each county seat, on 100 m cells. No road
network or population raster is public for Quzhou, so both are MODELLED (data/quzhou/README.md) and every
reach output says so.

Then beds per 1000 three ways (issue 5, :func:`quzhou_access`): the county rate, the rate of each county
hospital's catchment (nearest by travel time) and the E2SFCA score, within the one-hour circle; hospitals
at the county seats with the modelled beds, so MODELLED too. Writes out/quzhou_access.{csv,gpkg,png}.

Then where the ambulances the plan's 1-per-30,000 target adds should stand (issue 10, :func:`quzhou_ambulances`):
MEXCLP with the existing (MODELLED) fleet kept at the county seats, the 11/15-minute standards and a MODELLED busy
fraction; writes out/quzhou_ambulances.{csv,gpkg,png} (+ _sites.csv: the chosen sites, _curve.csv: the
marginal-gain curve, _report.csv: objective, bound and gap).

Run it with ``careshed demo --out out`` (or ``make demo``). Writes out/quzhou_density.{csv,gpkg,png} and
out/quzhou_reach.{csv,gpkg,png} (+ _stations.csv, _curve.csv and the GeoTIFFs quzhou_reach_minutes.tif,
quzhou_reach_nearest.tif, quzhou_reach_population.tif, quzhou_reach_class.tif).

The Comoros (:func:`comoros_study`, :func:`comoros_example`): the shipped real data (data/comoros) as one study —
the hospitals' reach, the catchments of every OSM health facility and where three more sites would cover most
people; ``careshed report --example comoros`` writes its report.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .analyses.density import Facilities, UnassignedFacilitiesWarning, compare_density
from .arrays.coverage import ambulance_check
from .constants import RESIDENTS_PER_VEHICLE
from .errors import DataIOError, InputError
from .io.qgis_styles import category_style, neighbour_colours, rate_style
from .io.table import write_table
from .io.vector import read_table, read_vector, write_layers
from .mapping import (add_colourbar, draw_polygons, frame_zones, map_axes, map_footnotes, map_title, new_figure,
                      place_labels, robust_scale, save_figure)
from .results import facility_layer_style
from .study import Study

__all__ = ["run_demo", "find_data_dir", "quzhou_projects", "quzhou_density", "quzhou_study", "quzhou_reach",
           "quzhou_hospitals", "quzhou_access", "quzhou_outreach", "comoros_study", "comoros_example",
           "COMOROS_INPUTS"]

MODELLED_BASELINE = ("2020 baseline beds per county are MODELLED (city-wide 2020 rate 6.39 beds/1000 x "
                     "county census population; per-county bed counts are not published)")


def find_data_dir(region: str = "quzhou") -> Path:
    """The shipped example data: careshed/data/<region> when installed, data/<region> in a checkout."""
    here = Path(__file__).resolve().parent
    candidates = [here / "data" / region, here.parent.parent / "data" / region]
    env = os.environ.get("CARESHED_DATA_DIR")
    if env:
        candidates.insert(0, Path(env) / region)
    for c in candidates:
        if (c / "counties.geojson").is_file() or (c / "README.md").is_file():
            return c
    raise DataIOError(f"cannot find the {region} example data; looked in: "
                      + ", ".join(str(c) for c in candidates)
                      + ". Reinstall careshed, or set CARESHED_DATA_DIR to the folder holding it")


def quzhou_projects(data_dir: Path, *, beds: str = "min", count_relocations: bool = False) -> pd.DataFrame:
    """The plan's projects with a ``beds_counted`` column: the new beds the projection adds.

    beds: "min" (default, conservative) or "max" — only project #2 gives a range (300-500).
    count_relocations: project #34 (Jiangshan People's Hospital relocation) plans 1200 beds that INCLUDE
    the existing ones; how many are existing is not published. Default: excluded (0 new beds counted).
    True: all 1200 counted as new — an upper bound, with a warning.
    """
    if beds not in ("min", "max"):
        raise InputError(f"beds: expected 'min' or 'max', got {beds!r}")
    table = read_table(Path(data_dir) / "plan_2021_2025_projects.csv")
    column = f"beds_new_{beds}"
    counted = pd.to_numeric(table[column], errors="coerce").fillna(0.0)
    includes = table["beds_include_existing"].astype(str).str.strip().str.lower().eq("yes")
    if count_relocations:
        if includes.any():
            names = ", ".join(f"#{n}" for n in table.loc[includes, "no"])
            warnings.warn(f"counting all planned beds of relocation project(s) {names} as new beds; they "
                          "include the existing beds of the hospital they replace, so the projection is an "
                          "upper bound", UserWarning, stacklevel=2)
        treatment = "counted in full (upper bound: includes existing beds)"
    else:
        counted[includes] = 0.0
        treatment = "excluded (its planned beds include existing ones; the existing count is not published)"
    table["beds_counted"] = counted.astype("int64")
    table["counted_as"] = np.where(includes, "relocation: " + treatment,
                                   np.where(counted > 0, f"new beds ({column})", "no beds"))
    table.attrs["source"] = str(Path(data_dir) / "plan_2021_2025_projects.csv")
    table.attrs["treatment"] = treatment
    return table


def quzhou_density(data_dir=None, *, beds: str = "min", count_relocations: bool = False) -> pd.DataFrame:
    """Baseline (MODELLED) vs projected beds per 1000 by Quzhou county, via :func:`compare_density`."""
    data_dir = Path(data_dir) if data_dir else find_data_dir("quzhou")
    targets = read_table(data_dir / "plan_targets.csv").set_index("indicator")
    target = float(targets.loc["beds", "target_2025"])
    projects = quzhou_projects(data_dir, beds=beds, count_relocations=count_relocations)
    notes = [
        f"projection adds the new beds of the plan's projects (beds_new_{beds}; project #2 gives 300-500); "
        f"project #34 (relocation) {projects.attrs['treatment']}",
        "projects whose site is undecided (#25, #26) are counted in the whole-city row only",
        f"target: {target:g} beds per 1000 residents in 2025 (Quzhou 14th five-year health plan)",
        "population: 2020 census (NBS)",
    ]
    with warnings.catch_warnings():
        # The undecided-site projects are expected here and stated in the notes and the unassigned list.
        warnings.simplefilter("ignore", UnassignedFacilitiesWarning)
        table = compare_density(
            data_dir / "counties.geojson", zone_id="adcode", population="pop_census2020",
            resources={"beds": "beds_2020_modelled"}, targets={"beds": target},
            add=Facilities(projects, resources={"beds": "beds_counted"}, zone_id="county_adcode",
                           label="plan projects 2021-2025"),
            keep=["name", "name_en"], modelled={"beds": MODELLED_BASELINE}, notes=notes,
            unassigned_in_region=True, region_label="Quzhou")
    table.loc["Quzhou", ["name", "name_en"]] = ["衢州市", "Quzhou (whole city)"]
    table.attrs["projects"] = projects
    table.attrs["data_dir"] = str(data_dir)
    return table


# ---- ambulance reach (issue 4) -------------------------------------------------------------------

#: The modelled travel model of the Quzhou example (stated in data/quzhou/README.md).
QUZHOU_ROAD_SPEED_KMH = 60.0        # straight modelled trunk roads between county seats
QUZHOU_BACKGROUND_SPEED_KMH = 25.0  # everywhere else: terrain-free, no rivers or hills modelled
QUZHOU_DISPATCH_MINUTES = 3.0       # "95 % of ambulances leave within 3 minutes", taken at its bound
MODELLED_REACH = {
    "population": "2020 census county totals spread over the grid: the county's GHSL urban share uniformly "
                  "over a modelled urban core around its seat (3000 people/km2), the rest uniformly over the "
                  "county",
    "urban/rural": "urban = the modelled urban cores (data/quzhou/urban_cores_modelled.geojson), rural elsewhere",
    "travel": f"straight modelled trunk roads from the city seat to each county seat at "
              f"{QUZHOU_ROAD_SPEED_KMH:g} km/h over a terrain-free {QUZHOU_BACKGROUND_SPEED_KMH:g} km/h background "
              "(no road network is public)",
}
MODELLED_STATIONS = "one ambulance station at each county seat (station locations are not published)"


def _plan_minutes(data_dir: Path) -> dict:
    targets = read_table(data_dir / "plan_targets.csv").set_index("indicator")
    return {"urban": float(targets.loc["ems_mean_response_urban", "target_2025"]),
            "rural": float(targets.loc["ems_mean_response_rural", "target_2025"])}


def quzhou_study(data_dir=None, *, cell_size_m: float = 100.0):
    """The Quzhou reach :class:`careshed.Study` (everything but the stations; MODELLED, see MODELLED_REACH)."""
    data_dir = Path(data_dir) if data_dir else find_data_dir("quzhou")
    counties = read_vector(data_dir / "counties.geojson")
    ghsl = read_table(data_dir / "census2020_ghsl.csv")
    share = dict(zip(ghsl["CODE"].astype("int64"), ghsl["GHSL_URB"].astype(float)))
    counties["urban_share_ghsl"] = [share[int(c)] for c in counties["adcode"]]
    counties["rural_share_ghsl"] = 1.0 - counties["urban_share_ghsl"]
    return Study(
        counties, zone_id="adcode", population="pop_census2020",
        class_shares={"urban": "urban_share_ghsl", "rural": "rural_share_ghsl"},
        classes={"polygons": data_dir / "urban_cores_modelled.geojson", "inside": "urban", "outside": "rural"},
        travel={"roads": str(data_dir / "roads_modelled.geojson"), "road_profile": {"trunk": QUZHOU_ROAD_SPEED_KMH},
                "background_speed_kmh": QUZHOU_BACKGROUND_SPEED_KMH},
        cell_size_m=cell_size_m, keep=["name", "name_en"], modelled=MODELLED_REACH, region_label="Quzhou",
        thresholds_min=_plan_minutes(data_dir),
        notes=["population: 2020 census (NBS); urban shares: GHSL R2023A (census2020_ghsl.csv)",
               "standard: mean ambulance response within 11 min urban / 15 min rural, 95 % leaving within 3 min "
               "(Quzhou 14th five-year health plan, section 12); here applied per person, not as a mean"])


def quzhou_reach(data_dir=None, *, cell_size_m: float = 100.0, study=None):
    """Ambulance reach from the county seats (MODELLED) against the plan's 11/15-minute standard."""
    data_dir = Path(data_dir) if data_dir else find_data_dir("quzhou")
    study = study or quzhou_study(data_dir, cell_size_m=cell_size_m)
    return study.reach(data_dir / "county_seats.csv", x="lon", y="lat", crs="EPSG:4326",
                       facility_id="county_adcode", thresholds_min=_plan_minutes(data_dir),
                       dispatch_minutes=QUZHOU_DISPATCH_MINUTES, label="ambulance stations",
                       modelled={"stations": MODELLED_STATIONS})


# ---- ambulance placement (issue 10) --------------------------------------------------------------

#: The 2020 ambulance fleet and its stations are not published (MODELLED).
MODELLED_FLEET_PER_STATION = 2
MODELLED_FLEET = (f"the 2020 ambulance fleet is not published: {MODELLED_FLEET_PER_STATION} vehicles at each "
                  "county-seat station")
#: Busy fraction of MEXCLP (Daskin 1983): q = yearly calls x hours per call / (8,760 h x vehicles). Neither is
#: published for Quzhou (MODELLED): 30 calls per 1000 residents a year, 1 h per call.
MODELLED_CALLS_PER_1000_A_YEAR = 30.0
MODELLED_HOURS_PER_CALL = 1.0
#: The placement runs on a coarser grid than the reach (1 km cells, candidates every 5 km) to stay quick.
AMBULANCE_CELL_M = 1000.0
AMBULANCE_LATTICE_M = 5000.0
AMBULANCE_VEHICLES_PER_SITE = 4


def quzhou_ambulances(data_dir=None, *, cell_size_m: float = AMBULANCE_CELL_M, lattice_m: float = AMBULANCE_LATTICE_M,
                      time_limit_s: float = 20.0):
    """Where the ambulances the plan's 1-per-30,000 target adds should stand (MEXCLP, MODELLED inputs).

    The target gives p = ceil(population / 30,000) vehicles; the existing fleet (MODELLED_FLEET) stays at the
    county-seat stations and counts in p, so p minus it are placed: on the county seats or on a lattice of
    passable cells every `lattice_m`, up to AMBULANCE_VEHICLES_PER_SITE per site, maximising the people expected
    to find a free vehicle within the plan's standard (11 min urban / 15 min rural, 3 min dispatch included)
    when each vehicle is busy with probability q (MODELLED_CALLS_PER_1000_A_YEAR, MODELLED_HOURS_PER_CALL).
    Heuristic (greedy + swap) with a certified Lagrangian / LP bound. Returns the :class:`Optimized` result."""
    import geopandas as gpd

    data_dir = Path(data_dir) if data_dir else find_data_dir("quzhou")
    study = quzhou_study(data_dir, cell_size_m=cell_size_m)
    seats = read_table(data_dir / "county_seats.csv")
    stations = gpd.GeoDataFrame(seats, geometry=gpd.points_from_xy(seats["lon"], seats["lat"]), crs="EPSG:4326")
    _, people, _ = study.populated_cells()
    vehicles = int(np.ceil(float(people.sum()) / RESIDENTS_PER_VEHICLE))
    calls_per_hour = float(people.sum()) / 1000.0 * MODELLED_CALLS_PER_1000_A_YEAR / 8760.0
    busy = calls_per_hour * MODELLED_HOURS_PER_CALL / vehicles
    modelled = {"stations": MODELLED_STATIONS, "fleet": MODELLED_FLEET,
                "busy fraction": f"q = {busy:.3f}: {MODELLED_CALLS_PER_1000_A_YEAR:g} calls per 1000 residents a "
                                 f"year x {MODELLED_HOURS_PER_CALL:g} h per call / (8,760 h x {vehicles} vehicles); "
                                 "call volumes and task times are not published"}
    return study.optimize(None, existing=stations, facility_id="county_adcode", name_field="name",
                          model="mexclp", p=vehicles, existing_vehicles=MODELLED_FLEET_PER_STATION,
                          vehicles_per_site=AMBULANCE_VEHICLES_PER_SITE, busy_fraction=busy,
                          dispatch_minutes=QUZHOU_DISPATCH_MINUTES, candidate_spacing_m=lattice_m, solver="heuristic",
                          time_limit_s=time_limit_s, label="ambulances", modelled=modelled,
                          notes=[f"{vehicles} ambulances = ceil({people.sum():,.0f} residents / 30,000), the plan's "
                                 f"2025 target; the existing fleet counts in it"])


# ---- the Comoros: every input real (data/comoros/README.md) ------------------------------------------

#: The Comoros files the study and the report read (checksummed in the report's run record).
COMOROS_INPUTS = ("zones.geojson", "population.tif", "landcover_Tree.tif", "landcover_Crops.tif",
                  "landcover_BuiltUp.tif", "comores-latest.osm.pbf", "land.geojson", "health.gpkg")
COMOROS_CELL_M = 500.0
#: Where an added site may go in the Comoros optimisation: a lattice of passable cells, this far apart.
COMOROS_LATTICE_M = 3000.0


def comoros_study(data_dir=None, *, cell_size_m: float = COMOROS_CELL_M, region_label: str = "region") -> Study:
    """The three islands (data/comoros/zones.geojson, kind island) with WorldPop 2020 people; travel over
    Copernicus land-cover fractions (tree 2.5, crops 4, built-up 5 km/h) and the OSM roads by car, walking 3 km/h
    where neither says anything, the sea cut out by the OSM land mask; urban/rural by the density rule with the
    Quzhou standard (urban 11 min, rural 15 min); 1 km of margin keeps every population pixel on the grid."""
    data_dir = Path(data_dir) if data_dir else find_data_dir("comoros")
    zones = read_vector(data_dir / "zones.geojson")
    islands = zones[zones["kind"] == "island"].reset_index(drop=True)
    return Study(islands, zone_id="zone_id", keep=["name"], population_raster=data_dir / "population.tif",
                 travel=dict(landcover_fractions={data_dir / "landcover_Tree.tif": 2.5,
                                                  data_dir / "landcover_Crops.tif": 4.0,
                                                  data_dir / "landcover_BuiltUp.tif": 5.0},
                             other_speed_kmh=3.0, roads=data_dir / "comores-latest.osm.pbf", road_profile="car",
                             background_speed_kmh=3.0, land=data_dir / "land.geojson"),
                 margin_m=1000.0, classes="density", thresholds_min={"urban": 11, "rural": 15},
                 cell_size_m=cell_size_m, region_label=region_label)


def comoros_example(data_dir=None, *, study=None, added_sites: int = 3, catchment_minutes: float = 60.0):
    """(reach, catchments, optimisation) on the Comoros: the 28 OSM hospitals' reach against 11/15 minutes, the
    catchments of all 70 OSM health facilities within `catchment_minutes`, and the `added_sites` sites (MCLP, on
    a COMOROS_LATTICE_M lattice) that would cover most people besides the hospitals."""
    data_dir = Path(data_dir) if data_dir else find_data_dir("comoros")
    study = study or comoros_study(data_dir)
    facilities = read_vector(data_dir / "health.gpkg")
    hospitals = facilities[facilities["amenity"] == "hospital"]
    reach = study.reach(hospitals, label="hospitals")
    catchments = study.catchments(facilities, max_minutes=catchment_minutes, label="health facilities")
    optimized = study.optimize(model="mclp", p=len(hospitals) + added_sites, existing=hospitals,
                               candidate_spacing_m=COMOROS_LATTICE_M, label="sites")
    return reach, catchments, optimized


# ---- beds per 1000: county vs catchment vs E2SFCA (issue 5) -------------------------------------------

#: Hospitals of the comparison: one per county at its seat, holding the county's MODELLED 2020 beds.
MODELLED_HOSPITALS = ("one hospital per county at the county seat (county_seats.csv) holding the county's modelled "
                      "2020 beds (beds_2020_modelled = 6.39/1000 x census population); real hospital sites and bed "
                      "counts are not published")
#: The catchment of the comparison: the plan's one-hour circle; E2SFCA steps are Luo & Qi's on its thirds.
QUZHOU_ACCESS_MINUTES = 60.0


def quzhou_hospitals(data_dir=None):
    """The comparison's hospitals (MODELLED, see MODELLED_HOSPITALS): a GeoDataFrame (EPSG:4326) with
    ``county_adcode``, ``name``, ``name_en``, ``beds``."""
    import geopandas as gpd

    data_dir = Path(data_dir) if data_dir else find_data_dir("quzhou")
    seats = read_table(data_dir / "county_seats.csv")
    counties = read_vector(data_dir / "counties.geojson")
    by_code = {int(r.adcode): r for r in counties.itertuples()}
    codes = [int(c) for c in seats["county_adcode"]]
    frame = pd.DataFrame({"county_adcode": codes, "name": [by_code[c].name for c in codes],
                          "name_en": [by_code[c].name_en for c in codes],
                          "beds": [int(by_code[c].beds_2020_modelled) for c in codes]})
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(seats["lon"], seats["lat"]), crs="EPSG:4326")


def quzhou_access(data_dir=None, *, study=None, density=None, cell_size_m: float = 100.0,
                  max_minutes: float = QUZHOU_ACCESS_MINUTES):
    """Beds per 1000 per county three ways (all MODELLED): the county rate (density baseline), the beds per 1000
    of the catchment of the county's hospital (nearest hospital by travel time within `max_minutes`) and the
    E2SFCA score x 1000 (Luo & Qi's steps on thirds of `max_minutes`), population-weighted per county.

    Returns (table, catchments, access): the comparison table (index adcode, last row "Quzhou"), the
    :class:`careshed.Catchments` and the :class:`careshed.AccessMap`."""
    data_dir = Path(data_dir) if data_dir else find_data_dir("quzhou")
    study = study or quzhou_study(data_dir, cell_size_m=cell_size_m)
    density = density if density is not None else quzhou_density(data_dir)
    hospitals = quzhou_hospitals(data_dir)
    kw = dict(facility_id="county_adcode", name_field="name", label="hospitals",
              modelled={"hospitals": MODELLED_HOSPITALS})
    catch = study.catchments(hospitals, resources={"beds": "beds"}, max_minutes=max_minutes, **kw)
    acc = study.access(hospitals, supply="beds", method="e2sfca", max_minutes=max_minutes, **kw)
    ids = [str(i) for i in study.ids]
    ct = catch.table.set_axis([str(i) for i in catch.table.index])
    at = acc.table
    county = density["beds_per_1000_baseline"].set_axis([str(i) for i in density.index])
    beds_total = float(ct["beds"].sum())
    reached = float(ct["population"].sum())
    table = pd.DataFrame({
        "name_en": list(study.frame["name_en"]) + ["Quzhou (whole city)"],
        "population": at["population"].to_numpy(),
        "beds_modelled": [float(ct.loc[i, "beds"]) for i in ids] + [beds_total],
        "beds_per_1000_county": [float(county.loc[i]) for i in ids] + [float(county.iloc[-1])],
        "catchment_population": [float(ct.loc[i, "population"]) for i in ids] + [reached],
        "beds_per_1000_catchment": [float(ct.loc[i, "beds_per_1000"]) for i in ids]
        + [beds_total / reached * 1000.0 if reached > 0 else np.nan],
        "beds_per_1000_e2sfca": at["beds_per_1000"].to_numpy(),
        "population_no_hospital": at["population_no_access"].to_numpy(),
    }, index=pd.Index(ids + ["Quzhou"], name="adcode"))
    table.attrs["notes"] = [n for n in acc.notes if n.startswith("MODELLED")] + [
        f"MODELLED beds: {MODELLED_BASELINE}",
        "beds_per_1000_county: the county's modelled beds / its census population x 1000 (careshed density)",
        f"beds_per_1000_catchment: the beds of the county's hospital / the people whose nearest hospital by travel "
        f"time it is (within {max_minutes:g} min) x 1000; whole city: all beds / everybody in a catchment",
        f"beds_per_1000_e2sfca: enhanced 2SFCA (Luo & Qi 2009) within {max_minutes:g} min, steps <= "
        f"{max_minutes / 3:g} / {2 * max_minutes / 3:g} / {max_minutes:g} min -> 1.00 / 0.68 / 0.22, score x 1000, "
        "population-weighted over the county's people with a hospital in reach",
        f"population_no_hospital: people with no hospital within {max_minutes:g} min (not averaged in)",
    ] + [n for n in acc.notes if n.startswith("conservation")]
    return table, catch, acc


# ---- the walking hospital: mobile outreach in Qujiang (issue 13) -------------------------------------------------

#: What the outreach example models (data/quzhou/README.md; docs/outreach.md).
MODELLED_OUTREACH = {
    "facilities": "fixed facilities = the MODELLED township health centres and hospitals "
                  "(facility_levels_modelled.geojson, baseline: k-means positions, not the real sites)",
    "candidates": "candidate service points = a 2 km lattice of populated cells of Qujiang standing in for its "
                  "villages (village positions are not published)",
    "bases": "the six teams are based at six of Qujiang's modelled facilities spread over the district (the district "
             "hospital, then five times the facility farthest from the bases so far)",
}
QUZHOU_OUTREACH = dict(points=18, working_days=13, hours_per_day=8.0, service_hours=2.0, visits_per_month=1,
                       thresholds_min=15.0)


def quzhou_outreach(data_dir=None, *, study=None, cell_size_m: float = 250.0,
                    candidate_spacing_m: float = 2000.0, county: int = 330803, scenarios=("baseline",)):
    """A walking-hospital-sized outreach plan for Qujiang on the MODELLED Quzhou inputs: 6 teams, 18 service points
    chosen for the people beyond 15 minutes of every modelled fixed facility, 13 working days of 8 h, 2 h per visit,
    monthly visits (:meth:`careshed.Study.outreach`).

    county : the county (adcode) whose populated cells are the candidates and whose modelled facilities base the
        teams (default Qujiang, 330803). scenarios : the rows of facility_levels_modelled.geojson that are fixed
        facilities (``"baseline"``; add e.g. ``"plan #5"`` for a construction project of the plan)."""
    import geopandas as gpd

    data_dir = Path(data_dir) if data_dir else find_data_dir("quzhou")
    study = study or quzhou_study(data_dir, cell_size_m=cell_size_m)
    levels = read_vector(data_dir / "facility_levels_modelled.geojson")
    fixed = levels[levels["scenario"].isin(list(scenarios))].reset_index(drop=True)
    # Bases: the district hospital, then the county's baseline facility farthest from the bases so far, five times.
    base_rows = levels[levels["scenario"] == "baseline"]
    qj = base_rows[base_rows["county_adcode"] == county].to_crs(study.grid.crs).reset_index(drop=True)
    xy = np.column_stack([qj.geometry.x, qj.geometry.y])
    picked = [int(np.flatnonzero(qj["id"] == f"H{county}")[0])]
    while len(picked) < 6:
        d = np.min(np.hypot(*(xy[:, None, :] - xy[picked][None, :, :]).transpose(2, 0, 1)), axis=1)
        picked.append(int(np.argmax(d)))
    bases = gpd.GeoDataFrame({"id": [f"team {k + 1}" for k in range(6)], "name": list(qj["name"].iloc[picked])},
                             geometry=list(qj.geometry.iloc[picked]), crs=qj.crs)
    # Candidates: every populated, passable cell of Qujiang on a lattice (cell centres), in the grid's CRS.
    grid = study.grid
    step = max(1, int(round(candidate_spacing_m / grid.cell_size[0])))
    qujiang = list(study.ids).index(county) if county in list(study.ids) else list(map(str, study.ids)).index(str(county))
    h, w = grid.shape
    rr, cc = np.meshgrid(np.arange(step // 2, h, step), np.arange(step // 2, w, step), indexing="ij")
    rr, cc = rr.ravel(), cc.ravel()
    pop = np.nan_to_num(np.asarray(study.population, dtype=np.float64))
    keep = ((study.zone_raster.zone[rr, cc] == qujiang) & (pop[rr, cc] > 0)
            & np.isfinite(study.friction.seconds_per_metre[rr, cc]))
    rr, cc = rr[keep], cc[keep]
    x0, px, _, y0, _, py = grid.transform
    candidates = gpd.GeoDataFrame({"id": [f"v{k}" for k in range(rr.size)],
                                   "name": [f"modelled village {k}" for k in range(rr.size)]},
                                  geometry=gpd.points_from_xy(x0 + (cc + 0.5) * px, y0 + (rr + 0.5) * py),
                                  crs=grid.crs)
    where = "Qujiang district" if county == 330803 else f"county {county}, on Qujiang's walking-hospital terms"
    extra = [] if list(scenarios) == ["baseline"] else [
        f"fixed facilities: the modelled network's rows {', '.join(map(str, scenarios))} (plan projects added at "
        "their MODELLED positions)"]
    return study.outreach(candidates, facilities=fixed, bases=bases, facility_id="id", name_field="name",
                          label="walking-hospital service points", modelled=MODELLED_OUTREACH,
                          notes=[f"the walking hospital ({where}): 6 circuit teams, 18 service points, >= 13 days "
                                 "a month on the road, each point visited monthly"] + extra,
                          **QUZHOU_OUTREACH)


def _write_access_outputs(table: pd.DataFrame, catch, acc, out: Path, max_minutes: float, *,
                          excel: bool = False) -> dict:
    """out/quzhou_access.{csv,gpkg,png}: the comparison table, layers and map (every file atomically); `excel`: the
    CSV with the UTF-8 byte-order mark."""
    paths = {"access_csv": out / "quzhou_access.csv", "access_gpkg": out / "quzhou_access.gpkg",
             "access_png": out / "quzhou_access.png"}
    write_table(table, paths["access_csv"], excel=excel)
    study = acc.study
    counties = study.zones[[study.zone_id, "name", "name_en", study.zones.geometry.name]].copy()
    numbers = table.iloc[:-1].drop(columns=["name_en"])
    for col in numbers.columns:
        counties[col] = numbers[col].to_numpy()
    counties["note"] = "MODELLED beds, population spread, roads and hospital sites (see the notes layer)"
    polys = catch.polygons.copy()
    polys.insert(0, "hospital", [str(i) for i in catch.table.index])
    polys["name_en"] = catch.table["name"].to_numpy()
    for col in ("population", "beds", "beds_per_1000", "mean_minutes", "p90_minutes"):
        polys[col] = catch.table[col].to_numpy()
    polys["note"] = "display only (people are counted on the grid); MODELLED inputs"
    hospitals = acc.facilities.reset_index()[["facility", "name", "zone", "x", "y", "supply", "supply_ratio"]]
    import geopandas as gpd
    hospitals = gpd.GeoDataFrame(hospitals.rename(columns={"facility": "hospital", "supply": "beds"}).astype(
        {"hospital": str, "zone": str}), geometry=gpd.points_from_xy(hospitals["x"], hospitals["y"]),
        crs=study.grid.crs)
    hospitals["position"] = "MODELLED: county seat"
    region = table.iloc[[-1]].reset_index()
    styles = {"counties_beds_per_1000_compared": rate_style("beds_per_1000_e2sfca",
                                                            counties["beds_per_1000_e2sfca"].tolist(),
                                                            unit="beds per 1000 residents (E2SFCA)",
                                                            name="beds per 1000 (E2SFCA)"),
              "hospital_catchments": category_style("hospital", polys["hospital"].tolist(),
                                                    [f"{n} ({h})" for n, h in zip(polys["name_en"], polys["hospital"])],
                                                    name="catchment by hospital",
                                                    colours=neighbour_colours(list(polys.geometry))),
              "hospitals_modelled": facility_layer_style(hospitals, name="hospitals")}
    write_layers(paths["access_gpkg"], {"counties_beds_per_1000_compared": counties,
                                        "hospital_catchments": polys.reset_index(drop=True),
                                        "hospitals_modelled": hospitals, "city_total": region,
                                        "notes": pd.DataFrame({"note": table.attrs["notes"]})}, styles=styles)
    labels = {str(i): f"{r.name_en}\ncounty {r.beds_per_1000_county:.2f}\ncatchment {r.beds_per_1000_catchment:.2f}"
              f"\nE2SFCA {r.beds_per_1000_e2sfca:.2f}" for i, r in table.iloc[:-1].iterrows()}
    r = table.iloc[-1]
    acc.plot(paths["access_png"], labels={i: labels.get(str(i), str(i)) for i in study.ids}, outlines=catch.polygons,
             outline_label=f"catchment of each hospital (nearest by travel time, <= {max_minutes:g} min)",
             title="MODELLED — Quzhou: beds per 1000 residents, county vs catchment vs E2SFCA",
             subtitle=f"cells: E2SFCA beds per 1000 within {max_minutes:g} min; whole city: county "
                      f"{r.beds_per_1000_county:.2f}, catchment {r.beds_per_1000_catchment:.2f}, E2SFCA "
                      f"{r.beds_per_1000_e2sfca:.2f}; {r.population_no_hospital:,.0f} people beyond "
                      f"{max_minutes:g} min")
    return paths


def _draw_map(table: pd.DataFrame, counties, path: Path, target: float, beds: str = "min",
              count_relocations: bool = False) -> None:
    """PNG: counties shaded by projected beds/1000 (cividis, clipped at Tukey's fences, the target marked on the
    colour bar); labels placed without overlap; colour bar beside the map; scale, north; notes wrapped."""
    zones = counties.to_crs("EPSG:32650")  # UTM 50N: Quzhou lies in it; metres for the scale bar
    rates = table["beds_per_1000_projected"].reindex(zones["adcode"]).to_numpy(dtype=float)
    base = table["beds_per_1000_baseline"].reindex(zones["adcode"]).to_numpy(dtype=float)
    scale = robust_scale(rates, centre=target)

    fig = new_figure(dpi=120)
    ax = map_axes(fig)
    draw_polygons(ax, list(zones.geometry), facecolors=[scale.cmap(scale.norm(rate)) for rate in rates])
    frame_zones(ax, zones, length_m=20_000)  # north arrow: UTM grid north; within 1° of true north here
    place_labels(ax, [(row.geometry.representative_point().x, row.geometry.representative_point().y,
                       f"{row['name_en']}\n{b:.2f} → {rate:.2f}", row.geometry.area)
                      for (_, row), rate, b in zip(zones.iterrows(), rates, base)], kind="area", fontsize=8.5)
    add_colourbar(fig, scale, "projected beds per 1000 residents", unit="per 1000", marks={target: "target"})
    region = table.iloc[-1]
    map_title(fig, "Quzhou: hospital beds per 1000 residents, 2020 (modelled baseline) → after the plan's projects",
              f"labels: modelled 2020 baseline → projected; whole city {region['beds_per_1000_baseline']:.2f} → "
              f"{region['beds_per_1000_projected']:.2f} (target {target:g})")
    reloc = "#34 relocation counted in full (upper bound)" if count_relocations else "#34 relocation excluded"
    map_footnotes(fig, [], None, "", extra=[
        "MODELLED baseline: city-wide 2020 rate 6.39 beds/1000 × county census population (per-county bed counts "
        "are not published).",
        f"Projection: new beds of the 2021–2025 plan projects by county (#2 at its {beds}imum, {reloc}; sites "
        "undecided: #25, #26 counted city-wide only). Boundaries: tudigong/CTAmap 2021; population: 2020 census. "
        "Projection UTM 50N."])
    save_figure(fig, path)


def _project_points(projects: pd.DataFrame, data_dir: Path):
    """Projects as points at their county seat: MODELLED positions (the plan gives no coordinates)."""
    import geopandas as gpd
    from shapely.geometry import Point

    seats = read_table(data_dir / "county_seats.csv")
    where = {str(int(r.county_adcode)): (float(r.lon), float(r.lat)) for r in seats.itertuples()}
    geoms, positions = [], []
    for code in projects["county_adcode"]:
        key = None if pd.isna(code) else str(int(float(code)))
        if key in where:
            geoms.append(Point(*where[key]))
            positions.append("MODELLED: county seat (the plan gives no coordinates)")
        else:
            geoms.append(None)
            positions.append("unknown: site not decided")
    cols = ["no", "stage", "name", "location_text", "county_adcode", "county_inferred", "beds_new_min",
            "beds_new_max", "beds_include_existing", "beds_counted", "counted_as", "period", "notes"]
    frame = projects[cols].copy()
    frame["position"] = positions
    return gpd.GeoDataFrame(frame, geometry=geoms, crs="EPSG:4326")


def _print_notes_and_files(notes, files) -> None:
    for note in notes:
        print(f"note: {note}")
    print("wrote:")
    for p in files:
        print(f"  {p}")


def run_demo(out="out", *, beds: str = "min", count_relocations: bool = False, data_dir=None,
             quiet: bool = False, reach: bool = True, excel: bool = False) -> dict:
    """Run the Quzhou demo; write CSV, GeoPackage and PNG map into `out` (density, then — unless
    ``reach=False`` — the MODELLED ambulance reach); return their paths. `excel`: every CSV starts with the
    UTF-8 byte-order mark (as ``--excel`` of the other subcommands)."""
    data_dir = Path(data_dir) if data_dir else find_data_dir("quzhou")
    table = quzhou_density(data_dir, beds=beds, count_relocations=count_relocations)
    target = float(table["beds_target"].iloc[0])
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"csv": out / "quzhou_density.csv", "gpkg": out / "quzhou_density.gpkg",
             "png": out / "quzhou_density.png"}

    write_table(table, paths["csv"], excel=excel)

    counties = read_vector(data_dir / "counties.geojson")
    numbers = table.drop(index=table.index[-1]).drop(columns=["name", "name_en"])
    numbers.index = numbers.index.astype("int64")
    layer = counties.merge(numbers, left_on="adcode", right_index=True, how="left")
    layer["baseline_note"] = "MODELLED baseline: city-wide 6.39 beds/1000 x census population"
    region = table.iloc[[-1]].reset_index().rename(columns={"adcode": "area"})
    region["area"] = region["area"].astype(str)
    notes = pd.DataFrame({"note": table.attrs["notes"]})
    unassigned = table.attrs["unassigned"].copy()
    projects = _project_points(table.attrs["projects"], data_dir)
    write_layers(paths["gpkg"], {
        "counties_beds_per_1000": layer,
        "city_total": region,
        "plan_projects_modelled_positions": projects,
        "unassigned_projects": unassigned.astype({"zone_id_value": object}),
        "notes": notes,
    }, styles={"counties_beds_per_1000": rate_style("beds_per_1000_projected",
                                                    layer["beds_per_1000_projected"].tolist(), target,
                                                    name="beds per 1000 after the plan"),
               "plan_projects_modelled_positions": facility_layer_style(projects, name="plan projects")})
    _draw_map(table, counties, paths["png"], target, beds, count_relocations)

    if not quiet:
        show = table[["name_en", "population", "beds_baseline", "beds_per_1000_baseline", "beds_added",
                      "beds_projected", "beds_per_1000_projected", "beds_target", "beds_shortfall_projected"]]
        with pd.option_context("display.width", 200, "display.max_columns", 20,
                               "display.float_format", "{:.2f}".format):
            print("Quzhou: hospital beds per 1000 residents by county — 2020 baseline (MODELLED) vs after "
                  "the 2021-2025 plan projects")
            print(show.to_string())
        _print_notes_and_files(table.attrs["notes"], paths.values())

    if not reach:
        return paths
    # Ambulance reach (MODELLED inputs: see data/quzhou/README.md).
    study = quzhou_study(data_dir)
    result = quzhou_reach(data_dir, study=study)
    written = result.save(out, prefix="quzhou_reach", qgis_project=True, excel=excel)
    for p in written:
        paths[f"reach:{Path(p).name}"] = Path(p)
    # The one-hour circle: the same machinery, another facility set and threshold. The city's top-tier
    # hospitals are in Kecheng (positions not published: MODELLED at its seat).
    seats = read_table(data_dir / "county_seats.csv")
    city = seats[seats["county_adcode"] == 330802]
    import geopandas as gpd
    hub = gpd.GeoDataFrame(city, geometry=gpd.points_from_xy(city["lon"], city["lat"]), crs="EPSG:4326")
    one_hour = study.reach(hub, facility_id="county_adcode", thresholds_min=60, label="top-tier hospitals",
                           modelled={"hospitals": "the city's top-tier hospitals placed at Kecheng's seat"})
    if not quiet:
        t = result.table
        show = t[["name_en", "population", "population_urban", "covered_urban", "population_rural", "covered_rural",
                  "covered", "covered_share", "mean_minutes", "p90_minutes"]].copy()
        # Station vehicle counts are not published: show the standard's need (1 per 30,000), not a shortfall.
        show["ambulances_needed"] = ambulance_check(t["population"].to_numpy(), np.zeros(len(t)))["needed"].to_numpy()
        show.loc[show.index[-1], "name_en"] = "Quzhou (whole city)"
        with pd.option_context("display.width", 220, "display.max_columns", 20,
                               "display.float_format", "{:,.2f}".format):
            print()
            print("Quzhou: ambulance reach — people within 11 min (urban) / 15 min (rural) of a station at each "
                  "county seat, response = 3 min dispatch + travel (MODELLED population, roads and stations; "
                  "100 m cells)")
            print(show.to_string())
        print("ambulances_needed = ceil(population / 30,000), the plan's standard; vehicle counts per station are "
              "not published, so no shortfall is computed")
        r = one_hour.table.iloc[-1]
        print(f"one-hour circle (top-tier hospitals in Kecheng, MODELLED position): {r['covered_share']:.1%} of "
              f"{r['population']:,.0f} people within 60 min")
        _print_notes_and_files([n for n in result.notes if n.startswith("MODELLED")], written)

    # Where the ambulances the plan's 1-per-30,000 target adds should stand (issue 10; MODELLED inputs).
    ambulances = quzhou_ambulances(data_dir)
    written = ambulances.save(out, prefix="quzhou_ambulances", excel=excel)
    paths.update({f"ambulances:{Path(p).name}": Path(p) for p in written})
    if not quiet:
        d = ambulances.diagnostics
        with pd.option_context("display.width", 220, "display.max_columns", 20,
                               "display.float_format", "{:,.3f}".format):
            print()
            print(f"Quzhou: where the {d['p']} ambulances of the plan's 1-per-30,000 target stand (MEXCLP, "
                  f"{d['existing_vehicles']} existing kept at the county seats; 11 min urban / 15 min rural incl. "
                  "3 min dispatch; MODELLED fleet, stations, busy fraction, population and roads; 1 km cells)")
            print(ambulances.summary())
            print(ambulances.table[["name_en", "population", "covered_before", "covered_after", "share_before",
                                    "share_after"]].to_string())
            print("marginal-gain curve (expected people covered by each added ambulance, greedy order):")
            print(ambulances.curve.head(10).to_string(index=False))
        _print_notes_and_files([n for n in ambulances.notes if n.startswith("MODELLED")], written)

    # Beds per 1000 three ways (issue 5): county, catchment of the county's hospital, E2SFCA (all MODELLED).
    comparison, catch, acc = quzhou_access(data_dir, study=study, density=table)
    written = _write_access_outputs(comparison, catch, acc, out, QUZHOU_ACCESS_MINUTES, excel=excel)
    paths.update(written)
    if not quiet:
        with pd.option_context("display.width", 220, "display.max_columns", 20,
                               "display.float_format", "{:,.2f}".format):
            print()
            print(f"Quzhou: beds per 1000 residents — county vs catchment vs E2SFCA ({QUZHOU_ACCESS_MINUTES:g} min; "
                  "MODELLED beds, hospital sites, population and roads)")
            print(comparison.to_string())
        _print_notes_and_files(comparison.attrs["notes"], written.values())

    # The walking hospital (issue 13): mobile outreach in Qujiang, on MODELLED inputs (docs/outreach.md).
    plan = quzhou_outreach(data_dir)
    written = plan.save(out, prefix="quzhou_outreach", excel=excel)
    paths.update({f"outreach:{Path(p).name}": Path(p) for p in written})
    if not quiet:
        with pd.option_context("display.width", 220, "display.max_columns", 20,
                               "display.float_format", "{:,.1f}".format):
            print()
            print("Quzhou: a walking-hospital-sized outreach plan for Qujiang — 6 teams, 18 service points, 13 working "
                  "days of 8 h, 2 h per visit, monthly visits (MODELLED facilities, villages, population and roads)")
            print(plan.summary())
            print(plan.routes.to_string(index=False))
        _print_notes_and_files([n for n in plan.notes if n.startswith("MODELLED")], written)
    return paths
