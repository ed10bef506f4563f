"""The planner's deliverable: one self-contained, offline HTML report (document.py) with an inlined Leaflet map
(webmap.py), charts (charts.py), English and Chinese labels (labels.py) and a run record to regenerate it
(record.py)."""
from .document import ReportTargets, read_targets, report_html, travel_equity, write_report
from .record import check_inputs, read_record, run_record, write_record

__all__ = ["ReportTargets", "read_targets", "report_html", "travel_equity", "write_report", "check_inputs",
           "read_record", "run_record", "write_record"]
