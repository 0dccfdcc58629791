"""Time one `load_evidence` call: the evidence pack read on every account's hot path (three times: gathering
evidence, then the send guard's re-read at each of the two sends).

Run: python -m bench.evidence_pack [--calls N] [--out PATH]. Uses DATABASE_URL, else starts an embedded
PostgreSQL in a temp dir (bench/scratch_db.py). One typical account (3 tickets, 5 orders, 2 notes,
2 activities, 2 offers for its segment), read `--calls` times on one connection after a warm-up (so the
statement is prepared and its plan cached, as on a worker's pooled connection). Reports the median and p99
wall time per call, the statements each call sends (asyncpg's query logger), and CPU per call of this
process and, when the server is on this machine, of the PostgreSQL backend serving the connection
(utime + stime from /proc/<pg_backend_pid()>/stat).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from bench.scratch_db import scratch_dsn
from bench.stack import _proc_cpu_s, percentile
from db.evidence_queries import load_evidence
from db.migrate import migrate_dsn

Loader = Callable[[asyncpg.Connection, str, datetime], Awaitable[object]]


async def add_typical_account(conn: asyncpg.Connection, account_id: str) -> None:
    now = datetime.now(UTC)
    segment = f"{account_id}-segment"
    await conn.execute(
        """INSERT INTO accounts (account_id, name, segment, tier, owner_email, account_value, last_activity_at,
                                 contact_name, contact_email, contact_phone, timezone, consent_status)
           VALUES ($1, 'Harbor Dental Group', $2, 'self_serve', 'owner@bench.dormant', 12000, $3, 'Jordan Reyes',
                   $1 || '@example.com', '+1-555-0100', 'UTC', 'granted')""", account_id, segment, now - timedelta(days=120))
    await conn.execute("INSERT INTO crm_sources (source, rows) VALUES ('tickets', 0), ('orders', 0) ON CONFLICT DO NOTHING")
    await conn.executemany(
        """INSERT INTO tickets (ticket_id, account_id, opened_at, closed_at, status, severity, category, subject, body)
           VALUES ($1, $2, $3, $4, $5, 'high', 'billing', 'Billing discrepancy on last invoice', $6)""",
        [(f"{account_id}-T{i}", account_id, now - timedelta(days=100 + 30 * i), None if i == 0 else now - timedelta(days=90),
          "open" if i == 0 else "closed", "The invoice shows two charges for the same booking. " * 4) for i in range(3)])
    await conn.executemany(
        "INSERT INTO orders (order_id, account_id, at, amount, description) VALUES ($1, $2, $3, 480.00, 'Quarterly booking')",
        [(f"{account_id}-O{i}", account_id, now - timedelta(days=150 + 90 * i)) for i in range(5)])
    await conn.executemany(
        "INSERT INTO notes (account_id, at, author_email, body) VALUES ($1, $2, 'am@bench.dormant', $3)",
        [(account_id, now - timedelta(days=130 + i), "Paused after a staffing change; open to a call in spring. " * 3)
         for i in range(2)])
    await conn.executemany(
        "INSERT INTO activities (account_id, at, type, detail) VALUES ($1, $2, $3, 'Checked the booking page')",
        [(account_id, now - timedelta(days=120 + i), f"visit{i}") for i in range(2)])
    await conn.executemany(
        "INSERT INTO offers (offer_id, name, description, kind, promotional, segment) VALUES ($1, $2, $3, $4, $5, $6)",
        [(f"{account_id}-F{i}", f"Offer {i}", "A free account review with your account manager.", "review",
          i == 1, segment) for i in range(2)])


async def measure(conn: asyncpg.Connection, account_id: str, calls: int, loader: Loader = load_evidence) -> dict:
    """Per-call wall time, statements and CPU of `loader` (the product's load_evidence unless told)."""
    statements = 0

    def count(_query) -> None:
        nonlocal statements
        statements += 1

    for _ in range(50):  # warm-up: prepared statement cached, plan past the custom-plan phase
        await loader(conn, account_id, datetime.now(UTC))
    backend = await conn.fetchval("SELECT pg_backend_pid()")
    backend_before = _proc_cpu_s(backend) if Path(f"/proc/{backend}").exists() else None
    own_before = time.process_time()
    conn.add_query_logger(count)
    wall = []
    for _ in range(calls):
        started = time.perf_counter()
        await loader(conn, account_id, datetime.now(UTC))
        wall.append((time.perf_counter() - started) * 1000)
    await asyncio.sleep(0)  # query loggers are called soon after each query, not within it
    conn.remove_query_logger(count)
    own_ms = (time.process_time() - own_before) * 1000 / calls
    backend_ms = (_proc_cpu_s(backend) - backend_before) * 1000 / calls if backend_before is not None else None
    return {"calls": calls, "statements_per_call": statements / calls,
            "median_ms": round(percentile(wall, 50) or 0, 3), "p99_ms": round(percentile(wall, 99) or 0, 3),
            "bench_process_cpu_ms_per_call": round(own_ms, 3),
            "postgres_backend_cpu_ms_per_call": None if backend_ms is None else round(backend_ms, 3)}


async def run(dsn: str, calls: int) -> dict:
    await migrate_dsn(dsn)
    conn = await asyncpg.connect(dsn)
    account_id = f"bench-ev-{uuid.uuid4().hex[:8]}"
    try:
        await add_typical_account(conn, account_id)
        return await measure(conn, account_id, calls)
    finally:
        await conn.execute("DELETE FROM offers WHERE segment = $1", f"{account_id}-segment")
        await conn.execute("DELETE FROM accounts WHERE account_id = $1", account_id)  # cascades to its history
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--out", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dormant-bench-evidence-") as tmp, scratch_dsn(Path(tmp)) as dsn:
        result = asyncio.run(run(dsn, args.calls))
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
