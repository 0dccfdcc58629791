"""The first DormantAccountWorkflow, frozen: registered only until its running executions drain.

Executions started before the lifecycle rewrite (workflow type "DormantAccountWorkflow") keep running on
this code, unchanged, so their histories replay; new executions start as type "DormantAccount"
(workflows/dormant_account.py). Do not change this file's behaviour: delete it once
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
from temporalio.common import RetryPolicy, SearchAttributeKey
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from reactivation.activity_models import DraftRequest, DraftResult, EvidenceRequest
    from reactivation.delivery_models import DeliveryRequest, DeliveryResult, SendPlan, SendTimeRequest
    from reactivation.holdout import assign_arm
    from reactivation.ledger_models import ProjectionView, StepRecord
    from reactivation.models import (
        Assessment,
        CrmEvent,
        Decision,
        DecisionRecord,
        DecisionResult,
        EvidencePack,
        Outcome,
        OutreachDraft,
        Path,
        ReviewState,
        Stage,
    )
    from reactivation.policy import assess
    from workflows.dormant_account_models import DormantAccountInput, DormantAccountResult
    from workflows.legacy.decisions_v1 import refusal_for

ACCOUNT_ID = SearchAttributeKey.for_keyword("AccountId")
ACCOUNT_OWNER = SearchAttributeKey.for_keyword("AccountOwner")
STAGE = SearchAttributeKey.for_keyword("ReactivationStage")
PATH = SearchAttributeKey.for_keyword("ReactivationPath")
PRIORITY = SearchAttributeKey.for_float("ReactivationPriority")

DB_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                       maximum_interval=timedelta(seconds=30))
DRAFT_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), backoff_coefficient=2.0,
                          maximum_interval=timedelta(minutes=1), maximum_attempts=4,
                          non_retryable_error_types=["LLMRejected"])
DELIVERY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), backoff_coefficient=2.0,
                             maximum_interval=timedelta(minutes=5),
                             non_retryable_error_types=["NoAddress", "AccountNotFound"])

# Versioned changes (workflow.patched): running histories replay on the old branch.
SEND_WINDOW_PATCH = "send-window"  # wait for the customer's local business hours before each send
BOUNCE_PATCH = "bounce-suppresses"  # a bounce after sending ends the episode as suppressed, not no_response
HOLDOUT_PATCH = "holdout"  # eligible accounts may be assigned to the control group
DECISION_PATCH = "decision-committed-first"  # a decision is in history before the ledger records it

RESPONSE_EVENTS = {"reply": Outcome.responded, "activity": Outcome.reactivated, "opt_out": Outcome.opted_out}
OWNER_TASK_OUTCOMES = {"responded": Outcome.responded, "reactivated": Outcome.reactivated,
                       "no_response": Outcome.no_response}


class _BackToReview(Exception):
    """Raised inside the send sequence when something changed and the owner must look again."""


@workflow.defn(name="DormantAccountWorkflow")
class DormantAccountWorkflowV1:
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
        except _BackToReview as back:
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

    # ------------------------------------------------------------------ sending

    async def _send_sequence(self) -> DormantAccountResult:
        draft = self._approved
        if self._send_at is not None and self._send_at > workflow.now():
            interrupted = await self._wait(lambda: bool(self._events), self._send_at - workflow.now(), "send_at")
            await self._flush_deferred()
            if interrupted:
                raise _BackToReview(await self._event_stops_send(self._events.pop(0)))
        if draft.channel != "call":
            delay = await self._until_send_window("first message")
            if delay:
                interrupted = await self._wait(lambda: bool(self._events), delay, "send window")
                await self._flush_deferred()
                if interrupted:
                    raise _BackToReview(await self._event_stops_send(self._events.pop(0)))
        before = self._state.assessment
        after = self._assess(await self._gather())
        await self._flush_deferred()  # the gather activity committed the task that accepted the approval
        if after.path in (Path.suppressed, Path.not_ready):
            raise _BackToReview(f"At send time the account became {after.path.value}: nothing was sent.")
        if after.fingerprint() != before.fingerprint():
            changed = sorted(set(after.flags) ^ set(before.flags)) or [after.path.value]
            raise _BackToReview(f"Something changed before sending ({', '.join(changed)}): nothing was sent.")
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

    # ------------------------------------------------------------------ steps

    async def _gather(self) -> EvidencePack:
        pack = await workflow.execute_activity(
            "gather_evidence", EvidenceRequest(account_id=self._input.account_id), result_type=EvidencePack,
            start_to_close_timeout=timedelta(seconds=30), retry_policy=DB_RETRY, summary="gather evidence",
        )
        self._pack = pack
        if self._state.owner_email is None or not self._state.decisions:
            self._state.owner_email = pack.account.owner_email
        return pack

    def _assess(self, pack: EvidencePack) -> Assessment:
        assessment = assess(pack, workflow.now(), self._input.policy)
        issue_flag = self._state.assessment and "issue_opened_event" in self._state.assessment.flags
        if issue_flag:
            assessment.flags.append("issue_opened_event")
        self._state.assessment = assessment
        self._state.path = assessment.path
        self._state.priority = assessment.priority.score
        return assessment

    async def _draft(self, guidance: str) -> None:
        version = (self._state.current_draft.version if self._state.current_draft else 0) + 1
        queue = self._input.llm_task_queue or workflow.info().task_queue
        request = DraftRequest(pack=self._pack, assessment=self._state.assessment, version=version,
                               guidance=guidance)
        try:
            result = await workflow.execute_activity(
                "prepare_draft", request, result_type=DraftResult, task_queue=queue,
                start_to_close_timeout=timedelta(minutes=2), retry_policy=DRAFT_RETRY, summary=f"draft v{version}",
            )
        except ActivityError as err:
            if self._input.llm_task_queue is None:
                raise
            # The LLM failed on every attempt: the owner still gets a draft, labelled as a template.
            result = await workflow.execute_activity(
                "prepare_template_draft", request, result_type=DraftResult,
                start_to_close_timeout=timedelta(seconds=30), retry_policy=DB_RETRY,
                summary=f"template draft v{version} (LLM failed)",
            )
            result.brief.drafted_by = "template draft (LLM failed)"
            workflow.logger.warning("LLM drafting failed, template used: %s", err.cause or err)
        self._state.brief = result.brief
        self._state.drafts.append(result.draft)
        await self._record("draft_generated", {"version": version, "by": result.brief.drafted_by,
                                               "prompt_tokens": result.prompt_tokens,
                                               "completion_tokens": result.completion_tokens,
                                               "estimated_cost_usd": result.estimated_cost_usd,
                                               "violations": result.draft.violations})

    async def _deliver(self, kind: str, subject: str, body: str, thread: str | None = None) -> DeliveryResult:
        draft = self._approved
        result = await workflow.execute_activity(
            "deliver",
            DeliveryRequest(account_id=self._input.account_id, workflow_id=workflow.info().workflow_id,
                            episode=self._state.episode, kind=kind, channel=draft.channel, subject=subject,
                            body=body, path=self._state.path.value, owner_email=self._state.owner_email,
                            thread_message_id=thread),
            result_type=DeliveryResult, start_to_close_timeout=self._input.timings.delivery_timeout,
            retry_policy=DELIVERY_RETRY, summary=f"deliver {kind} by {draft.channel}",
        )
        if not result.suppressed_reason:
            self._state.sent_message_ids.append(result.message_id)
        return result

    async def _monitor(self, until: datetime) -> DormantAccountResult:
        await self._set_stage(Stage.monitoring, f"monitoring until {until.date()}")
        await self._record("monitoring", {"until": until.date().isoformat()}, with_state=True)
        delay = max(timedelta(seconds=1), until - workflow.now())
        if await self._wait(lambda: bool(self._events) or self._decision is not None, delay, "monitor"):
            if self._decision is not None:
                decision = await self._take_decision()
                return await self._finish(Outcome.closed_by_owner, Stage.closed, "closed",
                                          {"by": decision.decided_by, "reason": decision.reason})
            event = self._events.pop(0)
            if event.type in ("activity", "reply"):
                return await self._finish(Outcome.reactivated_before_outreach, Stage.closed, "reactivated",
                                          {"event": event.type, "before_outreach": True})
            if event.type in ("opt_out", "bounce"):
                return await self._finish(Outcome.opted_out, Stage.suppressed, "opted_out", {"event": event.type})
        await workflow.wait_condition(workflow.all_handlers_finished)
        carried = self._state.model_copy(update={"stage": Stage.gathering_evidence, "notice": "review again"})
        workflow.continue_as_new(self._input.model_copy(update={"carried": carried, "seq": self._seq,
                                                                "source": "monitor"}))

    async def _finish(self, outcome: Outcome, stage: Stage, kind: str, detail: dict) -> DormantAccountResult:
        self._state.outcome = outcome
        await self._set_stage(stage, f"finished: {outcome.value}")
        await self._record(kind, {**detail, "outcome": outcome.value}, with_state=True)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return DormantAccountResult(account_id=self._input.account_id, stage=stage, outcome=outcome,
                                    sent_message_ids=self._state.sent_message_ids)

    # ------------------------------------------------------------------ plumbing

    async def _wait(self, condition, timeout: timedelta, summary: str) -> bool:
        """Wait for `condition` up to `timeout`; True if it became true, False on timeout."""
        try:
            await workflow.wait_condition(condition, timeout=max(timeout, timedelta(seconds=1)),
                                          timeout_summary=summary)
            return True
        except TimeoutError:
            return False

    def _flag_issue(self, event: CrmEvent) -> None:
        if self._state.assessment and "issue_opened_event" not in self._state.assessment.flags:
            self._state.assessment.flags.append("issue_opened_event")
        self._state.notice = f"An issue was opened: {event.detail or 'see the CRM'}"

    def _standing_approval_applies(self, assessment: Assessment) -> bool:
        account = self._pack.account
        return (self._input.standing_approval and assessment.path == Path.marketing_led
                and account.tier == "self_serve" and account.consent_status == "granted"
                and not assessment.flags and not self._state.current_draft.violations)

    def _with_edits(self, decision: Decision) -> OutreachDraft:
        draft = self._state.current_draft
        edits = {k: v for k, v in {"subject": decision.subject, "body": decision.body,
                                   "follow_up_body": decision.follow_up_body,
                                   "channel": decision.channel}.items() if v is not None}
        return draft.model_copy(update=edits)

    async def _set_stage(self, stage: Stage, details: str) -> None:
        self._state.stage = stage
        pairs = [ACCOUNT_ID.value_set(self._input.account_id), STAGE.value_set(stage.value)]
        if self._state.owner_email:
            pairs.append(ACCOUNT_OWNER.value_set(self._state.owner_email))
        if self._state.path is not None:
            pairs.append(PATH.value_set(self._state.path.value))
        if self._state.priority is not None:
            pairs.append(PRIORITY.value_set(self._state.priority))
        workflow.upsert_search_attributes(pairs)
        workflow.set_current_details(f"**{stage.value}**: {details}")

    async def _record(self, kind: str, detail: dict | None = None, *, with_state: bool = False,
                      at: datetime | None = None) -> None:
        self._seq += 1
        info = workflow.info()
        account = self._pack.account if self._pack else None
        assessment = self._state.assessment
        view = ProjectionView(
            priority=self._state.priority,
            tier=account.tier if account else None,
            last_activity_at=account.last_activity_at if account else None,
            account_value=account.account_value if account else None,
            risk_level=account.risk_level if account else None,
            recommended_next_step=assessment.recommended_next_step if assessment else "",
            draft_version=self._state.current_draft.version if self._state.current_draft else 0,
            outcome=self._state.outcome.value if self._state.outcome else None,
            state=self._state if with_state else None,
        )
        step = StepRecord(
            event_id=f"{info.workflow_id}:{self._state.episode}:{self._seq}:{kind}", type=kind,
            at=at or workflow.now(), account_id=self._input.account_id, workflow_id=info.workflow_id,
            episode=self._state.episode, stage=self._state.stage.value,
            path=self._state.path.value if self._state.path else None, owner_email=self._state.owner_email,
            segment=account.segment if account else None, detail=detail or {}, view=view,
        )
        await workflow.execute_local_activity("record_step", step, start_to_close_timeout=timedelta(seconds=10),
                                              retry_policy=DB_RETRY, summary=f"record {kind}")
