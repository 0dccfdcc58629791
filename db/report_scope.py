"""Which events a report covers, spelled once so every report query filters the same way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

# $1 since, $2 until (exclusive), $3 owner email (NULL: everyone). Queries append their own args from $4.
SCOPED = """scoped AS (
    SELECT * FROM measurement_events
    WHERE ($1::timestamptz IS NULL OR at >= $1) AND ($2::timestamptz IS NULL OR at < $2)
      AND ($3::text IS NULL OR lower(owner_email) = lower($3)))"""


@dataclass(frozen=True)
class Scope:
    """[since, until) on the event time, and one owner's events (None: everyone's, for admins).

    The owner filter uses the owner recorded on each event, so an owner sees what happened while the
    account was theirs, and never another owner's events."""

    since: datetime | None = None
    until: datetime | None = None
    owner_email: str | None = None

    def args(self) -> tuple:
        return (self.since, self.until, self.owner_email)


def as_scope(scope: Scope | str | None) -> Scope:
    """Older callers passed just an owner email; keep them working."""
    return scope if isinstance(scope, Scope) else Scope(owner_email=scope)


def day_start(day: date | None) -> datetime | None:
    """A date as the start of that UTC day (the ledger stores UTC timestamps, and reports speak in days)."""
    return None if day is None else datetime.combine(day, time.min, tzinfo=UTC)
