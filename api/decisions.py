"""The decision service: one path from an owner's decision to the workflow's answer, shared by the JSON route
(POST /v1/accounts/{id}/decision), bulk approval and the review page's form post.

Decisions go through the workflow's Update, so the answer is the workflow's own: 200 accepted, 404 not your
account or unknown (the same answer, so account ids cannot be probed), 409 wrong stage or stale draft (with
the current stage), 422 bad payload. `submit_decision` gives that answer without any HTTP framing; each caller
frames it (JSON, a bulk outcome, a flash message on the page).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from fastapi import HTTPException
from pydantic import BaseModel, Field
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import OneLineText, Text, ZonedDatetime, can_see
from db.owners import Principal
from db.reviews import account_owner, projection_for
from reactivation.decision_proof import sign
from reactivation.review_model import Decision, DecisionResult
from reactivation.vocabulary import Action, RefusalKind
from workflows.dormant_account import DormantAccountWorkflow
from workflows.dormant_account_models import workflow_id_for


def not_found(account_id: str) -> str:
    """The one answer for an unknown account and for another owner's: an id's existence is not revealed."""
    return f"account {account_id!r} not found"


NO_OPEN_REVIEW = "conflict: there is no open review for this account"
# A refusal travels as an ApplicationError whose type is a RefusalKind.
# `forbidden` (neither the owner nor an admin) answers like an unknown account: see `not_found`.
STATUS_FOR = {RefusalKind.forbidden: 404, RefusalKind.conflict: 409, RefusalKind.invalid: 422}


class DecisionIn(BaseModel):
    action: Action
    draft_version: int = Field(ge=0, le=1_000_000)
    subject: OneLineText | None = Field(None, max_length=200)  # an email header: one line
    body: Text | None = Field(None, max_length=5000)
    follow_up_body: Text | None = Field(None, max_length=5000)
    channel: Literal["email", "sms", "call"] | None = None
    send_at: ZonedDatetime | None = None  # an instant: a naive time is refused, not guessed
    reason: Text | None = Field(None, max_length=2000)
    note: Text | None = Field(None, max_length=2000)
    until: date | None = None


@dataclass(frozen=True)
class DecisionAnswer:
    """The workflow's answer to one decision, in HTTP terms, shared by the JSON route and the review page."""

    status: int
    detail: str
    stage: str | None
    result: DecisionResult | None = None


async def owned_stage(pool, caller, account_id: str) -> str | None:
    """The account's projected stage if `caller` may see it; HTTPException 404 if it is unknown or someone
    else's, with the same detail either way."""
    async with pool.acquire() as conn:
        exists, owner = await account_owner(conn, account_id)
        projection = await projection_for(conn, account_id)
    if not exists and projection is None:
        raise HTTPException(404, not_found(account_id))
    owner = projection.owner_email if projection and projection.owner_email else owner
    if not can_see(caller, owner):
        raise HTTPException(404, not_found(account_id))
    return projection.stage if projection else None


async def submit_decision(pool, temporal, caller: Principal, account_id: str, body: DecisionIn,
                          keys: tuple[bytes, ...] = ()) -> DecisionAnswer:
    """Send `body` as the workflow's decide Update. Raises HTTPException 404 (unknown or not yours) before
    reaching Temporal, and the same 404 if the workflow refuses the caller as neither owner nor admin."""
    stage = await owned_stage(pool, caller, account_id)
    decision = sign(Decision(**body.model_dump(), decided_by=caller.email, decided_by_admin=caller.is_admin),
                    keys)  # the proof the workflow's validator checks (the trust boundary)
    handle = temporal.get_workflow_handle(workflow_id_for(account_id))
    try:
        result = await handle.execute_update(DormantAccountWorkflow.decide, decision)
        return DecisionAnswer(200, result.message, result.stage.value, result)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        kind = cause.type if isinstance(cause, ApplicationError) else None
        message = cause.message if isinstance(cause, ApplicationError) else str(cause)
        if kind is None or kind not in STATUS_FOR:  # the v1 workflow: a ValueError whose message starts with the kind
            prefix, _, rest = message.partition(": ")
            kind, message = (prefix, rest) if prefix in STATUS_FOR else (RefusalKind.conflict.value, message)
        if kind == RefusalKind.forbidden:  # the owner changed under us: answer exactly like an unknown account
            raise HTTPException(STATUS_FOR[RefusalKind(kind)], not_found(account_id)) from None
        current = await _current_stage(handle, stage)
        return DecisionAnswer(STATUS_FOR[RefusalKind(kind)], f"{kind}: {message}", current)
    except RPCError as err:
        if err.status not in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
            raise
        return DecisionAnswer(409, NO_OPEN_REVIEW, stage)


async def _current_stage(handle, fallback: str | None) -> str | None:
    try:
        state = await handle.query(DormantAccountWorkflow.review_state)
        return state.stage.value
    except RPCError:
        return fallback
