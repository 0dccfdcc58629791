"""Send windows: nothing reaches a customer outside their local business hours.

A window is written the way people say it: "Mon-Fri 09:00-17:00" (days, then a local time range), or
"always" / "" for no window. The customer's timezone comes from the CRM (IANA name), the default from
settings. `next_send_time` answers "when may we send, at the earliest, from `now`?"; the workflow sleeps
until then. It runs in a local activity, so the tz database is read outside workflow code and the answer
is recorded in history (a later tzdata update cannot change a replay).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NO_WINDOW = ("", "always", "any", "none")


class SendWindowError(ValueError):
    """A window or timezone that cannot be understood; the message names the setting and the reason."""


@dataclass(frozen=True)
class SendWindow:
    days: frozenset[int]  # 0 = Monday
    start: time
    end: time  # exclusive; end <= start means the window runs past midnight

    def contains(self, local: datetime) -> bool:
        moment = local.time().replace(tzinfo=None)
        if self.start < self.end:
            return local.weekday() in self.days and self.start <= moment < self.end
        # Overnight window (e.g. 22:00-02:00): the part after midnight belongs to the previous day.
        if moment >= self.start:
            return local.weekday() in self.days
        return moment < self.end and (local.weekday() - 1) % 7 in self.days


def _day(name: str, spec: str) -> int:
    key = name.strip().lower()[:3]
    if key not in DAYS:
        raise SendWindowError(f"DORMANT_SEND_WINDOW: unknown day {name!r} in {spec!r} (use Mon..Sun)")
    return DAYS.index(key)


def _days(part: str, spec: str) -> frozenset[int]:
    if part.lower() in ("daily", "every day", "all"):
        return frozenset(range(7))
    days: set[int] = set()
    for item in part.split(","):
        if "-" in item:
            first, last = (_day(x, spec) for x in item.split("-", 1))
            span = (last - first) % 7
            days.update((first + i) % 7 for i in range(span + 1))
        else:
            days.add(_day(item, spec))
    return frozenset(days)


def _time(value: str, spec: str) -> time:
    try:
        return time.fromisoformat(value.strip())
    except ValueError:
        raise SendWindowError(f"DORMANT_SEND_WINDOW: {value!r} in {spec!r} is not a time (HH:MM)") from None


def parse_window(spec: str | None) -> SendWindow | None:
    """Parse "Mon-Fri 09:00-17:00"; None for no window."""
    text = (spec or "").strip()
    if text.lower() in NO_WINDOW:
        return None
    days_part, _, hours = text.rpartition(" ")
    if "-" not in hours or ":" not in hours:
        raise SendWindowError(f"DORMANT_SEND_WINDOW: {spec!r} has no time range; write e.g. 'Mon-Fri 09:00-17:00'")
    start, end = (_time(x, text) for x in hours.split("-", 1))
    if start == end:
        raise SendWindowError(f"DORMANT_SEND_WINDOW: {spec!r} is an empty time range")
    return SendWindow(days=_days(days_part or "daily", text), start=start, end=end)


def zone(name: str | None, default: str) -> ZoneInfo:
    """The customer's zone; an unknown CRM value falls back to the default (which must be valid)."""
    for candidate in (name, default):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    raise SendWindowError(f"DORMANT_DEFAULT_TIMEZONE: {default!r} is not an IANA timezone")


def next_send_time(now: datetime, window: SendWindow | None, tz: ZoneInfo) -> datetime:
    """The earliest moment at or after `now` (aware, any zone) inside the window, in UTC."""
    now = now.astimezone(UTC)
    if window is None:
        return now
    local_now = now.astimezone(tz)
    if window.contains(local_now):
        return now
    for offset in range(0, 8):
        day = local_now.date() + timedelta(days=offset)
        if day.weekday() not in window.days:
            continue
        # A start inside a DST gap resolves forward (zoneinfo's fold=0 mapping), which is what we want.
        opens = datetime.combine(day, window.start, tzinfo=tz).astimezone(UTC)
        if opens > now:
            return opens
    raise SendWindowError("DORMANT_SEND_WINDOW: the window has no days")  # unreachable: parse needs a day
