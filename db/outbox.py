"""The outbox: every outgoing message, keyed by a deterministic idempotency key.

`store_message` inserts at most one row per key; a retry returns the row already stored, so a message is
stored (and, in outbox mode, "sent") exactly once per workflow step.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import asyncpg
from pydantic import BaseModel, field_validator

from reactivation.delivery_model import OutgoingMessage
from reactivation.vocabulary import MessageKind

OUTBOX_COLUMNS = """o.idempotency_key, o.message_id, o.account_id, o.kind, o.channel, o.to_address, o.from_address,
                    o.subject, o.body, o.headers, o.delivery, o.status, o.provider_id, o.error, o.created_at"""


class OutboxRow(BaseModel):
    """One stored message as the outbox page, the account page and `dormant outbox` list it (OUTBOX_COLUMNS).

    `status` and `delivery` stay text: the status is the delivery activity's state machine (`claim_message`:
    stored, sending, retry, handing_off, sent, bounced, uncertain), shown as stored."""

    idempotency_key: str
    message_id: str
    account_id: str
    kind: MessageKind
    channel: str
    to_address: str
    from_address: str
    subject: str
    body: str
    headers: dict[str, Any]
    delivery: str
    status: str
    provider_id: str | None
    error: str | None
    created_at: datetime

    @field_validator("headers", mode="before")
    @classmethod
    def _decoded(cls, value: Any) -> Any:
        """jsonb arrives decoded through the pool's codec (db/pool.py), as text through a bare connection (the
        CLI's)."""
        return json.loads(value) if isinstance(value, str) else value


async def store_message(conn: asyncpg.Connection, message: OutgoingMessage, delivery: str) -> tuple[str, bool]:
    """Return (message_id, newly_stored)."""
    row = await conn.fetchrow(
        """INSERT INTO outbox (idempotency_key, message_id, account_id, workflow_id, kind, channel, to_address,
                               from_address, subject, body, headers, delivery)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
           ON CONFLICT (idempotency_key) DO NOTHING RETURNING message_id""",
        message.idempotency_key, message.message_id, message.account_id, message.workflow_id, message.kind,
        message.channel, message.to_address, message.from_address, message.subject, message.body,
        message.headers, delivery,
    )
    if row is not None:
        return row["message_id"], True
    existing = await conn.fetchval("SELECT message_id FROM outbox WHERE idempotency_key = $1", message.idempotency_key)
    return existing, False


async def list_outbox(conn: asyncpg.Connection, limit: int = 50, account_id: str | None = None,
                      owner_email: str | None = None) -> list[OutboxRow]:
    """Newest first; `owner_email` limits the list to that owner's accounts (the review page's rule)."""
    rows = await conn.fetch(
        f"""SELECT {OUTBOX_COLUMNS}
           FROM outbox o
           WHERE ($2::text IS NULL OR o.account_id = $2)
             AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM accounts a WHERE a.account_id = o.account_id
                                                 AND lower(a.owner_email) = $3))
           ORDER BY o.created_at DESC LIMIT $1""",
        limit, account_id, owner_email,
    )
    return [OutboxRow.model_validate(dict(r)) for r in rows]


async def message_status(conn: asyncpg.Connection, idempotency_key: str) -> str | None:
    """The message's outbox status, or None when no attempt has stored or claimed it yet."""
    return await conn.fetchval("SELECT status FROM outbox WHERE idempotency_key = $1", idempotency_key)


async def claim_message(conn: asyncpg.Connection, message: OutgoingMessage, delivery: str) -> str:
    """Claim the right to send `message` once; return the state of its idempotency key before this call:
    "new" (claimed now), "retry" (a previous attempt failed before the provider accepted it; claimed now),
    "sending" (a previous attempt claimed it and did not record an outcome), "handing_off" (a previous
    attempt was inside SMTP DATA: the server may have it), or a final state ("sent", "bounced", "uncertain")."""
    row = await conn.fetchrow(
        """INSERT INTO outbox (idempotency_key, message_id, account_id, workflow_id, kind, channel, to_address,
                               from_address, subject, body, headers, delivery, status)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'sending')
           ON CONFLICT (idempotency_key) DO NOTHING RETURNING message_id""",
        message.idempotency_key, message.message_id, message.account_id, message.workflow_id, message.kind,
        message.channel, message.to_address, message.from_address, message.subject, message.body,
        message.headers, delivery,
    )
    if row is not None:
        return "new"
    async with conn.transaction():
        previous = await conn.fetchval("SELECT status FROM outbox WHERE idempotency_key = $1 FOR UPDATE",
                                       message.idempotency_key)
        if previous == "retry":
            await conn.execute("UPDATE outbox SET status = 'sending' WHERE idempotency_key = $1",
                               message.idempotency_key)
    return previous


async def set_status(conn: asyncpg.Connection, idempotency_key: str, status: str, *,
                     provider_id: str | None = None, error: str | None = None) -> None:
    """Record what happened to a claimed message; `sent` also stamps sent_at."""
    await conn.execute(
        """UPDATE outbox SET status = $2, provider_id = coalesce($3, provider_id), error = coalesce($4, error),
                             sent_at = CASE WHEN $2 = 'sent' THEN now() ELSE sent_at END
           WHERE idempotency_key = $1""", idempotency_key, status, provider_id, error)
