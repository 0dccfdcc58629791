"""One-click unsubscribe (RFC 8058): POST /v1/unsubscribe/{token}, no login, signed token."""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import APIRouter, HTTPException
from temporalio.service import RPCError, RPCStatusCode

from api.deps import ERRORS, AppSettings, Pool, Temporal
from db.crm_events import mark_delivered, record_event
from reactivation.models import CrmEvent
from reactivation.unsubscribe import read_token
from workflows.dormant_account import DormantAccountWorkflow
from workflows.dormant_account_models import workflow_id_for

router = APIRouter(prefix="/v1/unsubscribe", tags=["unsubscribe"], responses=ERRORS)


@router.post("/{token}")
async def unsubscribe(token: str, pool: Pool, temporal: Temporal, settings: AppSettings) -> dict:
    account_id = read_token(token, settings.unsubscribe_secret.get_secret_value())
    if account_id is None:
        raise HTTPException(404, "unknown unsubscribe link")
    now = datetime.now(timezone.utc)
    async with pool.acquire() as conn:
        exists = await conn.fetchval("SELECT 1 FROM accounts WHERE account_id = $1", account_id)
        if not exists:
            raise HTTPException(404, "unknown unsubscribe link")
        event_id = await record_event(conn, account_id, "opt_out", now, "one-click unsubscribe")
    try:
        await temporal.get_workflow_handle(workflow_id_for(account_id)).signal(
            DormantAccountWorkflow.crm_event, CrmEvent(type="opt_out", at=now, detail="one-click unsubscribe"))
        async with pool.acquire() as conn:
            await mark_delivered(conn, event_id)
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
    return {"unsubscribed": True}
