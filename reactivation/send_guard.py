"""The last-moment send guard: may this approved message still go out, right now?

The delivery activity gathers the facts inside the transaction that claims the outbox row (with the
account row locked, so a CRM event recorded at the same moment is either seen here or arrives after the
claim) and asks this pure function. Every stop has a kind the lifecycle acts on and a sentence the owner
reads; nothing is sent when any of them holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reactivation.assessment_model import Assessment
from reactivation.vocabulary import CrmEventType, GuardStop

# Flags the workflow adds from CRM events (not from the evidence): they do not change the verdict on send.
EVENT_FLAGS = frozenset({"issue_opened_event"})


def send_fingerprint(assessment: Assessment) -> list[str]:
    """What must not change between the approval and the send for the approval to still hold."""
    return [assessment.path.value, *sorted(f for f in assessment.flags if f not in EVENT_FLAGS),
            *sorted(f"{v.rule}:{v.verdict}" for v in assessment.verdicts if v.verdict != "pass")]


@dataclass(frozen=True)
class GuardFacts:
    consent_status: str
    address_suppressed: str = ""  # why the address is suppressed, if it is
    stop_events: list[str] = field(default_factory=list)  # CRM stop events received since the approval
    episode_current: bool = True
    window_open: bool = True
    approved_fingerprint: list[str] | None = None
    fingerprint_now: list[str] | None = None


_EVENT_STOP = {
    CrmEventType.opt_out: (GuardStop.consent_withdrawn, "The customer opted out after the approval"),
    CrmEventType.bounce: (GuardStop.address_suppressed, "The address bounced after the approval"),
    CrmEventType.reply: (GuardStop.customer_returned, "The customer replied after the approval"),
    CrmEventType.activity: (GuardStop.customer_returned, "The customer came back after the approval"),
    CrmEventType.issue_opened: (GuardStop.issue_opened, "An issue was opened after the approval"),
}


def send_guard(facts: GuardFacts) -> tuple[GuardStop, str] | None:
    """The first reason not to send, strongest first; None when the message may go out."""
    if facts.consent_status != "granted":
        return GuardStop.consent_withdrawn, f"Consent is {facts.consent_status or 'unknown'} at send time: nothing was sent."
    if facts.address_suppressed:
        return GuardStop.address_suppressed, f"The address is suppressed ({facts.address_suppressed}): nothing was sent."
    for kind in (CrmEventType.opt_out, CrmEventType.bounce, CrmEventType.reply, CrmEventType.activity,
                 CrmEventType.issue_opened):
        if kind.value in facts.stop_events:
            stop, why = _EVENT_STOP[kind]
            return stop, f"{why}: nothing was sent."
    if not facts.episode_current:
        return GuardStop.episode_ended, "This review is no longer the account's current one: nothing was sent."
    if facts.approved_fingerprint is not None and facts.fingerprint_now is not None \
            and facts.fingerprint_now != facts.approved_fingerprint:
        changed = sorted(set(facts.fingerprint_now) ^ set(facts.approved_fingerprint))
        return GuardStop.evidence_changed, (f"Something changed since the approval ({', '.join(changed)}): "
                                            "nothing was sent; review it again.")
    if not facts.window_open:
        return GuardStop.window_closed, "Outside the customer's business hours: the message waits for them."
    return None
