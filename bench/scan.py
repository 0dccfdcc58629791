"""The dormancy scan's page selection over a million accounts.

The accounts live in a schema of their own (bench_scan.accounts, a copy of accounts' columns, constraints
and indexes) so the lifecycle's accounts and the import's are not in the way, and are dropped afterwards.
The walk calls the product's own db.scan_queries.dormant_page (with search_path pointing at the copy), page
after page with the keyset cursor, page size 200 (ScanInput's default), exactly as DormancyScanWorkflow
drives scan_dormant_page: the figure is the SELECTs only, not the workflow starts each page triggers. It is
judged after `settle_accounts_after_load`, the VACUUM (ANALYZE) that `dormant import` ends with; the walk on
the table as loaded, before it, is printed beside it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import asyncpg

from bench.stack import Progress, percentile
from db.crm_import import settle_accounts_after_load
from db.scan_queries import dormant_page
from reactivation.scan_model import ScanInput

SCHEMA = "bench_scan"
DORMANCY_DAYS = 90

# Last activity spread over 0..999 days ago (so ~91% are dormant at 90 days), tiers and owners mixed.
FILL = f"""
INSERT INTO {SCHEMA}.accounts (account_id, name, segment, tier, owner_email, account_value, last_activity_at,
                               contact_email, consent_status, risk_level, relationship, fit)
SELECT 'S-' || lpad(g::text, 7, '0'), 'Account ' || g, (ARRAY['clinics', 'agencies', 'saas'])[1 + g % 3],
       (ARRAY['standard', 'self_serve', 'strategic'])[1 + g % 3], 'owner' || (g % 50) || '@bench.dormant',
       1000 + g % 90000, now() - ((g::bigint * 7919) % 1000) * interval '1 day' - (g % 86400) * interval '1 second',
       'c' || g || '@example.com', 'granted', 'low', 'neutral', 'high'
FROM generate_series(1, $1) AS g
"""


async def _walk(conn: asyncpg.Connection, cutoff: datetime, page_size: int, expected: int,
                label: str) -> tuple[float, list[float]]:
    """Every dormant id, page after page with the keyset cursor; (seconds, per-page ms)."""
    progress = Progress(label, expected)
    after, seen, page_ms = None, 0, []
    started = time.perf_counter()
    while True:
        t = time.perf_counter()
        page = await dormant_page(conn, cutoff, after, page_size)
        page_ms.append((time.perf_counter() - t) * 1000)
        seen += len(page)
        progress.show(seen)
        if len(page) < page_size:
            break
        after = page[-1]
    elapsed = time.perf_counter() - started
    if seen != expected:
        raise RuntimeError(f"the scan selected {seen} accounts; {expected} are dormant")
    return elapsed, page_ms


async def measure_scan(dsn: str, rows: int) -> dict:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}; "
                           f"CREATE TABLE {SCHEMA}.accounts (LIKE public.accounts INCLUDING ALL)")
        fill_started = time.perf_counter()
        await conn.execute(FILL, rows)
        await conn.execute(f"ANALYZE {SCHEMA}.accounts")
        fill_s = time.perf_counter() - fill_started
        print(f"  scan: {rows:,} accounts inserted and analysed in {fill_s:.1f} s", flush=True)

        await conn.execute(f"SET search_path TO {SCHEMA}")
        cutoff = datetime.now(UTC) - timedelta(days=DORMANCY_DAYS)
        expected = await conn.fetchval("SELECT count(*) FROM accounts WHERE last_activity_at < $1", cutoff)
        page_size = ScanInput().page_size
        # First on the table as loaded (rows that arrive faster than autovacuum: informational), then after
        # the step `dormant import` ends with (judged): the product's path to a million accounts is an import.
        elapsed, page_ms = await _walk(conn, cutoff, page_size, expected, "scan before VACUUM (selected)")
        out = {"scan_1m_select_unvacuumed_s": round(elapsed, 2),
               "scan_page_unvacuumed_p50_ms": round(percentile(page_ms, 50), 2)}
        settle_started = time.perf_counter()
        await settle_accounts_after_load(conn)
        settle_s = time.perf_counter() - settle_started
        elapsed, page_ms = await _walk(conn, cutoff, page_size, expected, "scan after the import's VACUUM (selected)")
        out.update({"scan_1m_select_s": round(elapsed, 2), "scan_rows": rows, "scan_dormant_selected": expected,
                    "scan_pages": len(page_ms), "scan_page_size": page_size,
                    "scan_page_p50_ms": round(percentile(page_ms, 50), 2),
                    "scan_page_p99_ms": round(percentile(page_ms, 99), 2), "scan_fill_s": round(fill_s, 1),
                    "scan_settle_s": round(settle_s, 1)})
        return out
    finally:
        await conn.execute(f"RESET search_path; DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        await conn.close()
