"""The deterministic guardrails on every draft."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from reactivation.guardrails import check_draft
from reactivation.models import (
    AccountFacts, EvidencePack, HistorySummary, OfferFact, OutreachDraft, TicketFact,
)
from reactivation.policy import assess

NOW = datetime(2026, 11, 1, tzinfo=timezone.utc)


def pack(tier="self_serve", open_issue=False) -> EvidencePack:
    p = EvidencePack(account=AccountFacts(account_id="A", name="Acme", tier=tier, owner_email="o@x.dormant",
                                          account_value=900, consent_status="granted",
                                          last_activity_at=NOW - timedelta(days=100)),
                     account_source="accounts:A", as_of=NOW,
                     offers=[OfferFact(source="offers:P", offer_id="P", name="20% off", promotional=True),
                             OfferFact(source="offers:R", offer_id="R", name="account review")])
    if open_issue:
        p.tickets = [TicketFact(source="tickets:T", opened_at=NOW, status="open", subject="Broken export")]
        p.ticket_summary = HistorySummary(total=1, open_count=1)
    return p


def draft(**kw) -> OutreachDraft:
    return OutreachDraft(**{"channel": "email", "subject": "Hello", "body": "Hi Dana, it has been a while.", **kw})


def violations(d: OutreachDraft, p: EvidencePack) -> str:
    return " ".join(check_draft(d, p, assess(p, NOW)))


def test_clean_draft_passes():
    assert violations(draft(offer_id="P", body="Hi Dana, 20% off your next booking."), pack()) == ""


@pytest.mark.parametrize("d, expected", [
    (draft(offer_id="NOPE"), "not one of this account's available offers"),
    (draft(body="See https://evil.example/x"), "link"),
    (draft(body="Write to me at boss@example.com"), "email address"),
    (draft(body="Call +1 (555) 010-9999 now"), "phone number"),
    (draft(body="Hi [FIRST NAME], welcome back"), "placeholder"),
    (draft(body="Enjoy 50% off!"), "discount"),
    (draft(subject=""), "needs a subject"),
    (draft(channel="sms", subject="", body="x" * 321), "320"),
])
def test_each_violation_is_named(d, expected):
    assert expected in violations(d, pack())


def test_promotional_offer_refused_with_an_unresolved_issue():
    assert "unresolved issue" in violations(draft(offer_id="P"), pack(open_issue=True))


def test_generic_offer_refused_for_a_strategic_account():
    assert "high-context" in violations(draft(offer_id="P"), pack(tier="strategic"))
