"""The first DormantAccountWorkflow, frozen: registered only until its running executions drain.

Executions started before the lifecycle rewrite (workflow type "DormantAccountWorkflow") keep running on
this code, unchanged, so their histories replay; new executions start as type "DormantAccount"
(workflows/dormant_account.py). Do not change its behaviour (this file and v1_common, v1_sending and
v1_steps beside it, split only so no file is over 300 lines): delete them once
`temporal workflow list --query 'WorkflowType="DormantAccountWorkflow" AND ExecutionStatus="Running"'`
is empty (README, "Rolling out a workflow change").

Original description: one long-lived workflow per dormant account.

gather evidence -> gates and stop rules -> draft -> wait for the owner (indefinitely) -> re-check at send
time -> send once -> follow-up timer -> outcome window -> outcome. Every step writes a measurement event
with a deterministic id (episode + sequence), so retries and replays never duplicate one.

Decisions arrive as an Update whose validator refuses a wrong stage, a stale draft or a non-owner, so the
API can answer truthfully at once. The handler applies the transition synchronously (a second approval in
the same instant sees the new stage and is refused); the main loop then does the slow work.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from reactivation.evidence_model import EvidencePack
    from reactivation.holdout import assign_arm
    from reactivation.review_model import CrmEvent, Decision, DecisionRecord, DecisionResult, OutreachDraft, ReviewState
    from reactivation.vocabulary import Outcome, Path, Stage
    from workflows.dormant_account_models import DormantAccountInput, DormantAccountResult
    from workflows.legacy.decisions_v1 import refusal_for
from workflows.legacy.v1_common import (
    DECISION_PATCH,
    HOLDOUT_PATCH,
    BackToReview,
)
from workflows.legacy.v1_sending import V1Sending
from workflows.legacy.v1_steps import V1Steps


@workflow.defn(name="DormantAccountWorkflow")
class DormantAccountWorkflowV1(V1Sending, V1Steps):
    @workflow.init
    def __init__(self, input: DormantAccountInput) -> None:
        self._input = input
        info = workflow.info()
        episode = input.carried.episode if input.carried else info.run_id
        self._state = input.carried or ReviewState(account_id=input.account_id, episode=episode,
                                                   stage=Stage.gathering_evidence)
        self._seq = input.seq
        self._decision: Decision | None = None
        self._events: list[CrmEvent] = []
        self._pack: EvidencePack | None = None
        self._approved: OutreachDraft | None = None
        self._send_at: datetime | None = None
        self._deferred: list[tuple[str, dict, datetime]] = []  # approval records waiting for a commit point

    # ------------------------------------------------------------------ handlers

    @workflow.query
    def review_state(self) -> ReviewState:
        return self._state

    @workflow.update
    async def decide(self, decision: Decision) -> DecisionResult:
        self._accept(decision)
        version = self._state.current_draft.version if self._state.current_draft else 0
        return DecisionResult(accepted=True, stage=self._state.stage, draft_version=version,
                              message=f"{decision.action} accepted")

    @decide.validator
    def _validate_decide(self, decision: Decision) -> None:
        refusal = refusal_for(self._state, decision, pending=self._decision is not None)
        if refusal is not None:
            raise ValueError(str(refusal))

    @workflow.signal
    def decide_signal(self, decision: Decision) -> None:
        """Fire-and-forget form for CRM callers; a refused decision is recorded, not applied."""
        refusal = refusal_for(self._state, decision, pending=self._decision is not None)
        if refusal is not None:
            self._state.notice = f"Decision by {decision.decided_by} refused: {refusal}"
            return
        self._accept(decision)

    @workflow.signal
    def crm_event(self, event: CrmEvent) -> None:
        self._events.append(event)
        self._state.events.append(event)

    def _accept(self, decision: Decision) -> None:
        version = self._state.current_draft.version if self._state.current_draft else 0
        self._state.decisions.append(DecisionRecord(action=decision.action, by=decision.decided_by,
                                                    at=workflow.now(), draft_version=version,
                                                    reason=decision.reason or decision.note))
        self._state.stage = {"approve": Stage.approved, "hold": Stage.held, "monitor": Stage.monitoring,
                             "close": Stage.closed}.get(decision.action, self._state.stage)
        self._state.notice = ""
        self._decision = decision

    # ------------------------------------------------------------------ main line

    @workflow.run
    async def run(self, input: DormantAccountInput) -> DormantAccountResult:
        await self._set_stage(Stage.gathering_evidence, "gathering evidence")
        pack = await self._gather()
        assessment = self._assess(pack)
        if assessment.path == Path.not_ready:
            return await self._finish(Outcome.not_ready, Stage.not_ready, "not_ready",
                                      {"missing": assessment.missing})
        if assessment.path == Path.suppressed:
            return await self._finish(Outcome.suppressed, Stage.suppressed, "suppressed",
                                      {"reasons": [v.reason for v in assessment.verdicts if v.verdict == "suppress"]})
        if "unresolved_issue" in assessment.flags:
            await self._record("unresolved_issue_flagged")
        if assessment.path == Path.monitor:
            return await self._monitor(datetime.combine(assessment.review_again_on, datetime.min.time(),
                                                        tzinfo=UTC))
        if assessment.path in (Path.account_led, Path.marketing_led) and await self._assigned_to_control():
            return await self._control_group()
        await self._draft(guidance="")
        if self._standing_approval_applies(assessment):
            self._accept(Decision(action="approve", draft_version=self._state.current_draft.version,
                                  decided_by="rule:standing-approval", decided_by_admin=True))
        else:
            await self._set_stage(Stage.awaiting_review, "waiting for the owner's decision")
            await self._record("awaiting_review", with_state=True)
        return await self._review_loop()

    async def _take_decision(self, *, deferrable: bool = False) -> Decision:
        """The pending decision, committed to history before anything records it.

        An Update becomes part of history only when the workflow task that accepted it completes, but local
        activities (the ledger and the review projection) run inside that task. If the server lost the task
        (a restart), the ledger would hold a decision the workflow never made and the owner's queue would
        show the wrong stage. So the task must end first: an approval's records wait for the send
        sequence's first timer or activity (`deferrable`, no added latency); other decisions end the task
        with a 1 ms timer.
        """
        decision, self._decision = self._decision, None
        if workflow.patched(DECISION_PATCH) and not (deferrable and decision.action == "approve"):
            await asyncio.sleep(0.001)
        return decision

    async def _record_or_defer(self, kind: str, detail: dict, defer: bool) -> None:
        if defer:
            self._deferred.append((kind, detail, workflow.now()))
        else:
            await self._record(kind, detail, with_state=kind == "approved")

    async def _flush_deferred(self) -> None:
        """Record the approval once its workflow task has been committed (called after a timer or activity)."""
        deferred, self._deferred = self._deferred, []
        for kind, detail, at in deferred:
            await self._record(kind, detail, with_state=kind == "approved", at=at)

    async def _assigned_to_control(self) -> bool:
        """Deterministic holdout: the same account and salt always land in the same arm, on any worker."""
        share = self._input.holdout_share
        if share <= 0 or not workflow.patched(HOLDOUT_PATCH):
            return False
        arm = assign_arm(self._input.account_id, self._input.holdout_salt, share)
        if arm == "control":
            await self._set_stage(Stage.holdout, "control group: no outreach, watching for a return")
        await self._record("holdout_assigned", {"arm": arm, "share": share}, with_state=arm == "control")
        return arm == "control"

    async def _control_group(self) -> DormantAccountResult:
        """No draft, no message: only watch whether the account comes back within the outcome window, so
        the report can compare it with the accounts that got outreach."""
        deadline = workflow.now() + self._input.timings.outcome_window
        while workflow.now() < deadline:
            if not await self._wait(lambda: bool(self._events), deadline - workflow.now(), "holdout window"):
                break
            event = self._events.pop(0)
            if event.type in ("activity", "reply"):
                return await self._finish(Outcome.reactivated, Stage.closed, "reactivated",
                                          {"event": event.type, "arm": "control"})
            if event.type == "opt_out":
                return await self._finish(Outcome.opted_out, Stage.suppressed, "opted_out",
                                          {"event": event.type, "arm": "control"})
        return await self._finish(Outcome.no_response, Stage.closed, "closed",
                                  {"reason": "holdout_window_ended", "arm": "control"})

    async def _review_loop(self) -> DormantAccountResult:
        timings = self._input.timings
        schedule = [("reminder_sent", timings.review_reminder_after),
                    ("escalated", max(timedelta(seconds=1), timings.review_escalate_after - timings.review_reminder_after))]
        while True:
            if self._decision is None and not self._events:
                if schedule:
                    kind, wait = schedule[0]
                    if not await self._wait(lambda: self._decision is not None or bool(self._events), wait, kind):
                        schedule.pop(0)
                        await self._record(kind, {"owner": self._state.owner_email})
                        continue
                else:
                    await workflow.wait_condition(lambda: self._decision is not None or bool(self._events))
            if self._events:
                result = await self._on_event_before_send(self._events.pop(0))
            else:
                decision = await self._take_decision(deferrable=True)
                result = await self._on_decision(decision)
            if result is not None:
                return result

    async def _on_decision(self, decision: Decision) -> DormantAccountResult | None:
        detail = {"by": decision.decided_by, "draft_version": decision.draft_version,
                  "policy_version": self._input.policy.version}
        defer = decision.action == "approve" and workflow.patched(DECISION_PATCH)
        if decision.action == "approve":
            self._approved = self._with_edits(decision)
        await self._record_or_defer("reviewed", detail, defer)
        if decision.action == "close":
            return await self._finish(Outcome.closed_by_owner, Stage.closed, "closed",
                                      {**detail, "reason": decision.reason})
        if decision.action == "hold":
            await self._set_stage(Stage.held, f"held by {decision.decided_by}")
            await self._record("held", {**detail, "reason": decision.reason}, with_state=True)
            return None
        if decision.action == "monitor":
            until = datetime.combine(decision.until, datetime.min.time(), tzinfo=UTC)
            return await self._monitor(until)
        if decision.action == "redraft":
            await self._draft(guidance=decision.note or decision.reason or "")
            await self._set_stage(Stage.awaiting_review, "redrafted; waiting for the owner's decision")
            await self._record("awaiting_review", with_state=True)
            return None
        self._send_at = decision.send_at
        await self._set_stage(Stage.approved, f"approved by {decision.decided_by}")
        await self._record_or_defer("approved", {**detail, "edited": self._approved != self._state.current_draft},
                                    defer)
        try:
            return await self._send_sequence()
        except BackToReview as back:
            await self._flush_deferred()
            self._state.notice = str(back)
            await self._set_stage(Stage.awaiting_review, "send stopped; back to review")
            await self._record("send_stopped", {"reason": str(back)}, with_state=True)
            return None

    async def _on_event_before_send(self, event: CrmEvent) -> DormantAccountResult | None:
        if event.type in ("activity", "reply"):
            return await self._finish(Outcome.reactivated_before_outreach, Stage.closed, "reactivated",
                                      {"event": event.type, "before_outreach": True})
        if event.type in ("opt_out", "bounce"):
            return await self._finish(Outcome.opted_out if event.type == "opt_out" else Outcome.suppressed,
                                      Stage.suppressed, "opted_out" if event.type == "opt_out" else "bounced",
                                      {"event": event.type})
        if event.type == "issue_opened":
            self._flag_issue(event)
            self._decision = None
            await self._set_stage(Stage.held, "an issue was opened: held for the owner")
            await self._record("unresolved_issue_flagged", {"detail": event.detail})
            await self._record("held", {"reason": "issue opened"}, with_state=True)
        elif event.type == "owner_changed" and event.new_owner_email:
            self._state.owner_email = event.new_owner_email
            await self._set_stage(self._state.stage, f"reassigned to {event.new_owner_email}")
            await self._record("reassigned", {"owner": event.new_owner_email}, with_state=True)
        elif event.type == "issue_resolved":
            self._state.notice = f"Issue resolved ({event.detail}); consider a redraft."
            await self._record("awaiting_review", {"event": "issue_resolved"}, with_state=True)
        return None
