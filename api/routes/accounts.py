"""GET /v1/accounts/{id} and POST /v1/accounts/{id}/decision.

Decisions go through the decision service (api/decisions.py), the workflow's Update, so the answer is the
workflow's own: 200 accepted, 404 not your account or unknown (the same answer, so account ids cannot be
probed), 409 wrong stage or stale draft (with the current stage), 422 bad payload. The review page's form
post and bulk approval use the same service, so they give exactly the same answers.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.decisions import DecisionIn, owned_stage, submit_decision
from api.deps import ERRORS, AccountIdPath, AppSettings, Caller, Pool, Temporal, decision_keys_of
from api.reentry import reentry_verdict, review_again
from db.reviews import account_view
from reactivation.review_model import DecisionResult

router = APIRouter(prefix="/v1/accounts", tags=["review"], responses=ERRORS)

NOT_YOURS = "unknown account, or another owner's (the same answer)"


@router.get("/{account_id}")
async def get_account(account_id: AccountIdPath, caller: Caller, pool: Pool, settings: AppSettings) -> dict[str, Any]:
    """Evidence with sources, every rule's verdict, flags, brief, drafts, decisions and outcome, and `reentry`:
    whether a new review may start now and, if not, why and until when (the scan's and the trigger's verdict)."""
    await owned_stage(pool, caller, account_id)
    async with pool.acquire() as conn:
        projection, evidence = await account_view(conn, account_id)
        exists, skip = await reentry_verdict(conn, account_id, settings)
    return {"account_id": account_id, "review": projection.model_dump(mode="json") if projection else None,
            "evidence": evidence.model_dump(mode="json") if evidence else None,
            "reentry": review_again(skip) if exists else None}


@router.post("/{account_id}/decision", response_model=DecisionResult,
             responses={404: {"description": NOT_YOURS}, 409: {"description": "wrong stage or stale draft"}})
async def decide(account_id: AccountIdPath, body: DecisionIn, caller: Caller, pool: Pool, temporal: Temporal,
                 settings: AppSettings):
    answer = await submit_decision(pool, temporal, caller, account_id, body, decision_keys_of(settings))
    if answer.result is not None:
        return answer.result
    return JSONResponse({"detail": answer.detail, "stage": answer.stage}, status_code=answer.status)

