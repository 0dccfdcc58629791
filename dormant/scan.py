"""`dormant scan`: find accounts quiet for DORMANT_DORMANCY_DAYS and start a reactivation for each.

Starts run with bounded concurrency (the SQLite dev server falls over with ~1,000 starts in flight) and
are idempotent: an account with an open review is reported as already open, not started twice.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable

from db.pool import create_pool
from db.scan_queries import dormant_page
from reactivation.settings import Settings
from workflows.client import connect_temporal
from workflows.starter import start_reactivation

PAGE = 500


@dataclass
class ScanReport:
    seen: int = 0
    started: int = 0
    already_open: int = 0
    started_ids: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"{self.seen} dormant accounts: {self.started} started, {self.already_open} already open"


async def scan_and_start(settings: Settings, dsn: str, *, now: datetime | None = None, concurrency: int = 20,
                         progress: Callable[[ScanReport], None] | None = None) -> ScanReport:
    cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=settings.dormancy_days)
    client = await connect_temporal(settings)
    pool = await create_pool(dsn, max_size=2)
    report = ScanReport()
    gate = asyncio.Semaphore(concurrency)

    async def start(account_id: str) -> None:
        async with gate:
            result = await start_reactivation(client, settings, account_id, source="scan",
                                              reason=f"no activity for {settings.dormancy_days}+ days")
        if result.started:
            report.started += 1
            report.started_ids.append(account_id)
        else:
            report.already_open += 1

    try:
        after = None
        while True:
            async with pool.acquire() as conn:
                page = await dormant_page(conn, cutoff, after, PAGE)
            if not page:
                break
            report.seen += len(page)
            await asyncio.gather(*(start(account_id) for _, account_id in page))
            if progress:
                progress(report)
            after = page[-1]
    finally:
        await pool.close()
    return report
