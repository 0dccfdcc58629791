"""The dormancy scan's query: accounts quiet since a cutoff, walked with keyset pagination.

Keyset on (last_activity_at, account_id) uses the accounts_last_activity index, so each page costs the
same however deep the scan is, even over a million accounts.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg


async def dormant_page(conn: asyncpg.Connection, cutoff: datetime, after: tuple[datetime, str] | None,
                       limit: int) -> list[tuple[datetime, str]]:
    if after is None:
        rows = await conn.fetch(
            """SELECT last_activity_at, account_id FROM accounts WHERE last_activity_at < $1
               ORDER BY last_activity_at, account_id LIMIT $2""",
            cutoff, limit,
        )
    else:
        rows = await conn.fetch(
            """SELECT last_activity_at, account_id FROM accounts
               WHERE last_activity_at < $1 AND (last_activity_at, account_id) > ($2, $3)
               ORDER BY last_activity_at, account_id LIMIT $4""",
            cutoff, after[0], after[1], limit,
        )
    return [(r["last_activity_at"], r["account_id"]) for r in rows]
