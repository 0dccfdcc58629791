"""Re-entry: when a finished episode's account may be reviewed again, and why a new one is refused.

An account the owner closed must stay closed until the owner's date (or `reentry_after_days`); an account
that did not answer rests for a cool-off; an opted-out or suppressed account is never reopened by a scan
or a trigger, only once the CRM's consent changes after the episode ended; a reactivated account needs a
new dormancy period like any other. The scan, the CRM trigger and the account view all ask this module,
so the answer is the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum

from reactivation.policy_config import PolicyConfig, PolicyRules
from reactivation.vocabulary import Outcome

NEVER_AUTOMATICALLY = frozenset({Outcome.opted_out, Outcome.suppressed})
COOL_OFF = frozenset({Outcome.no_response, Outcome.responded})
REACTIVATED = frozenset({Outcome.reactivated, Outcome.reactivated_before_outreach})
FOREVER = datetime.max.replace(tzinfo=UTC)


class SkipReason(StrEnum):
    not_dormant = "not_dormant"
    no_activity_date = "no_activity_date"
    closed_by_owner = "closed_by_owner"
    cooling_off = "cooling_off"
    opted_out = "opted_out"


# Why each reason keeps an account out, in words for `dormant scan`'s report.
WHY = {
    SkipReason.not_dormant: "active more recently than the dormancy period (or reactivated since)",
    SkipReason.no_activity_date: "no last activity date to judge dormancy by",
    SkipReason.closed_by_owner: "closed by the owner: not before the owner's date or DORMANT_REENTRY_AFTER",
    SkipReason.cooling_off: "the last episode ended without a reactivation: resting DORMANT_NO_RESPONSE_COOLOFF",
    SkipReason.opted_out: "opted out or suppressed: reopened only once the CRM's consent changes to granted",
}


@dataclass(frozen=True)
class Skip:
    reason: SkipReason
    message: str
    until: datetime | None = None


@dataclass(frozen=True)
class LastEpisode:
    """What the review projection remembers of the account's last finished episode."""

    outcome: Outcome
    finished_at: datetime
    reopen_after: datetime | None


def reopen_after(outcome: Outcome, finished_at: datetime, owner_until: datetime | None,
                 rules: PolicyRules) -> datetime | None:
    """When a finished episode's account may be reviewed again; None means never automatically."""
    if outcome in NEVER_AUTOMATICALLY:
        return None
    if outcome == Outcome.closed_by_owner:
        return owner_until or finished_at + timedelta(days=rules.reentry_after_days)
    if outcome in COOL_OFF:
        return finished_at + timedelta(days=rules.no_response_cooloff_days)
    return finished_at  # reactivated (a new dormancy period is needed anyway) or not ready (fix the CRM)


def owner_until(day) -> datetime | None:
    """An owner's chosen date (a `date`) as the start of that day in UTC."""
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None


def dormancy_skip(last_activity_at: datetime | None, now: datetime, rules: PolicyRules) -> Skip | None:
    """A review needs a dormant account: no activity for `dormancy_days`."""
    if last_activity_at is None:
        return None  # never active: dormant by definition (the readiness gates judge the rest)
    quiet = now - last_activity_at
    if quiet < timedelta(days=rules.dormancy_days):
        return Skip(SkipReason.not_dormant,
                    f"not dormant: last activity {max(quiet.days, 0)} days ago, dormancy is {rules.dormancy_days} days",
                    last_activity_at + timedelta(days=rules.dormancy_days))
    return None


def episode_skip(last: LastEpisode | None, consent_status: str, consent_changed_at: datetime | None,
                 now: datetime, rules: PolicyRules) -> Skip | None:
    """What the last finished episode alone says about starting a new one (None: nothing stops it)."""
    if last is None:
        return None
    if last.outcome in NEVER_AUTOMATICALLY:
        consent_back = consent_status == "granted" and consent_changed_at is not None \
            and last.finished_at is not None and consent_changed_at > last.finished_at
        if consent_back:
            return None
        return Skip(SkipReason.opted_out, f"the last episode ended {last.outcome.value}: reopened only when the "
                                          "CRM's consent changes to granted")
    # A row without a date (written before re-entry existed) rests the default time, never zero.
    until = last.reopen_after or reopen_after(last.outcome, last.finished_at, None, rules)
    if until is None or now >= until:
        return None
    if last.outcome == Outcome.closed_by_owner:
        return Skip(SkipReason.closed_by_owner, f"closed by the owner: not before {until:%Y-%m-%d}", until)
    return Skip(SkipReason.cooling_off,
                f"the last episode ended {last.outcome.value}: cooling off until {until:%Y-%m-%d}", until)


def reentry_skip(last: LastEpisode | None, consent_status: str, consent_changed_at: datetime | None,
                 last_activity_at: datetime | None, now: datetime, rules: PolicyRules) -> Skip | None:
    """Why a new episode must not start now (None: it may).

    When several reasons hold, the one that lasts longest is given (ties: not dormant), so `until` is when the
    account may really be reviewed again and asking again at `until` finds nothing in the way.
    """
    if last is not None and last.outcome in REACTIVATED and \
            (last_activity_at is None or last_activity_at < last.finished_at):
        last_activity_at = last.finished_at  # an owner may log a reactivation the CRM has not seen yet
    skips = [skip for skip in (dormancy_skip(last_activity_at, now, rules),
                               episode_skip(last, consent_status, consent_changed_at, now, rules)) if skip]
    return max(skips, key=lambda skip: skip.until or FOREVER, default=None)


@dataclass(frozen=True)
class ReentryFacts:
    """What the verdict needs to know of one account (read by db/reentry_queries.py), so the scan, the trigger
    and the account view ask the same question the same way."""

    account_id: str
    segment: str
    consent_status: str
    consent_changed_at: datetime | None
    last_activity_at: datetime | None
    last: LastEpisode | None

    def skip(self, now: datetime, policy: PolicyConfig) -> Skip | None:
        return reentry_skip(self.last, self.consent_status, self.consent_changed_at, self.last_activity_at, now,
                            policy.for_segment(self.segment))
