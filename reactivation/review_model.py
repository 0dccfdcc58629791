"""Review: what the owner sees and decides on, and what the review records.

The brief and drafts (with the drafting activity's input and output), the owner's decisions, CRM events
and the ReviewState the workflow's query returns and the projection stores. Workflow payloads (saved
histories): names, fields and defaults are part of the contract.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from reactivation.assessment_model import Assessment
from reactivation.evidence_model import Channel, EvidencePack
from reactivation.vocabulary import Action, CrmEventType, Outcome, Path, Stage

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


# ---------------------------------------------------------------- the drafting activity's input and output


class DraftRequest(BaseModel):
    pack: EvidencePack
    assessment: Assessment
    version: int
    guidance: str = ""  # the owner's redraft guidance


class DraftResult(BaseModel):
    brief: ReviewBrief
    draft: OutreachDraft
    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated_cost_usd: float = 0.0


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
