"""The cell converters of the CRM import: one CSV cell (a string) to its typed value, or a CellError.

Split out of crm_schema (which keeps the file format, the specs and row validation) so that each module
stays small: these are the per-cell rules, each raising CellError with the reason an operator reads.
Safety-relevant defaults live here: `_choice` gives its default only when one is named (consent's is
"unknown", never "granted"), and a blank amount stays None. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAX_AMOUNT = Decimal("1e12")  # numeric(14, 2)
_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
_GROUPED = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")  # 1,234,567.89


class CellError(ValueError):
    """A cell that cannot be converted; the message is the reason shown to the operator."""


def _text(value: str) -> str:
    return value.strip()


def _optional_text(value: str) -> str | None:
    return value.strip() or None


def _timestamp(value: str) -> datetime:
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise CellError(f"{text!r} is not an ISO 8601 date or date-time (e.g. 2026-03-01 or 2026-03-01T09:30:00Z)") from None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _optional_timestamp(value: str) -> datetime | None:
    return _timestamp(value) if value.strip() else None


def _optional_date(value: str) -> date | None:
    text = value.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        raise CellError(f"{text!r} is not an ISO date (e.g. 2027-01-31)") from None


def _amount(value: str) -> Decimal:
    text = value.strip()
    try:
        amount = Decimal(text.replace(",", "") if _GROUPED.match(text) else text)
    except InvalidOperation:
        raise CellError(f"{text!r} is not a number (e.g. 1250.50)") from None
    if not amount.is_finite() or amount < 0 or amount >= MAX_AMOUNT:
        raise CellError(f"{text!r} must be a number from 0 up to {MAX_AMOUNT:,.0f}")
    return amount


def _optional_amount(value: str) -> Decimal | None:
    return _amount(value) if value.strip() else None


def _optional_email(value: str) -> str | None:
    text = value.strip().lower()
    if text and not _EMAIL.match(text):
        raise CellError(f"{value.strip()!r} is not an email address")
    return text or None


def _timezone(value: str) -> str | None:
    text = value.strip()
    if not text:
        return None
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise CellError(f"{text!r} is not an IANA time zone (e.g. Europe/Berlin)") from None
    return text


def _boolean(value: str) -> bool:
    text = value.strip().lower()
    if text in ("true", "yes", "1"):
        return True
    if text in ("false", "no", "0", ""):
        return False
    raise CellError(f"{value.strip()!r} is not one of true, false, yes, no, 1, 0")


def _choice(options: tuple[str, ...], default: str | None = None) -> Callable[[str], str]:
    def convert(value: str) -> str:
        text = value.strip().lower()
        if not text and default is not None:
            return default
        if text not in options:
            raise CellError(f"{value.strip()!r} is not one of {', '.join(options)}")
        return text
    return convert


def _required(convert: Callable[[str], object]) -> Callable[[str], object]:
    def check(value: str) -> object:
        if not value.strip():
            raise CellError("is required")
        return convert(value)
    check.inner = convert  # type: ignore[attr-defined]
    return check


_FREE_TEXT = (_text, _optional_text)
