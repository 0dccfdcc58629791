"""The specificity guardrail: every draft (template or LLM) rests on this account's evidence and cites it,
avoids stock win-back phrasing, does not paste CRM fields, and is greeted and signed in the path's voice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reactivation.evidence_model import AccountFacts, EvidencePack, NoteFact, OrderFact, TicketFact
from reactivation.guardrails import check_draft
from reactivation.policy import assess
from reactivation.review_model import Claim, OutreachDraft
from reactivation.specificity import (
    owner_name,
    pasted_runs,
    referenced_facts,
    stock_phrases,
)
from reactivation.vocabulary import Path

NOW = datetime(2026, 11, 1, tzinfo=UTC)
NOTE = "Expanding to two more practices this year; asked about bulk pricing for new locations."
REASON = "Project wrapped up; no new work booked"


def pack(**account) -> EvidencePack:
    facts = {"account_id": "A", "name": "Harbor Dental Group", "tier": "standard",
             "owner_email": "alex.morgan@x.dormant", "account_value": 9000, "consent_status": "granted",
             "contact_name": "Dana Whitaker", "last_activity_at": NOW - timedelta(days=120),
             "inactivity_reason": REASON}
    facts.update(account)
    return EvidencePack(
        account=AccountFacts(**facts), account_source="accounts:A", as_of=NOW,
        orders=[OrderFact(source="orders:O-1", at=NOW - timedelta(days=200), amount=900,
                          description="Reminder SMS bundle")],
        notes=[NoteFact(source="notes:A@1", at=NOW - timedelta(days=60), author_email="alex.morgan@x.dormant",
                        excerpt=NOTE)],
        tickets=[TicketFact(source="tickets:T-1", opened_at=NOW - timedelta(days=300),
                            closed_at=NOW - timedelta(days=298), status="closed", subject="Reminder texts sent twice",
                            excerpt="A few clients got the same reminder text twice yesterday morning.")])


SPECIFIC = "In September you asked me about bulk pricing for your new locations."


def draft(body: str = f"Hi Dana,\n\n{SPECIFIC} Could we talk it through?\n\nBest,\nAlex Morgan",
          sources: tuple[str, ...] = ("notes:A@1",), **kw) -> OutreachDraft:
    return OutreachDraft(**{"channel": "email", "subject": "Bulk pricing", "body": body,
                            "claims": [Claim(sentence=SPECIFIC, sources=list(sources))], **kw})


def found(d: OutreachDraft, p: EvidencePack | None = None, path: Path | None = None) -> list[str]:
    p = p or pack()
    assessment = assess(p, NOW)
    if path is not None:
        assessment = assessment.model_copy(update={"path": path})
    return check_draft(d, p, assessment)


def test_a_specific_owner_signed_draft_passes():
    assert found(draft(), path=Path.account_led) == []


def test_a_generic_draft_breaks_the_reference_rule():
    body = "Hi Dana,\n\nWe'd love to help your business grow with our services.\n\nBest,\nAlex Morgan"
    assert any("references nothing concrete" in v for v in found(draft(body=body), path=Path.account_led))


@pytest.mark.parametrize("sources, expected", [
    ((), "cites no evidence"),
    (("notes:NOPE",), "cites no evidence"),
    (("notes:A@1", "orders:O-404"), "'orders:O-404', which is not in this account's evidence"),
])
def test_claims_must_cite_sources_the_pack_holds(sources, expected):
    assert any(expected in v for v in found(draft(sources=sources), path=Path.account_led))


@pytest.mark.parametrize("phrase", [
    "We miss you!", "It's been a while.", "It\u2019s been a while", "it has been a while", "Its been a while",
    "We noticed you haven't ordered", "We noticed you havent ordered", "Just checking in.", "just checking-in",
    "Touching base about", "We haven\u2019t heard from you", "Long time, no see!", "Come back and save",
    "Since your last visit",
])
def test_stock_phrases_are_caught_whatever_the_punctuation(phrase):
    assert stock_phrases(f"Hi Dana, {phrase} more text")
    body = f"Hi Dana,\n\n{phrase} {SPECIFIC}\n\nBest,\nAlex Morgan"
    assert any("stock win-back phrasing" in v for v in found(draft(body=body), path=Path.account_led))


@pytest.mark.parametrize("text", ["Your reminder SMS bundle", "We checked in the new build", "a welcome pack",
                                  "the way back office runs"])
def test_ordinary_words_are_not_stock_phrases(text):
    assert stock_phrases(text) == []


def test_the_inactivity_reason_pasted_is_a_violation_but_a_rephrase_is_not():
    pasted = f"Hi Dana,\n\nYou mentioned project wrapped up; no new work booked. {SPECIFIC}\n\nBest,\nAlex Morgan"
    assert any("inactivity reason word for word" in v for v in found(draft(body=pasted), path=Path.account_led))
    rephrased = f"Hi Dana,\n\nI know your last project has wrapped up. {SPECIFIC}\n\nBest,\nAlex Morgan"
    assert found(draft(body=rephrased), path=Path.account_led) == []


def test_six_words_of_a_note_or_ticket_pasted_are_a_violation():
    body = f"Hi Dana,\n\nYou asked about bulk pricing for new locations. {SPECIFIC}\n\nBest,\nAlex Morgan"
    assert any("copies a note (notes:A@1)" in v for v in found(draft(body=body), path=Path.account_led))
    body = (f"Hi Dana,\n\n{SPECIFIC} Some clients got the same reminder text twice yesterday.\n\n"
            "Best,\nAlex Morgan")
    assert any("copies a ticket (tickets:T-1)" in v for v in found(draft(body=body), path=Path.account_led))
    assert pasted_runs("asked about bulk pricing", NOTE) == ""  # five words or fewer is a quote, not a paste


def test_a_short_product_name_may_be_quoted():
    body = "Hi Dana,\n\nYour last order was the Reminder SMS bundle.\n\nBest,\nAlex Morgan"
    d = draft(body=body, sources=("orders:O-1",))
    assert found(d, path=Path.account_led) == []
    assert [f.source for f in referenced_facts(body, pack())] == ["orders:O-1"]


def test_account_led_mail_is_greeted_by_first_name_and_signed_by_the_owner():
    team = f"Hello,\n\n{SPECIFIC}\n\nBest regards,\nThe team"
    violations = " ".join(found(draft(body=team), path=Path.account_led))
    assert "should greet Dana by first name" in violations
    assert "must be signed by the owner (Alex Morgan)" in violations
    assert found(draft(body=team), path=Path.marketing_led) == []  # the team may sign marketing-led mail
    stranger = f"Hi Dana,\n\n{SPECIFIC}\n\nCheers,\nBob"
    assert any("signed by the owner (Alex Morgan) or the team" in v
               for v in found(draft(body=stranger), path=Path.marketing_led))


def test_sms_has_no_sign_off_rule_but_keeps_its_length_rule():
    sms = draft(channel="sms", subject="", body=f"Hi Dana, {SPECIFIC} Could we talk this week?")
    assert found(sms, path=Path.account_led) == []
    long = draft(channel="sms", subject="", body=f"Hi Dana, {SPECIFIC} " + "More detail. " * 30)
    assert any("the limit is 320" in v for v in found(long, path=Path.account_led))


def test_names_in_other_scripts_greet_and_sign_cleanly():
    p = pack(contact_name="Zoë Müller-Łukasiewicz", owner_email="łukasz.nowak@x.dormant")
    body = f"Hi Zoë,\n\n{SPECIFIC}\n\nBest,\nŁukasz Nowak"
    assert found(draft(body=body), p, path=Path.account_led) == []
    assert owner_name("łukasz.nowak@x.dormant") == "Łukasz Nowak"


def test_an_account_with_no_evidence_needs_only_a_citation_of_its_record():
    p = pack(inactivity_reason="")
    p.orders, p.notes, p.tickets = [], [], []
    body = "Hi Dana,\n\nCould we talk about your plans?\n\nBest,\nAlex Morgan"
    assert found(draft(body=body, sources=("accounts:A",)), p, path=Path.account_led) == []


def test_a_megabyte_draft_is_checked_in_linear_time():
    body = "Hi Dana,\n\n" + "pricing " * 150_000
    assert any("limit is 2000" in v for v in found(draft(body=body), path=Path.account_led))
