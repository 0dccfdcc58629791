"""Reading the measurement ledger in tests."""

from __future__ import annotations

import asyncpg


async def fetch_events(pool: asyncpg.Pool, account_id: str) -> list[str]:
    rows = await pool.fetch("SELECT type FROM measurement_events WHERE account_id = $1 ORDER BY at, event_id",
                            account_id)
    return [r["type"] for r in rows]
