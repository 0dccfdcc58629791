"""The lifecycle's tables and small rules: which stage a phase shows, which decisions a phase accepts
and why one is refused, what a customer's event means in each phase.

Kept apart from the transition code so the README's table and the API can read the same data.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from reactivation.guardrails import SMS_LIMIT
from reactivation.lifecycle_model import LifecycleState, Phase, Refusal
from reactivation.plain_text import header_unsafe
from reactivation.review_model import Decision, OutreachDraft, ReviewState
from reactivation.vocabulary import Action, CrmEventType, Outcome, Path, RefusalKind, Stage

_PHASE_STAGE = {
    Phase.gathering: Stage.gathering_evidence, Phase.drafting: Stage.gathering_evidence,
    Phase.awaiting_review: Stage.awaiting_review, Phase.redrafting: Stage.awaiting_review,
    Phase.held: Stage.held, Phase.scheduled: Stage.approved, Phase.delivering: Stage.approved,
    Phase.awaiting_follow_up: Stage.sent, Phase.delivering_follow_up: Stage.sent,
    Phase.owner_task: Stage.owner_task, Phase.monitoring: Stage.monitoring, Phase.holdout: Stage.holdout,
}
_FINAL_STAGE = {Outcome.not_ready: Stage.not_ready, Outcome.suppressed: Stage.suppressed,
                Outcome.opted_out: Stage.suppressed}

# Decisions each phase accepts; everything else is a 409 with the phase's own explanation.
ALLOWED: dict[Phase, frozenset[Action]] = {
    Phase.awaiting_review: frozenset(Action),
    Phase.held: frozenset({Action.approve, Action.close, Action.monitor, Action.redraft}),
    Phase.redrafting: frozenset({Action.close}),
    Phase.scheduled: frozenset({Action.hold, Action.close}),
    Phase.monitoring: frozenset({Action.close}),
    Phase.owner_task: frozenset({Action.close}),
}
_WHY_NOT = {
    Phase.gathering: "the evidence is still being gathered", Phase.drafting: "the draft is still being prepared",
    Phase.redrafting: "a redraft is in progress: review the new draft when it is ready",
    Phase.scheduled: "the message is approved and scheduled: hold or close it, or wait",
    Phase.delivering: "the message is being sent", Phase.delivering_follow_up: "the follow-up is being sent",
    Phase.awaiting_follow_up: "the message was sent; the follow-up is scheduled",
    Phase.outcome_window: "the message was sent; the outcome window is open",
    Phase.holdout: "the account is in the holdout control group", Phase.done: "the review is closed",
    Phase.held: "the account is already held", Phase.monitoring: "the account is monitored: close it, or wait",
    Phase.owner_task: "an owner task is open: close it with the outcome (responded, reactivated, no_response)",
}
# Phases where a draft version is on the table: a decision must name the current one.
_VERSIONED = frozenset({Phase.awaiting_review, Phase.held, Phase.scheduled, Phase.redrafting})

# Phases before any message went out: a customer's return counts as "before outreach".
PRE_SEND = frozenset({Phase.gathering, Phase.drafting, Phase.awaiting_review, Phase.redrafting, Phase.held,
                      Phase.scheduled, Phase.monitoring})
_AFTER_SEND = {CrmEventType.activity: Outcome.reactivated, CrmEventType.reply: Outcome.responded,
               CrmEventType.opt_out: Outcome.opted_out, CrmEventType.bounce: Outcome.suppressed}
_BEFORE_SEND = {CrmEventType.activity: Outcome.reactivated_before_outreach,
                CrmEventType.reply: Outcome.reactivated_before_outreach,
                CrmEventType.opt_out: Outcome.opted_out, CrmEventType.bounce: Outcome.suppressed}
_HOLDOUT = {CrmEventType.activity: Outcome.reactivated, CrmEventType.reply: Outcome.reactivated,
            CrmEventType.opt_out: Outcome.opted_out}
_OWNER_TASK = {CrmEventType.activity: Outcome.reactivated, CrmEventType.reply: Outcome.responded,
               CrmEventType.opt_out: Outcome.opted_out}

# What an owner logs when closing an owner task ("close" with this reason).
OWNER_TASK_OUTCOMES = {"responded": Outcome.responded, "reactivated": Outcome.reactivated,
                       "no_response": Outcome.no_response}


def stage_for(phase: Phase, outcome: Outcome | None, follow_up_sent: bool) -> Stage:
    if phase == Phase.done:
        return _FINAL_STAGE.get(outcome, Stage.closed) if outcome is not None else Stage.closed
    if phase == Phase.outcome_window:
        return Stage.follow_up_sent if follow_up_sent else Stage.sent
    return _PHASE_STAGE[phase]


def customer_event_outcome(event: CrmEventType, phase: Phase) -> Outcome | None:
    """The outcome a customer's event ends the episode with in `phase`; None: it does not end it."""
    if phase == Phase.holdout:
        return _HOLDOUT.get(event)
    if phase == Phase.owner_task:
        return _OWNER_TASK.get(event)  # a bounce does not end a phone task
    return (_BEFORE_SEND if phase in PRE_SEND else _AFTER_SEND).get(event)


def follow_up_after_return(return_on: date) -> datetime:
    """When a follow-up may go to a customer whose auto-reply says they are back on `return_on`.

    The day after: a mail that lands on the first morning back sits under the pile of the absence. The
    send window then moves it into the customer's business hours.
    """
    return datetime.combine(return_on + timedelta(days=1), time(), tzinfo=UTC)


def refusal(state: LifecycleState, decision: Decision, now: datetime | None = None) -> Refusal | None:
    """Why `decision` cannot be applied to `state` now, or None if it can."""
    review = state.review
    if not decision.decided_by_admin and decision.decided_by.lower() != (review.owner_email or "").lower():
        return Refusal(kind=RefusalKind.forbidden, message=f"{decision.decided_by} is not the owner of this account")
    if decision.action not in ALLOWED.get(state.phase, frozenset()):
        why = _WHY_NOT.get(state.phase, f"the account is {review.stage.value}")
        return Refusal(kind=RefusalKind.conflict, message=f"cannot {decision.action.value}: {why}")
    current = review.current_draft.version if review.current_draft else 0
    if state.phase in _VERSIONED and decision.draft_version != current:
        return Refusal(kind=RefusalKind.conflict,
                       message=f"draft_version {decision.draft_version} is stale; the current draft is {current}")
    return _invalid(decision, review.current_draft, now)


def _invalid(decision: Decision, draft: OutreachDraft | None, now: datetime | None) -> Refusal | None:
    def invalid(message: str) -> Refusal:
        return Refusal(kind=RefusalKind.invalid, message=message)

    if decision.action == Action.monitor and decision.until is None:
        return invalid("monitor needs `until`, the date to review the account again")
    if decision.action == Action.close and decision.until is not None and now is not None \
            and decision.until <= now.date():
        return invalid("`until` (when the account may be reviewed again) must be a date in the future")
    if decision.action == Action.close and not (decision.reason or "").strip():
        return invalid("close needs a `reason`")
    if decision.send_at is not None and decision.send_at.tzinfo is None:
        return invalid("`send_at` needs a timezone, e.g. 2026-12-03T09:00:00+01:00")
    if decision.action != Action.approve:
        return None
    if draft is None:
        return Refusal(kind=RefusalKind.conflict, message="there is no draft to approve")
    edited = with_edits(draft, decision)
    if edited.channel != "call" and not edited.body.strip():
        return invalid("`body` must not be empty")
    if edited.channel == "sms" and len(edited.body) > SMS_LIMIT:
        return invalid(f"an SMS body must fit in {SMS_LIMIT} characters (it has {len(edited.body)})")
    if header_unsafe(edited.subject):
        return invalid("`subject` must be one line without control characters")
    return None


def with_edits(draft: OutreachDraft, decision: Decision) -> OutreachDraft:
    """The approved content: the draft the owner saw, with the fields they edited."""
    edits = {k: v for k, v in {"subject": decision.subject, "body": decision.body,
                               "follow_up_body": decision.follow_up_body,
                               "channel": decision.channel}.items() if v is not None}
    return draft.model_copy(update=edits)


def standing_approval_applies(state: LifecycleState) -> bool:
    """The admin's standing approval covers only marketing-led, consented, clean self-serve accounts."""
    assessment, draft = state.review.assessment, state.review.current_draft
    return (assessment is not None and draft is not None and assessment.path == Path.marketing_led
            and state.tier == "self_serve" and state.consent_status == "granted"
            and not assessment.flags and not draft.violations)


def allowed_actions(review: ReviewState | None, stage: str | None = None) -> frozenset[Action]:
    """What the review page offers: the phase's decisions (a v1 review, with no phase, by its stage)."""
    if review is not None and review.phase:
        return ALLOWED.get(Phase(review.phase), frozenset())
    by_stage = {Stage.awaiting_review: Phase.awaiting_review, Stage.held: Phase.held,
                Stage.monitoring: Phase.monitoring, Stage.owner_task: Phase.owner_task}
    phase = by_stage.get(Stage(stage)) if stage is not None and stage in Stage.__members__ else None
    return ALLOWED.get(phase, frozenset()) if phase else frozenset()
