"""GET /v1/queue: the review queue (the seed's "best first version"), sorted by priority."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import ERRORS, Caller, Pool
from db.reviews import review_queue
from reactivation.models import Stage

router = APIRouter(prefix="/v1", tags=["review"], responses=ERRORS)

DEFAULT_STAGES = [Stage.awaiting_review.value, Stage.held.value]


class QueueRow(BaseModel):
    account_id: str
    workflow_id: str
    stage: str
    path: str | None
    priority: float | None
    owner_email: str | None
    segment: str
    tier: str | None
    last_activity_at: datetime | None
    account_value: float | None
    risk_level: str | None
    recommended_next_step: str
    draft_version: int
    outcome: str | None
    updated_at: datetime


@router.get("/queue", response_model=list[QueueRow])
async def get_queue(
    caller: Caller, pool: Pool,
    stage: Annotated[list[Stage] | None, Query(description="default: awaiting_review and held")] = None,
    path: Annotated[str | None, Query(max_length=50, pattern=r"^[^\x00]*$")] = None,
    segment: Annotated[str | None, Query(max_length=200, pattern=r"^[^\x00]*$")] = None,
    all_stages: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100, offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[dict]:
    """Owners see their own accounts; admins see every account."""
    stages = None if all_stages else ([s.value for s in stage] if stage else DEFAULT_STAGES)
    async with pool.acquire() as conn:
        return await review_queue(conn, owner_email=None if caller.is_admin else caller.email.lower(),
                                  stages=stages, path=path, segment=segment, limit=limit, offset=offset)
