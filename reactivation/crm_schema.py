"""The CRM import format (DESIGN.md, "Contract") and row validation, with no I/O.

Pure so that every rule about a cell is unit-tested without a database: each cell becomes its typed value
(the converters are in reactivation/crm_cells.py, split out to keep this module small; the names used
elsewhere are re-exported here), and every problem becomes a RowError naming the file, the physical line, the column and the reason,
so an operator can fix the export without guessing. All errors are collected, never just the first.
A free-text cell longer than MAX_CELL is not an error: it is cut to MAX_CELL and a warning (a RowError too)
says so, because real exports carry e.g. call transcripts in notes and one long text must not block a sync.
Safety-relevant defaults live here too: a blank consent is "unknown" (never "granted"), and a blank
account value stays None, because a readiness gate refuses to guess it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from reactivation.crm_cells import (
    _FREE_TEXT,
    MAX_AMOUNT,
    CellError,
    _amount,
    _boolean,
    _choice,
    _optional_amount,
    _optional_date,
    _optional_email,
    _optional_text,
    _optional_timestamp,
    _required,
    _text,
    _timestamp,
    _timezone,
)

__all__ = [
    "IMPORT_ORDER", "LINE", "MAX_AMOUNT", "MAX_CELL", "SPECS", "BoundedErrors", "CellError", "FileSpec", "RowError",
    "check_header", "convert_row", "duplicate_error", "spec_for", "validate_rows",
]

MAX_CELL = 100_000
LINE = "__line__"  # each good row remembers its line, for errors found later (e.g. unknown accounts)


@dataclass(frozen=True)
class RowError:
    """One problem. line is the 1-based physical line (the header is line 1); 0 means the whole file."""

    file: str
    line: int
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:" if self.line else f"{self.file}:"
        column = f" column {self.column}:" if self.column else ""
        return f"{where}{column} {self.reason}"


@dataclass(frozen=True)
class FileSpec:
    name: str
    table: str
    columns: dict[str, Callable[[str], object]]  # every column is expected in the header, in any order
    key: tuple[str, ...]  # the table's primary key: unique within a file
    child: bool = False  # rows reference accounts.account_id

    @property
    def source(self) -> str:
        return self.name.removesuffix(".csv")

    def cuttable(self, column: str) -> bool:
        """A free-text column whose over-long cell is cut to MAX_CELL with a warning instead of refused.

        Keys, account ids and typed columns (dates, amounts, emails, choices) are never cut: a cut one would
        be a different value, so an over-long one stays an error.
        """
        if column in self.key or column == "account_id":
            return False
        convert = self.columns[column]
        return convert in _FREE_TEXT or getattr(convert, "inner", None) in _FREE_TEXT


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

# Parents before children, so foreign keys hold at every statement of the one transaction.
IMPORT_ORDER = ["accounts.csv", "offers.csv", "tickets.csv", "orders.csv", "activities.csv", "notes.csv"]


def spec_for(file_name: str) -> FileSpec:
    try:
        return SPECS[file_name]
    except KeyError:
        raise ValueError(f"{file_name!r} is not a CRM import file (expected one of {', '.join(IMPORT_ORDER)})") from None


def check_header(file_name: str, header: list[str]) -> list[RowError]:
    """Missing, unknown (never silently dropped) and repeated column names, all reported on line 1."""
    spec = spec_for(file_name)
    names = [h.strip() for h in header]
    errors = []
    missing = [c for c in spec.columns if c not in names]
    unknown = [c for c in dict.fromkeys(names) if c not in spec.columns]
    repeated = [c for c in dict.fromkeys(names) if names.count(c) > 1]
    if missing:
        errors.append(RowError(file_name, 1, None, f"missing column(s): {', '.join(missing)}"))
    if unknown:
        errors.append(RowError(file_name, 1, None, f"unknown column(s): {', '.join(repr(c) for c in unknown)} "
                                                   f"(expected {', '.join(spec.columns)})"))
    if repeated:
        errors.append(RowError(file_name, 1, None, f"column(s) appear more than once: {', '.join(repeated)}"))
    return errors


class BoundedErrors(list):
    """A list of RowErrors that keeps the first `keep` and counts the rest.

    A file with a wrong delimiter makes every line an error; a 100 MB export must not hold a million of them.
    """

    def __init__(self, keep: int = 1_000):
        super().__init__()
        self.keep = keep
        self.more = 0

    def append(self, error: RowError) -> None:  # type: ignore[override]
        if len(self) < self.keep:
            super().append(error)
        else:
            self.more += 1

    @property
    def total(self) -> int:
        return len(self) + self.more


def convert_row(spec: FileSpec, line: int, names: list[str], cells: list[str], errors: list[RowError],
                warnings: list[RowError]) -> dict | None:
    """One CSV row to a typed dict (plus LINE), or None with its errors appended; blank rows are None too.

    A free-text cell over MAX_CELL is cut to MAX_CELL and reported in warnings, not as an error.
    """
    if not any(c.strip() for c in cells):
        return None
    if len(cells) != len(names):
        errors.append(RowError(spec.name, line, None, f"has {len(cells)} cells; the header has {len(names)}"))
        return None
    row: dict = {}
    for name, cell in zip(names, cells):
        if "\x00" in cell:
            errors.append(RowError(spec.name, line, name, "contains a NUL character"))
        elif len(cell) > MAX_CELL and not spec.cuttable(name):
            errors.append(RowError(spec.name, line, name, f"cell is {len(cell):,} characters; the limit is {MAX_CELL:,}"))
        else:
            try:
                value = spec.columns[name](cell)
            except CellError as err:
                errors.append(RowError(spec.name, line, name, str(err)))
                continue
            if isinstance(value, str) and len(value) > MAX_CELL:
                warnings.append(RowError(spec.name, line, name,
                                         f"{len(value)} characters, stored the first {MAX_CELL}"))
                value = value[:MAX_CELL]
            row[name] = value
    if len(row) != len(names):
        return None
    row[LINE] = line
    return row


def duplicate_error(spec: FileSpec, key: tuple, first_line: int, line: int) -> RowError:
    """A repeated primary key names both lines (the import finds them in SQL, validate_rows in memory)."""
    shown = repr(key[0]) if len(key) == 1 else "(" + ", ".join(str(k) for k in key) + ")"
    return RowError(spec.name, line, spec.key[0] if len(key) == 1 else None,
                    f"duplicate {'/'.join(spec.key)} {shown}: on lines {first_line} and {line}")


def validate_rows(file_name: str, header: list[str], rows: Iterable[tuple[int, list[str]]],
                  warnings: list[RowError] | None = None) -> tuple[list[dict], list[RowError]]:
    """Convert (line number, cells) rows to typed dicts (plus LINE); collect every error, don't stop at one.

    The in-memory form, for a handful of rows (the import streams through convert_row and finds repeated keys
    in SQL, so its memory does not grow with the file). Header problems are reported and no row is read (their
    cells would not mean anything). Blank lines are skipped. A repeated primary key is an error naming both
    lines; the first row wins.
    """
    spec = spec_for(file_name)
    errors = check_header(file_name, header)
    if errors:
        return [], errors
    names = [h.strip() for h in header]
    warnings = warnings if warnings is not None else []
    good: list[dict] = []
    seen: dict[tuple, int] = {}
    for line, cells in rows:
        row = convert_row(spec, line, names, cells, errors, warnings)
        if row is None:
            continue
        key = tuple(row[k] for k in spec.key)
        if key in seen:
            errors.append(duplicate_error(spec, key, seen[key], line))
            continue
        seen[key] = line
        good.append(row)
    return good, errors
