"""Benchmark: import 100,000 accounts with tickets and orders (target: under 60 s on a 2-core machine).

Run: python -m bench.import_100k [--accounts N]. Starts its own embedded PostgreSQL in a temp dir (or uses
DATABASE_URL), writes the CSVs, times `import_directory`, prints the figure and writes
bench/results/import_100k.json.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import tempfile
import time
from pathlib import Path

import asyncpg

from bench.scratch_db import scratch_dsn
from db.crm_import import import_directory
from db.migrate import migrate_dsn
from reactivation.crm_schema import SPECS

RESULTS = Path(__file__).parent / "results"


def write_csvs(directory: Path, accounts: int) -> None:
    def writer(name: str):
        fh = open(directory / name, "w", newline="")  # noqa: SIM115 - three files open together, closed below
        out = csv.writer(fh)
        out.writerow(list(SPECS[name].columns))
        return fh, out

    files = {name: writer(name) for name in ("accounts.csv", "tickets.csv", "orders.csv")}
    for i in range(accounts):
        aid = f"B-{i:07d}"
        files["accounts.csv"][1].writerow([
            aid, f"Account {i}", ["clinics", "agencies", "saas"][i % 3], ["standard", "self_serve", "strategic"][i % 3],
            f"owner{i % 50}@bench.dormant", f"{1000 + i % 90000}.00", "USD", f"2025-{1 + i % 12:02d}-15T10:00:00Z",
            "email", "Pat Doe", f"pat{i}@example.com", "", "Europe/Berlin", "granted", "Budget cut", "low",
            "neutral", "high"])
        files["tickets.csv"][1].writerow([f"T-{i}", aid, "2025-03-01T09:00:00Z", "2025-03-02T09:00:00Z", "closed",
                                          "low", "how-to", "Export question", "How do I export the report?"])
        for n in range(2):
            files["orders.csv"][1].writerow([f"O-{i}-{n}", aid, f"2024-{1 + n * 5:02d}-10T12:00:00Z", "480.00",
                                             "Quarterly booking"])
    for fh, _ in files.values():
        fh.close()


async def run(accounts: int, dsn: str, directory: Path) -> dict:
    await migrate_dsn(dsn)
    write_csvs(directory, accounts)
    conn = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        report = await import_directory(conn, directory)
        elapsed = time.perf_counter() - started
        again_started = time.perf_counter()
        again = await import_directory(conn, directory)
        reimport = time.perf_counter() - again_started
    finally:
        await conn.close()
    return {"accounts": accounts, "tickets": accounts, "orders": 2 * accounts, "import_100k_s": round(elapsed, 2),
            "reimport_noop_s": round(reimport, 2), "summary": report.summary(),
            "reimport_changed_rows": sum(c.inserted + c.updated for c in again.files.values())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, scratch_dsn(Path(tmp)) as dsn:
        csv_dir = Path(tmp) / "csv"
        csv_dir.mkdir()
        result = asyncio.run(run(args.accounts, dsn, csv_dir))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "import_100k.json").write_text(json.dumps(result, indent=2))
    print(f"imported {result['accounts']:,} accounts + {result['tickets']:,} tickets + {result['orders']:,} orders "
          f"in {result['import_100k_s']} s (target < 60 s); re-import no-op in {result['reimport_noop_s']} s "
          f"({result['reimport_changed_rows']} rows changed)")


if __name__ == "__main__":
    main()
