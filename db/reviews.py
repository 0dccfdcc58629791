"""Queries behind the review queue and the account view, over the review projection.

Owner emails are compared case-insensitively: owners are stored in lower case, but a CRM export (and so
the projection a workflow writes) may spell the same address `Alex.Morgan@...`.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from db.evidence_queries import AccountNotFound, load_evidence
from reactivation.models import EvidencePack

QUEUE_COLUMNS = """account_id, workflow_id, stage, path, priority, owner_email, segment, tier, last_activity_at,
                   account_value, risk_level, recommended_next_step, draft_version, outcome, updated_at"""


async def review_queue(conn: asyncpg.Connection, *, owner_email: str | None, stages: list[str] | None,
                       path: str | None, segment: str | None, limit: int, offset: int) -> list[dict]:
    rows = await conn.fetch(
        f"""SELECT {QUEUE_COLUMNS} FROM review_projection
            WHERE ($1::text IS NULL OR lower(owner_email) = lower($1))
              AND ($2::text[] IS NULL OR stage = ANY($2))
              AND ($3::text IS NULL OR path = $3)
              AND ($4::text IS NULL OR segment = $4)
            ORDER BY priority DESC NULLS LAST, account_id
            LIMIT $5 OFFSET $6""",
        owner_email, stages, path, segment, limit, offset,
    )
    return [dict(r) for r in rows]


async def projection_for(conn: asyncpg.Connection, account_id: str) -> dict | None:
    row = await conn.fetchrow(f"SELECT {QUEUE_COLUMNS}, episode, state FROM review_projection WHERE account_id = $1",
                              account_id)
    return dict(row) if row else None


async def account_owner(conn: asyncpg.Connection, account_id: str) -> tuple[bool, str | None]:
    """(exists in the CRM store, owner email)."""
    row = await conn.fetchrow("SELECT owner_email FROM accounts WHERE account_id = $1", account_id)
    return (row is not None, row["owner_email"] if row else None)


async def account_view(conn: asyncpg.Connection, account_id: str) -> tuple[dict | None, EvidencePack | None]:
    """The review projection and today's evidence for one account (either may be missing)."""
    projection = await projection_for(conn, account_id)
    try:
        evidence = await load_evidence(conn, account_id, datetime.now(UTC))
    except AccountNotFound:
        evidence = None
    return projection, evidence
