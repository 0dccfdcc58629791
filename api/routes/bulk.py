"""POST /v1/accounts/bulk-approve: an owner approves several marketing-led drafts at once.

Each approval goes through the same Update as a single decision and is recorded as its own decision;
the answer lists each account's own truthful result. Account-led, hold and issue accounts are refused:
they deserve one-by-one attention.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from api.decisions import DecisionIn, not_found, submit_decision
from api.deps import ERRORS, AccountIdField, AppSettings, Caller, Pool, Temporal, can_see, decision_keys_of
from db.reviews import projection_for
from reactivation.vocabulary import Path

router = APIRouter(prefix="/v1/accounts", tags=["review"], responses=ERRORS)

NOT_MARKETING_LED = "conflict: bulk approval is only for marketing-led drafts; review this account on its own"
CONCURRENCY = 8


class BulkItem(BaseModel):
    account_id: AccountIdField
    draft_version: int = Field(ge=0, le=1_000_000)


class BulkApproveIn(BaseModel):
    items: list[BulkItem] = Field(min_length=1, max_length=200)


class BulkOutcome(BaseModel):
    account_id: str
    status: int
    detail: str
    stage: str | None = None


@router.post("/bulk-approve", response_model=list[BulkOutcome])
async def bulk_approve(body: BulkApproveIn, caller: Caller, pool: Pool, temporal: Temporal,
                       settings: AppSettings) -> list[BulkOutcome]:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(item: BulkItem) -> BulkOutcome:
        async with gate:
            async with pool.acquire() as conn:
                projection = await projection_for(conn, item.account_id)
            # Unknown, without a review, or another owner's: one answer, so account ids cannot be probed. An
            # admin may, as with a single decision (the same rule, `can_see`).
            if projection is None or not can_see(caller, projection.owner_email):
                return BulkOutcome(account_id=item.account_id, status=404, detail=not_found(item.account_id))
            if projection.path != Path.marketing_led:
                return BulkOutcome(account_id=item.account_id, status=409, detail=NOT_MARKETING_LED,
                                   stage=projection.stage)
            try:
                answer = await submit_decision(pool, temporal, caller, item.account_id,
                                               DecisionIn(action="approve", draft_version=item.draft_version),
                                               decision_keys_of(settings))
            except HTTPException as err:
                return BulkOutcome(account_id=item.account_id, status=err.status_code, detail=str(err.detail))
            return BulkOutcome(account_id=item.account_id, status=answer.status, detail=answer.detail,
                               stage=answer.stage)

    return list(await asyncio.gather(*(one(item) for item in body.items)))
