"""Queries behind the review queue and the account view, over the review projection, and the typed rows they
return (read-side rows: the write side's payload is `reactivation.ledger_model.ProjectionView`).

Owner emails are compared case-insensitively: owners are stored in lower case, but a CRM export (and so
the projection a workflow writes) may spell the same address `Alex.Morgan@...`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg
from pydantic import BaseModel, ValidationError

from db.evidence_queries import AccountNotFound, load_evidence
from reactivation.evidence_model import EvidencePack
from reactivation.review_model import ReviewState
from reactivation.vocabulary import Outcome, Path, Stage

QUEUE_COLUMNS = """account_id, workflow_id, stage, path, priority, owner_email, segment, tier, last_activity_at,
                   account_value, risk_level, recommended_next_step, draft_version, outcome, updated_at"""


class QueueRow(BaseModel):
    """One review-queue row: QUEUE_COLUMNS, in their order (the JSON answers list the fields in this order)."""

    account_id: str
    workflow_id: str
    stage: Stage
    path: Path | None
    priority: float | None
    owner_email: str | None
    segment: str
    tier: str | None
    last_activity_at: datetime | None
    # numeric(14, 2) kept exact: the account view's JSON has always shown it as the column's text ("12000.00")
    account_value: Decimal | None
    risk_level: str | None
    recommended_next_step: str
    draft_version: int
    outcome: Outcome | None
    updated_at: datetime


class ProjectionRow(QueueRow):
    """One account's whole projection row: the queue's columns plus the episode and the stored review."""

    episode: str
    # The stored review as written (JSON, `{}` for a row written without one), kept as stored so the account
    # view's JSON shows it unchanged; `stored_review` is its typed reading.
    state: dict[str, Any]

    def stored_review(self) -> ReviewState | None:
        """The stored review with the projection's stage (the column is written with every step, the review's
        copy only when it changed); None if there is none or it no longer reads as a ReviewState."""
        if not self.state:
            return None
        try:
            return ReviewState.model_validate({**self.state, "stage": self.stage})
        except ValidationError:
            return None


async def review_queue(conn: asyncpg.Connection, *, owner_email: str | None, stages: list[str] | None,
                       path: str | None, segment: str | None, limit: int, offset: int) -> list[QueueRow]:
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
    return [QueueRow.model_validate(dict(r)) for r in rows]


async def projection_for(conn: asyncpg.Connection, account_id: str) -> ProjectionRow | None:
    row = await conn.fetchrow(f"SELECT {QUEUE_COLUMNS}, episode, state FROM review_projection WHERE account_id = $1",
                              account_id)
    return ProjectionRow.model_validate(dict(row)) if row else None


async def account_owner(conn: asyncpg.Connection, account_id: str) -> tuple[bool, str | None]:
    """(exists in the CRM store, owner email)."""
    row = await conn.fetchrow("SELECT owner_email FROM accounts WHERE account_id = $1", account_id)
    return (row is not None, row["owner_email"] if row else None)


async def account_view(conn: asyncpg.Connection, account_id: str) -> tuple[ProjectionRow | None, EvidencePack | None]:
    """The review projection and today's evidence for one account (either may be missing)."""
    projection = await projection_for(conn, account_id)
    try:
        evidence = await load_evidence(conn, account_id, datetime.now(UTC))
    except AccountNotFound:
        evidence = None
    return projection, evidence
