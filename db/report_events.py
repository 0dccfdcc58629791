"""The measurement ledger's events in a report scope, in time order, through a server-side cursor.

An export can be millions of rows: rows are fetched in batches and handed on one at a time, so neither the
database client nor the caller ever holds the whole ledger (api/report_csv.py turns them into CSV).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg

from db.report_scope import SCOPED, Scope

EVENT_COLUMNS = ("event_id", "at", "type", "account_id", "workflow_id", "episode", "stage", "path", "owner_email",
                 "segment", "detail")
BATCH_ROWS = 1000


async def scoped_events(conn: asyncpg.Connection, scope: Scope) -> AsyncIterator[asyncpg.Record]:
    """Every event in `scope`, ordered by time. Opens its own transaction (a cursor needs one; inside a
    caller's transaction this is a savepoint)."""
    query = f"WITH {SCOPED} SELECT {', '.join(EVENT_COLUMNS)} FROM scoped ORDER BY at, event_id"
    async with conn.transaction():
        async for row in conn.cursor(query, *scope.args(), prefetch=BATCH_ROWS):
            yield row
