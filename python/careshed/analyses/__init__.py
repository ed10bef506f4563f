"""The analyses: one module per question a planner asks, each computing on a prepared study (or zones) with the
array tier and returning a result with the common face (careshed.results).

``density`` (resources per N residents by zone), ``reach`` (who is covered within the response standard),
``catchments`` (nearest-facility catchments, capacity-aware coverage), ``access`` (2SFCA family on the grid),
``access_table`` (2SFCA family on the caller's own cost table), ``referral`` (facility levels and referral). A new analysis (optimize, report, referral,
outreach) is a new module here with a ``run(study, ...)`` function, and one method on careshed.Study.
"""
from . import access, access_table, catchments, density, reach, referral

__all__ = ["access", "access_table", "catchments", "density", "reach", "referral"]
