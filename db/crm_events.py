"""CRM events as received: stored first (nothing is lost), then applied to the CRM store and signalled."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from db.suppression import last_sent_address, suppress_address


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
        elif type_ == "bounce":
            await _suppress_bounced_address(conn, account_id, detail)
        elif type_ == "opt_out":
            await conn.execute("UPDATE accounts SET consent_status = 'opted_out', updated_at = now() "
                               "WHERE account_id = $1", account_id)
    return event_id


async def mark_delivered(conn: asyncpg.Connection, event_id: int) -> None:
    await conn.execute("UPDATE crm_events SET delivered = true WHERE id = $1", event_id)


async def _suppress_bounced_address(conn: asyncpg.Connection, account_id: str, detail: str) -> None:
    """A bounce report is about the address we last sent to (or, before any send, the contact email)."""
    sent = await last_sent_address(conn, account_id)
    if sent is None:
        email = await conn.fetchval("SELECT contact_email FROM accounts WHERE account_id = $1", account_id)
        sent = (email, "email") if email else None
    if sent is not None:
        await suppress_address(conn, sent[0], sent[1], "bounce", account_id, detail)
