"""CRM events as received: stored first (nothing is lost), then applied to the CRM store and signalled."""

from __future__ import annotations

from datetime import datetime

import asyncpg


async def record_event(conn: asyncpg.Connection, account_id: str, type_: str, at: datetime, detail: str) -> int:
    """Store the event and apply what it says about the account to the CRM store, in one transaction."""
    async with conn.transaction():
        event_id = await conn.fetchval(
            "INSERT INTO crm_events (account_id, type, at, detail) VALUES ($1, $2, $3, $4) RETURNING id",
            account_id, type_, at, detail,
        )
        if type_ in ("activity", "reply"):
            await conn.execute(
                """UPDATE accounts SET last_activity_at = greatest(coalesce(last_activity_at, $2), $2)
                   WHERE account_id = $1""", account_id, at)
        elif type_ == "opt_out":
            await conn.execute("UPDATE accounts SET consent_status = 'opted_out', updated_at = now() "
                               "WHERE account_id = $1", account_id)
    return event_id


async def mark_delivered(conn: asyncpg.Connection, event_id: int) -> None:
    await conn.execute("UPDATE crm_events SET delivered = true WHERE id = $1", event_id)
