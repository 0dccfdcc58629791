"""The deterministic guardrails on every draft."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from temporalio.testing import ActivityEnvironment

from activities.drafting import DraftingActivities
from config.settings import load_settings
from reactivation.evidence_model import AccountFacts, EvidencePack, HistorySummary, OfferFact, OrderFact, TicketFact
from reactivation.guardrails import check_draft
from reactivation.policy import assess
from reactivation.review_model import Claim, DraftRequest, OutreachDraft
from reactivation.templates import draft_outreach
from tests.support.fake_openai import FakeOpenAI, completion, draft_json

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def pack(tier="self_serve", open_issue=False) -> EvidencePack:
    p = EvidencePack(account=AccountFacts(account_id="A", name="Acme", tier=tier, owner_email="o@x.dormant",
                                          account_value=900, consent_status="granted",
                                          last_activity_at=NOW - timedelta(days=100)),
                     account_source="accounts:A", as_of=NOW,
                     orders=[OrderFact(source="orders:O-1", at=NOW - timedelta(days=120), amount=480,
                                       description="Patient-booking seats (quarterly)")],
                     offers=[OfferFact(source="offers:P", offer_id="P", name="20% off", promotional=True),
                             OfferFact(source="offers:R", offer_id="R", name="account review")])
    if open_issue:
        p.tickets = [TicketFact(source="tickets:T", opened_at=NOW, status="open", subject="Broken export")]
        p.ticket_summary = HistorySummary(total=1, open_count=1)
    return p


SPECIFIC = "Your last order with us was for the patient-booking seats."


def draft(**kw) -> OutreachDraft:
    """A draft that passes every rule (it names and cites the pack's order) unless `kw` breaks one."""
    return OutreachDraft(**{"channel": "email", "subject": "Hello",
                            "body": f"Hi Dana,\n\n{SPECIFIC} Could we talk this week?\n\nThe team",
                            "claims": [Claim(sentence=SPECIFIC, sources=["orders:O-1"])], **kw})


def violations(d: OutreachDraft, p: EvidencePack) -> str:
    return " ".join(check_draft(d, p, assess(p, NOW)))


def test_clean_draft_passes():
    assert violations(draft(offer_id="P", body=f"Hi Dana,\n\n{SPECIFIC} Enjoy 20% off your next booking.\n\n"
                                               "The team"), pack()) == ""


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


# --- Header-unsafe text: caught before review, and CRM fields made one line by the template drafter ---

UNSENDABLE_SUBJECT = "subject contains a line break or control character"


@pytest.mark.parametrize("subject", ["Hello\r\nBcc: all@example.org", "Hello\nthere", "Hello\rthere", "Hi\x00",
                                     "Line\u2028separator", "Para\u2029separator", "Next\x85line", "Bell\x07"])
def test_a_subject_with_a_line_break_or_control_character_is_a_violation(subject):
    assert UNSENDABLE_SUBJECT in violations(draft(subject=subject), pack())


@pytest.mark.parametrize("field, label", [("body", "body"), ("follow_up_body", "follow-up")])
@pytest.mark.parametrize("bad", ["\x00", "\r", "\x1b[31m", "\x7f"])
def test_a_control_character_in_a_body_is_a_violation(field, label, bad):
    found = violations(draft(**{field: f"Hi Dana,{bad} it has been a while."}), pack())
    assert f"The {label} contains a control character" in found


@pytest.mark.parametrize("subject, body", [
    ("山田商事様: お久しぶりです", "山田様\n\nご無沙汰しております。\tまたお話しできれば幸いです。"),
    ("شركة الأمل: لنتحدث قريبا", "مرحبا يا سارة،\n\nمر وقت طويل منذ آخر تواصل بيننا."),
    ("Ærøskøbing Café — hello again", "Hej Søren,\n\nhow are the new chairs working out? 👋"),
])
def test_text_in_any_script_passes_cleanly(subject, body):
    body = f"{body}\n\n{SPECIFIC}\n\nThe team"
    assert violations(draft(subject=subject, body=body, follow_up_body=body), pack()) == ""


def test_the_template_drafter_makes_crm_names_one_line():
    p = pack(open_issue=True)
    p.account.name = "Acme\r\nHoldings\u2028Ltd\x00"
    p.account.contact_name = "\u2029Dana\nLee"
    p.tickets[0].subject = "Broken\r\nexport\x85again"
    made = draft_outreach(p, assess(p, NOW))
    assert made.subject == "Following up on Broken export again"
    assert made.body.startswith('Hi Dana,\n\nI\'m following up personally on your ticket "Broken export again", ')
    assert check_draft(made, p, assess(p, NOW)) == []
    p.tickets = []
    p.ticket_summary = HistorySummary()
    made = draft_outreach(p, assess(p, NOW))
    assert made.subject.startswith("Acme Holdings Ltd: ") and check_draft(made, p, assess(p, NOW)) == []


@pytest.mark.parametrize("name", ["山田商事株式会社", "شركة الأمل للتجارة", "Zoë's Ærø Bakery"])
def test_template_drafts_for_names_in_other_scripts_are_clean(name):
    p = pack()
    p.account.name, p.account.contact_name = name, name
    made = draft_outreach(p, assess(p, NOW))
    assert made.subject.startswith(f"{name}: ") and check_draft(made, p, assess(p, NOW)) == []


def test_a_megabyte_body_with_nul_bytes_is_flagged_not_crashed():
    found = violations(draft(body="x\x00" * 500_000), pack())
    assert "The body is 1000000 characters; the limit is 2000." in found
    assert "The body contains a control character" in found


def test_a_megabyte_unbroken_body_is_flagged_by_the_length_rule_in_seconds():
    """One unbroken megabyte (a pasted base64 blob) is the worst case for the content patterns: it must
    come back as a length violation, not hang the drafting activity. Run in a child process so a
    regression fails on the timeout instead of hanging the suite (a regex cannot be interrupted)."""
    code = ("from tests.reactivation.test_guardrails import draft, pack, violations\n"
            "print(violations(draft(body='QUJD' * 250_000, follow_up_body='{{' * 500_000), pack()))")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parents[2], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "The body is 1000000 characters; the limit is 2000." in done.stdout
    assert "The follow-up is 1000000 characters; the limit is 2000." in done.stdout
    assert time.monotonic() - started < 30


async def test_an_llm_subject_with_a_line_break_is_a_violation_fed_back_and_shown():
    """The LLM path runs the same check: the newline goes back as feedback, and if the model repeats
    it, the violation stays on the draft the owner reviews."""
    p = pack()
    request = DraftRequest(pack=p, assessment=assess(p, NOW), version=1)
    bad = draft_json(subject="Checking in\nBcc: everyone@example.org")
    async with FakeOpenAI() as fake:
        fake.reply(completion(bad))
        fake.reply(completion(bad))
        settings = load_settings(openai_api_key=SecretStr("sk-test-not-a-real-key"), openai_base_url=fake.base_url,
                                 openai_model="test-model")
        result = await ActivityEnvironment().run(DraftingActivities(settings).prepare_draft, request)
    assert len(fake.requests) == 2 and UNSENDABLE_SUBJECT in fake.requests[1]["messages"][1]["content"]
    assert any(UNSENDABLE_SUBJECT in v for v in result.draft.violations)
