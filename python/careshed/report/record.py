"""The report's run record: inputs with SHA-256 checksums, parameters, versions — and the command that made
it, so ``careshed report --rerun record.json`` regenerates the same report after checking every input is
byte-for-byte the one the report was made from.

Record format (JSON, ``"format": "careshed-report-record/1"``)::

    {"format": ..., "created": ISO time, "command": ["report", ...] or null,
     "working_directory": where relative input paths are resolved,
     "inputs": [{"name", "path", "bytes", "sha256"}], "parameters": {...}, "versions": {...}}
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import platform
from pathlib import Path

import numpy
import pandas

from ..constants import VERSION
from ..errors import DataIOError, InputError
from ..io.atomic import write_atomically

__all__ = ["RECORD_FORMAT", "sha256_of", "run_record", "write_record", "read_record", "check_inputs", "versions"]

RECORD_FORMAT = "careshed-report-record/1"


def sha256_of(path) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def versions() -> dict:
    """careshed, Python and the libraries whose behaviour shapes the report."""
    import matplotlib
    import pyproj
    import shapely

    out = {"careshed": VERSION, "python": platform.python_version(), "numpy": numpy.__version__,
           "pandas": pandas.__version__, "matplotlib": matplotlib.__version__, "pyproj": pyproj.__version__,
           "proj": pyproj.proj_version_str, "shapely": shapely.__version__, "platform": platform.platform()}
    return out


def run_record(inputs: dict, parameters: dict, *, command=None, cwd=None, leaflet: str | None = None) -> dict:
    """The record of a report: `inputs` {name: file path} (checksummed now), `parameters` (JSON-able),
    `command` (the careshed CLI arguments after ``careshed``, or None when made from Python)."""
    cwd = Path(cwd) if cwd is not None else Path.cwd()
    rows = []
    for name, path in inputs.items():
        p = Path(path)
        full = p if p.is_absolute() else cwd / p
        if not full.is_file():
            raise DataIOError(f"run record: input {name!r} is not a file: {full}")
        rows.append({"name": str(name), "path": str(path), "bytes": full.stat().st_size, "sha256": sha256_of(full)})
    v = versions()
    if leaflet:
        v["leaflet"] = leaflet
    return {"format": RECORD_FORMAT, "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "command": list(command) if command is not None else None, "working_directory": str(cwd),
            "inputs": rows, "parameters": parameters, "versions": v}


def write_record(record: dict, path) -> Path:
    """The record as pretty JSON (UTF-8), written atomically."""
    text = json.dumps(record, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
    return write_atomically(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def read_record(path) -> dict:
    """A record written by :func:`write_record`, checked for the fields a rerun needs."""
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataIOError(f"{path}: no such run record") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a careshed run record (not JSON: {exc})") from None
    if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT:
        raise InputError(f"{path}: not a careshed run record (expected \"format\": \"{RECORD_FORMAT}\")")
    for key in ("inputs", "parameters", "working_directory"):
        if key not in record:
            raise InputError(f"{path}: the run record has no {key!r}")
    return record


def check_inputs(record: dict, where: str = "run record") -> None:
    """Raise when an input of the record is missing or its bytes changed (SHA-256), naming the input."""
    cwd = Path(record["working_directory"])
    for row in record["inputs"]:
        p = Path(row["path"])
        full = p if p.is_absolute() else cwd / p
        if not full.is_file():
            raise DataIOError(f"{where}: input {row['name']!r} ({full}) is missing; restore it to rerun the report")
        digest = sha256_of(full)
        if digest != row["sha256"]:
            raise InputError(f"{where}: input {row['name']!r} ({full}) has changed since the report was made "
                             f"(SHA-256 {digest[:12]}… instead of {row['sha256'][:12]}…); the rerun would not "
                             "reproduce the report — restore the recorded file, or make a new report")
