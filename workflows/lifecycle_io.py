"""How the lifecycle's commands reach the outside world: activity calls with their retry policies, the
ledger writer and the search attributes. Workflow code (sandboxed, deterministic); no business rules.

Evidence is read by a local activity: one marker event instead of three events and a workflow task,
and the read is short. Drafting and delivery are ordinary activities (the LLM queue is rate-limited, and
a send must survive a worker crash on its own retry schedule).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from reactivation.assessment_model import Assessment
    from reactivation.delivery_model import DeliveryRequest, DeliveryResult, SendPlan, SendTimeRequest
    from reactivation.evidence_model import EvidencePack, EvidenceRequest
    from reactivation.ledger_model import ProjectionView, StepRecord
    from reactivation.lifecycle_model import Deliver, LifecycleState, PrepareDraft, Record
    from reactivation.review_model import DraftRequest, DraftResult, ReviewState
    from reactivation.send_guard import send_fingerprint
    from reactivation.vocabulary import DeliveryStatus, MessageKind, Stage
    from workflows.dormant_account_models import DormantAccountInput

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
                             maximum_interval=timedelta(minutes=2),
                             non_retryable_error_types=["NoAddress", "AccountNotFound", "InvalidMessage"])


async def gather_evidence(account_id: str) -> EvidencePack:
    return await workflow.execute_local_activity(
        "gather_evidence", EvidenceRequest(account_id=account_id), result_type=EvidencePack,
        start_to_close_timeout=timedelta(seconds=30), retry_policy=DB_RETRY, summary="gather evidence")


async def prepare_draft(input: DormantAccountInput, pack: EvidencePack, assessment: Assessment,
                        command: PrepareDraft) -> DraftResult:
    """The LLM's draft on its own queue; after its last attempt, the template, labelled as such."""
    request = DraftRequest(pack=pack, assessment=assessment, version=command.version, guidance=command.guidance)
    queue = input.llm_task_queue or workflow.info().task_queue
    try:
        result = await workflow.execute_activity(
            "prepare_draft", request, result_type=DraftResult, task_queue=queue,
            start_to_close_timeout=timedelta(minutes=2), retry_policy=DRAFT_RETRY,
            summary=f"draft v{command.version}")
    except ActivityError as err:
        if input.llm_task_queue is None:
            raise
        workflow.logger.warning("LLM drafting failed, template used: %s", err.cause or err)
        result = await workflow.execute_activity(
            "prepare_template_draft", request, result_type=DraftResult,
            start_to_close_timeout=timedelta(seconds=30), retry_policy=DB_RETRY,
            summary=f"template draft v{command.version} (LLM failed)")
        result.brief.drafted_by = "template draft (LLM failed)"
    result.draft.version = command.version
    return result


async def plan_send(input: DormantAccountInput, pack: EvidencePack | None, message: MessageKind) -> tuple[datetime, str]:
    """The earliest moment the customer's business hours allow (now, when no window is configured)."""
    if not input.send_window:
        return workflow.now(), ""
    plan = await workflow.execute_local_activity(
        "plan_send_time",
        SendTimeRequest(window=input.send_window, timezone=pack.account.timezone if pack else None,
                        default_timezone=input.default_timezone, earliest=workflow.now()),
        result_type=SendPlan, start_to_close_timeout=timedelta(seconds=10), retry_policy=DB_RETRY,
        summary=f"send window for the {message.value}")
    return plan.send_at, plan.timezone


async def deliver(input: DormantAccountInput, state: LifecycleState, command: Deliver,
                  records: list[StepRecord], on_sent: StepRecord | None) -> dict[str, Any]:
    """Run the delivery activity (which first writes `records`, the approval's ledger events, and on success
    `on_sent`); a permanent failure, or a provider down past the give-up time, comes back as `failed` with the
    reason, never as a workflow failure."""
    review = state.review
    request = DeliveryRequest(
        account_id=input.account_id, workflow_id=workflow.info().workflow_id, episode=review.episode,
        kind=command.message.value, channel=command.channel, subject=command.subject, body=command.body,
        path=review.path.value if review.path else "", owner_email=review.owner_email,
        thread_message_id=command.thread_message_id, attempt=command.attempt, approved_at=command.approved_at,
        fingerprint=send_fingerprint(review.assessment) if review.assessment else None, policy=input.policy,
        send_window=input.send_window, default_timezone=input.default_timezone, records=records, on_sent=on_sent)
    try:
        result = await workflow.execute_activity(
            "deliver", request, result_type=DeliveryResult, start_to_close_timeout=input.timings.delivery_timeout,
            schedule_to_close_timeout=input.timings.delivery_give_up_after, retry_policy=DELIVERY_RETRY,
            summary=f"deliver {command.message.value} by {command.channel}")
    except ActivityError as err:
        cause = err.cause
        why = cause.message if isinstance(cause, ApplicationError) else str(cause or err)
        return {"status": DeliveryStatus.failed, "reason": f"The message could not be sent: {why}"[:500],
                "recorded_at": None}
    return {"status": result.status, "message_id": result.message_id, "stop": result.stop,
            "reason": result.reason or result.suppressed_reason or "", "recorded_at": result.recorded_at}


def _fields(review: ReviewState) -> dict[str, Any]:
    """The review's top-level fields, by reference: what a patch is computed against. A shallow copy is
    enough because a transition never changes a value in place (it replaces it; the lifecycle's purity
    property test checks that), and it costs a dict copy where a JSON dump of the review cost ~90 µs."""
    return dict(review.__dict__)


@dataclass
class _SentEvent:
    """The ledger event handed to the delivery activity for it to write when the message goes out."""

    step: StepRecord
    review_before: dict[str, Any] | None  # the review as written before it
    written: bool = False  # the activity said it wrote it


class Ledger:
    """Turns Record commands into measurement events with deterministic ids (episode + sequence)."""

    def __init__(self, input: DormantAccountInput, episode: str) -> None:
        self.input, self.episode, self.seq = input, episode, input.seq
        self._written_review: dict[str, Any] | None = None  # the review as last written, per field (_fields)
        self._sent: _SentEvent | None = None
        self._not_before: datetime | None = None  # an event the activity wrote, on its own clock

    def steps(self, records: list[Record], state: LifecycleState, pack: EvidencePack | None) -> list[StepRecord]:
        at = self._sent_index(records)
        if at is None:
            return self._steps(records, state, pack)
        sent, self._sent = self._sent, None
        assert sent is not None
        if not sent.written:  # written here, under the id the activity was given (it may have written it)
            return self._steps(records, state, pack, reuse={at: sent.step.event_id})
        rest = records[:at] + records[at + 1:]
        if rest:
            return self._steps(rest, state, pack)
        if _fields(state.review) == self._written_review:
            return []  # the activity wrote exactly this: nothing to add
        # Something the send did not foresee changed the review (a message handled meanwhile): the same event
        # again (no new row), to carry the review.
        return self._steps(records, state, pack, reuse={at: sent.step.event_id})

    def reserve_sent(self, record: Record, state: LifecycleState, pack: EvidencePack | None) -> StepRecord:
        """The event a successful send records, with the review as it will then be (`state`, predicted by
        the pure lifecycle), under the next sequence number, for the delivery activity to write in the
        transaction that marks the message sent: one local activity and one history event fewer per send."""
        before = self._written_review
        step = self._step(record, state, pack, last=True)
        self._sent = _SentEvent(step=step, review_before=before)
        return step

    def delivered(self, recorded_at: datetime | None) -> None:
        """The delivery activity's answer for the reserved event: written at `recorded_at`, or not (then the
        workflow writes it if the lifecycle records it; the review is patched from what was written before,
        which is right whether or not the activity got as far as writing it)."""
        if self._sent is None:
            return
        if recorded_at is None:
            self._written_review = self._sent.review_before
            return
        self._sent.written = True
        self._not_before = max(self._not_before or recorded_at, recorded_at)

    def _sent_index(self, records: list[Record]) -> int | None:
        sent = self._sent
        if sent is None:
            return None
        return next((i for i, r in enumerate(records) if r.kind.value == sent.step.type
                     and r.detail.get("message_id") == sent.step.detail.get("message_id")), None)

    def _steps(self, records: list[Record], state: LifecycleState, pack: EvidencePack | None,
               reuse: dict[int, str] | None = None) -> list[StepRecord]:
        reuse = reuse or {}
        return [self._step(record, state, pack, last=i == len(records) - 1, event_id=reuse.get(i))
                for i, record in enumerate(records)]

    def resend_whole_review(self) -> None:
        """The next write carries the whole review again: records handed to an activity that then failed for
        good may never have been written, and a patch on top of them would leave the stored review behind."""
        self._written_review = None

    async def write(self, steps: list[StepRecord]) -> None:
        if not steps:
            return
        await workflow.execute_local_activity(
            "record_steps", steps, start_to_close_timeout=timedelta(seconds=10), retry_policy=DB_RETRY,
            summary="record " + ", ".join(s.type for s in steps))

    def _step(self, record: Record, state: LifecycleState, pack: EvidencePack | None, last: bool,
              event_id: str | None = None) -> StepRecord:
        info = workflow.info()
        if event_id is None:
            self.seq += 1
            event_id = f"{info.workflow_id}:{self.episode}:{self.seq}:{record.kind.value}"
        at = max(record.at, self._not_before) if self._not_before else record.at
        review = state.review
        account = pack.account if pack else None
        snapshot, patch = None, None
        if last:  # the review is the largest payload: whole once, then only the fields that changed
            written, now = self._written_review, _fields(review)
            if written is None:
                snapshot = review
            else:
                changed = {field for field, value in now.items() if field not in written or written[field] != value}
                patch = review.model_dump(mode="json", include=changed) if changed else None
            self._written_review = now
        view = ProjectionView(
            priority=review.priority, tier=account.tier if account else None,
            last_activity_at=account.last_activity_at if account else None,
            account_value=account.account_value if account else None,
            risk_level=account.risk_level if account else None,
            recommended_next_step=review.assessment.recommended_next_step if review.assessment else "",
            draft_version=review.current_draft.version if review.current_draft else 0,
            outcome=review.outcome.value if review.outcome else None,
            finished_at=at if review.outcome else None, reopen_after=review.reopen_after,
            stage=review.stage.value, owner_email=review.owner_email, state=snapshot, state_patch=patch)
        return StepRecord(
            event_id=event_id, type=record.kind.value, at=at, account_id=self.input.account_id,
            workflow_id=info.workflow_id, episode=self.episode,
            stage=record.stage.value, path=review.path.value if review.path else None,
            owner_email=record.owner_email, segment=account.segment if account else None, detail=record.detail,
            view=view)


class Publisher:
    """Search attributes and current details for Temporal UI, upserted only when they change (each
    upsert is a history event), and then only the attributes that changed: an approval or a send moves the
    stage alone, and every attribute in an upsert costs the worker its encoding and the server its
    visibility write (issue 18). Replay does not compare an upsert's contents, only that there is one."""

    _KEYS: tuple[SearchAttributeKey[Any], ...] = (STAGE, ACCOUNT_OWNER, PATH, PRIORITY)

    def __init__(self, fresh_start: bool) -> None:
        # A fresh start already carries the starter's attributes (account id, stage gathering_evidence).
        self._last: tuple | None = (Stage.gathering_evidence.value, None, None, None) if fresh_start else None

    def publish(self, account_id: str, state: LifecycleState, *, stage_only: bool = False) -> None:
        """`stage_only`: before a step that does not wait long, upsert only if the stage itself changed."""
        review = state.review
        values = (review.stage.value, review.owner_email or None, review.path.value if review.path else None,
                  review.priority)
        workflow.set_current_details(f"**{review.stage.value}** ({state.phase.value}): "
                                     f"{review.notice or 'owner ' + (review.owner_email or 'unassigned')}")
        last = self._last
        if values == last or (stage_only and last and values[0] == last[0]):
            return
        self._last = values
        pairs: list[SearchAttributeUpdate[Any]] = []
        if last is None:  # nothing known to be set yet (a run continued as new): all of them
            pairs.append(ACCOUNT_ID.value_set(account_id))
        for i, key in enumerate(self._KEYS):
            if last is not None and values[i] == last[i]:
                continue
            if values[i] is not None:
                pairs.append(key.value_set(values[i]))
            elif last is not None:
                pairs.append(key.value_unset())
        workflow.upsert_search_attributes(pairs)
