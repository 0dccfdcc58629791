"""Evidence: what the CRM store says about one account, as of a moment.

The evidence activity reads it from PostgreSQL (db/evidence_queries.py) into an EvidencePack; the policy,
the templates and the drafting prompt read it, and every claim a brief or draft makes cites one of its
source ids. Workflow payloads (saved histories): names, fields and defaults are part of the contract.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

Channel = Literal["email", "sms", "call"]
Tier = Literal["strategic", "standard", "self_serve"]


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


# ---------------------------------------------------------------- the evidence activity's input


class EvidenceRequest(BaseModel):
    account_id: str
