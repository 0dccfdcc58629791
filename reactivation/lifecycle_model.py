"""The lifecycle's data: its state, the inputs it reacts to and the commands it asks the workflow to run.

Everything here is plain, serialisable data so the machine (reactivation/lifecycle.py) stays a pure
function, the workflow can carry the state across continue-as-new, and the property tests can generate
any interleaving of inputs. Every input carries the time it happened (workflow time), never a clock read.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from reactivation.assessment_model import Assessment
from reactivation.policy_config import PolicyRules
from reactivation.review_model import CrmEvent, Decision, OutreachDraft, ReviewBrief, ReviewState
from reactivation.vocabulary import DeliveryStatus, GuardStop, LedgerKind, MessageKind, Outcome, Stage


class Phase(StrEnum):
    """Finer than the visible Stage: the machine needs to know, e.g., that a redraft is running."""

    gathering = "gathering"
    drafting = "drafting"
    awaiting_review = "awaiting_review"
    redrafting = "redrafting"
    held = "held"
    scheduled = "scheduled"  # approved; waiting for the owner's send_at or the customer's business hours
    delivering = "delivering"  # the first message is with the delivery activity
    awaiting_follow_up = "awaiting_follow_up"
    delivering_follow_up = "delivering_follow_up"
    outcome_window = "outcome_window"
    owner_task = "owner_task"
    monitoring = "monitoring"
    holdout = "holdout"
    done = "done"


class WaitKind(StrEnum):
    """What a timer is for. The machine holds at most one pending wake-up; a newer one replaces it."""

    reminder = "reminder"
    escalation = "escalation"
    send_at = "send_at"
    send_window = "send_window"
    follow_up = "follow_up"
    outcome_window = "outcome_window"
    monitor = "monitor"
    holdout_window = "holdout_window"


class Wake(BaseModel):
    kind: WaitKind
    at: datetime


class LifecycleConfig(BaseModel):
    """The episode's fixed settings (from the workflow input): durations, admin switches, rules."""

    account_id: str
    follow_up_after: timedelta = timedelta(days=2)
    outcome_window: timedelta = timedelta(days=30)
    review_reminder_after: timedelta = timedelta(days=3)
    review_escalate_after: timedelta = timedelta(days=7)
    standing_approval: bool = False
    holdout_share: float = 0.0
    holdout_salt: str = ""
    rules: PolicyRules = PolicyRules()
    policy_version: str = ""


class LifecycleState(BaseModel):
    phase: Phase = Phase.gathering
    review: ReviewState  # what owners see: stage, drafts, decisions, events, notice, outcome
    wake: Wake | None = None
    tier: str = ""
    consent_status: str = ""
    review_since: datetime | None = None  # when the current wait for the owner began (reminders count from it)
    reminders_sent: int = 0
    approved_at: datetime | None = None
    send_attempt: int = 0  # approvals of this episode: each one is its own outbox message
    first_message_id: str | None = None
    first_sent_at: datetime | None = None
    outcome_deadline: datetime | None = None
    follow_up_sent: bool = False
    pending_stop: CrmEvent | None = None  # arrived while a message was with the delivery activity


# ---------------------------------------------------------------- inputs


class Begin(BaseModel):
    input: Literal["begin"] = "begin"
    at: datetime


class EvidenceReady(BaseModel):
    input: Literal["evidence_ready"] = "evidence_ready"
    at: datetime
    assessment: Assessment
    owner_email: str | None
    tier: str
    consent_status: str


class DraftReady(BaseModel):
    input: Literal["draft_ready"] = "draft_ready"
    at: datetime
    draft: OutreachDraft
    brief: ReviewBrief
    usage: dict[str, Any] = Field(default_factory=dict)  # tokens and cost, recorded with draft_generated


class Decided(BaseModel):
    input: Literal["decided"] = "decided"
    at: datetime
    decision: Decision


class CrmEventIn(BaseModel):
    input: Literal["crm_event"] = "crm_event"
    at: datetime
    event: CrmEvent


class TimerFired(BaseModel):
    input: Literal["timer_fired"] = "timer_fired"
    at: datetime
    kind: WaitKind


class SendSlot(BaseModel):
    """The earliest time the customer's business hours allow the message (`at` <= now: send now)."""

    input: Literal["send_slot"] = "send_slot"
    at: datetime
    message: MessageKind
    slot: datetime
    timezone: str = ""


class DeliveryOutcome(BaseModel):
    input: Literal["delivery_outcome"] = "delivery_outcome"
    at: datetime
    message: MessageKind
    status: DeliveryStatus
    message_id: str | None = None
    stop: GuardStop | None = None
    reason: str = ""


Input = Annotated[Begin | EvidenceReady | DraftReady | Decided | CrmEventIn | TimerFired | SendSlot | DeliveryOutcome, Field(discriminator="input")]


# ---------------------------------------------------------------- commands


class GatherEvidence(BaseModel):
    command: Literal["gather_evidence"] = "gather_evidence"


class PrepareDraft(BaseModel):
    command: Literal["prepare_draft"] = "prepare_draft"
    version: int
    guidance: str = ""


class PlanSend(BaseModel):
    command: Literal["plan_send"] = "plan_send"
    message: MessageKind


class Deliver(BaseModel):
    """Send exactly this content (the approved version plus the owner's edits) as this message."""

    command: Literal["deliver"] = "deliver"
    message: MessageKind
    channel: str
    subject: str = ""
    body: str
    attempt: int  # the episode's n-th approval: each approval is its own outbox message
    approved_at: datetime  # the delivery guard refuses if a stop event was received since
    thread_message_id: str | None = None


class Record(BaseModel):
    """One measurement event; stage and owner are those at the moment it happened."""

    command: Literal["record"] = "record"
    kind: LedgerKind
    at: datetime
    stage: Stage
    owner_email: str | None
    detail: dict[str, Any] = Field(default_factory=dict)


class Finish(BaseModel):
    command: Literal["finish"] = "finish"
    outcome: Outcome


class ReviewAgain(BaseModel):
    """The monitor date came: start a fresh review of the same account (continue-as-new)."""

    command: Literal["review_again"] = "review_again"


Command = Annotated[GatherEvidence | PrepareDraft | PlanSend | Deliver | Record | Finish | ReviewAgain,
                    Field(discriminator="command")]


class Refusal(BaseModel):
    kind: str  # a RefusalKind value
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"
