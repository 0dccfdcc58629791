"""Durations as operators write them: plain seconds ("172800", "2.5") or ISO 8601 ("P2D", "PT90S").

Every timer in the product is an input, so the dev stack and the tests can run a whole lifecycle in
seconds while production waits days.
"""

from __future__ import annotations

import re
from datetime import timedelta

_ISO = re.compile(
    r"^P(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(value: str | int | float | timedelta) -> timedelta:
    """Parse seconds or an ISO 8601 duration (weeks, days, hours, minutes, seconds).

    Raises ValueError naming the accepted forms, so a bad setting fails at start-up with a clear reason.
    """
    if isinstance(value, timedelta):
        result = value
    elif isinstance(value, (int, float)):
        result = timedelta(seconds=value)
    else:
        text = value.strip().upper()
        try:
            result = timedelta(seconds=float(text))
        except ValueError:
            match = _ISO.match(text)
            if not match or text in ("P", "PT") or text.endswith("T"):
                raise ValueError(
                    f"{value!r} is not a duration: use seconds (e.g. 172800) or ISO 8601 (e.g. P2D, PT90S)"
                ) from None
            parts = {k: float(v) for k, v in match.groupdict().items() if v}
            result = timedelta(**parts)
    if result < timedelta(0):
        raise ValueError(f"{value!r} is negative: durations must be zero or more")
    return result


def format_duration(value: timedelta) -> str:
    """Render a duration as ISO 8601 for humans and for round-tripping through settings."""
    total = value.total_seconds()
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    out = "P"
    if days:
        out += f"{int(days)}D"
    if hours or minutes or seconds or out == "P":
        out += "T"
        if hours:
            out += f"{int(hours)}H"
        if minutes:
            out += f"{int(minutes)}M"
        if seconds or out.endswith("T"):
            out += f"{seconds:g}S"
    return out
