"""One page of the dormancy scan: select a keyset page, keep out what the re-entry policy refuses, start
a reactivation for each of the rest.

The re-entry verdict (reactivation/reentry.py) is the same one the CRM trigger and the account view give,
read for the whole page in one query; skipped accounts are counted per reason, so `dormant scan` can say
what it left alone and why. Starts are idempotent (an open review is left alone) and bounded in
concurrency, because the SQLite dev server times out with about 1,000 starts in flight. The activity
heartbeats its progress.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime

import asyncpg
from temporalio import activity
from temporalio.client import Client

from client.starter import start_reactivation
from config.settings import Settings, policy_from
from db.reentry_queries import reentry_facts
from db.scan_queries import dormant_page
from reactivation.scan_model import ScanCursor, ScanPageRequest, ScanPageResult

START_CONCURRENCY = 20


class ScanActivities:
    def __init__(self, pool: asyncpg.Pool, client: Client, settings: Settings) -> None:
        self.pool = pool
        self.client = client
        self.settings = settings

    @activity.defn(name="scan_dormant_page")
    async def scan_dormant_page(self, request: ScanPageRequest) -> ScanPageResult:
        after = (request.cursor.last_activity_at, request.cursor.account_id) if request.cursor else None
        async with self.pool.acquire() as conn:
            page = await dormant_page(conn, request.cutoff, after, request.page_size)
            facts = await reentry_facts(conn, [account_id for _, account_id in page])
        policy, now = policy_from(self.settings), datetime.now(UTC)
        skips = {account_id: skip for account_id, f in facts.items() if (skip := f.skip(now, policy))}
        gate = asyncio.Semaphore(START_CONCURRENCY)
        queue = activity.info().task_queue

        async def start(account_id: str) -> bool:
            async with gate:
                result = await start_reactivation(self.client, self.settings, account_id, source="scan",
                                                  reason=f"no activity for {self.settings.dormancy_days}+ days",
                                                  task_queue=queue)
                activity.heartbeat(account_id)
                return result.started

        wanted = [account_id for _, account_id in page if account_id not in skips]
        started = sum(await asyncio.gather(*(start(account_id) for account_id in wanted)))
        next_cursor = ScanCursor(last_activity_at=page[-1][0], account_id=page[-1][1]) \
            if len(page) == request.page_size else None
        return ScanPageResult(seen=len(page), started=started, already_open=len(wanted) - started,
                              skipped=dict(Counter(skip.reason.value for skip in skips.values())),
                              next_cursor=next_cursor)
