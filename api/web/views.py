"""View builders for the review pages: what a template is given, built from the database, the workflow's live
state and the decision service's answers. No request handling here (that is api/web/pages.py).

- The account view asks the workflow for its live state (short query timeout), falling back to the
  projection, so a decision's effect shows on the redirect before the projection catches up.
- A decision form is read field by field for the chosen action only (`decision_from_form`), and the
  decision service's answer is told back as one sentence (`describe`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from pydantic import ValidationError
from temporalio.client import WorkflowQueryFailedError, WorkflowQueryRejectedError
from temporalio.service import RPCError

from api.decisions import DecisionAnswer, DecisionIn
from db.inbound import account_thread
from db.outbox import list_outbox
from db.reviews import ProjectionRow, account_view
from reactivation.evidence_model import EvidencePack
from reactivation.lifecycle_rules import allowed_actions
from reactivation.review_model import ReviewState
from reactivation.vocabulary import Path, Stage
from workflows.dormant_account import DormantAccountWorkflow
from workflows.dormant_account_models import workflow_id_for

QUERY_TIMEOUT = timedelta(seconds=3)
TERMINAL = {Stage.closed.value, Stage.not_ready.value, Stage.suppressed.value}
RED_VERDICTS = {"suppress", "not_ready", "hold"}
STAGES = [s.value for s in Stage]
PATHS = [p.value for p in Path]
ACTION_ORDER = ("approve", "hold", "redraft", "monitor", "close")
FORM_FIELDS = {  # per action: Decision field <- form field
    "approve": {"subject": "subject", "body": "body", "follow_up_body": "follow_up_body", "channel": "channel"},
    "hold": {"reason": "reason"}, "close": {"reason": "reason"}, "redraft": {"note": "guidance"},
    "monitor": {"until": "until", "reason": "reason"},
}
DRAFT_TEXT = {"subject", "body", "follow_up_body"}


def queue_filters(stage: str, path: str, segment: str) -> tuple[str, str, str]:
    """The queue form's filters, unknown values dropped (stage may also be "all")."""
    return (stage if stage == "all" or stage in STAGES else "", path if path in PATHS else "", segment.strip()[:200])


async def account_context(pool, temporal, account_id: str, projected_stage: str | None) -> dict[str, Any]:
    """The account page's context (without the session and flash): live state, evidence, flags, the actions
    the stage allows, the draft, what was sent and the customer's replies."""
    async with pool.acquire() as conn:
        projection, evidence = await account_view(conn, account_id)
        sent = await list_outbox(conn, limit=10, account_id=account_id)
        replies = await account_thread(conn, account_id)
    state = await review_state(temporal, account_id, projection)
    stage = state.stage.value if state else projected_stage
    allowed = allowed_actions(state, stage)
    return {
        "account_id": account_id, "state": state, "evidence": evidence, "stage": stage,
        "flags": flags(state, evidence), "actions": [a for a in ACTION_ORDER if a in allowed],
        "draft": state.current_draft if state else None, "today": date.today().isoformat(), "sent": sent,
        "replies": replies,
    }


async def review_state(temporal, account_id: str, projection: ProjectionRow | None) -> ReviewState | None:
    """The workflow's live state; the projection's copy (with its newer stage) if the workflow can't answer."""
    stored = projection.stored_review() if projection else None
    if projection is None or projection.stage in TERMINAL:
        return stored
    try:
        return await temporal.get_workflow_handle(workflow_id_for(account_id)).query(
            DormantAccountWorkflow.review_state, rpc_timeout=QUERY_TIMEOUT)
    except (RPCError, WorkflowQueryFailedError, WorkflowQueryRejectedError):
        return stored


def flags(state: ReviewState | None, evidence: EvidencePack | None) -> list[dict]:
    """Everything that should stop or slow the owner, red (stop) before amber (take care)."""
    found: list[dict] = []

    def add(level: str, title: str, text: str, sources: Sequence[str] = ()) -> None:
        found.append({"level": level, "title": title, "text": text, "sources": list(sources)})

    if state and state.notice:
        add("red", "Notice from the workflow", state.notice)
    if evidence and evidence.opted_out_event:
        add("red", "Opt-out or bounce", "An opt-out or bounce arrived after the last CRM import.")
    assessment = state.assessment if state else None
    if assessment:
        for missing in assessment.missing:
            add("red", "Missing CRM data", missing)
        for v in assessment.verdicts:
            if v.verdict != "pass":
                add("red" if v.verdict in RED_VERDICTS else "amber", f"{v.rule}: {v.verdict}", v.reason, v.sources)
        ruled = {v.rule for v in assessment.verdicts}
        for flag in assessment.flags:
            if flag not in ruled:
                add("amber", "Flag", flag)
    if state and state.current_draft:
        for violation in state.current_draft.violations:
            add("red", "Draft guardrail", violation)
    return sorted(found, key=lambda f: f["level"] != "red")


def decision_from_form(form) -> DecisionIn:
    """Only the fields that belong to the chosen action, so one form can't smuggle edits into another.
    The draft's own text goes as typed (an emptied body is refused, not silently replaced by the draft);
    other blank fields mean "not given"."""
    def value(name: str) -> str | None:
        raw = form.get(name)
        return None if raw is None else str(raw).replace("\r\n", "\n")

    action = value("action")
    data: dict = {"action": action, "draft_version": value("draft_version")}
    for field, name in FORM_FIELDS.get(action or "", {}).items():
        typed = value(name)
        data[field] = typed if field in DRAFT_TEXT or (typed and typed.strip()) else None
    return DecisionIn.model_validate(data)


def describe(answer: DecisionAnswer) -> str:
    """The decision service's answer as the sentence the page shows."""
    if answer.result is not None:
        return f"Accepted: {answer.result.message}. The account is now {answer.result.stage.value}."
    kind, _, rest = answer.detail.partition(": ")
    detail = rest if kind in ("forbidden", "conflict", "invalid") and rest else answer.detail
    stage = f" Current stage: {answer.stage}." if answer.stage else ""
    return f"Refused ({answer.status}): {detail.rstrip('.')}.{stage}"


def describe_invalid(err: ValidationError) -> str:
    """A form that is not a valid decision, told like the JSON route's 422."""
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'form'}: {e['msg']}" for e in err.errors())
    return f"Refused (422): {problems}"
