"""Inbound mail in the database: storing each message once, finding its account, soft-bounce counts.

Matching tries the strongest evidence first: one of our Message-IDs in In-Reply-To/References (or in a
bounce's returned original), then the reply token of our Reply-To address, then the sender against the
addresses we sent to and the accounts' contacts. A sender shared by several accounts is matched only
through the one we wrote to last; with no send at all and several accounts, the message stays unmatched
(listed for admins) rather than being pinned on a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg
from pydantic import BaseModel

from reactivation.vocabulary import InboundClass, LedgerKind

TOKEN = re.compile(r"^[0-9a-f]{32}$")  # the digest part of our Message-IDs (reactivation.delivery_model)


@dataclass(frozen=True)
class Match:
    account_id: str
    by: str  # message_id | reply_token | sender


@dataclass(frozen=True)
class InboundRow:
    source: str
    fingerprint: str
    message_id: str | None
    from_address: str | None
    subject: str
    new_text: str
    kind: InboundClass
    reason: str
    needs_owner: bool
    return_on: date | None
    addresses: tuple[str, ...]
    account_id: str | None
    matched_by: str | None
    episode: str | None
    raw: bytes


async def match_account(conn: asyncpg.Connection, message_ids: tuple[str, ...], token: str | None,
                        senders: tuple[str, ...]) -> Match | None:
    if message_ids:
        row = await conn.fetchrow("SELECT account_id FROM outbox WHERE message_id = ANY($1::text[]) "
                                  "ORDER BY created_at DESC LIMIT 1", list(message_ids))
        if row:
            return Match(row["account_id"], "message_id")
    if token and TOKEN.match(token):
        row = await conn.fetchrow("SELECT account_id FROM outbox WHERE message_id LIKE $1 LIMIT 1", f"<{token}@%")
        if row:
            return Match(row["account_id"], "reply_token")
    for sender in senders:
        row = await conn.fetchrow("SELECT account_id FROM outbox WHERE lower(to_address) = $1 "
                                  "ORDER BY created_at DESC LIMIT 1", sender)
        if row:
            return Match(row["account_id"], "sender")
        rows = await conn.fetch("SELECT account_id FROM accounts WHERE lower(contact_email) = $1 LIMIT 2", sender)
        if len(rows) == 1:
            return Match(rows[0]["account_id"], "sender")
    return None


async def store_inbound(conn: asyncpg.Connection, row: InboundRow) -> tuple[int, bool]:
    """(id, newly stored): the same message posted twice, or read again by the mailbox, is stored once."""
    new_id = await conn.fetchval(
        """INSERT INTO inbound_messages (source, fingerprint, message_id, from_address, subject, new_text, kind,
                                         reason, needs_owner, return_on, addresses, account_id, matched_by, episode,
                                         raw)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
           ON CONFLICT (fingerprint) DO NOTHING RETURNING id""",
        row.source, row.fingerprint, row.message_id, row.from_address, row.subject, row.new_text, row.kind,
        row.reason, row.needs_owner, row.return_on, list(row.addresses), row.account_id, row.matched_by,
        row.episode, row.raw)
    if new_id is not None:
        return new_id, True
    return await conn.fetchval("SELECT id FROM inbound_messages WHERE fingerprint = $1", row.fingerprint), False


async def soft_bounces(conn: asyncpg.Connection, address: str) -> int:
    return await conn.fetchval("SELECT count(*) FROM inbound_messages WHERE kind = $1 AND addresses @> $2::text[]",
                               InboundClass.soft_bounce, [address])


@dataclass(frozen=True)
class Episode:
    workflow_id: str
    episode: str
    owner_email: str | None
    segment: str
    open: bool


async def current_episode(conn: asyncpg.Connection, account_id: str) -> Episode | None:
    row = await conn.fetchrow("SELECT workflow_id, episode, owner_email, segment, outcome FROM review_projection "
                              "WHERE account_id = $1", account_id)
    if row is None:
        return None
    return Episode(row["workflow_id"], row["episode"], row["owner_email"], row["segment"], row["outcome"] is None)


async def record_reply_received(conn: asyncpg.Connection, inbound_id: int, at: datetime, account_id: str,
                                episode: Episode, detail: dict) -> None:
    """The ledger row of one inbound message (`reply_received` with its class); its id makes it once only."""
    await conn.execute(
        """INSERT INTO measurement_events (event_id, at, type, account_id, workflow_id, episode, owner_email,
                                           segment, detail)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (event_id) DO NOTHING""",
        f"{episode.episode}:inbound:{inbound_id}", at, LedgerKind.reply_received, account_id, episode.workflow_id,
        episode.episode, episode.owner_email, episode.segment, detail)


INBOX_COLUMNS = """id, received_at, source, message_id, from_address, subject, left(new_text, 2000) AS new_text, kind,
                   reason, needs_owner, return_on, addresses, account_id, matched_by"""


class InboxRow(BaseModel):
    """One stored inbound message as admins and owners read it: INBOX_COLUMNS, in their order (the JSON answers
    list the fields in this order). Without the raw message and with the text cut to 2,000 characters: the
    lists show what was said, not the whole mail."""

    id: int
    received_at: datetime
    source: str
    message_id: str | None
    from_address: str | None
    subject: str
    new_text: str
    kind: InboundClass
    reason: str
    needs_owner: bool
    return_on: date | None
    addresses: list[str]
    account_id: str | None  # None: unmatched
    matched_by: str | None


async def unmatched(conn: asyncpg.Connection, limit: int = 100) -> list[InboxRow]:
    rows = await conn.fetch(f"SELECT {INBOX_COLUMNS} FROM inbound_messages WHERE account_id IS NULL "
                            "ORDER BY received_at DESC, id DESC LIMIT $1", limit)
    return [InboxRow.model_validate(dict(r)) for r in rows]


async def account_thread(conn: asyncpg.Connection, account_id: str, limit: int = 20) -> list[InboxRow]:
    """The customer's side of the conversation, newest first, for the review page and the account view."""
    rows = await conn.fetch(f"SELECT {INBOX_COLUMNS} FROM inbound_messages WHERE account_id = $1 "
                            "ORDER BY received_at DESC, id DESC LIMIT $2", account_id, limit)
    return [InboxRow.model_validate(dict(r)) for r in rows]
