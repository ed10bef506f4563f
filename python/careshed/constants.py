"""Numbers with a meaning, defined once (every other module imports them from here).

The values that the C++ core also knows (the no-class code) are checked against the core by
tests/python/test_constants.py.
"""
from __future__ import annotations

from ._core import __version__ as VERSION

__all__ = ["VERSION", "NO_CLASS", "RESIDENTS_PER_VEHICLE", "DEFAULT_THRESHOLDS_MIN", "DEFAULT_PER", "DEFAULT_PER_OTHER",
           "LUO_QI_STEPS_MIN", "DEFAULT_CELL_SIZE_M", "NAME_FIELDS", "ID_FIELDS", "METADATA_MAX_CHARS",
           "OUTSIDE_ZONES_LABEL"]

# VERSION: careshed's version, as compiled into the core (one number for the C++ library and the package).

#: Class code of a cell with no class (nodata, or a raster code not listed); ``kNoClass`` in
#: core/include/careshed/urban_rural.hpp. Class indices are 0..254.
NO_CLASS = 255

#: One ambulance per 30,000 residents (Quzhou's 2021-2025 plan, and China's national standard).
RESIDENTS_PER_VEHICLE = 30000.0

#: The Quzhou plan's response standard: mean response within 11 minutes (urban) and 15 minutes (rural).
DEFAULT_THRESHOLDS_MIN = {"urban": 11.0, "rural": 15.0}

#: Residents per rate unit when the caller does not say (``per=``). Beds, physicians and nurses are
#: conventionally counted per 1000 residents, general practitioners per 10,000 and ambulances per
#: RESIDENTS_PER_VEHICLE (China's national and Quzhou's 2025 plan indicators). Any other resource: per 1000.
DEFAULT_PER = {"beds": 1000, "physicians": 1000, "nurses": 1000, "general_practitioners": 10000,
               "ambulances": int(RESIDENTS_PER_VEHICLE)}
DEFAULT_PER_OTHER = 1000

#: Luo & Qi (2009) enhanced 2SFCA step weights: inclusive upper bound in minutes -> weight (for a 30-minute
#: catchment; other catchment sizes use the same weights on thirds of it).
LUO_QI_STEPS_MIN = {10.0: 1.0, 20.0: 0.68, 30.0: 0.22}

#: Index label of the table row of the people on the grid outside every zone (shown only when there are any):
#: they are counted in the region row too, so maps and tables count the same people.
OUTSIDE_ZONES_LABEL = "outside every zone"

#: Cell size of the analysis grid in metres, the same default in the API and every CLI subcommand.
DEFAULT_CELL_SIZE_M = 100.0

#: Fields tried, in order, for a facility's name and id when the caller names none.
NAME_FIELDS = ("name", "NAME", "Name", "name_en", "facility", "title")
ID_FIELDS = ("id", "ID", "station_id", "facility_id", "fid", "osm_id")

#: Longest text written into one GeoTIFF metadata item (e.g. the facility ids of a nearest-facility raster).
METADATA_MAX_CHARS = 30000
