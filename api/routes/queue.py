"""GET /v1/queue: the review queue (the seed's "best first version"), sorted by priority."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import field_serializer

from api.deps import ERRORS, NO_NUL_PATTERN, Caller, Pool
from db import reviews
from reactivation.vocabulary import Stage

router = APIRouter(prefix="/v1", tags=["review"], responses=ERRORS)

DEFAULT_STAGES = [Stage.awaiting_review.value, Stage.held.value]


class QueueRow(reviews.QueueRow):
    """The queue's JSON row: the stored row, with the account value as a JSON number as it has always been here
    (the account view shows the column's exact text)."""

    @field_serializer("account_value")
    def _as_number(self, value: Decimal | None) -> float | None:
        return None if value is None else float(value)


@router.get("/queue", response_model=list[QueueRow])
async def get_queue(
    caller: Caller, pool: Pool,
    stage: Annotated[list[Stage] | None, Query(description="default: awaiting_review and held")] = None,
    path: Annotated[str | None, Query(max_length=50, pattern=NO_NUL_PATTERN)] = None,
    segment: Annotated[str | None, Query(max_length=200, pattern=NO_NUL_PATTERN)] = None,
    all_stages: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100, offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[reviews.QueueRow]:
    """Owners see their own accounts; admins see every account."""
    stages = None if all_stages else ([s.value for s in stage] if stage else DEFAULT_STAGES)
    async with pool.acquire() as conn:
        return await reviews.review_queue(conn, owner_email=None if caller.is_admin else caller.email.lower(),
                                          stages=stages, path=path, segment=segment, limit=limit, offset=offset)
