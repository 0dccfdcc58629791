"""Which owner decisions the frozen v1 workflow accepts (workflows/legacy/dormant_account_v1.py only).

Used by the workflow's Update validator (so the caller gets an immediate, truthful answer) and by the
signal form (where a refusal is recorded instead). The refusal kind maps to an HTTP status in the API:
forbidden -> 403, conflict -> 409, invalid -> 422.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from reactivation.guardrails import SMS_LIMIT
from reactivation.review_model import Decision, ReviewState
from reactivation.vocabulary import Stage

ALLOWED_ACTIONS: dict[Stage, frozenset[str]] = {
    Stage.awaiting_review: frozenset({"approve", "hold", "close", "monitor", "redraft"}),
    Stage.held: frozenset({"approve", "close", "monitor", "redraft"}),
    Stage.monitoring: frozenset({"close"}),
    Stage.owner_task: frozenset({"close"}),
}


@dataclass(frozen=True)
class Refusal:
    kind: Literal["forbidden", "conflict", "invalid"]
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


def refusal_for(state: ReviewState, decision: Decision, *, pending: bool) -> Refusal | None:
    """Return why `decision` cannot be applied to `state` now, or None if it can."""
    if not decision.decided_by_admin and decision.decided_by.lower() != (state.owner_email or "").lower():
        return Refusal("forbidden", f"{decision.decided_by} is not the owner of account {state.account_id}")
    if pending:
        return Refusal("conflict", "another decision for this account is being applied; reload and try again")
    allowed = ALLOWED_ACTIONS.get(state.stage, frozenset())
    if decision.action not in allowed:
        return Refusal("conflict", f"cannot {decision.action} while the account is in stage {state.stage.value}")
    current = state.current_draft.version if state.current_draft else 0
    if state.stage in (Stage.awaiting_review, Stage.held) and decision.draft_version != current:
        return Refusal("conflict", f"draft_version {decision.draft_version} is stale; the current draft is {current}")
    if decision.action == "monitor" and decision.until is None:
        return Refusal("invalid", "monitor needs `until`, the date to review the account again")
    if decision.action == "close" and not (decision.reason or "").strip():
        return Refusal("invalid", "close needs a `reason`")
    if decision.action == "approve":
        draft = state.current_draft
        if draft is None:
            return Refusal("conflict", "there is no draft to approve")
        channel = decision.channel or draft.channel
        body = decision.body if decision.body is not None else draft.body
        if channel != "call" and not body.strip():
            return Refusal("invalid", "body must not be empty")
        if channel == "sms" and len(body) > SMS_LIMIT:
            return Refusal("invalid", f"an SMS body must fit in {SMS_LIMIT} characters (it has {len(body)})")
    return None
