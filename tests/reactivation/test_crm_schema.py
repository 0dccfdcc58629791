"""The CRM import format, cell by cell, with no database: types, safe defaults and operator-facing errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from reactivation.crm_schema import LINE, MAX_CELL, SPECS, RowError, check_header, spec_for, validate_rows

ACCOUNTS = ["account_id", "name", "segment", "tier", "owner_email", "account_value", "currency", "last_activity_at", "preferred_channel", "contact_name", "contact_email", "contact_phone", "timezone", "consent_status", "inactivity_reason", "risk_level", "relationship", "fit"]


def account(**cells: str) -> list[str]:
    row = dict.fromkeys(ACCOUNTS, "") | {"account_id": "A1", "name": "Acme", "tier": "standard"} | cells
    return [row[c] for c in ACCOUNTS]


def one(file_name: str, header: list[str], cells: list[str]) -> tuple[list[dict], list[RowError]]:
    return validate_rows(file_name, header, [(2, cells)])


def test_columns_are_exactly_the_contract():
    assert list(SPECS["accounts.csv"].columns) == ACCOUNTS
    assert list(SPECS["tickets.csv"].columns) == ["ticket_id", "account_id", "opened_at", "closed_at", "status",
                                                  "severity", "category", "subject", "body"]
    assert list(SPECS["orders.csv"].columns) == ["order_id", "account_id", "at", "amount", "description"]
    assert list(SPECS["activities.csv"].columns) == ["account_id", "at", "type", "detail"]
    assert list(SPECS["notes.csv"].columns) == ["account_id", "at", "author_email", "body"]
    assert list(SPECS["offers.csv"].columns) == ["offer_id", "name", "description", "kind", "promotional",
                                                 "segment", "valid_until"]
    with pytest.raises(ValueError, match="contacts.csv"):
        spec_for("contacts.csv")


def test_blank_cells_take_safe_defaults():
    rows, errors = one("accounts.csv", ACCOUNTS, account())
    assert errors == []
    row = rows[0]
    assert row["consent_status"] == "unknown"  # blank consent is never "granted"
    assert row["account_value"] is None and row["owner_email"] is None and row["last_activity_at"] is None
    assert (row["preferred_channel"], row["risk_level"], row["relationship"], row["fit"]) == \
        ("email", "low", "unknown", "unknown")
    assert row["currency"] == "USD" and row["timezone"] is None and row["contact_email"] is None
    assert row[LINE] == 2


def test_cells_become_typed_values():
    rows, errors = one("accounts.csv", ACCOUNTS, account(
        tier=" Strategic ", owner_email="Owner@Example.COM", account_value="1,234,567.50",
        last_activity_at="2026-03-01T09:30:00", timezone="Europe/Berlin", consent_status="granted",
        preferred_channel="sms", currency="eur"))
    assert errors == []
    row = rows[0]
    assert row["tier"] == "strategic" and row["owner_email"] == "owner@example.com"
    assert row["account_value"] == Decimal("1234567.50") and row["currency"] == "EUR"
    assert row["last_activity_at"] == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)  # naive means UTC
    assert row["timezone"] == "Europe/Berlin" and row["preferred_channel"] == "sms"


@pytest.mark.parametrize("text, expected", [
    ("2026-03-01", datetime(2026, 3, 1, tzinfo=UTC)),
    ("2026-03-01T09:30:00Z", datetime(2026, 3, 1, 9, 30, tzinfo=UTC)),
    ("2026-03-01 09:30:00+02:00", datetime(2026, 3, 1, 7, 30, tzinfo=UTC)),
])
def test_timestamps(text, expected):
    rows, errors = one("accounts.csv", ACCOUNTS, account(last_activity_at=text))
    assert errors == [] and rows[0]["last_activity_at"] == expected
    assert rows[0]["last_activity_at"].utcoffset() is not None


@pytest.mark.parametrize("text, expected", [("true", True), ("YES", True), ("1", True), ("false", False),
                                            ("no", False), ("0", False), ("", False)])
def test_promotional_booleans(text, expected):
    header = list(SPECS["offers.csv"].columns)
    rows, errors = one("offers.csv", header, ["O1", "Offer", "", "", text, "", "2027-01-31"])
    assert errors == [] and rows[0]["promotional"] is expected and rows[0]["valid_until"] == date(2027, 1, 31)


def test_error_message_names_file_line_column_and_reason():
    _, errors = validate_rows("accounts.csv", ACCOUNTS, [(12, account(tier="gold"))])
    assert errors == [RowError("accounts.csv", 12, "tier", "'gold' is not one of strategic, standard, self_serve")]
    assert str(errors[0]) == "accounts.csv:12: column tier: 'gold' is not one of strategic, standard, self_serve"
    assert str(RowError("accounts.csv", 0, None, "not found")) == "accounts.csv: not found"


@pytest.mark.parametrize("column, value, reason", [
    ("consent_status", "yes", "'yes' is not one of granted, opted_out, unknown"),
    ("preferred_channel", "fax", "'fax' is not one of email, sms, call"),
    ("risk_level", "extreme", "is not one of low, medium, high"),
    ("relationship", "great", "is not one of strong, neutral, strained, unknown"),
    ("fit", "perfect", "is not one of high, medium, low, unknown"),
    ("last_activity_at", "last tuesday", "'last tuesday' is not an ISO 8601 date or date-time"),
    ("last_activity_at", "2026-02-30", "is not an ISO 8601"),
    ("owner_email", "not-an-email", "'not-an-email' is not an email address"),
    ("contact_email", "a@b", "is not an email address"),
    ("timezone", "Mars/Olympus", "'Mars/Olympus' is not an IANA time zone"),
    ("account_value", "1,5", "'1,5' is not a number"),
    ("account_value", "$100", "is not a number"),
    ("account_value", "-1", "must be a number from 0"),
    ("account_value", "NaN", "must be a number from 0"),
    ("account_value", "1e13", "must be a number from 0"),
    ("account_id", "  ", "is required"),
    ("name", "", "is required"),
    ("tier", "", "'' is not one of strategic"),
    ("account_id", "x" * (MAX_CELL + 1), f"cell is {MAX_CELL + 1:,} characters; the limit is {MAX_CELL:,}"),
    ("owner_email", "x" * (MAX_CELL + 1), f"cell is {MAX_CELL + 1:,} characters; the limit is {MAX_CELL:,}"),
    ("contact_name", "a\x00b", "contains a NUL character"),
])
def test_bad_cells(column, value, reason):
    rows, errors = one("accounts.csv", ACCOUNTS, account(**{column: value}))
    assert rows == [] and len(errors) == 1
    assert (errors[0].file, errors[0].line, errors[0].column) == ("accounts.csv", 2, column)
    assert reason in errors[0].reason


def test_every_error_is_collected_and_good_rows_kept():
    rows, errors = validate_rows("accounts.csv", ACCOUNTS, [
        (2, account(account_id="A1", tier="gold", timezone="Nowhere")),
        (3, account(account_id="A2")),
        (5, account(account_id="A3", fit="great")),  # line 4 was a continuation of a quoted cell
        (6, ["A4", "too few"]),
    ])
    assert [r["account_id"] for r in rows] == ["A2"]
    assert [(e.line, e.column) for e in errors] == [(2, "tier"), (2, "timezone"), (5, "fit"), (6, None)]
    assert errors[-1].reason == "has 2 cells; the header has 18"


def test_duplicate_keys_name_both_lines():
    rows, errors = validate_rows("accounts.csv", ACCOUNTS, [(2, account()), (3, account(account_id="A2")),
                                                            (7, account(account_id=" A1 "))])
    assert len(rows) == 2
    assert errors == [RowError("accounts.csv", 7, "account_id", "duplicate account_id 'A1': on lines 2 and 7")]


def test_composite_key_duplicates_compare_typed_values():
    header = ["account_id", "at", "type", "detail"]
    _, errors = validate_rows("activities.csv", header, [(2, ["A1", "2026-01-01", "login", ""]),
                                                         (3, ["A1", "2026-01-01T00:00:00Z", "login", "again"]),
                                                         (4, ["A1", "2026-01-01", "export", ""])])
    assert len(errors) == 1 and errors[0].line == 3 and "on lines 2 and 3" in errors[0].reason


def test_header_problems_are_reported_and_no_row_is_read():
    header = [c for c in ACCOUNTS if c != "fit"] + ["favourite_colour", "name"]
    rows, errors = validate_rows("accounts.csv", header, [(2, account())])
    assert rows == []
    reasons = [e.reason for e in errors]
    assert all(e.line == 1 for e in errors) and len(errors) == 3
    assert reasons[0] == "missing column(s): fit"
    assert reasons[1].startswith("unknown column(s): 'favourite_colour'")
    assert reasons[2] == "column(s) appear more than once: name"
    assert check_header("accounts.csv", [f" {c} " for c in reversed(ACCOUNTS)]) == []  # any order, spaces ok


def test_blank_lines_are_skipped():
    rows, errors = validate_rows("accounts.csv", ACCOUNTS, [(2, []), (3, [""] * len(ACCOUNTS)), (4, account())])
    assert errors == [] and [r[LINE] for r in rows] == [4]


def test_child_rows():
    header = list(SPECS["tickets.csv"].columns)
    rows, errors = validate_rows("tickets.csv", header, [
        (2, ["T1", "A1", "2026-01-01T10:00:00-05:00", "", "open", "high", "billing", "Invoice", "Body"]),
        (3, ["T2", "A1", "", "", "", "", "", "", ""]),
    ])
    assert rows[0]["opened_at"] == datetime(2026, 1, 1, 15, tzinfo=UTC) and rows[0]["closed_at"] is None
    assert rows[0]["opened_at"].utcoffset() == timedelta(0)
    assert [(e.line, e.column, e.reason) for e in errors] == [(3, "opened_at", "is required"),
                                                              (3, "status", "is required")]
    rows, errors = validate_rows("orders.csv", ["order_id", "account_id", "at", "amount", "description"],
                                 [(2, ["O1", "A1", "2025-05-01", "250.5", ""]), (3, ["O2", "A1", "2025-05-01", "", ""])])
    assert rows[0]["amount"] == Decimal("250.5") and errors[0].column == "amount"


def test_a_long_text_cell_is_cut_with_a_warning_not_refused():
    header = list(SPECS["notes.csv"].columns)
    body = "".join(chr(ord("a") + i % 26) for i in range(1_048_576))
    warnings: list[RowError] = []
    rows, errors = validate_rows("notes.csv", header, [(12, ["A1", "2026-01-01", "o@x.dormant", body])], warnings)
    assert errors == [] and rows[0]["body"] == body[:MAX_CELL]
    assert warnings == [RowError("notes.csv", 12, "body", f"1048576 characters, stored the first {MAX_CELL}")]
    assert str(warnings[0]) == f"notes.csv:12: column body: 1048576 characters, stored the first {MAX_CELL}"
    rows, errors = validate_rows("accounts.csv", ACCOUNTS, [(2, account(name="n" * (MAX_CELL + 5)))])
    assert errors == [] and rows[0]["name"] == "n" * MAX_CELL  # without a warnings list, still cut


def test_a_long_text_cell_does_not_hide_other_errors():
    warnings: list[RowError] = []
    rows, errors = validate_rows("accounts.csv", ACCOUNTS, [(2, account(contact_name="x" * (MAX_CELL + 1))),
                                                            (3, account(account_id="A2", tier="gold"))], warnings)
    assert [r["account_id"] for r in rows] == ["A1"]
    assert [(e.line, e.column) for e in errors] == [(3, "tier")]
    assert [(w.line, w.column) for w in warnings] == [(2, "contact_name")]
    _, errors = validate_rows("accounts.csv", ACCOUNTS, [(2, account(contact_name="\x00" + "x" * MAX_CELL))])
    assert [e.reason for e in errors] == ["contains a NUL character"]


def test_only_free_text_columns_are_cut():
    cuttable = {name: [c for c in spec.columns if spec.cuttable(c)] for name, spec in SPECS.items()}
    assert cuttable["notes.csv"] == ["body"]
    assert "account_id" not in cuttable["tickets.csv"] and "ticket_id" not in cuttable["tickets.csv"]
    assert {"subject", "body"} <= set(cuttable["tickets.csv"])
    assert not {"owner_email", "tier", "currency", "timezone", "account_value"} & set(cuttable["accounts.csv"])
