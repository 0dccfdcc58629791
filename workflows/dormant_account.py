"""DormantAccountWorkflow: one long-lived workflow per dormant account, interpreting the pure lifecycle.

The rules live in reactivation/lifecycle.py. This class only turns messages into lifecycle inputs
(handlers apply them at once, so a validator always judges the current state and two messages in one
workflow task are applied in the order they arrived) and runs the commands the machine returns:
activities, timers, ledger records, finishing. It holds no business rule of its own.

Registered as workflow type "DormantAccount"; executions started before this rewrite run on the frozen
v1 code (workflows/legacy/) until they finish.
"""

from __future__ import annotations

from collections import deque
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from reactivation.decision_proof import verify
    from reactivation.delivery_model import idempotency_key, message_id_for
    from reactivation.evidence_model import EvidencePack
    from reactivation.ledger_model import StepRecord
    from reactivation.lifecycle import transition
    from reactivation.lifecycle_model import (
        Begin,
        Command,
        CrmEventIn,
        Decided,
        Deliver,
        DeliveryOutcome,
        DraftReady,
        EvidenceReady,
        Finish,
        GatherEvidence,
        Input,
        LifecycleConfig,
        LifecycleState,
        Phase,
        PlanSend,
        PrepareDraft,
        Record,
        ReviewAgain,
        SendSlot,
        TimerFired,
    )
    from reactivation.lifecycle_rules import refusal
    from reactivation.policy import assess
    from reactivation.review_model import CrmEvent, Decision, DecisionResult, ReviewState
    from reactivation.vocabulary import DeliveryStatus, RefusalKind, Stage
    from workflows import decision_keys
    from workflows import lifecycle_io as io
    from workflows.dormant_account_models import DormantAccountInput, DormantAccountResult

ACCOUNT_ID, ACCOUNT_OWNER, STAGE, PATH, PRIORITY = io.ACCOUNT_ID, io.ACCOUNT_OWNER, io.STAGE, io.PATH, io.PRIORITY


@workflow.defn(name="DormantAccount")
class DormantAccountWorkflow:
    @workflow.init
    def __init__(self, input: DormantAccountInput) -> None:
        self._input = input
        timings = input.timings
        self._config = LifecycleConfig(
            account_id=input.account_id, follow_up_after=timings.follow_up_after,
            outcome_window=timings.outcome_window, review_reminder_after=timings.review_reminder_after,
            review_escalate_after=timings.review_escalate_after, standing_approval=input.standing_approval,
            holdout_share=input.holdout_share, holdout_salt=input.holdout_salt, rules=input.policy.rules,
            policy_version=input.policy.version)
        review = ReviewState(account_id=input.account_id, episode=workflow.info().run_id,
                             stage=Stage.gathering_evidence)
        if input.carried is not None:  # a monitored account, reviewed again in the same episode
            review = input.carried.model_copy(update={"stage": Stage.gathering_evidence, "notice": "review again",
                                                      "outcome": None, "approved": None, "send_at": None})
        self._state = LifecycleState(review=review)
        self._commands: deque[Command] = deque()
        self._uncommitted = False  # an accepted Update whose workflow task may not be committed yet
        self._held_back: list = []  # its ledger records, waiting for a commit point (see _record)
        self._pack: EvidencePack | None = None
        self._ledger = io.Ledger(input, review.episode)
        self._publisher = io.Publisher(fresh_start=input.carried is None)

    def _feed(self, event: Input) -> None:
        self._state, commands = transition(self._state, event, self._config)
        self._commands.extend(commands)

    # ------------------------------------------------------------------ messages

    @workflow.query
    def review_state(self) -> ReviewState:
        return self._state.review

    @workflow.update
    def decide(self, decision: Decision) -> DecisionResult:
        self._refuse_if_needed(decision)  # two Updates in one task pass their validators on the same state
        self._uncommitted = True
        self._feed(Decided(at=workflow.now(), decision=decision))
        review = self._state.review
        return DecisionResult(accepted=True, stage=review.stage, message=f"{decision.action.value} accepted",
                              draft_version=review.current_draft.version if review.current_draft else 0)

    @decide.validator
    def _validate_decide(self, decision: Decision) -> None:
        """Also the trust boundary: with a decision key configured, only decisions the API signed pass
        (checked here only: validators do not run on replay, so a rotated key cannot break a history)."""
        keys = decision_keys.keys_for(workflow.info().task_queue)
        if keys and not verify(decision, keys):
            raise ApplicationError("this decision did not come through the API (no valid proof)",
                                   type=RefusalKind.forbidden.value, non_retryable=True)
        self._refuse_if_needed(decision)

    def _refuse_if_needed(self, decision: Decision) -> None:
        found = refusal(self._state, decision, workflow.now())
        if found is not None:
            raise ApplicationError(found.message, type=found.kind, non_retryable=True)

    @workflow.signal
    def decide_signal(self, decision: Decision) -> None:
        """Kept so v1-era callers get an answer: a signal cannot be validated before it is in history, so
        an unauthenticated decision cannot be told from the API's. Decisions go through the Update."""
        self._state.review.notice = (f"A decision signal from {decision.decided_by} was ignored: decisions go "
                                     "through the review API (the decide Update).")

    @workflow.signal
    def crm_event(self, event: CrmEvent) -> None:
        self._feed(CrmEventIn(at=workflow.now(), event=event))

    # ------------------------------------------------------------------ the interpreter

    @workflow.run
    async def run(self, input: DormantAccountInput) -> DormantAccountResult:
        self._feed(Begin(at=workflow.now()))
        while True:
            if self._commands:
                result = await self._execute(self._commands.popleft())
                if result is not None:
                    return result
                continue
            self._publish()
            await self._commit_point()
            if not self._commands:
                await self._wait_for_input_or_wake()

    async def _wait_for_input_or_wake(self) -> None:
        wake = self._state.wake
        if wake is None:
            await workflow.wait_condition(lambda: bool(self._commands))
            return
        remaining = wake.at - workflow.now()
        if remaining > timedelta(0):
            try:
                await workflow.wait_condition(lambda: bool(self._commands) or self._state.wake != wake,
                                              timeout=remaining, timeout_summary=wake.kind.value)
                return
            except TimeoutError:
                pass
        if self._state.wake == wake:
            self._feed(TimerFired(at=workflow.now(), kind=wake.kind))

    async def _execute(self, command: Command) -> DormantAccountResult | None:
        if isinstance(command, Record):
            await self._record([command, *self._take_records()])
        elif isinstance(command, GatherEvidence):
            self._pack = await io.gather_evidence(self._input.account_id)
            assessment = assess(self._pack, workflow.now(), self._input.policy)
            account = self._pack.account
            self._feed(EvidenceReady(at=workflow.now(), assessment=assessment, owner_email=account.owner_email,
                                     tier=account.tier, consent_status=account.consent_status))
        elif isinstance(command, PrepareDraft):
            self._publish(stage_only=True)
            await self._commit_point()
            assert self._pack is not None and self._state.review.assessment is not None, "drafting follows evidence"
            result = await io.prepare_draft(self._input, self._pack, self._state.review.assessment, command)
            self._feed(DraftReady(at=workflow.now(), draft=result.draft, brief=result.brief,
                                  usage={"prompt_tokens": result.prompt_tokens,
                                         "completion_tokens": result.completion_tokens,
                                         "estimated_cost_usd": result.estimated_cost_usd}))
        elif isinstance(command, PlanSend):
            slot, zone = await io.plan_send(self._input, self._pack, command.message)
            self._feed(SendSlot(at=workflow.now(), message=command.message, slot=slot, timezone=zone))
        elif isinstance(command, Deliver):
            self._publish()
            records, self._held_back, self._uncommitted = self._held_back, [], False
            on_sent = self._predict_sent(command)
            outcome = await io.deliver(self._input, self._state, command, records, on_sent)
            recorded_at = outcome.pop("recorded_at")
            if on_sent is not None:
                self._ledger.delivered(recorded_at)
            if records and outcome["status"] == DeliveryStatus.failed:
                self._ledger.resend_whole_review()
            self._feed(DeliveryOutcome(at=workflow.now(), message=command.message, **outcome))
        elif isinstance(command, Finish):
            return await self._finish()
        elif isinstance(command, ReviewAgain) and self._state.phase == Phase.monitoring:
            await self._flush_remaining()  # an event or decision that arrived first has ended the monitoring
            if self._state.phase != Phase.monitoring:
                return None
            if self._commands:  # something arrived while flushing: handle it, then come back
                self._commands.append(command)
                return None
            carried = self._state.review
            workflow.continue_as_new(self._input.model_copy(update={"carried": carried, "seq": self._ledger.seq,
                                                                    "source": "monitor"}))
        return None

    def _predict_sent(self, command: Deliver) -> StepRecord | None:
        """The ledger event this message records if it goes out, for the delivery activity to write with the
        message's status (io.Ledger.reserve_sent). The pure lifecycle says what a `sent` answer would do;
        the Message-ID is the activity's deterministic one. None when it cannot be named (executions
        started before the input had the domain) or the answer would record more than that one event."""
        domain = self._input.message_domain
        if not domain:
            return None
        key = idempotency_key(workflow.info().workflow_id, self._state.review.episode, command.message.value,
                              command.attempt)
        sent = DeliveryOutcome(at=workflow.now(), message=command.message, status=DeliveryStatus.sent,
                               message_id=message_id_for(key, domain))
        state, commands = transition(self._state, sent, self._config)
        records = [c for c in commands if isinstance(c, Record)]
        if len(records) != 1:
            return None
        return self._ledger.reserve_sent(records[0], state, self._pack)

    def _take_records(self) -> list[Record]:
        batch: list[Record] = []
        while self._commands and isinstance(record := self._commands[0], Record):
            self._commands.popleft()
            batch.append(record)
        return batch

    async def _record(self, records: list[Record]) -> None:
        """Write measurement events, but never a decision's before the workflow task that accepted it is
        committed: an Update is in history only once that task completes, and a ledger row for a decision
        the server then lost would be a phantom. Such records are held back to the next commit point: the
        delivery activity writes them first thing (it cannot start before the commit), otherwise a 1 ms
        timer ends the task (_commit_point). Everything after them waits too, so the ledger keeps order."""
        steps = self._ledger.steps(records, self._state, self._pack)
        if self._uncommitted or self._held_back:
            self._held_back += steps
            return
        await self._ledger.write(steps)

    async def _commit_point(self) -> None:
        if not self._held_back:
            return
        if self._uncommitted:
            await workflow.sleep(0.001)
            self._uncommitted = False
        steps, self._held_back = self._held_back, []
        await self._ledger.write(steps)

    async def _flush_remaining(self) -> None:
        records = self._take_records()
        if records:
            await self._record(records)
        await self._commit_point()
        await workflow.wait_condition(workflow.all_handlers_finished)
        self._publish()

    async def _finish(self) -> DormantAccountResult:
        await self._flush_remaining()
        review = self._state.review
        return DormantAccountResult(account_id=self._input.account_id, stage=review.stage, outcome=review.outcome,
                                    sent_message_ids=review.sent_message_ids)

    def _publish(self, stage_only: bool = False) -> None:
        """Search attributes and current details for Temporal UI, upserted only when they change."""
        self._publisher.publish(self._input.account_id, self._state, stage_only=stage_only)
