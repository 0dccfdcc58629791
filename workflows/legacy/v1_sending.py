"""The send sequence of the frozen v1 workflow.

Part of the frozen v1 workflow (workflows/legacy/dormant_account_v1.py), moved here unchanged so no file
is over 300 lines; do not change its behaviour (the saved v1 histories replay against it).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from reactivation.delivery_model import SendPlan, SendTimeRequest
    from reactivation.review_model import CrmEvent
    from reactivation.vocabulary import Outcome, Path, Stage
    from workflows.dormant_account_models import DormantAccountResult
from workflows.legacy.v1_common import (
    BOUNCE_PATCH,
    DB_RETRY,
    OWNER_TASK_OUTCOMES,
    RESPONSE_EVENTS,
    SEND_WINDOW_PATCH,
    BackToReview,
)


class V1Sending:
    """Mixed into DormantAccountWorkflowV1; uses its state (self._input, self._state, ...)."""

    # ------------------------------------------------------------------ sending

    async def _send_sequence(self) -> DormantAccountResult:
        draft = self._approved
        if self._send_at is not None and self._send_at > workflow.now():
            interrupted = await self._wait(lambda: bool(self._events), self._send_at - workflow.now(), "send_at")
            await self._flush_deferred()
            if interrupted:
                raise BackToReview(await self._event_stops_send(self._events.pop(0)))
        if draft.channel != "call":
            delay = await self._until_send_window("first message")
            if delay:
                interrupted = await self._wait(lambda: bool(self._events), delay, "send window")
                await self._flush_deferred()
                if interrupted:
                    raise BackToReview(await self._event_stops_send(self._events.pop(0)))
        before = self._state.assessment
        after = self._assess(await self._gather())
        await self._flush_deferred()  # the gather activity committed the task that accepted the approval
        if after.path in (Path.suppressed, Path.not_ready):
            raise BackToReview(f"At send time the account became {after.path.value}: nothing was sent.")
        if after.fingerprint() != before.fingerprint():
            changed = sorted(set(after.flags) ^ set(before.flags)) or [after.path.value]
            raise BackToReview(f"Something changed before sending ({', '.join(changed)}): nothing was sent.")
        if draft.channel == "call":
            return await self._owner_task("call the customer (their preferred channel)")

        first = await self._deliver("first", draft.subject, draft.body)
        if first.suppressed_reason:
            return await self._bounced(first.suppressed_reason, "first")
        await self._set_stage(Stage.sent, f"sent {first.message_id}")
        await self._record("sent", {"message_id": first.message_id, "channel": draft.channel})
        outcome = await self._await_response(self._input.timings.follow_up_after, "follow_up")
        if outcome is None and draft.follow_up_body.strip():
            delay = await self._until_send_window("follow-up")
            if delay:
                outcome = await self._await_response(delay, "send window")
        if outcome is None and draft.follow_up_body.strip():
            follow = await self._deliver("follow_up", draft.subject, draft.follow_up_body, first.message_id)
            if follow.suppressed_reason:
                return await self._bounced(follow.suppressed_reason, "follow_up")
            await self._set_stage(Stage.follow_up_sent, f"follow-up sent {follow.message_id}")
            await self._record("follow_up_sent", {"message_id": follow.message_id})
        if outcome is None:
            outcome = await self._await_response(self._input.timings.outcome_window, "outcome_window")
        if outcome is not None:
            return await self._finish_outcome(outcome)
        if self._pack and self._pack.account.tier in ("strategic", "standard"):
            return await self._owner_task("no response: a personal phone call by the owner")
        return await self._finish(Outcome.no_response, Stage.closed, "closed", {"reason": "no_response"})

    async def _event_stops_send(self, event: CrmEvent) -> str:
        if event.type == "issue_opened":
            self._flag_issue(event)
            await self._record("unresolved_issue_flagged", {"detail": event.detail})
        if event.type in ("activity", "reply", "opt_out", "bounce"):
            self._events.insert(0, event)  # the review loop closes or suppresses on it
        return f"A CRM event ({event.type}) arrived before the send window: nothing was sent."

    async def _bounced(self, reason: str, kind: str) -> DormantAccountResult:
        """The provider refused the address: it is suppressed, nothing more goes to it, the episode ends."""
        return await self._finish(Outcome.suppressed, Stage.suppressed, "bounced", {"reason": reason, "message": kind})

    async def _until_send_window(self, what: str) -> timedelta | None:
        """How long until the customer's local send window opens; None when it is open (or there is none)."""
        if not self._input.send_window or not workflow.patched(SEND_WINDOW_PATCH):
            return None
        account = self._pack.account if self._pack else None
        plan = await workflow.execute_local_activity(
            "plan_send_time",
            SendTimeRequest(window=self._input.send_window, timezone=account.timezone if account else None,
                            default_timezone=self._input.default_timezone, earliest=workflow.now()),
            result_type=SendPlan, start_to_close_timeout=timedelta(seconds=10), retry_policy=DB_RETRY,
            summary=f"send window for the {what}",
        )
        if plan.send_at <= workflow.now():
            return None
        self._state.notice = (f"The {what} waits for the customer's business hours: "
                              f"{plan.send_at:%Y-%m-%d %H:%M} UTC ({plan.timezone}).")
        await self._set_stage(self._state.stage, self._state.notice)
        return plan.send_at - workflow.now()

    async def _await_response(self, timeout: timedelta, summary: str) -> Outcome | None:
        while True:
            if not await self._wait(lambda: bool(self._events), timeout, summary):
                return None
            event = self._events.pop(0)
            if event.type in RESPONSE_EVENTS:
                return RESPONSE_EVENTS[event.type]
            if event.type == "bounce":
                if workflow.patched(BOUNCE_PATCH):
                    return Outcome.suppressed  # the address is suppressed (by the events API); stop here
                await self._record("bounced", {"detail": event.detail})
                return Outcome.no_response
            if event.type == "issue_opened":
                self._flag_issue(event)
                await self._record("unresolved_issue_flagged", {"detail": event.detail})
                return None

    async def _owner_task(self, what: str) -> DormantAccountResult:
        await self._set_stage(Stage.owner_task, f"owner task: {what}")
        await self._record("owner_task", {"task": what}, with_state=True)
        await workflow.wait_condition(lambda: self._decision is not None or bool(self._events))
        if self._decision is not None:
            decision = await self._take_decision()
            outcome = OWNER_TASK_OUTCOMES.get((decision.reason or "").strip().lower(), Outcome.closed_by_owner)
            return await self._finish(outcome, Stage.closed, "closed", {"by": decision.decided_by,
                                                                        "reason": decision.reason})
        event = self._events.pop(0)
        return await self._finish_outcome(RESPONSE_EVENTS.get(event.type, Outcome.no_response))

    async def _finish_outcome(self, outcome: Outcome) -> DormantAccountResult:
        kind = {Outcome.responded: "responded", Outcome.reactivated: "reactivated",
                Outcome.opted_out: "opted_out", Outcome.suppressed: "bounced"}.get(outcome, "closed")
        stage = Stage.suppressed if outcome in (Outcome.opted_out, Outcome.suppressed) else Stage.closed
        return await self._finish(outcome, stage, kind, {"outcome": outcome.value})
