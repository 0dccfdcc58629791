"""The lifecycle of one dormant account as a pure state machine: (state, input) -> (state, commands).

The workflow (workflows/dormant_account.py) only turns messages into inputs and commands into
activities and timers; every business rule of the lifecycle lives here, where it can be unit- and
property-tested without Temporal. The promises it keeps (tests/reactivation/test_lifecycle_properties.py):
only the exact content an owner approved is sent; nothing is sent after a stop event; an accepted
decision is always applied and recorded; every episode ends in exactly one outcome; an owner task ends
only by the owner's logged outcome or a customer response; an owner change moves every later step.

Every (phase, input) pair has a defined reaction: inputs that make no sense in a phase (a draft for a
closed review, a timer that was replaced) are ignored on purpose, and `reaction_table()` lists them all
for the README.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reactivation.assessment_model import Assessment
from reactivation.holdout import assign_arm
from reactivation.lifecycle_model import (
    Begin,
    Command,
    CrmEventIn,
    Decided,
    DeliveryOutcome,
    DraftReady,
    EvidenceReady,
    GatherEvidence,
    Input,
    LifecycleConfig,
    LifecycleState,
    Phase,
    PlanSend,
    PrepareDraft,
    ReviewAgain,
    SendSlot,
    TimerFired,
    WaitKind,
)
from reactivation.lifecycle_rules import (
    OWNER_TASK_OUTCOMES,
    PRE_SEND,
    customer_event_outcome,
    follow_up_after_return,
    refusal,
    standing_approval_applies,
    with_edits,
)
from reactivation.lifecycle_sending import SendingSteps
from reactivation.reentry import owner_until
from reactivation.review_model import CrmEvent, Decision, DecisionRecord
from reactivation.vocabulary import STOP_EVENTS, Action, CrmEventType, LedgerKind, MessageKind, Outcome, Path


def transition(state: LifecycleState, event: Input, config: LifecycleConfig) -> tuple[LifecycleState, list[Command]]:
    """Return the state after `event` and the commands the workflow must run, in order."""
    step = _Step(_fresh(state), config, event.at)
    step.apply(event)
    return step.state, step.commands


def _fresh(state: LifecycleState) -> LifecycleState:
    """A copy the step may change without touching the caller's state. The steps only assign fields of the
    state and the review and append to the review's lists; nested models (assessment, drafts, brief) are
    replaced, never changed in place, so they are shared. Copying just the state, the review and its lists
    costs ~6 µs where a deep copy cost 30-130 µs, and a transition runs on every workflow input (issue 18).
    The property tests check that a transition never changes its input."""
    review = state.review
    return state.model_copy(update={"review": review.model_copy(update={
        "drafts": list(review.drafts), "decisions": list(review.decisions), "events": list(review.events),
        "sent_message_ids": list(review.sent_message_ids)})})


def _flagged_issue_opened(assessment: Assessment) -> Assessment:
    """The assessment with the `issue_opened_event` flag added: a copy, since the caller's state shares it."""
    return assessment.model_copy(update={"flags": [*assessment.flags, "issue_opened_event"]})


class _Step(SendingSteps):
    """Every input's handling; the primitives are in lifecycle_steps.py, sending in lifecycle_sending.py."""

    def apply(self, event: Input) -> None:
        handlers: dict[type, Callable[[Any], None]] = {
            Begin: self._begin, EvidenceReady: self._evidence, DraftReady: self._draft_ready, Decided: self._decided,
            CrmEventIn: self._crm_event, TimerFired: self._timer, SendSlot: self._send_slot,
            DeliveryOutcome: self._delivery}
        handler = handlers[type(event)]
        handler(event)

    # ------------------------------------------------------------ inputs

    def _begin(self, _: Begin) -> None:
        if self.state.phase == Phase.gathering:
            self._phase(Phase.gathering)
            self.commands.append(GatherEvidence())

    def _evidence(self, event: EvidenceReady) -> None:
        if self.state.phase != Phase.gathering:
            return  # the review already ended (an opt-out while gathering): nothing to assess
        assessment = event.assessment
        if "issue_opened_event" in (self.review.assessment.flags if self.review.assessment else []):
            assessment = _flagged_issue_opened(assessment)
        self.review.assessment, self.review.path = assessment, assessment.path
        self.review.priority = assessment.priority.score
        if not self.review.owner_email or not self.review.decisions:
            self.review.owner_email = (event.owner_email or "").lower() or None
        self.state.tier, self.state.consent_status = event.tier, event.consent_status
        if assessment.path == Path.not_ready:
            return self._finish(Outcome.not_ready, missing=assessment.missing)
        if assessment.path == Path.suppressed:
            return self._finish(Outcome.suppressed, reasons=[v.reason for v in assessment.verdicts
                                                             if v.verdict == "suppress"])
        if "unresolved_issue" in assessment.flags:
            self._record(LedgerKind.unresolved_issue_flagged)
        if assessment.path == Path.monitor and assessment.review_again_on:
            return self._monitor(owner_until(assessment.review_again_on) or self.at)
        if assessment.path in (Path.account_led, Path.marketing_led) and self.config.holdout_share > 0:
            arm = assign_arm(self.config.account_id, self.config.holdout_salt, self.config.holdout_share)
            if arm == "control":
                self._phase(Phase.holdout)
                self._wake(WaitKind.holdout_window, self.at + self.config.outcome_window)
            self._record(LedgerKind.holdout_assigned, arm=arm, share=self.config.holdout_share)
            if arm == "control":
                return
        self._phase(Phase.drafting)
        self.commands.append(PrepareDraft(version=self._draft_version() + 1))

    def _draft_version(self) -> int:
        return self.review.current_draft.version if self.review.current_draft else 0

    def _draft_ready(self, event: DraftReady) -> None:
        if self.state.phase not in (Phase.drafting, Phase.redrafting):
            return  # closed while drafting: the draft is not used
        first = self.state.phase == Phase.drafting
        self.review.brief = event.brief
        self.review.drafts.append(event.draft)
        self._record(LedgerKind.draft_generated, version=event.draft.version, by=event.brief.drafted_by,
                     violations=event.draft.violations, **event.usage)
        if first and self.config.standing_approval and standing_approval_applies(self.state):
            rule = Decision(action=Action.approve, draft_version=event.draft.version,
                            decided_by="rule:standing-approval", decided_by_admin=True)
            self._phase(Phase.awaiting_review)  # decided at once, by the admin's rule instead of the owner
            return self._decided(Decided(at=self.at, decision=rule))
        self._await_review("" if first else "Redrafted: review the new draft.")

    def _decided(self, event: Decided) -> None:
        decision = event.decision
        if refusal(self.state, decision, self.at) is not None:
            return  # the workflow refuses before it gets here; a refused decision changes nothing
        version = self._draft_version()
        self.review.decisions.append(DecisionRecord(action=decision.action, by=decision.decided_by, at=self.at,
                                                    draft_version=version, reason=decision.reason or decision.note))
        self.review.notice = ""
        self._record(LedgerKind.reviewed, action=decision.action.value, by=decision.decided_by,
                     draft_version=version, policy_version=self.config.policy_version)
        if decision.action == Action.approve:
            return self._approve(decision)
        if decision.action == Action.hold:
            return self._hold(decision.reason or "held by the owner", by=decision.decided_by)
        if decision.action == Action.monitor:
            return self._monitor(owner_until(decision.until) or self.at)
        if decision.action == Action.redraft:
            self._wake(None)
            self._phase(Phase.redrafting)
            self.review.notice = "A new draft is being prepared."
            self.commands.append(PrepareDraft(version=version + 1, guidance=decision.note or decision.reason or ""))
            return
        outcome = Outcome.closed_by_owner
        if self.state.phase == Phase.owner_task:
            outcome = OWNER_TASK_OUTCOMES.get((decision.reason or "").strip().lower(), Outcome.closed_by_owner)
        self._finish(outcome, by=decision.decided_by, reason=decision.reason, until=decision.until)

    def _approve(self, decision: Decision) -> None:
        assert self.review.current_draft is not None, "approve is allowed only with a draft on the table"
        draft = with_edits(self.review.current_draft, decision)
        self.review.approved = draft
        self.state.approved_at = self.at
        self.state.send_attempt += 1
        self._record(LedgerKind.approved, by=decision.decided_by, draft_version=draft.version,
                     edited=draft != self.review.current_draft, channel=draft.channel,
                     send_at=decision.send_at.isoformat() if decision.send_at else None)
        if draft.channel == "call":
            return self._owner_task("call the customer (their preferred channel)")
        self._phase(Phase.scheduled)
        if decision.send_at is not None and decision.send_at > self.at:
            self.review.send_at = decision.send_at
            self._wake(WaitKind.send_at, decision.send_at)
        else:
            self._wake(None)
            self.commands.append(PlanSend(message=MessageKind.first))

    def _timer(self, event: TimerFired) -> None:
        if self.state.wake is None or self.state.wake.kind != event.kind:
            return  # replaced by a later wait: stale
        self.state.wake = None
        kind, phase = event.kind, self.state.phase
        if kind == WaitKind.reminder:
            self.state.reminders_sent = 1
            self._record(LedgerKind.reminder_sent, owner=self.review.owner_email)
            self._wake(WaitKind.escalation, (self.state.review_since or self.at) + self.config.review_escalate_after)
        elif kind == WaitKind.escalation:
            self.state.reminders_sent = 2
            self._record(LedgerKind.escalated, owner=self.review.owner_email)
        elif kind == WaitKind.send_at:
            self.commands.append(PlanSend(message=MessageKind.first))
        elif kind == WaitKind.send_window:
            self._deliver(MessageKind.first if phase == Phase.scheduled else MessageKind.follow_up)
        elif kind == WaitKind.follow_up:
            self.commands.append(PlanSend(message=MessageKind.follow_up))
        elif kind == WaitKind.outcome_window:
            self._window_ended()
        elif kind == WaitKind.monitor:
            self.commands.append(ReviewAgain())
        elif kind == WaitKind.holdout_window:
            self._finish(Outcome.no_response, reason="holdout_window_ended", arm="control")

    def _window_ended(self) -> None:
        if self.state.tier in ("strategic", "standard"):
            return self._owner_task("no response: a personal phone call by the owner")
        self._finish(Outcome.no_response, reason="no_response")

    def _crm_event(self, event: CrmEventIn, remember: bool = True) -> None:
        crm, phase = event.event, self.state.phase
        if phase == Phase.done:
            return
        if remember:
            self.review.events.append(crm)
        if phase in (Phase.delivering, Phase.delivering_follow_up) and crm.type in STOP_EVENTS:
            self.state.pending_stop = self.state.pending_stop or crm  # applied once the delivery answers
            return
        if crm.type == CrmEventType.owner_changed:
            return self._reassign(crm.new_owner_email)
        if crm.type == CrmEventType.issue_resolved:
            self.review.notice = f"Issue resolved ({crm.detail or 'see the CRM'}); consider a redraft."
            return self._record(LedgerKind.issue_resolved, detail=crm.detail)
        if crm.type == CrmEventType.issue_opened:
            return self._issue_opened(crm.detail)
        if crm.type == CrmEventType.auto_reply:
            return self._auto_reply(crm)
        outcome = customer_event_outcome(crm.type, phase)
        if outcome is None:
            self.review.notice = f"The CRM reported {crm.type.value}: {crm.detail or 'no detail'}."
            return
        kind = LedgerKind.bounced if crm.type == CrmEventType.bounce else None
        arm = "control" if phase == Phase.holdout else None
        self._finish(outcome, kind, event=crm.type.value, before_outreach=phase in PRE_SEND or None, arm=arm)

    def _auto_reply(self, crm: CrmEvent) -> None:
        """An out-of-office answer is not a response: the sequence goes on, but a follow-up due while the
        customer is away waits until the day after their return date, and the outcome window moves with it."""
        wake = self.state.wake
        if crm.return_on is None or wake is None or wake.kind != WaitKind.follow_up:
            self.review.notice = f"An automatic reply arrived: {crm.detail or 'no return date given'}."
            return
        after = follow_up_after_return(crm.return_on)
        if after <= wake.at:
            self.review.notice = f"An automatic reply arrived; the customer is back on {crm.return_on:%Y-%m-%d}."
            return
        self._wake(WaitKind.follow_up, after)
        deadline = after + self.config.outcome_window
        self.state.outcome_deadline = max(self.state.outcome_deadline or deadline, deadline)
        self.review.notice = (f"Out of office until {crm.return_on:%Y-%m-%d}: the follow-up waits until "
                              f"{after:%Y-%m-%d %H:%M} UTC.")

    def _reassign(self, new_owner: str | None) -> None:
        if not new_owner or new_owner.lower() == (self.review.owner_email or ""):
            return
        previous, self.review.owner_email = self.review.owner_email, new_owner.lower()
        self._record(LedgerKind.reassigned, owner=self.review.owner_email, previous=previous)

    def _issue_opened(self, detail: str) -> None:
        assessment = self.review.assessment
        if assessment and "issue_opened_event" not in assessment.flags:
            self.review.assessment = _flagged_issue_opened(assessment)
        notice = f"An issue was opened: {detail or 'see the CRM'}"
        self._record(LedgerKind.unresolved_issue_flagged, detail=detail)
        phase = self.state.phase
        if phase == Phase.scheduled:
            self._record(LedgerKind.send_stopped, reason="issue opened before the send")
        if phase in (Phase.awaiting_review, Phase.scheduled):
            self._hold("issue opened")
        elif phase == Phase.awaiting_follow_up:
            self._follow_up_cancelled("issue opened")
        self.review.notice = notice
