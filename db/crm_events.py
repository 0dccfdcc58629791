"""CRM events as received: stored first (nothing is lost), then applied to the CRM store and signalled.

Every event takes the account row FOR UPDATE first, whatever its type: the send guard
(`db.send_guard_queries.lock_account`) locks the same row while it claims a message, so an event and a
send are serialised, never interleaved. An owner change is written to the CRM store (and the review
projection) here, in the same transaction, so the next episode, the queue and every access check use the
new owner even when no workflow was open to take the signal. Owner emails are stored in lower case.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from db.suppression import last_sent_address, suppress_address
from reactivation.vocabulary import CrmEventType


async def record_event(conn: asyncpg.Connection, account_id: str, type_: str, at: datetime, detail: str, *,
                       new_owner_email: str | None = None) -> int:
    """Store the event and apply what it says about the account to the CRM store, in one transaction.
    `new_owner_email` is required for an owner_changed event (ValueError otherwise) and ignored for others."""
    owner = (new_owner_email or "").strip().lower()
    if type_ == CrmEventType.owner_changed and not owner:
        raise ValueError("an owner_changed event needs new_owner_email")
    async with conn.transaction():
        await conn.execute("SELECT 1 FROM accounts WHERE account_id = $1 FOR UPDATE", account_id)
        event_id = await conn.fetchval(
            "INSERT INTO crm_events (account_id, type, at, detail) VALUES ($1, $2, $3, $4) RETURNING id",
            account_id, type_, at, detail,
        )
        if type_ == CrmEventType.owner_changed:
            await conn.execute("UPDATE accounts SET owner_email = $2, updated_at = now() WHERE account_id = $1",
                               account_id, owner)
            # The queue and the access checks prefer the projection's owner; between episodes no workflow
            # is left to rewrite it, so it moves here (an open workflow writes the same on the signal).
            await conn.execute("UPDATE review_projection SET owner_email = $2 WHERE account_id = $1",
                               account_id, owner)
        elif type_ in (CrmEventType.activity, CrmEventType.reply):
            await conn.execute(
                """UPDATE accounts SET last_activity_at = greatest(coalesce(last_activity_at, $2), $2)
                   WHERE account_id = $1""", account_id, at)
        elif type_ == CrmEventType.bounce:
            await _suppress_bounced_address(conn, account_id, detail)
        elif type_ == CrmEventType.opt_out:
            await conn.execute(
                """UPDATE accounts SET consent_status = 'opted_out', updated_at = now(),
                          consent_changed_at = CASE WHEN consent_status <> 'opted_out' THEN now()
                                                    ELSE consent_changed_at END
                   WHERE account_id = $1""", account_id)
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
