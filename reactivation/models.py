"""Pydantic models shared by workflows, activities and the API: one model in, one out, everywhere.

Stages, outcomes and paths are the contract's names; changing one changes search attributes, the queue
and reports, so they are spelled once, here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from reactivation.vocabulary import Action, CrmEventType, Outcome, Path, Stage

__all__ = ["Action", "CrmEventType", "Outcome", "Path", "Stage"]  # re-exported: the vocabulary lives in vocabulary.py


Channel = Literal["email", "sms", "call"]
Tier = Literal["strategic", "standard", "self_serve"]


# ---------------------------------------------------------------- evidence


class AccountFacts(BaseModel):
    account_id: str
    name: str
    segment: str = ""
    tier: Tier
    owner_email: str | None = None
    account_value: float | None = None
    currency: str = "USD"
    last_activity_at: datetime | None = None
    preferred_channel: Channel = "email"
    contact_name: str = ""
    contact_email: str | None = None
    contact_phone: str | None = None
    timezone: str | None = None
    consent_status: Literal["granted", "opted_out", "unknown"] = "unknown"
    inactivity_reason: str = ""
    risk_level: Literal["low", "medium", "high"] = "low"
    relationship: Literal["strong", "neutral", "strained", "unknown"] = "unknown"
    fit: Literal["high", "medium", "low", "unknown"] = "unknown"


class TicketFact(BaseModel):
    source: str  # e.g. "tickets:T-1001", cited by the brief
    opened_at: datetime
    closed_at: datetime | None = None
    status: str
    severity: str = ""
    category: str = ""
    subject: str = ""
    excerpt: str = ""  # customer-written: untrusted, truncated

    @property
    def is_open(self) -> bool:
        return self.closed_at is None and self.status.lower() not in ("closed", "resolved", "solved")


class OrderFact(BaseModel):
    source: str
    at: datetime
    amount: float
    description: str = ""


class NoteFact(BaseModel):
    source: str
    at: datetime
    author_email: str = ""
    excerpt: str = ""  # untrusted, truncated


class OfferFact(BaseModel):
    source: str
    offer_id: str
    name: str
    description: str = ""
    kind: str = ""
    promotional: bool = False
    valid_until: date | None = None


class HistorySummary(BaseModel):
    """Counts over the whole history plus the most relevant items, so a pack stays small for any account."""

    total: int = 0
    open_count: int = 0
    total_amount: float = 0.0
    first_at: datetime | None = None
    last_at: datetime | None = None


class EvidencePack(BaseModel):
    account: AccountFacts
    account_source: str
    as_of: datetime
    support_history_connected: bool = True
    order_history_connected: bool = True
    tickets: list[TicketFact] = Field(default_factory=list)
    ticket_summary: HistorySummary = Field(default_factory=HistorySummary)
    orders: list[OrderFact] = Field(default_factory=list)
    order_summary: HistorySummary = Field(default_factory=HistorySummary)
    recent_activity: list[str] = Field(default_factory=list)
    notes: list[NoteFact] = Field(default_factory=list)
    offers: list[OfferFact] = Field(default_factory=list)
    opted_out_event: bool = False  # an opt-out recorded after the last import
    contact_suppressed: str = ""  # why the preferred channel's address is suppressed (a bounce), if it is


# ---------------------------------------------------------------- policy results


class RuleVerdict(BaseModel):
    rule: str
    verdict: Literal["pass", "suppress", "not_ready", "hold", "monitor", "account_led", "no_promotion"]
    reason: str
    sources: list[str] = Field(default_factory=list)


class PriorityFactor(BaseModel):
    factor: str
    points: float
    why: str


class Priority(BaseModel):
    score: float
    factors: list[PriorityFactor]


class Assessment(BaseModel):
    path: Path
    verdicts: list[RuleVerdict]
    missing: list[str] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list)
    priority: Priority
    recommended_next_step: str
    review_again_on: date | None = None
    promotional_allowed: bool = True
    policy_version: str = ""

    def fingerprint(self) -> tuple:
        """What must not change between approval and send for the approval to still hold."""
        return (self.path, tuple(sorted(self.flags)), tuple(v.verdict for v in self.verdicts if v.verdict != "pass"))


# ---------------------------------------------------------------- drafting


class Claim(BaseModel):
    """One sentence of a brief or draft and the evidence it rests on (EvidencePack source ids, e.g.
    "notes:ACC-1/2026-10-01", "orders:O-17"), so the owner can check every claim against its source."""

    sentence: str
    sources: list[str] = Field(default_factory=list)


class ReviewBrief(BaseModel):
    why_quiet: str
    relationship_summary: str
    risk_flags: list[str] = Field(default_factory=list)
    recommended_next_step: str
    why_this_step: str
    citations: list[str] = Field(default_factory=list)
    drafted_by: str = "template"  # "template" or the model name
    claims: list[Claim] = Field(default_factory=list)  # which sentence of the brief rests on which source


class OutreachDraft(BaseModel):
    version: int = 1
    channel: Channel
    subject: str = ""
    body: str
    follow_up_body: str = ""
    offer_id: str | None = None
    violations: list[str] = Field(default_factory=list)
    claims: list[Claim] = Field(default_factory=list)  # the draft's concrete references and their sources


# ---------------------------------------------------------------- owner decisions and CRM events


class Decision(BaseModel):
    action: Action
    draft_version: int
    decided_by: str  # email of the owner or admin, supplied by the API after authenticating
    decided_by_admin: bool = False
    subject: str | None = None
    body: str | None = None
    follow_up_body: str | None = None
    channel: Channel | None = None
    send_at: datetime | None = None
    reason: str | None = None
    note: str | None = None
    until: date | None = None  # monitor: review again on this date; close: not before this date
    proof: str | None = None  # HMAC by the API (reactivation/decision_proof.py); required when workers hold a key


class DecisionResult(BaseModel):
    accepted: bool
    stage: Stage
    draft_version: int
    message: str


class CrmEvent(BaseModel):
    type: CrmEventType
    at: datetime
    detail: str = ""
    new_owner_email: str | None = None
    return_on: date | None = None  # auto_reply: the day the customer is back, when the reply said so


class DecisionRecord(BaseModel):
    action: str
    by: str
    at: datetime
    draft_version: int
    reason: str | None = None


class ReviewState(BaseModel):
    """What the workflow's query returns and the projection stores: the whole review at a glance."""

    account_id: str
    episode: str
    stage: Stage
    path: Path | None = None
    owner_email: str | None = None
    priority: float | None = None
    assessment: Assessment | None = None
    brief: ReviewBrief | None = None
    drafts: list[OutreachDraft] = Field(default_factory=list)
    decisions: list[DecisionRecord] = Field(default_factory=list)
    events: list[CrmEvent] = Field(default_factory=list)
    outcome: Outcome | None = None
    notice: str = ""  # e.g. why a send was stopped and the account returned to review
    sent_message_ids: list[str] = Field(default_factory=list)
    phase: str = ""  # the lifecycle's finer state (reactivation/lifecycle.py), e.g. "redrafting"
    approved: OutreachDraft | None = None  # exactly what will be sent: the approved version plus edits
    send_at: datetime | None = None  # when the approved message is due (the owner's send_at or the window)
    reopen_after: datetime | None = None  # once finished: when the account may be reviewed again (None: never)

    @property
    def current_draft(self) -> OutreachDraft | None:
        return self.drafts[-1] if self.drafts else None
