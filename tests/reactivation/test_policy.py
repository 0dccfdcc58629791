"""The policy core, rule by rule: each gate and stop rule, the path precedence and the priority factors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reactivation.evidence_model import AccountFacts, EvidencePack, HistorySummary, NoteFact, TicketFact
from reactivation.policy import assess
from reactivation.templates import draft_outreach
from reactivation.vocabulary import Path

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def pack(**account) -> EvidencePack:
    facts = dict(account_id="A1", name="Acme Studio", tier="standard", owner_email="o@x.dormant",
                 account_value=20000, last_activity_at=NOW - timedelta(days=120), consent_status="granted",
                 risk_level="low", relationship="neutral", fit="high", contact_name="Dana Wu")
    facts.update(account)
    return EvidencePack(account=AccountFacts(**facts), account_source="accounts:A1", as_of=NOW)


def verdict(assessment, rule):
    return next(v for v in assessment.verdicts if v.rule == rule)


def test_clean_account_is_marketing_led():
    result = assess(pack(), NOW)
    assert result.path == Path.marketing_led and result.flags == [] and result.promotional_allowed


@pytest.mark.parametrize("field, value, reason", [
    ("account_value", None, "Account value is unavailable"),
    ("owner_email", None, "Relationship owner is unclear"),
])
def test_readiness_gates_list_what_is_missing(field, value, reason):
    result = assess(pack(**{field: value}), NOW)
    assert result.path == Path.not_ready
    assert any(reason in m for m in result.missing)


def test_disconnected_support_history_is_not_ready():
    p = pack()
    p.support_history_connected = False
    result = assess(p, NOW)
    assert result.path == Path.not_ready and "support" in result.missing[0]


@pytest.mark.parametrize("consent", ["opted_out", "unknown"])
def test_missing_consent_suppresses(consent):
    result = assess(pack(consent_status=consent), NOW)
    assert result.path == Path.suppressed and verdict(result, "consent").verdict == "suppress"


def test_unresolved_issue_means_owner_follow_up_and_no_promotion():
    p = pack()
    p.tickets = [TicketFact(source="tickets:T1", opened_at=NOW - timedelta(days=90), status="open",
                            subject="Invoice charged twice")]
    p.ticket_summary = HistorySummary(total=1, open_count=1)
    result = assess(p, NOW)
    assert result.path == Path.account_led and not result.promotional_allowed
    assert "Invoice charged twice" in verdict(result, "unresolved_issue").reason
    draft = draft_outreach(p, result)
    assert draft.offer_id is None and "Invoice charged twice" in draft.subject


def test_high_risk_holds_for_owner_judgement():
    assert assess(pack(risk_level="high"), NOW).path == Path.hold


@pytest.mark.parametrize("overrides", [{"tier": "strategic"}, {"relationship": "strong"}])
def test_high_context_is_account_led(overrides):
    result = assess(pack(**overrides), NOW)
    assert result.path == Path.account_led and not result.promotional_allowed


def test_do_not_contact_note_holds():
    p = pack()
    p.notes = [NoteFact(source="notes:A1@1", at=NOW, excerpt="Client asked: please do not contact until Q3")]
    result = assess(p, NOW)
    assert result.path == Path.hold and verdict(result, "conflicting_context").sources == ["notes:A1@1"]


def test_competitor_reason_holds():
    assert assess(pack(inactivity_reason="Switched to a competitor"), NOW).path == Path.hold


def test_seasonal_reason_monitors_with_a_date():
    result = assess(pack(inactivity_reason="Seasonal business, closed in winter"), NOW)
    assert result.path == Path.monitor and result.review_again_on == (NOW + timedelta(days=30)).date()


def test_recently_closed_ticket_monitors():
    p = pack()
    p.tickets = [TicketFact(source="tickets:T2", opened_at=NOW - timedelta(days=9),
                            closed_at=NOW - timedelta(days=2), status="closed")]
    assert assess(p, NOW).path == Path.monitor


def test_precedence_suppression_beats_everything_but_readiness():
    result = assess(pack(consent_status="opted_out", risk_level="high", tier="strategic"), NOW)
    assert result.path == Path.suppressed
    assert assess(pack(consent_status="opted_out", account_value=None), NOW).path == Path.not_ready


def test_priority_explains_itself():
    big = assess(pack(account_value=500000, relationship="strong"), NOW).priority
    small = assess(pack(account_value=500, relationship="strained"), NOW).priority
    assert big.score > small.score
    factors = {f.factor: f.points for f in big.factors}
    assert set(factors) == {"value", "fit", "relationship", "recency", "history"}
    assert round(sum(factors.values()), 2) == big.score


def test_seed_example_unresolved_billing_issue_recommends_an_owner_call():
    """The seed: a former client, no booking in nine months, paused after an unresolved billing issue."""
    p = pack(last_activity_at=NOW - timedelta(days=270), inactivity_reason="Paused after a billing dispute")
    p.tickets = [TicketFact(source="tickets:T7", opened_at=NOW - timedelta(days=280), status="open",
                            category="billing", subject="Disputed invoice")]
    result = assess(p, NOW)
    assert "unresolved_issue" in result.flags
    assert "Owner call" in result.recommended_next_step and not result.promotional_allowed
    assert draft_outreach(p, result).offer_id is None


def test_field_notes_case_self_serve_with_consent_gets_a_discount():
    """The field notes: a self-serve, low-value account with consent, 90 days quiet."""
    from reactivation.evidence_model import OfferFact

    p = pack(tier="self_serve", account_value=300, last_activity_at=NOW - timedelta(days=90))
    p.offers = [OfferFact(source="offers:OFF-20", offer_id="OFF-20", name="20% off your next job posting",
                          promotional=True)]
    result = assess(p, NOW)
    assert result.path == Path.marketing_led and result.promotional_allowed
    assert draft_outreach(p, result).offer_id == "OFF-20"


def test_segment_overrides_change_the_rules_and_the_version_is_recorded():
    from reactivation.policy_config import PolicyConfig

    policy = PolicyConfig(version="v-test", segment_overrides={"clinics": {"recent_ticket_close_days": 30}})
    p = pack(segment="clinics")
    p.tickets = [TicketFact(source="tickets:T3", opened_at=NOW - timedelta(days=40),
                            closed_at=NOW - timedelta(days=20), status="closed")]
    assert assess(p, NOW, policy).path == Path.monitor
    p.account.segment = "agencies"
    result = assess(p, NOW, policy)
    assert result.path == Path.marketing_led and result.policy_version == "v-test"


def note(days_ago: int, text: str) -> NoteFact:
    return NoteFact(source=f"notes:A1@{days_ago}", at=NOW - timedelta(days=days_ago), author_email="o@x.dormant",
                    excerpt=text)


def test_high_value_is_account_led_and_the_verdict_says_why():
    result = assess(pack(account_value=240_000, segment="clinics"), NOW)
    assert result.path == Path.account_led and not result.promotional_allowed
    assert "240,000 USD is at or above 100,000, the high-value line for clinics" in verdict(result, "high_context").reason


def test_the_high_value_line_is_set_per_segment_in_the_policy():
    from reactivation.policy_config import PolicyConfig

    policy = PolicyConfig.current().model_copy(update={"segment_overrides": {"smb": {"high_value_at": 20_000}, "enterprise": {"high_value_at": None}}})
    assert assess(pack(account_value=25_000, segment="smb"), NOW, policy).path == Path.account_led
    assert assess(pack(account_value=25_000, segment="agencies"), NOW, policy).path == Path.marketing_led
    assert assess(pack(account_value=5_000_000, segment="enterprise"), NOW, policy).path == Path.marketing_led


@pytest.mark.parametrize("days_ago, text, led", [
    (30, "Expanding to two more practices this year; asked about bulk pricing for new locations.", True),
    (30, "Interested in multi-location reporting?", True),
    (30, "Prefers short emails.", False),  # a preference, not something to build on
    (400, "Asked about bulk pricing for new locations.", False),  # too old
    (30, "Call went fine, nothing else to report today from our side, she was friendly and brief", True),  # long
])
def test_a_recent_note_with_substance_makes_the_account_owner_led(days_ago, text, led):
    result = assess(pack().model_copy(update={"notes": [note(days_ago, text)]}), NOW)
    assert (result.path == Path.account_led) is led
    if led:
        assert verdict(result, "high_context").sources == [f"notes:A1@{days_ago}"]


def test_executions_started_before_the_rules_keep_the_old_judgement():
    """The policy travels in the workflow input: an input from before the rules has neither field, so it
    validates with both off, and its account is judged as when it started (on replay too)."""
    from reactivation.policy_config import PolicyConfig, load_policy

    old_input = PolicyConfig.model_validate({"version": "2026-11-default", "rules": {"dormancy_days": 90}})
    noted = pack(account_value=240_000).model_copy(update={"notes": [note(5, "Asked about bulk pricing")]})
    assert assess(noted, NOW, old_input).path == Path.marketing_led
    assert assess(noted, NOW, load_policy(None, 90)).path == Path.account_led  # what a new episode gets
    assert assess(noted, NOW).path == Path.account_led


def test_a_policy_file_may_switch_a_rule_off_or_keep_the_current_default(tmp_path):
    from reactivation.policy_config import load_policy

    (tmp_path / "p.json").write_text('{"rules": {"high_value_at": null}}')
    assert load_policy(tmp_path / "p.json").rules.high_value_at is None
    assert load_policy(tmp_path / "p.json").rules.substantive_note_days == 180
    (tmp_path / "q.json").write_text('{"rules": {"dormancy_days": 60}}')
    assert load_policy(tmp_path / "q.json").rules.high_value_at == 100_000
