"""The facts the last-moment send guard judges, read inside the transaction that claims the message.

`lock_account` takes the account row FOR UPDATE: `db.crm_events.record_event` locks the same row, so a
CRM event and a claim are serialised. An event committed first is seen here and stops the send; one
committed after the claim arrives after the message was handed on, and the workflow handles it then.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from db.evidence_queries import load_evidence
from db.suppression import suppression_of
from reactivation.send_guard import GuardFacts
from reactivation.vocabulary import STOP_EVENTS


async def lock_account(conn: asyncpg.Connection, account_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT account_id, contact_email, contact_phone, contact_name, consent_status
           FROM accounts WHERE account_id = $1 FOR UPDATE""", account_id)


async def stop_events_since(conn: asyncpg.Connection, account_id: str, since: datetime) -> list[str]:
    rows = await conn.fetch(
        """SELECT DISTINCT type FROM crm_events
           WHERE account_id = $1 AND received_at > $2 AND type = ANY($3::text[])""",
        account_id, since, [e.value for e in STOP_EVENTS])
    return [r["type"] for r in rows]


async def episode_is_current(conn: asyncpg.Connection, account_id: str, episode: str) -> bool:
    """The review projection names the account's current episode (no row yet: nothing newer exists)."""
    current = await conn.fetchval("SELECT episode FROM review_projection WHERE account_id = $1", account_id)
    return current is None or current == episode


async def guard_facts(conn: asyncpg.Connection, account: asyncpg.Record, *, address: str, episode: str,
                      approved_at: datetime | None, window_open: bool, approved_fingerprint: list[str] | None,
                      fingerprint_of) -> GuardFacts:
    """`fingerprint_of(pack)` judges today's evidence with the episode's policy (None: not re-judged)."""
    account_id = account["account_id"]
    fingerprint_now = None
    if approved_fingerprint is not None:
        fingerprint_now = fingerprint_of(await load_evidence(conn, account_id, datetime.now().astimezone()))
    return GuardFacts(
        consent_status=account["consent_status"], address_suppressed=await suppression_of(conn, address) or "",
        stop_events=await stop_events_since(conn, account_id, approved_at) if approved_at else [],
        episode_current=await episode_is_current(conn, account_id, episode), window_open=window_open,
        approved_fingerprint=approved_fingerprint, fingerprint_now=fingerprint_now)
