"""The CRM import format (DESIGN.md) and row validation, with no I/O.

Every cell is converted to its type here; every problem becomes a RowError naming the file, the physical
line, the column and the reason, so an operator can fix the export without guessing. Blank consent is
"unknown" (never "granted"); a blank account value stays None, because a readiness gate depends on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Callable, Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAX_CELL = 100_000
LINE = "__line__"  # each good row remembers its line, for errors found later (e.g. unknown accounts)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class RowError:
    file: str
    line: int
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = f" column {self.column}:" if self.column else ""
        return f"{self.file}:{self.line}:{where} {self.reason}"


class CellError(ValueError):
    pass


def _text(value: str) -> str:
    return value.strip()


def _optional_text(value: str) -> str | None:
    return value.strip() or None


def _timestamp(value: str) -> datetime:
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CellError(f"{text!r} is not an ISO 8601 date or date-time (e.g. 2026-03-01 or 2026-03-01T09:30:00Z)")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _optional_timestamp(value: str) -> datetime | None:
    return _timestamp(value) if value.strip() else None


def _optional_date(value: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise CellError(f"{value.strip()!r} is not an ISO date (e.g. 2027-01-31)")


def _amount(value: str) -> Decimal:
    try:
        amount = Decimal(value.strip().replace(",", ""))
    except InvalidOperation:
        raise CellError(f"{value.strip()!r} is not a number")
    if not amount.is_finite() or amount < 0:
        raise CellError(f"{value.strip()!r} must be a number of zero or more")
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
        raise CellError(f"{text!r} is not an IANA time zone (e.g. Europe/Berlin)")
    return text


def _boolean(value: str) -> bool:
    text = value.strip().lower()
    if text in ("true", "yes", "1", "y"):
        return True
    if text in ("false", "no", "0", "n", ""):
        return False
    raise CellError(f"{value.strip()!r} is not true or false")


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
    return check


@dataclass(frozen=True)
class FileSpec:
    name: str
    table: str
    columns: dict[str, Callable[[str], object]]
    key: tuple[str, ...]
    child: bool = False  # rows reference accounts.account_id


SPECS: dict[str, FileSpec] = {spec.name: spec for spec in [
    FileSpec("accounts.csv", "accounts", {
        "account_id": _required(_text), "name": _required(_text), "segment": _text,
        "tier": _choice(("strategic", "standard", "self_serve")), "owner_email": _optional_email,
        "account_value": _optional_amount, "currency": lambda v: v.strip().upper() or "USD",
        "last_activity_at": _optional_timestamp, "preferred_channel": _choice(("email", "sms", "call"), "email"),
        "contact_name": _text, "contact_email": _optional_email, "contact_phone": _optional_text,
        "timezone": _timezone, "consent_status": _choice(("granted", "opted_out", "unknown"), "unknown"),
        "inactivity_reason": _text, "risk_level": _choice(("low", "medium", "high"), "low"),
        "relationship": _choice(("strong", "neutral", "strained", "unknown"), "unknown"),
        "fit": _choice(("high", "medium", "low", "unknown"), "unknown"),
    }, key=("account_id",)),
    FileSpec("tickets.csv", "tickets", {
        "ticket_id": _required(_text), "account_id": _required(_text), "opened_at": _required(_timestamp),
        "closed_at": _optional_timestamp, "status": _required(_text), "severity": _text, "category": _text,
        "subject": _text, "body": _text,
    }, key=("ticket_id",), child=True),
    FileSpec("orders.csv", "orders", {
        "order_id": _required(_text), "account_id": _required(_text), "at": _required(_timestamp),
        "amount": _required(_amount), "description": _text,
    }, key=("order_id",), child=True),
    FileSpec("activities.csv", "activities", {
        "account_id": _required(_text), "at": _required(_timestamp), "type": _required(_text), "detail": _text,
    }, key=("account_id", "at", "type"), child=True),
    FileSpec("notes.csv", "notes", {
        "account_id": _required(_text), "at": _required(_timestamp), "author_email": lambda v: v.strip().lower(),
        "body": _required(_text),
    }, key=("account_id", "at", "author_email"), child=True),
    FileSpec("offers.csv", "offers", {
        "offer_id": _required(_text), "name": _required(_text), "description": _text, "kind": _text,
        "promotional": _boolean, "segment": _text, "valid_until": _optional_date,
    }, key=("offer_id",)),
]}

IMPORT_ORDER = ["accounts.csv", "offers.csv", "tickets.csv", "orders.csv", "activities.csv", "notes.csv"]


def check_header(spec: FileSpec, header: list[str]) -> list[RowError]:
    names = [h.strip() for h in header]
    errors = []
    missing = [c for c in spec.columns if c not in names]
    unknown = [c for c in names if c not in spec.columns]
    if missing:
        errors.append(RowError(spec.name, 1, None, f"missing column(s): {', '.join(missing)}"))
    if unknown:
        errors.append(RowError(spec.name, 1, None, f"unknown column(s): {', '.join(unknown)} "
                                                  f"(expected {', '.join(spec.columns)})"))
    if len(set(names)) != len(names):
        errors.append(RowError(spec.name, 1, None, "a column appears twice in the header"))
    return errors


def validate_rows(spec: FileSpec, header: list[str], rows: Iterable[tuple[int, list[str]]]
                  ) -> tuple[list[dict], list[RowError]]:
    """Convert rows (line number, cells) to typed dicts; collect every error instead of stopping at one."""
    names = [h.strip() for h in header]
    good: list[dict] = []
    errors: list[RowError] = []
    seen: dict[tuple, int] = {}
    for line, cells in rows:
        if len(cells) != len(names):
            errors.append(RowError(spec.name, line, None, f"has {len(cells)} cells, the header has {len(names)}"))
            continue
        row: dict = {}
        ok = True
        for name, cell in zip(names, cells):
            if len(cell) > MAX_CELL:
                errors.append(RowError(spec.name, line, name, f"cell is {len(cell)} characters; the limit is {MAX_CELL}"))
                ok = False
                continue
            try:
                row[name] = spec.columns[name](cell)
            except CellError as err:
                errors.append(RowError(spec.name, line, name, str(err)))
                ok = False
        if not ok:
            continue
        key = tuple(row[k] for k in spec.key)
        if key in seen:
            errors.append(RowError(spec.name, line, spec.key[0],
                                   f"duplicate {'/'.join(spec.key)} {key if len(key) > 1 else key[0]!r} "
                                   f"(first on line {seen[key]})"))
            continue
        seen[key] = line
        row[LINE] = line
        good.append(row)
    return good, errors
