"""POST /v1/triggers/dormant: the CRM says an account went dormant; start its reactivation."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from api.deps import AccountIdField, AppSettings, CrmCaller, ERRORS, Pool, Temporal, Text
from db.reviews import account_owner
from workflows.starter import start_reactivation

router = APIRouter(prefix="/v1/triggers", tags=["crm"], responses=ERRORS)


class DormantTrigger(BaseModel):
    account_id: AccountIdField
    reason: Text = Field("", max_length=2000)


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
