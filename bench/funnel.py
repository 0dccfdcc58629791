"""From CRM export to review queue: import N accounts from CSV, run the dormancy scan, until every eligible
account is awaiting review; against bare Temporal starting the same number of workflows (no-op activities).

The product side runs in a database of its own on the bench's PostgreSQL (created, migrated, dropped), so
the scan sees exactly the imported accounts and none of the other steps'. Timed from the start of
`import_directory` (the CSVs are written untimed, by bench/import_100k.py's writer) through `run_scan` (the
DormancyScanWorkflow, pages of 200, 20 starts in flight per page: the product's own bounds) until every
account the scan started has left `gathering_evidence` in review_projection. The product worker
(worker.build_workers) runs in the bench process on its own task queue. Rate = accounts awaiting review /
elapsed. The bare side: as many BareWorkflows started (20 in flight) until each waits for its signal, i.e.
the same no-op activities, local activities, upsert and reminder timer as the product's first half.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg

from bench.bare import bare_starts_to_waiting
from bench.import_100k import write_csvs
from bench.stack import BenchStack, Progress, bench_settings
from db.crm_import import import_directory
from db.migrate import migrate_dsn
from db.pool import create_pool
from tests.support.lifecycle_helpers import running_worker


def _dsn_for(dsn: str, database: str) -> str:
    base, _, _ = dsn.rpartition("/")
    return f"{base}/{database}"


async def _wait_settled(pool: asyncpg.Pool, started: int, timeout: float = 3600) -> tuple[float, dict]:
    progress = Progress("funnel (left gathering_evidence)", started)
    deadline = time.monotonic() + timeout
    while True:
        rows = await pool.fetch("SELECT stage, count(*) AS n FROM review_projection GROUP BY stage")
        counts = {r["stage"]: r["n"] for r in rows}
        settled = sum(v for k, v in counts.items() if k != "gathering_evidence")
        if settled >= started:
            progress.show(settled, force=True)
            return time.perf_counter(), counts
        if time.monotonic() > deadline:
            raise TimeoutError(f"funnel: {settled}/{started} settled after {timeout:.0f}s; stages {counts}")
        progress.show(settled, str(counts))
        await asyncio.sleep(0.25)


async def measure_funnel(client, stack: BenchStack, n: int, cpu=None) -> dict:
    from dormant.scan import run_scan

    database = f"bench_funnel_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(stack.database_url)
    await admin.execute(f"CREATE DATABASE {database}")
    dsn = _dsn_for(stack.database_url, database)
    out: dict = {"funnel_accounts": n}
    try:
        await migrate_dsn(dsn)
        settings = bench_settings(stack, database_url=dsn)
        pool = await create_pool(dsn, max_size=settings.db_pool_size)
        poll = await create_pool(dsn, max_size=2)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                print(f"  funnel: writing CSVs for {n:,} accounts (untimed)", flush=True)
                write_csvs(Path(tmp), n)
                async with running_worker(client, pool, settings):
                    meter = cpu() if cpu else None
                    t0 = time.perf_counter()
                    async with pool.acquire() as conn:
                        await import_directory(conn, Path(tmp))
                    t1 = time.perf_counter()
                    print(f"  funnel: imported in {t1 - t0:.1f} s; scanning", flush=True)
                    result = await run_scan(settings, client=client, task_queue=settings.task_queue)
                    t2 = time.perf_counter()
                    print(f"  funnel: scan started {result.started} in {t2 - t1:.1f} s ({result.summary()})",
                          flush=True)
                    t3, stages = await _wait_settled(poll, result.started)
                    if meter:
                        out["cpu_ms_per_account_funnel"] = meter.per_account_ms(max(result.started, 1))
        finally:
            await pool.close()
            await poll.close()
        in_review = stages.get("awaiting_review", 0)
        out.update({"funnel_import_s": round(t1 - t0, 2), "funnel_scan_starts_s": round(t2 - t1, 2),
                    "funnel_elapsed_s": round(t3 - t0, 2), "funnel_scan_started": result.started,
                    "funnel_scan_summary": result.summary(), "funnel_stages": stages,
                    "funnel_in_review": in_review,
                    "funnel_accounts_per_s": round(in_review / (t3 - t0), 2),
                    "funnel_accounts_per_s_scan_only": round(in_review / (t3 - t1), 2)})
        print(f"  funnel: {in_review} awaiting review in {t3 - t0:.1f} s; bare: starting {in_review}", flush=True)
        timer_s = settings.follow_up_after.total_seconds()
        out.update(await bare_starts_to_waiting(client, max(in_review, 1), timer_s, settings, cpu=cpu))
        out["funnel_ratio_vs_bare"] = round(out["funnel_accounts_per_s"] / out["funnel_bare_accounts_per_s"], 3)
        out["funnel_ratio_vs_bare_scan_only"] = round(
            out["funnel_accounts_per_s_scan_only"] / out["funnel_bare_accounts_per_s"], 3)
        return out
    finally:
        try:
            await admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        finally:
            await admin.close()
