"""Benchmark: the peak memory of importing a big accounts.csv (default 100 MB), which must stay bounded.

Run: python -m bench.import_memory [--mb 100]. Starts its own embedded PostgreSQL in a temp dir (or uses
DATABASE_URL), writes an accounts.csv of at least --mb megabytes (one row in 50 carries a 20,000-character
inactivity reason, like a pasted call transcript), then runs `dormant import` in a child process and reports
that process's peak RSS (ru_maxrss of the child), the time, and the peak RSS of a child that only imports
the modules (the floor). Writes bench/results/import_memory.json.

Streaming means the peak does not grow with the file: compare --mb 20 with --mb 100.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.scratch_db import scratch_dsn
from reactivation.crm_schema import SPECS

RESULTS = Path(__file__).parent / "results"
TARGET_MB = 150  # peak RSS of the importing process, whatever the file's size


def write_accounts(path: Path, megabytes: int) -> int:
    """Write accounts.csv until it holds `megabytes` MB; returns the number of rows."""
    long_reason = ("Call transcript: " + "they said the rollout stalled after the reorg and budgets moved. " * 400)[:20_000]
    rows = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(list(SPECS["accounts.csv"].columns))
        while fh.tell() < megabytes * 2**20:
            i = rows
            out.writerow([
                f"M-{i:08d}", f"Account {i} Ltd", ["clinics", "agencies", "saas"][i % 3], "standard",
                f"owner{i % 50}@bench.dormant", f"{1000 + i % 90000}.00", "USD", "2025-05-15T10:00:00Z", "email",
                "Zoë Müller-Łukasiewicz", f"contact{i}@example.com", "+49 30 1234567", "Europe/Berlin", "granted",
                long_reason if i % 50 == 0 else "Budget moved to another project; asked to reconnect next quarter",
                "low", "neutral", "high"])
            rows += 1
    return rows


def _child_peak_mb(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run command in a fresh child; returns (its peak RSS in MB, seconds)."""
    started = time.perf_counter()
    code = f"""
import resource, subprocess, sys
done = subprocess.run({command!r})
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(done.returncode)
"""
    # A wrapper per measurement: RUSAGE_CHILDREN of this process would be the max over every child so far.
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{command} failed:\n{out.stderr[-3000:]}")
    peak_kb = int(out.stdout.strip().splitlines()[-1])
    return round(peak_kb / 1024, 1), round(time.perf_counter() - started, 2)


def run(megabytes: int, dsn: str, directory: Path) -> dict:
    path = directory / "accounts.csv"
    rows = write_accounts(path, megabytes)
    env = os.environ | {"DATABASE_URL": dsn}
    floor, _ = _child_peak_mb([sys.executable, "-c", "import dormant.cli, db.crm_import, asyncpg"], env)
    peak, seconds = _child_peak_mb([str(Path(sys.executable).with_name("dormant")), "import", str(directory)], env)
    return {"file_mb": round(path.stat().st_size / 2**20, 1), "rows": rows, "import_s": seconds,
            "import_peak_rss_mb": peak, "module_floor_rss_mb": floor, "target_peak_rss_mb": TARGET_MB,
            "pass": peak < TARGET_MB}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=100, help="size of accounts.csv in MB (default 100)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, scratch_dsn(Path(tmp)) as dsn:
        csv_dir = Path(tmp) / "csv"
        csv_dir.mkdir()
        result = run(args.mb, dsn, csv_dir)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "import_memory.json").write_text(json.dumps(result, indent=2))
    print(f"imported a {result['file_mb']} MB accounts.csv ({result['rows']:,} rows) in {result['import_s']} s; "
          f"peak RSS {result['import_peak_rss_mb']} MB (modules alone {result['module_floor_rss_mb']} MB; "
          f"target < {TARGET_MB} MB): {'PASS' if result['pass'] else 'FAIL'}")


if __name__ == "__main__":
    main()
