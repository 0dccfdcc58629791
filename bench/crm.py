"""Bench accounts in the CRM store, their starts, and waiting on the review_projection table.

Accounts are the test suite's default account (tests/support/crm_fixtures.py: self-serve, consented, marketing-led,
ready), so they reach awaiting_review and, with no answer, close as no_response rather than becoming an
owner task. Each gets its own contact address so a suppressed address elsewhere cannot stop a send.
Progress is read from PostgreSQL (one COUNT per poll) rather than by querying N workflows, which would
load the very server being measured.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
from temporalio.client import Client

from bench.stack import START_CONCURRENCY, Progress, bounded
from client.starter import start_reactivation
from config.settings import Settings
from tests.support.crm_fixtures import ACCOUNT_DEFAULTS

OWNERS = 50


def new_prefix(kind: str) -> str:
    return f"bench-{kind}-{uuid.uuid4().hex[:6]}"


def account_ids(prefix: str, n: int) -> list[str]:
    return [f"{prefix}-{i:06d}" for i in range(n)]


def owner_of(account_id: str) -> str:
    return f"owner{int(account_id.rsplit('-', 1)[1]) % OWNERS}@bench.dormant"


async def insert_accounts(pool: asyncpg.Pool, ids: list[str]) -> None:
    """COPY the accounts and one past order each; mark tickets/orders as connected sources."""
    last = datetime.now(UTC) - timedelta(days=120)
    base = {**ACCOUNT_DEFAULTS, "last_activity_at": last}
    columns = ["account_id", *base]
    records = []
    for aid in ids:
        row = {**base, "owner_email": owner_of(aid), "contact_email": f"{aid}@example.com"}
        records.append((aid, *row.values()))
    order_at = datetime.now(UTC) - timedelta(days=200)
    async with pool.acquire() as conn, conn.transaction():
        await conn.copy_records_to_table("accounts", records=records, columns=columns)
        await conn.copy_records_to_table(
            "orders", records=[(f"{aid}-o1", aid, order_at, 480, "Quarterly booking") for aid in ids],
            columns=["order_id", "account_id", "at", "amount", "description"])
        await conn.execute("""INSERT INTO crm_sources (source, rows) VALUES ('tickets', 0), ('orders', 0)
                              ON CONFLICT DO NOTHING""")


async def start_all(client: Client, settings: Settings, ids: list[str], label: str) -> None:
    """start_reactivation for each id, START_CONCURRENCY in flight, as the dormancy scan does."""
    progress = Progress(f"{label} (started)", len(ids))
    done = 0

    async def start(aid):
        nonlocal done
        result = await start_reactivation(client, settings, aid, source="scan", reason="bench",
                                          task_queue=settings.task_queue)
        if not result.started:
            raise RuntimeError(f"{aid}: {result.message}")
        done += 1
        progress.show(done)

    await bounded(ids, start, START_CONCURRENCY)


async def stage_counts(pool: asyncpg.Pool, prefix: str) -> dict[str, int]:
    rows = await pool.fetch("""SELECT stage, count(*) AS n FROM review_projection
                               WHERE account_id LIKE $1 GROUP BY stage""", prefix + "-%")
    return {r["stage"]: r["n"] for r in rows}


# Stages an account of the bench's kind should never reach: waiting for them would never end.
WRONG_STAGES = {"not_ready", "suppressed", "monitoring", "held", "holdout"}


async def wait_for_stage(pool: asyncpg.Pool, prefix: str, stage: str, total: int, label: str, *,
                         timeout: float = 3600.0, extra=lambda: "", watch: asyncio.Task | None = None) -> float:
    """Poll until `total` accounts under `prefix` are in `stage`; return time.perf_counter() then.

    `watch` is the task feeding the accounts (starts, approvals): if it fails, so does the wait.
    """
    progress = Progress(label, total)
    deadline = time.monotonic() + timeout
    while True:
        counts = await stage_counts(pool, prefix)
        done = counts.get(stage, 0)
        now = time.perf_counter()
        if done >= total:
            progress.show(done, extra(), force=True)
            return now
        if watch is not None and watch.done() and (failed := watch.exception()) is not None:
            raise failed
        wrong = {k: v for k, v in counts.items() if k in WRONG_STAGES}
        if wrong:
            raise RuntimeError(f"{label}: accounts reached unexpected stages {wrong}; all stages: {counts}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{label}: only {done}/{total} reached {stage} in {timeout:.0f}s; stages: {counts}")
        progress.show(done, extra())
        await asyncio.sleep(0.25)
