#!/usr/bin/env python3
"""Runs every careshed benchmark script (benchmarks/*.py except this one and the _-prefixed helpers), one after
the other.

Each script runs careshed and its peer on the same input in one run and prints the ratio; paste the
results into BENCHMARKS.md. Usage: make bench  (or: .venv/bin/python benchmarks/run_all.py [name ...])
"""
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv):
    wanted = set(argv)
    # _common.py and other _-prefixed files are helpers, not benchmarks.
    scripts = sorted(p for p in HERE.glob("*.py") if p.name != Path(__file__).name and not p.name.startswith("_"))
    failed = []
    for script in scripts:
        if wanted and script.stem not in wanted:
            continue
        print(f"=== {script.name} ===", flush=True)
        if subprocess.call([sys.executable, str(script)]) != 0:
            failed.append(script.name)
    if failed:
        print("failed:", ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
