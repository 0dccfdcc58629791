"""POST /v1/triggers/dormant: the CRM says an account went dormant; start its reactivation.

The CRM's word is checked against the re-entry policy (reactivation/reentry.py), the same verdict the
dormancy scan and the account view use, so a CRM that fires too eagerly cannot reopen an account the
owner closed, one cooling off, one that opted out, or one that is not dormant at all.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from api.deps import ERRORS, AccountIdField, AppSettings, CrmCaller, ErrorBody, Pool, Temporal, Text
from api.reentry import reentry_verdict
from client.starter import ALREADY_OPEN, start_reactivation
from reactivation.reentry import SkipReason
from workflows.dormant_account_models import workflow_id_for

router = APIRouter(prefix="/v1/triggers", tags=["crm"], responses=ERRORS)


class DormantTrigger(BaseModel):
    account_id: AccountIdField
    reason: Text = Field("", max_length=2000)


class TriggerResult(BaseModel):
    account_id: str
    workflow_id: str
    started: bool
    message: str


class Refused(ErrorBody):
    """A trigger the re-entry policy refuses: `detail` says why and until when, `reason` is machine-readable."""

    reason: SkipReason


@router.post("/dormant", response_model=TriggerResult,
             responses={404: {"description": "unknown account"},
                        409: {"model": Refused, "description": "the re-entry policy refuses a new episode now"}})
async def trigger_dormant(body: DormantTrigger, caller: CrmCaller, pool: Pool, temporal: Temporal,
                          settings: AppSettings):
    """Start a reactivation.

    A repeated trigger while a review is open is a no-op that says so (200, started false), whatever the
    policy would say now. Otherwise an account the re-entry policy keeps out (not dormant, closed by the
    owner until a date, cooling off after no answer, opted out or suppressed until the CRM's consent
    changes) is refused with 409 `{"detail": <why, and until when>, "reason": <SkipReason>}` and nothing is
    started, so no draft is ever made for it.
    """
    async with pool.acquire() as conn:
        exists, skip = await reentry_verdict(conn, body.account_id, settings)
    if not exists:
        raise HTTPException(404, f"account {body.account_id!r} is not in the CRM store; import it first")
    if skip is not None:
        workflow_id = workflow_id_for(body.account_id)
        if await _is_open(temporal, workflow_id):
            return TriggerResult(account_id=body.account_id, workflow_id=workflow_id, started=False,
                                 message=ALREADY_OPEN)
        return JSONResponse({"detail": skip.message, "reason": skip.reason.value}, status_code=409)
    result = await start_reactivation(temporal, settings, body.account_id, reason=body.reason, source="trigger")
    return TriggerResult(**result.__dict__)


async def _is_open(temporal: Client, workflow_id: str) -> bool:
    """Whether the account's workflow is running (an open review keeps its "already open" answer)."""
    try:
        description = await temporal.get_workflow_handle(workflow_id).describe()
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        return False
    return description.status == WorkflowExecutionStatus.RUNNING
