"""The lifecycle's primitives: how a transition changes the phase, sets the one pending wake-up, records
a measurement event and ends the episode. Shared by every input's handling (reactivation/lifecycle.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from reactivation.lifecycle_model import (
    Command,
    CrmEventIn,
    Finish,
    LifecycleConfig,
    LifecycleState,
    Phase,
    Record,
    WaitKind,
    Wake,
)
from reactivation.lifecycle_rules import stage_for
from reactivation.reentry import owner_until, reopen_after
from reactivation.vocabulary import LedgerKind, Outcome

OUTCOME_LEDGER_KIND = {
    Outcome.reactivated: LedgerKind.reactivated, Outcome.reactivated_before_outreach: LedgerKind.reactivated,
    Outcome.responded: LedgerKind.responded, Outcome.no_response: LedgerKind.closed,
    Outcome.opted_out: LedgerKind.opted_out, Outcome.suppressed: LedgerKind.suppressed,
    Outcome.closed_by_owner: LedgerKind.closed, Outcome.not_ready: LedgerKind.not_ready,
}
MIN_WAIT = timedelta(seconds=1)


class StepBase:
    """One transition in progress: the copied state, and the commands it emits."""

    def __init__(self, state: LifecycleState, config: LifecycleConfig, at: datetime) -> None:
        self.state, self.config, self.at = state, config, at
        self.review = state.review
        self.commands: list[Command] = []

    def _crm_event(self, event: CrmEventIn, remember: bool = True) -> None:
        raise NotImplementedError  # lifecycle.py: sending applies a stop held back during a delivery through it

    def _phase(self, phase: Phase) -> None:
        self.state.phase = phase
        self.review.phase = phase.value
        self.review.stage = stage_for(phase, self.review.outcome, self.state.follow_up_sent)

    def _record(self, kind: LedgerKind, **detail) -> None:
        self.commands.append(Record(kind=kind, at=self.at, stage=self.review.stage, owner_email=self.review.owner_email,
                                    detail={k: v for k, v in detail.items() if v is not None}))

    def _wake(self, kind: WaitKind | None, at: datetime | None = None) -> None:
        self.state.wake = None if kind is None else Wake(kind=kind, at=max(at or self.at, self.at + MIN_WAIT))

    def _finish(self, outcome: Outcome, kind: LedgerKind | None = None, until=None, **detail) -> None:
        if self.state.phase == Phase.done:
            return
        self.review.outcome = outcome
        self.review.approved = None
        self.review.send_at = None
        self.review.reopen_after = reopen_after(outcome, self.at, owner_until(until), self.config.rules)
        self._wake(None)
        self._phase(Phase.done)
        self._record(kind or OUTCOME_LEDGER_KIND[outcome], outcome=outcome.value, **detail)
        self.commands.append(Finish(outcome=outcome))

    def _await_review(self, notice: str = "") -> None:
        self.review.notice = notice
        self.state.review_since = self.at
        self.state.reminders_sent = 0
        self._phase(Phase.awaiting_review)
        self._wake(WaitKind.reminder, self.at + self.config.review_reminder_after)
        self._record(LedgerKind.awaiting_review)

    def _hold(self, reason: str, by: str | None = None) -> None:
        self.review.approved = None
        self.review.send_at = None
        self._wake(None)
        self._phase(Phase.held)
        self._record(LedgerKind.held, reason=reason, by=by)

    def _monitor(self, until: datetime) -> None:
        self._phase(Phase.monitoring)
        self._wake(WaitKind.monitor, until)
        self._record(LedgerKind.monitoring, until=until.date().isoformat())

    def _owner_task(self, task: str) -> None:
        self.review.notice = f"Owner task: {task}"
        self._wake(None)
        self._phase(Phase.owner_task)
        self._record(LedgerKind.owner_task, task=task)

