"""One page of the dormancy scan: select a keyset page and start a reactivation for each account.

Starts are idempotent (an open review is left alone) and bounded in concurrency, because the SQLite dev
server times out with about 1,000 starts in flight. The activity heartbeats its progress.
"""

from __future__ import annotations

import asyncio

import asyncpg
from temporalio import activity
from temporalio.client import Client

from db.scan_queries import dormant_page
from reactivation.scan_models import ScanCursor, ScanPageRequest, ScanPageResult
from reactivation.settings import Settings
from workflows.starter import start_reactivation

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
        gate = asyncio.Semaphore(START_CONCURRENCY)
        queue = activity.info().task_queue

        async def start(account_id: str) -> bool:
            async with gate:
                result = await start_reactivation(self.client, self.settings, account_id, source="scan",
                                                  reason=f"no activity for {self.settings.dormancy_days}+ days",
                                                  task_queue=queue)
                activity.heartbeat(account_id)
                return result.started

        started = sum(await asyncio.gather(*(start(account_id) for _, account_id in page)))
        next_cursor = ScanCursor(last_activity_at=page[-1][0], account_id=page[-1][1]) \
            if len(page) == request.page_size else None
        return ScanPageResult(seen=len(page), started=started, already_open=len(page) - started,
                              next_cursor=next_cursor)
