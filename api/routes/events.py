"""POST /v1/events: CRM activity, replies, opt-outs, issues and bounces, turned into workflow signals.

Every event is stored first; an event for an account with no open workflow is kept (delivered=false),
not lost, and the CRM store is updated either way (an opt-out is an opt-out even between episodes).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field
from temporalio.service import RPCError, RPCStatusCode

from api.deps import AccountIdField, CrmCaller, ERRORS, Pool, Temporal, Text
from db.crm_events import mark_delivered, record_event
from db.reviews import account_owner
from reactivation.models import CrmEvent
from workflows.dormant_account import DormantAccountWorkflow
from workflows.dormant_account_models import workflow_id_for

router = APIRouter(prefix="/v1", tags=["crm"], responses=ERRORS)


class EventIn(BaseModel):
    account_id: AccountIdField
    type: Literal["activity", "reply", "opt_out", "issue_opened", "issue_resolved", "bounce", "owner_changed"]
    at: datetime | None = None
    detail: Text = Field("", max_length=10_000)
    new_owner_email: Text | None = Field(None, max_length=320)


class EventResult(BaseModel):
    event_id: int
    delivered_to_workflow: bool


@router.post("/events", response_model=EventResult)
async def post_event(body: EventIn, caller: CrmCaller, pool: Pool, temporal: Temporal) -> EventResult:
    at = body.at or datetime.now(timezone.utc)
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    async with pool.acquire() as conn:
        exists, _ = await account_owner(conn, body.account_id)
        if not exists:
            raise HTTPException(404, f"account {body.account_id!r} is not in the CRM store")
        event_id = await record_event(conn, body.account_id, body.type, at, body.detail)
    handle = temporal.get_workflow_handle(workflow_id_for(body.account_id))
    try:
        await handle.signal(DormantAccountWorkflow.crm_event,
                            CrmEvent(type=body.type, at=at, detail=body.detail, new_owner_email=body.new_owner_email))
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        return EventResult(event_id=event_id, delivered_to_workflow=False)
    async with pool.acquire() as conn:
        await mark_delivered(conn, event_id)
    return EventResult(event_id=event_id, delivered_to_workflow=True)
