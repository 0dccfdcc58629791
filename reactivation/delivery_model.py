"""Delivery inputs and outputs, and the deterministic ids that make sending exactly once."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from reactivation.evidence_model import Channel
from reactivation.ledger_model import StepRecord
from reactivation.policy_config import PolicyConfig
from reactivation.vocabulary import DeliveryStatus, GuardStop


class DeliveryRequest(BaseModel):
    """What the workflow asks the delivery activity to send. No addresses or secrets: the activity reads
    the contact details from the CRM store at send time."""

    account_id: str
    workflow_id: str
    episode: str
    kind: Literal["first", "follow_up"]
    channel: Channel
    subject: str = ""
    body: str
    path: str
    owner_email: str | None = None
    thread_message_id: str | None = None  # the first message's Message-ID, for the follow-up's threading
    attempt: int = 1  # the episode's n-th approval: each approval is its own outbox message
    approved_at: datetime | None = None  # the guard refuses if a stop event was received since
    fingerprint: list[str] | None = None  # what the stop rules said at approval (None: no re-assessment)
    policy: PolicyConfig | None = None  # the rules in force for the episode, to judge the account again
    send_window: str = ""  # the customer's business hours; the guard refuses outside them
    default_timezone: str = "UTC"
    records: list[StepRecord] = Field(default_factory=list)  # the approval's ledger events, written first
    # The ledger event a successful send records (`sent` / `follow_up_sent`, with the review as it will be),
    # written by the activity once the message's status has committed as sent, so the workflow need not.
    on_sent: StepRecord | None = None


class DeliveryResult(BaseModel):
    message_id: str
    newly_sent: bool
    to_address: str
    suppressed_reason: str | None = None  # bounced (kept for the v1 workflow, which reads only this)
    status: DeliveryStatus = DeliveryStatus.sent
    stop: GuardStop | None = None  # why the last-moment guard stopped it (status blocked)
    reason: str = ""
    recorded_at: datetime | None = None  # when `on_sent` was written (None: not written, the workflow writes it)


class OutgoingMessage(BaseModel):
    idempotency_key: str
    message_id: str
    account_id: str
    workflow_id: str
    kind: str
    channel: str
    to_address: str
    from_address: str
    subject: str = ""
    body: str
    headers: dict[str, str] = Field(default_factory=dict)


def idempotency_key(workflow_id: str, episode: str, kind: str, attempt: int = 1) -> str:
    """One key per message of an approval: a retry finds it, a later approval of the episode gets its own."""
    return f"{workflow_id}/{episode}/{kind}" + (f"#{attempt}" if attempt > 1 else "")


def message_domain(mail_from: str) -> str:
    """The domain of our Message-IDs: the sender address's."""
    return mail_from.rsplit("@", 1)[-1] or "dormant-outreach.local"


def message_id_for(key: str, domain: str) -> str:
    """A deterministic RFC 5322 Message-ID: the same step always produces the same id."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"<{digest}@{domain}>"


class AddressRefused(Exception):
    """The provider permanently refused the address (hard bounce, invalid or unsubscribed number): the
    address is suppressed and the sequence ends. Anything else is retried."""


class InvalidMessage(Exception):
    """The message itself cannot be sent: a header value the email library refuses (a line break or a
    control character in the subject or an address), or text that cannot be encoded. No retry can fix
    it, so it is a permanent failure, raised before any connection to the provider is made."""


class DeliveryOutcomeUnknown(Exception):
    """The connection broke while the provider may already have accepted the message: not resent."""


class SendTimeRequest(BaseModel):
    window: str  # "Mon-Fri 09:00-17:00"
    timezone: str | None  # the customer's, from the CRM
    default_timezone: str
    earliest: datetime


class SendPlan(BaseModel):
    send_at: datetime
    timezone: str
