"""The product's one vocabulary: every stage, outcome, action, event type, ledger kind and refusal kind.

These names are the contract (search attributes, the queue, reports, the HTTP API and the CRM webhooks
use them), so each is spelled once, here, as a StrEnum, and every layer compares against the enum rather
than a repeated string.
"""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    """What ops and owners see (the `ReactivationStage` search attribute and the queue's stage)."""

    gathering_evidence = "gathering_evidence"
    not_ready = "not_ready"
    suppressed = "suppressed"
    awaiting_review = "awaiting_review"
    held = "held"
    monitoring = "monitoring"
    approved = "approved"
    sent = "sent"
    follow_up_sent = "follow_up_sent"
    owner_task = "owner_task"
    holdout = "holdout"  # control group: no outreach, watched for a return over the outcome window
    closed = "closed"


class Outcome(StrEnum):
    reactivated = "reactivated"
    responded = "responded"
    no_response = "no_response"
    opted_out = "opted_out"
    suppressed = "suppressed"
    closed_by_owner = "closed_by_owner"
    reactivated_before_outreach = "reactivated_before_outreach"
    not_ready = "not_ready"


class Path(StrEnum):
    account_led = "account_led"
    marketing_led = "marketing_led"
    suppressed = "suppressed"
    hold = "hold"
    monitor = "monitor"
    not_ready = "not_ready"


class Action(StrEnum):
    """What an owner may decide on a review."""

    approve = "approve"
    hold = "hold"
    close = "close"
    monitor = "monitor"
    redraft = "redraft"


class CrmEventType(StrEnum):
    """What the CRM (or the mailbox) reports about an account while its workflow runs."""

    activity = "activity"
    reply = "reply"
    opt_out = "opt_out"
    issue_opened = "issue_opened"
    issue_resolved = "issue_resolved"
    bounce = "bounce"
    owner_changed = "owner_changed"
    auto_reply = "auto_reply"  # an out-of-office answer: not a response; may carry the date the customer is back


# Events after which nothing more may be sent in the episode (checked again by the delivery guard).
STOP_EVENTS = frozenset({CrmEventType.activity, CrmEventType.reply, CrmEventType.opt_out, CrmEventType.bounce,
                         CrmEventType.issue_opened})


class LedgerKind(StrEnum):
    """Measurement ledger event types (`measurement_events.type`)."""

    awaiting_review = "awaiting_review"
    draft_generated = "draft_generated"
    reviewed = "reviewed"
    held = "held"
    approved = "approved"
    sent = "sent"
    follow_up_sent = "follow_up_sent"
    follow_up_cancelled = "follow_up_cancelled"
    responded = "responded"
    reactivated = "reactivated"
    opted_out = "opted_out"
    bounced = "bounced"
    closed = "closed"
    suppressed = "suppressed"
    not_ready = "not_ready"
    unresolved_issue_flagged = "unresolved_issue_flagged"
    reminder_sent = "reminder_sent"
    escalated = "escalated"
    monitoring = "monitoring"
    send_stopped = "send_stopped"
    owner_task = "owner_task"
    reassigned = "reassigned"
    holdout_assigned = "holdout_assigned"
    issue_resolved = "issue_resolved"
    reply_received = "reply_received"  # an inbound message, with its class (InboundClass) and the reason
    owner_notified = "owner_notified"  # a notification (NotificationKind) went to an owner or the admins


class InboundClass(StrEnum):
    """What an inbound message to our mail is, decided deterministically with a stated reason."""

    human_reply = "human_reply"  # the customer answered: the sequence stops and the owner is told
    auto_reply = "auto_reply"  # out of office, auto-submitted: not a response; may postpone the follow-up
    hard_bounce = "hard_bounce"  # a 5.x.x delivery report: the address is suppressed
    soft_bounce = "soft_bounce"  # a 4.x.x delivery report: counted; several suppress
    unsubscribe = "unsubscribe"  # "unsubscribe", "stop", "remove me": the address opts out


class NotificationKind(StrEnum):
    """What owners (and admins) hear about: each goes once per (account, episode, kind)."""

    digest = "digest"  # daily, per owner: the waiting accounts
    reminder = "reminder"  # a review waited past DORMANT_REVIEW_REMINDER_AFTER
    escalation = "escalation"  # ... and past DORMANT_REVIEW_ESCALATE_AFTER: to the admins
    reply = "reply"  # the customer answered: at once


class RefusalKind(StrEnum):
    """Why a decision is refused; the API maps each to one HTTP status."""

    forbidden = "forbidden"  # not the owner (the API answers 404, like an unknown account)
    conflict = "conflict"  # wrong stage, stale draft, a redraft in progress: 409
    invalid = "invalid"  # a field is missing or malformed for this action: 422


class MessageKind(StrEnum):
    first = "first"
    follow_up = "follow_up"


class DeliveryStatus(StrEnum):
    """What the delivery activity did with one message."""

    sent = "sent"  # handed to the provider, or stored in outbox mode
    uncertain = "uncertain"  # a crash inside SMTP DATA: the provider may have it; never resent
    bounced = "bounced"  # the provider refused the address for good: it is suppressed
    blocked = "blocked"  # the last-moment guard stopped it: nothing was sent
    failed = "failed"  # a permanent failure (bad header, no address) or the provider stayed down


class GuardStop(StrEnum):
    """Why the last-moment send guard stopped a message."""

    consent_withdrawn = "consent_withdrawn"
    address_suppressed = "address_suppressed"
    customer_returned = "customer_returned"  # activity or a reply arrived since the approval
    issue_opened = "issue_opened"
    evidence_changed = "evidence_changed"  # the stop rules judge the account differently now
    episode_ended = "episode_ended"
    window_closed = "window_closed"
