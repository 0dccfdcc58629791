"""The re-entry policy as pure functions: when a finished episode's account may be reviewed again.

Examples pin each rule of the issue; hypothesis properties pin what every caller relies on: `until` is in
the future and is exactly when the answer becomes "yes", "yes" stays "yes" as time passes, and an opted-out
account is never reopened by time alone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from reactivation.policy_config import PolicyConfig, PolicyRules
from reactivation.reentry import (
    WHY,
    LastEpisode,
    ReentryFacts,
    SkipReason,
    dormancy_skip,
    owner_until,
    reentry_skip,
    reopen_after,
)
from reactivation.scan_model import ScanResult, add_counts
from reactivation.vocabulary import Outcome

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
RULES = PolicyRules()  # dormancy 90, re-entry 180, cool-off 90 days
DORMANT_SINCE = NOW - timedelta(days=400)


def days(n: float) -> timedelta:
    return timedelta(days=n)


def ended(outcome: Outcome, days_ago: float, reopen: datetime | None = None) -> LastEpisode:
    finished = NOW - days(days_ago)
    return LastEpisode(outcome, finished, reopen or reopen_after(outcome, finished, None, RULES))


def skip(last, *, consent="granted", changed=None, active=DORMANT_SINCE, now=NOW, rules=RULES):
    return reentry_skip(last, consent, changed, active, now, rules)


# --- reopen_after: what the workflow stores when an episode ends ---

def test_reopen_after_per_outcome():
    finished = NOW
    assert reopen_after(Outcome.closed_by_owner, finished, None, RULES) == finished + days(180)
    assert reopen_after(Outcome.closed_by_owner, finished, owner_until(date(2026, 7, 1)), RULES) == \
        datetime(2026, 7, 1, tzinfo=UTC)
    assert reopen_after(Outcome.no_response, finished, None, RULES) == finished + days(90)
    assert reopen_after(Outcome.responded, finished, None, RULES) == finished + days(90)
    assert reopen_after(Outcome.opted_out, finished, None, RULES) is None
    assert reopen_after(Outcome.suppressed, finished, None, RULES) is None
    assert reopen_after(Outcome.reactivated, finished, None, RULES) == finished
    assert reopen_after(Outcome.no_response, finished, None, RULES.model_copy(update={"no_response_cooloff_days": 7})) \
        == finished + days(7)


def test_owner_until_is_the_start_of_that_day_in_utc():
    assert owner_until(date(2026, 7, 1)) == datetime(2026, 7, 1, tzinfo=UTC)
    assert owner_until(None) is None


# --- reentry_skip: one example per rule ---

def test_a_dormant_account_never_reviewed_may_start():
    assert skip(None) is None
    assert skip(None, active=None) is None  # never active: dormant by definition


def test_an_account_active_recently_is_not_dormant():
    verdict = skip(None, active=NOW - days(10))
    assert verdict.reason == SkipReason.not_dormant
    assert verdict.until == NOW - days(10) + days(90)
    assert "10 days ago" in verdict.message


def test_owner_closed_waits_for_the_owners_date_or_the_default():
    verdict = skip(ended(Outcome.closed_by_owner, 30))
    assert (verdict.reason, verdict.until) == (SkipReason.closed_by_owner, NOW - days(30) + days(180))
    chosen = NOW + days(5)
    assert skip(ended(Outcome.closed_by_owner, 30, reopen=chosen)).until == chosen
    assert skip(ended(Outcome.closed_by_owner, 181)) is None


def test_no_response_cools_off():
    verdict = skip(ended(Outcome.no_response, 10))
    assert (verdict.reason, verdict.until) == (SkipReason.cooling_off, NOW + days(80))
    assert skip(ended(Outcome.no_response, 91)) is None


def test_opted_out_and_suppressed_are_never_reopened_by_time():
    for outcome in (Outcome.opted_out, Outcome.suppressed):
        verdict = skip(ended(outcome, 10_000))
        assert (verdict.reason, verdict.until) == (SkipReason.opted_out, None)


def test_opted_out_reopens_only_when_consent_changes_to_granted_after_the_episode():
    last = ended(Outcome.opted_out, 100)
    assert skip(last, changed=NOW - days(1)) is None
    assert skip(last, changed=NOW - days(101)).reason == SkipReason.opted_out  # changed before it ended
    assert skip(last, consent="unknown", changed=NOW - days(1)).reason == SkipReason.opted_out
    assert skip(last, consent="opted_out", changed=NOW - days(1)).reason == SkipReason.opted_out
    assert skip(last, changed=None).reason == SkipReason.opted_out


def test_a_reactivated_account_needs_a_new_dormancy_period_from_its_return():
    # Fixed bug: an owner logging "reactivated" on a call does not move the CRM's last activity, and the
    # old verdict reopened such an account at once.
    verdict = skip(ended(Outcome.reactivated, 30))
    assert (verdict.reason, verdict.until) == (SkipReason.not_dormant, NOW - days(30) + days(90))
    assert skip(ended(Outcome.reactivated_before_outreach, 30), active=None).reason == SkipReason.not_dormant
    assert skip(ended(Outcome.reactivated, 91)) is None


def test_a_row_without_a_reopen_date_still_rests_the_default():
    # Fixed bug: a closed episode written before migration 004 (reopen_after NULL) was reopened at once.
    legacy = LastEpisode(Outcome.closed_by_owner, NOW - days(10), None)
    assert skip(legacy).until == NOW - days(10) + days(180)
    assert skip(LastEpisode(Outcome.no_response, NOW - days(10), None)).reason == SkipReason.cooling_off


def test_the_longest_reason_wins_so_until_is_the_real_date():
    # Fixed bug: active 10 days ago and closed until next year answered "not dormant until in 80 days".
    closed = ended(Outcome.closed_by_owner, 1, reopen=NOW + days(300))
    verdict = skip(closed, active=NOW - days(10))
    assert (verdict.reason, verdict.until) == (SkipReason.closed_by_owner, NOW + days(300))
    assert skip(ended(Outcome.opted_out, 1), active=NOW - days(10)).reason == SkipReason.opted_out
    assert skip(ended(Outcome.no_response, 80), active=NOW - days(10)).reason == SkipReason.not_dormant


def test_facts_use_the_segments_rules():
    policy = PolicyConfig(segment_overrides={"clinics": {"reentry_after_days": 10}})
    last = LastEpisode(Outcome.closed_by_owner, NOW - days(20), None)
    facts = ReentryFacts("a1", "clinics", "granted", None, DORMANT_SINCE, last)
    assert facts.skip(NOW, policy) is None
    assert facts.skip(NOW, PolicyConfig()).reason == SkipReason.closed_by_owner


def test_every_reason_is_explained_and_counted_per_reason():
    assert set(WHY) == set(SkipReason)
    result = ScanResult(seen=5, started=1, already_open=1,
                        skipped=add_counts({"closed_by_owner": 1}, {"closed_by_owner": 1, "cooling_off": 1}))
    assert result.summary() == "5 dormant accounts: 1 started, 1 already open, 3 skipped " \
                               "(2 closed_by_owner, 1 cooling_off)"
    assert result.skip_lines()[0].startswith("  skipped 2 closed_by_owner: closed by the owner")
    assert ScanResult(seen=0, started=0, already_open=0).summary() == "0 dormant accounts: 0 started, 0 already open"


# --- properties ---

moments = st.floats(min_value=-2000, max_value=2000).map(lambda d: NOW + days(d))
rules = st.builds(PolicyRules, dormancy_days=st.integers(1, 400), reentry_after_days=st.integers(0, 400),
                  no_response_cooloff_days=st.integers(0, 400))
episodes = st.one_of(st.none(), st.builds(
    lambda outcome, finished, reopen: LastEpisode(outcome, finished, reopen),
    st.sampled_from(list(Outcome)), moments, st.one_of(st.none(), moments)))
situations = st.tuples(episodes, st.sampled_from(["granted", "opted_out", "unknown"]),
                       st.one_of(st.none(), moments), st.one_of(st.none(), moments), moments, rules)


@given(situations)
def test_until_is_in_the_future_and_is_when_the_answer_becomes_yes(situation):
    last, consent, changed, active, now, rules_ = situation
    verdict = reentry_skip(last, consent, changed, active, now, rules_)
    if verdict is None or verdict.until is None:
        return
    assert verdict.until > now
    assert reentry_skip(last, consent, changed, active, verdict.until, rules_) is None


@given(situations, st.floats(min_value=0, max_value=5000))
def test_yes_stays_yes_as_time_passes(situation, later):
    last, consent, changed, active, now, rules_ = situation
    if reentry_skip(last, consent, changed, active, now, rules_) is None:
        assert reentry_skip(last, consent, changed, active, now + days(later), rules_) is None


@given(situations, st.floats(min_value=0, max_value=5000))
def test_no_date_means_no_by_time_alone(situation, later):
    last, consent, changed, active, now, rules_ = situation
    verdict = reentry_skip(last, consent, changed, active, now, rules_)
    if verdict is not None and verdict.until is None:
        assert verdict.reason == SkipReason.opted_out
        assert reentry_skip(last, consent, changed, active, now + days(later), rules_).reason == SkipReason.opted_out


@given(st.sampled_from(list(Outcome)), moments, st.one_of(st.none(), moments), rules)
def test_reopen_after_never_precedes_the_end_unless_the_owner_chose_so(outcome, finished, chosen, rules_):
    reopen = reopen_after(outcome, finished, chosen, rules_)
    if outcome in (Outcome.opted_out, Outcome.suppressed):
        assert reopen is None
    elif outcome == Outcome.closed_by_owner and chosen is not None:
        assert reopen == chosen
    else:
        assert reopen >= finished


@given(st.one_of(st.none(), moments), moments, rules)
def test_dormancy_skip_agrees_with_the_dormancy_period(active, now, rules_):
    verdict = dormancy_skip(active, now, rules_)
    assert (verdict is None) == (active is None or now - active >= days(rules_.dormancy_days))
