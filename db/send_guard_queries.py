"""The facts the last-moment send guard judges, read inside the transaction that claims the message.

`lock_account` takes the account row FOR UPDATE: `db.crm_events.record_event` locks the same row, so a
CRM event and a claim are serialised. An event committed first is seen here and stops the send; one
committed after the claim arrives after the message was handed on, and the workflow handles it then.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from db.evidence_queries import load_evidence
from db.suppression import describe, normalise
from reactivation.send_guard import GuardFacts
from reactivation.vocabulary import STOP_EVENTS


async def lock_account(conn: asyncpg.Connection, account_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT account_id, contact_email, contact_phone, contact_name, consent_status, timezone
           FROM accounts WHERE account_id = $1 FOR UPDATE""", account_id)


async def guard_facts(conn: asyncpg.Connection, account: asyncpg.Record, *, address: str, episode: str,
                      approved_at: datetime | None, window_open: bool, approved_fingerprint: list[str] | None,
                      fingerprint_of) -> GuardFacts:
    """`fingerprint_of(pack)` judges today's evidence with the episode's policy (None: not re-judged).

    The address's suppression, the stop events since the approval and the account's current episode (the
    review projection names it; no row yet: nothing newer exists) come from one statement: the guard runs
    on every send, inside the claiming transaction."""
    account_id = account["account_id"]
    fingerprint_now = None
    if approved_fingerprint is not None:
        fingerprint_now = fingerprint_of(await load_evidence(conn, account_id, datetime.now().astimezone()))
    row = await conn.fetchrow(
        """SELECT s.reason AS suppressed_reason, s.detail AS suppressed_detail,
                  ARRAY(SELECT DISTINCT e.type FROM crm_events e
                        WHERE e.account_id = $1 AND $3::timestamptz IS NOT NULL AND e.received_at > $3
                          AND e.type = ANY($4::text[])) AS stop_events,
                  (SELECT p.episode FROM review_projection p WHERE p.account_id = $1) AS current_episode
           FROM (SELECT 1) AS one LEFT JOIN suppressed_addresses s ON s.address = $2""",
        account_id, normalise(address) if address else None, approved_at, [e.value for e in STOP_EVENTS])
    return GuardFacts(
        consent_status=account["consent_status"],
        address_suppressed=describe(row["suppressed_reason"], row["suppressed_detail"]) if row["suppressed_reason"] else "",
        stop_events=list(row["stop_events"]),
        episode_current=row["current_episode"] in (None, episode), window_open=window_open,
        approved_fingerprint=approved_fingerprint, fingerprint_now=fingerprint_now)
