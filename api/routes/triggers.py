"""POST /v1/triggers/dormant: the CRM says an account went dormant; start its reactivation."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from api.deps import AppSettings, CrmCaller, Pool, Temporal
from db.reviews import account_owner
from workflows.starter import start_reactivation

router = APIRouter(prefix="/v1/triggers", tags=["crm"])


class DormantTrigger(BaseModel):
    account_id: str = Field(min_length=1, max_length=200)
    reason: str = Field("", max_length=2000)


class TriggerResult(BaseModel):
    account_id: str
    workflow_id: str
    started: bool
    message: str


@router.post("/dormant", response_model=TriggerResult, responses={404: {"description": "unknown account"}})
async def trigger_dormant(body: DormantTrigger, caller: CrmCaller, pool: Pool, temporal: Temporal,
                          settings: AppSettings) -> TriggerResult:
    """Start a reactivation. A repeated trigger while a review is open is a no-op that says so (200)."""
    async with pool.acquire() as conn:
        exists, _ = await account_owner(conn, body.account_id)
    if not exists:
        raise HTTPException(404, f"account {body.account_id!r} is not in the CRM store; import it first")
    result = await start_reactivation(temporal, settings, body.account_id, reason=body.reason, source="trigger")
    return TriggerResult(**result.__dict__)
