"""The steps (evidence, draft, delivery, ledger, waits) of the frozen v1 workflow.

Part of the frozen v1 workflow (workflows/legacy/dormant_account_v1.py), moved here unchanged so no file
is over 300 lines; do not change its behaviour (the saved v1 histories replay against it).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from reactivation.assessment_model import Assessment
    from reactivation.delivery_model import DeliveryRequest, DeliveryResult
    from reactivation.evidence_model import EvidencePack, EvidenceRequest
    from reactivation.ledger_model import ProjectionView, StepRecord
    from reactivation.policy import assess
    from reactivation.review_model import CrmEvent, Decision, DraftRequest, DraftResult, OutreachDraft
    from reactivation.vocabulary import Outcome, Path, Stage
    from workflows.dormant_account_models import DormantAccountResult
from workflows.legacy.v1_common import (
    ACCOUNT_ID,
    ACCOUNT_OWNER,
    DB_RETRY,
    DELIVERY_RETRY,
    DRAFT_RETRY,
    PATH,
    PRIORITY,
    STAGE,
)


class V1Steps:
    """Mixed into DormantAccountWorkflowV1; uses its state (self._input, self._state, ...)."""

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
