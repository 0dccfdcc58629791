"""The sending half of the lifecycle: from an approval's send slot to the delivery's answer.

Only the approved content is ever handed to delivery (`review.approved`, fixed when the owner approved);
a stop that arrives while a message is with the delivery activity waits for its answer, so what was
actually sent is always recorded before the episode ends.
"""

from __future__ import annotations

from reactivation.lifecycle_model import CrmEventIn, Deliver, DeliveryOutcome, Phase, PlanSend, SendSlot, WaitKind
from reactivation.lifecycle_steps import StepBase
from reactivation.vocabulary import DeliveryStatus, GuardStop, LedgerKind, MessageKind, Outcome


class SendingSteps(StepBase):
    def _send_slot(self, event: SendSlot) -> None:
        expected = Phase.scheduled if event.message == MessageKind.first else Phase.awaiting_follow_up
        if self.state.phase != expected:
            return  # held, closed or stopped while the window was being planned
        if event.slot > self.at:
            what = "first message" if event.message == MessageKind.first else "follow-up"
            self.review.send_at = event.slot
            self.review.notice = (f"The {what} waits for the customer's business hours: "
                                  f"{event.slot:%Y-%m-%d %H:%M} UTC ({event.timezone}).")
            self._wake(WaitKind.send_window, event.slot)
            return
        self._deliver(event.message)

    def _deliver(self, message: MessageKind) -> None:
        draft = self.review.approved
        assert draft is not None, "a send slot exists only for an approved draft"
        first = message == MessageKind.first
        self._wake(None)
        self._phase(Phase.delivering if first else Phase.delivering_follow_up)
        self.commands.append(Deliver(
            message=message, channel=draft.channel, subject=draft.subject,
            body=draft.body if first else draft.follow_up_body, attempt=self.state.send_attempt,
            approved_at=self.state.approved_at, thread_message_id=None if first else self.state.first_message_id))

    def _delivery(self, event: DeliveryOutcome) -> None:
        first = event.message == MessageKind.first
        if self.state.phase != (Phase.delivering if first else Phase.delivering_follow_up):
            return
        if event.status in (DeliveryStatus.sent, DeliveryStatus.uncertain):
            self._sent(event, first)
        elif event.status == DeliveryStatus.bounced:
            self._finish(Outcome.suppressed, LedgerKind.bounced, reason=event.reason, message=event.message.value)
        elif event.stop == GuardStop.window_closed:
            self._phase(Phase.scheduled if first else Phase.awaiting_follow_up)
            self.commands.append(PlanSend(message=event.message))
        elif event.stop == GuardStop.consent_withdrawn:
            self._finish(Outcome.opted_out, reason=event.reason)
        elif event.stop == GuardStop.address_suppressed:
            self._finish(Outcome.suppressed, reason=event.reason)
        elif not first:
            self._follow_up_cancelled(event.reason or event.status.value)
        elif event.stop == GuardStop.customer_returned:
            self._finish(Outcome.reactivated_before_outreach, reason=event.reason)
        else:
            self._record(LedgerKind.send_stopped, reason=event.reason, stop=event.stop.value if event.stop else None)
            self.review.approved, self.review.send_at = None, None  # the owner approves again, or not
            if event.stop == GuardStop.issue_opened:
                self._hold(event.reason)
                self.review.notice = event.reason
            else:
                self._await_review(event.reason)
        pending, self.state.pending_stop = self.state.pending_stop, None
        if pending is not None and self.state.phase != Phase.done:
            self._crm_event(CrmEventIn(at=self.at, event=pending), remember=False)

    def _sent(self, event: DeliveryOutcome, first: bool) -> None:
        approved = self.review.approved
        assert approved is not None, "only an approved draft is delivered"
        self.review.sent_message_ids.append(event.message_id or "")
        uncertain = event.status == DeliveryStatus.uncertain or None
        if first:
            self.state.first_message_id, self.state.first_sent_at = event.message_id, self.at
            self.state.outcome_deadline = self.at + self.config.follow_up_after + self.config.outcome_window
            self.review.send_at = None
            if approved.follow_up_body.strip():
                self._phase(Phase.awaiting_follow_up)
                self._wake(WaitKind.follow_up, self.at + self.config.follow_up_after)
            else:
                self._phase(Phase.outcome_window)
                self._wake(WaitKind.outcome_window, self.state.outcome_deadline)
            self._record(LedgerKind.sent, message_id=event.message_id, channel=approved.channel,
                         uncertain=uncertain)
            return
        self.state.follow_up_sent = True
        self._phase(Phase.outcome_window)
        self._wake(WaitKind.outcome_window, self.state.outcome_deadline)
        self._record(LedgerKind.follow_up_sent, message_id=event.message_id, uncertain=uncertain)

    def _follow_up_cancelled(self, reason: str) -> None:
        self._phase(Phase.outcome_window)
        self._wake(WaitKind.outcome_window, self.state.outcome_deadline or self.at)
        self._record(LedgerKind.follow_up_cancelled, reason=reason)

