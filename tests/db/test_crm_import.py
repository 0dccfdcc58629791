"""`dormant import` on a real PostgreSQL: all or nothing, errors with file/line/column, re-import is a no-op."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from db.crm_events import record_event
from db.crm_import import ImportFailed, import_directory
from db.evidence_queries import load_evidence
from dormant.demo import DEMO_DATA
from reactivation.crm_schema import MAX_CELL, SPECS
from reactivation.policy import assess
from reactivation.vocabulary import Path as ReviewPath

ACCOUNT_COLUMNS = list(SPECS["accounts.csv"].columns)
TABLES = {"accounts": "account_id", "tickets": "account_id", "orders": "account_id", "activities": "account_id",
          "notes": "account_id", "offers": "offer_id"}


def write(directory: Path, name: str, rows: list[dict], columns: list[str] | None = None) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    columns = columns or list(SPECS[name].columns)
    with open(directory / name, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def acct(account_id: str, **overrides) -> dict:
    row = dict.fromkeys(ACCOUNT_COLUMNS, "")
    row.update(account_id=account_id, name="Acme", tier="standard", owner_email="o@x.dormant",
               account_value="1000", last_activity_at="2026-01-01", consent_status="granted")
    return row | overrides


def good_set(directory: Path, prefix: str) -> None:
    """One of every file; accounts on lines 2-3, each child file's row on line 2."""
    write(directory, "accounts.csv", [acct(f"{prefix}-1"), acct(f"{prefix}-2", consent_status="", account_value="")])
    write(directory, "tickets.csv", [{"ticket_id": f"{prefix}-t", "account_id": f"{prefix}-1", "opened_at": "2025-06-01",
                                      "closed_at": "", "status": "open", "severity": "high", "subject": "Invoice"}])
    write(directory, "orders.csv", [{"order_id": f"{prefix}-o", "account_id": f"{prefix}-1", "at": "2025-05-01",
                                     "amount": "250.50", "description": "Annual plan"}])
    write(directory, "activities.csv", [{"account_id": f"{prefix}-1", "at": "2025-12-01T10:00:00Z", "type": "login"}])
    write(directory, "notes.csv", [{"account_id": f"{prefix}-2", "at": "2025-11-01", "author_email": "o@x.dormant",
                                    "body": "Quiet since the reorg"}])
    # Its own segment: an offer open to every segment would join every later test's evidence pack.
    write(directory, "offers.csv", [{"offer_id": f"{prefix}-off", "name": "Offer", "promotional": "yes",
                                     "segment": f"{prefix}-segment"}])


async def stored(conn: asyncpg.Connection, prefix: str) -> dict[str, int]:
    return {table: await conn.fetchval(f"SELECT count(*) FROM {table} WHERE {key} LIKE $1", f"{prefix}-%")
            for table, key in TABLES.items()}


async def test_import_lands_then_reimport_is_a_no_op_and_changes_update(pool, prefix, tmp_path):
    good_set(tmp_path, prefix)
    calls = []
    async with pool.acquire() as conn:
        first = await import_directory(conn, tmp_path, progress=lambda *a: calls.append(a))
        assert {n: (c.rows, c.inserted, c.updated) for n, c in first.files.items()} == {
            "accounts.csv": (2, 2, 0), "offers.csv": (1, 1, 0), "tickets.csv": (1, 1, 0), "orders.csv": (1, 1, 0),
            "activities.csv": (1, 1, 0), "notes.csv": (1, 1, 0)}
        assert "accounts.csv: 2 rows (2 new, 0 updated, 0 unchanged)" in first.summary()
        assert await stored(conn, prefix) == dict.fromkeys(TABLES, 1) | {"accounts": 2}
        size = (tmp_path / "notes.csv").stat().st_size
        assert calls[-1] == ("notes.csv", 1, size, size) and [c[:2] for c in calls].count(("accounts.csv", 2)) == 1
        sources = {r["source"]: r["rows"] for r in await conn.fetch("SELECT source, rows FROM crm_sources")}
        assert {"accounts", "tickets", "orders", "activities", "notes", "offers"} <= set(sources)
        before = {r["account_id"]: r["updated_at"] for r in await conn.fetch(
            "SELECT account_id, updated_at FROM accounts WHERE account_id LIKE $1", f"{prefix}-%")}

        again = await import_directory(conn, tmp_path)
        assert all(c.inserted == 0 and c.updated == 0 and c.unchanged == c.rows for c in again.files.values())

        write(tmp_path, "accounts.csv", [acct(f"{prefix}-1", name="Acme Renamed", tier="strategic"),
                                         acct(f"{prefix}-2", consent_status="", account_value="")])
        write(tmp_path, "orders.csv", [{"order_id": f"{prefix}-o", "account_id": f"{prefix}-1", "at": "2025-05-01",
                                        "amount": "300", "description": "Annual plan"}])
        changed = await import_directory(conn, tmp_path)
        assert (changed.files["accounts.csv"].updated, changed.files["accounts.csv"].unchanged) == (1, 1)
        assert changed.files["orders.csv"].updated == 1 and changed.files["tickets.csv"].unchanged == 1
        rows = {r["account_id"]: r for r in await conn.fetch(
            "SELECT * FROM accounts WHERE account_id LIKE $1", f"{prefix}-%")}
        amount = await conn.fetchval("SELECT amount FROM orders WHERE order_id = $1", f"{prefix}-o")
    assert (rows[f"{prefix}-1"]["name"], rows[f"{prefix}-1"]["tier"]) == ("Acme Renamed", "strategic")
    assert rows[f"{prefix}-1"]["updated_at"] > before[f"{prefix}-1"]
    assert rows[f"{prefix}-2"]["updated_at"] == before[f"{prefix}-2"]  # unchanged rows are not touched
    assert rows[f"{prefix}-2"]["consent_status"] == "unknown" and rows[f"{prefix}-2"]["account_value"] is None
    assert amount == 300


def _bad(name: str, rows: list[dict], columns: list[str] | None = None):
    def apply(directory: Path, prefix: str) -> None:
        write(directory, name, [{k: v.replace("{p}", prefix) for k, v in r.items()} for r in rows], columns)
    return apply


def _raw(name: str, data: bytes):
    def apply(directory: Path, prefix: str) -> None:
        (directory / name).write_bytes(data.replace(b"{p}", prefix.encode()))
    return apply


NOTES = b"account_id,at,author_email,body\n"
BAD = {
    "wrong enum": (_bad("accounts.csv", [acct("{p}-1"), acct("{p}-2", tier="gold")]),
                   ("accounts.csv", 3, "tier", "'gold' is not one of strategic, standard, self_serve")),
    "bad date": (_bad("tickets.csv", [{"ticket_id": "{p}-t", "account_id": "{p}-1", "opened_at": "31/12/2025",
                                       "status": "open"}]),
                 ("tickets.csv", 2, "opened_at", "'31/12/2025' is not an ISO 8601 date")),
    "duplicate id": (_bad("accounts.csv", [acct("{p}-1"), acct("{p}-2"), acct("{p}-1")]),
                     ("accounts.csv", 4, "account_id", "duplicate account_id '{p}-1': on lines 2 and 4")),
    "unknown column": (_bad("offers.csv", [{"offer_id": "{p}-off", "name": "x"}],
                            list(SPECS["offers.csv"].columns) + ["discount"]),
                       ("offers.csv", 1, None, "unknown column(s): 'discount'")),
    "missing column": (_bad("accounts.csv", [acct("{p}-1")], ACCOUNT_COLUMNS[:-1]),
                       ("accounts.csv", 1, None, "missing column(s): fit")),
    "huge key cell": (_bad("notes.csv", [{"account_id": "{p}-1", "at": "2026-01-01", "author_email": "x" * 200_000,
                                          "body": "ok"}]),
                      ("notes.csv", 2, "author_email", "cell is 200,000 characters; the limit is 100,000")),
    "non-UTF-8": (_raw("notes.csv", NOTES + b"{p}-1,2026-01-01,a@x.dormant,ok\n{p}-1,2026-01-02,,caf\xe9\n"),
                  ("notes.csv", 3, None, "is not UTF-8: byte 0xe9")),
    "unknown account": (_bad("orders.csv", [{"order_id": "{p}-o", "account_id": "{p}-ghost", "at": "2025-01-01",
                                             "amount": "1"}]),
                        ("orders.csv", 2, "account_id", "account '{p}-ghost' is neither in accounts.csv nor")),
    "multi-line cell then bad row": (
        _raw("notes.csv", NOTES + b'{p}-1,2026-01-01,,"line one\nline two"\n{p}-1,yesterday,,x\n'),
        ("notes.csv", 4, "at", "'yesterday' is not an ISO 8601")),
    "unknown file": (_raw("contacts.csv", b"a,b\n1,2\n"), ("contacts.csv", 0, None, "unknown file")),
}


@pytest.mark.parametrize("case", list(BAD))
async def test_bad_files_are_reported_and_nothing_is_stored(pool, prefix, tmp_path, case):
    good_set(tmp_path, prefix)
    mutate, (file, line, column, reason) = BAD[case]
    mutate(tmp_path, prefix)
    async with pool.acquire() as conn:
        sources_before = await conn.fetch("SELECT * FROM crm_sources ORDER BY source")
        with pytest.raises(ImportFailed) as failed:
            await import_directory(conn, tmp_path)
        assert await stored(conn, prefix) == dict.fromkeys(TABLES, 0)
        assert await conn.fetch("SELECT * FROM crm_sources ORDER BY source") == sources_before
    errors = failed.value.errors
    assert len(errors) == 1, errors
    error = errors[0]
    assert (error.file, error.line, error.column) == (file, line, column)
    assert reason.replace("{p}", prefix) in error.reason
    assert str(error) in str(failed.value)


async def test_every_problem_in_every_file_is_reported_at_once(pool, prefix, tmp_path):
    good_set(tmp_path, prefix)
    write(tmp_path, "accounts.csv", [acct(f"{prefix}-{i}", fit="great") for i in range(60)])
    write(tmp_path, "orders.csv", [{"order_id": f"{prefix}-o", "account_id": f"{prefix}-1", "at": "x", "amount": "1"}])
    async with pool.acquire() as conn:
        with pytest.raises(ImportFailed) as failed:
            await import_directory(conn, tmp_path)
        assert await stored(conn, prefix) == dict.fromkeys(TABLES, 0)
    errors = failed.value.errors
    assert len(errors) == 61 and {e.file for e in errors} == {"accounts.csv", "orders.csv"}
    # an account row with errors does not make its children look orphaned
    assert not any("neither" in e.reason for e in errors)
    message = str(failed.value)
    assert message.startswith("61 problem(s), nothing was stored:") and message.endswith("... and 11 more")


async def test_children_may_reference_accounts_already_stored(pool, prefix, tmp_path):
    write(tmp_path / "a", "accounts.csv", [acct(f"{prefix}-1")])
    write(tmp_path / "b", "accounts.csv", [])
    write(tmp_path / "b", "tickets.csv", [{"ticket_id": f"{prefix}-t", "account_id": f"{prefix}-1",
                                           "opened_at": "2026-01-01", "status": "closed"}])
    async with pool.acquire() as conn:
        await import_directory(conn, tmp_path / "a")
        report = await import_directory(conn, tmp_path / "b")
        assert report.files["tickets.csv"].inserted == 1 and report.files["accounts.csv"].rows == 0
        assert await conn.fetchval("SELECT rows FROM crm_sources WHERE source = 'tickets'") == 1


async def test_missing_accounts_file(pool, tmp_path):
    async with pool.acquire() as conn:
        with pytest.raises(ImportFailed, match=r"accounts.csv: not found in .* \(it is required\)"):
            await import_directory(conn, tmp_path)


async def test_bom_and_crlf_are_read(pool, prefix, tmp_path):
    header = ",".join(ACCOUNT_COLUMNS)
    row = ",".join(acct(f"{prefix}-1", name="Café Noir").values())
    (tmp_path / "accounts.csv").write_bytes(f"\ufeff{header}\r\n{row}\r\n".encode())
    async with pool.acquire() as conn:
        await import_directory(conn, tmp_path)
        assert await conn.fetchval("SELECT name FROM accounts WHERE account_id = $1", f"{prefix}-1") == "Café Noir"


async def test_old_mac_line_endings_and_quoted_line_breaks_keep_their_line_numbers(pool, prefix, tmp_path):
    """Excel's "CSV (Macintosh)" ends lines with a lone CR; errors still name the physical line."""
    header = ",".join(ACCOUNT_COLUMNS)
    good = ",".join(acct(f"{prefix}-1", inactivity_reason='"moved\r\noffices"').values())
    bad = ",".join(acct(f"{prefix}-2", tier="gold").values())
    (tmp_path / "accounts.csv").write_bytes(f"{header}\r{good}\r{bad}\r".encode())
    async with pool.acquire() as conn:
        with pytest.raises(ImportFailed) as failed:
            await import_directory(conn, tmp_path)
    assert [(e.line, e.column) for e in failed.value.errors] == [(4, "tier")]


async def test_an_import_never_lifts_an_opt_out_or_rewinds_activity(pool, prefix, tmp_path):
    a, b = f"{prefix}-1", f"{prefix}-2"
    async with pool.acquire() as conn:
        # an opt-out that arrives before the account was ever imported still counts
        await record_event(conn, b, "opt_out", datetime(2026, 1, 5, tzinfo=UTC), "unsubscribe link")
        write(tmp_path, "accounts.csv", [acct(a), acct(b)])
        first = await import_directory(conn, tmp_path)
        assert first.files["accounts.csv"].kept_opt_out == 1
        await record_event(conn, a, "opt_out", datetime(2026, 2, 1, tzinfo=UTC), "replied STOP")
        await record_event(conn, a, "activity", datetime(2026, 3, 1, tzinfo=UTC), "login")
        write(tmp_path, "accounts.csv", [acct(a, name="Acme 2"), acct(b)])  # a stale export says "granted"
        report = await import_directory(conn, tmp_path)
        assert report.files["accounts.csv"].updated == 1 and report.files["accounts.csv"].kept_opt_out == 2
        assert "2 opt-out(s) kept" in report.summary()
        rows = {r["account_id"]: r for r in await conn.fetch(
            "SELECT account_id, name, consent_status, last_activity_at FROM accounts WHERE account_id LIKE $1",
            f"{prefix}-%")}
        again = await import_directory(conn, tmp_path)
        assert again.files["accounts.csv"].updated == 0
    assert rows[a]["name"] == "Acme 2"
    assert rows[a]["consent_status"] == "opted_out" and rows[b]["consent_status"] == "opted_out"
    assert rows[a]["last_activity_at"] == datetime(2026, 3, 1, tzinfo=UTC)


async def test_large_import_reports_progress(pool, prefix, tmp_path):
    """Progress is reported in batches on large files (the 100k timing lives in bench/import_100k.py)."""
    with open(tmp_path / "accounts.csv", "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(ACCOUNT_COLUMNS)
        for i in range(25_000):
            out.writerow([f"{prefix}-{i}", f"Account {i}", "smb", "standard", "o@x.dormant", "1200.00", "USD",
                          "2025-01-01T00:00:00Z", "email", "Pat", f"pat{i}@example.com", "", "Europe/Berlin",
                          "granted", "", "low", "neutral", "high"])
    calls = []
    async with pool.acquire() as conn:
        tx = conn.transaction()  # rolled back: other tests' dormancy scans never see these accounts
        await tx.start()
        try:
            report = await import_directory(conn, tmp_path, progress=lambda *a: calls.append(a))
            assert report.files["accounts.csv"].inserted == 25_000
        finally:
            await tx.rollback()
    size = (tmp_path / "accounts.csv").stat().st_size
    assert calls[0][:2] == ("accounts.csv", 0) and calls[-1] == ("accounts.csv", 25_000, size, size)
    assert len(calls) >= 4 and [c[1] for c in calls] == sorted(c[1] for c in calls)


async def test_demo_data_imports_and_reaches_every_path(pool):
    async with pool.acquire() as conn:
        report = await import_directory(conn, DEMO_DATA)
        assert report.files["accounts.csv"].rows >= 60
        ids = [r["account_id"] for r in await conn.fetch("SELECT account_id FROM accounts WHERE account_id LIKE 'ACC-%'")]
        now = datetime(2026, 11, 22, tzinfo=UTC)
        paths, flags = set(), set()
        for account_id in ids:
            result = assess(await load_evidence(conn, account_id, now), now)
            paths.add(result.path)
            flags.update(result.flags)
    assert paths == set(ReviewPath)
    assert {"unresolved_issue", "high_risk", "high_context", "conflicting_context", "poor_timing", "consent",
            "account_value", "relationship_owner"} <= flags


async def test_an_import_records_when_it_changes_consent(pool, prefix, tmp_path):
    """The re-entry policy reopens a suppressed account only after a consent change, so the import dates it."""
    a, b = f"{prefix}-1", f"{prefix}-2"
    query = "SELECT account_id, consent_changed_at FROM accounts WHERE account_id LIKE $1"
    async with pool.acquire() as conn:
        write(tmp_path, "accounts.csv", [acct(a, consent_status=""), acct(b)])
        await import_directory(conn, tmp_path)
        new = dict(await conn.fetch(query, f"{prefix}-%"))
        write(tmp_path, "accounts.csv", [acct(a, consent_status="granted"), acct(b, name="Renamed")])
        await import_directory(conn, tmp_path)
        changed = dict(await conn.fetch(query, f"{prefix}-%"))
        await import_directory(conn, tmp_path)
        again = dict(await conn.fetch(query, f"{prefix}-%"))
    assert new == {a: None, b: None}  # a new account had no stored consent to change
    assert changed[a] is not None and changed[b] is None  # another column changing is not a consent change
    assert again == changed


def long_note(directory: Path, prefix: str) -> str:
    """notes.csv with a 1 MB body on line 3 (line 2 is a short note); returns that body."""
    body = "".join(chr(ord("a") + i % 26) for i in range(1_048_576))
    write(directory, "notes.csv", [
        {"account_id": f"{prefix}-2", "at": "2025-11-01", "author_email": "o@x.dormant", "body": "Quiet"},
        {"account_id": f"{prefix}-1", "at": "2025-11-02", "author_email": "o@x.dormant", "body": body}])
    return body


async def test_a_long_text_is_stored_cut_with_a_warning(pool, prefix, tmp_path):
    good_set(tmp_path, prefix)
    body = long_note(tmp_path, prefix)
    async with pool.acquire() as conn:
        report = await import_directory(conn, tmp_path)
        stored_body = await conn.fetchval("SELECT body FROM notes WHERE account_id = $1", f"{prefix}-1")
        counts = await stored(conn, prefix)
    assert counts == {"accounts": 2, "tickets": 1, "orders": 1, "activities": 1, "notes": 2, "offers": 1}
    assert stored_body == body[:MAX_CELL]
    assert report.files["notes.csv"].inserted == 2
    assert [str(w) for w in report.warnings] == [
        f"notes.csv:3: column body: 1048576 characters, stored the first {MAX_CELL}"]
    assert (report.warnings[0].file, report.warnings[0].line, report.warnings[0].column) == ("notes.csv", 3, "body")


async def test_a_long_text_does_not_let_a_structural_error_through(pool, prefix, tmp_path):
    good_set(tmp_path, prefix)
    long_note(tmp_path, prefix)
    write(tmp_path, "accounts.csv", [acct(f"{prefix}-1"), acct(f"{prefix}-2", tier="gold")])
    async with pool.acquire() as conn:
        sources_before = await conn.fetch("SELECT * FROM crm_sources ORDER BY source")
        with pytest.raises(ImportFailed) as failed:
            await import_directory(conn, tmp_path)
        assert await stored(conn, prefix) == dict.fromkeys(TABLES, 0)
        assert await conn.fetch("SELECT * FROM crm_sources ORDER BY source") == sources_before
    assert [(e.file, e.line, e.column) for e in failed.value.errors] == [("accounts.csv", 3, "tier")]
    assert [(w.file, w.line, w.column) for w in failed.value.warnings] == [("notes.csv", 3, "body")]


async def test_cli_import_prints_the_warnings_and_exits_0(pool, migrated_db, prefix, tmp_path, capsys):
    import asyncio

    from config.settings import load_settings
    from dormant.cli import build_parser

    good_set(tmp_path, prefix)
    long_note(tmp_path, prefix)
    args = build_parser().parse_args(["import", str(tmp_path)])
    assert await asyncio.to_thread(args.func, args, load_settings(database_url=migrated_db)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("accounts.csv: 2 rows (2 new")
    assert lines[1:] == ["1 warning(s):",
                         f"  notes.csv:3: column body: 1048576 characters, stored the first {MAX_CELL}"]


async def test_a_file_where_every_line_is_wrong_lists_the_first_thousand_and_counts_the_rest(pool, prefix, tmp_path):
    """A wrong delimiter makes every line an error; the report stays readable and its count is exact."""
    lines = [";".join(ACCOUNT_COLUMNS)] + [f"{prefix}-{i};Acme;smb" for i in range(1_500)]
    (tmp_path / "accounts.csv").write_text(",".join(ACCOUNT_COLUMNS) + "\n" + "\n".join(lines[1:]) + "\n")
    async with pool.acquire() as conn:
        with pytest.raises(ImportFailed) as failed:
            await import_directory(conn, tmp_path)
        assert await stored(conn, prefix) == dict.fromkeys(TABLES, 0)
    assert len(failed.value.errors) == 1_000 and failed.value.errors[0].line == 2
    assert str(failed.value).startswith("1500 problem(s), nothing was stored:")
    assert str(failed.value).endswith("... and 1450 more")


async def test_duplicates_far_apart_and_orphans_are_found_across_batches(pool, prefix, tmp_path):
    """Repeated keys and unknown accounts are checked on the whole file, not per COPY batch."""
    rows = [acct(f"{prefix}-{i}") for i in range(12_000)] + [acct(f"{prefix}-7")]
    write(tmp_path, "accounts.csv", rows)
    write(tmp_path, "orders.csv", [{"order_id": f"{prefix}-o{i}", "account_id": f"{prefix}-{i * 1000}",
                                    "at": "2025-05-01", "amount": "1"} for i in range(15)])
    async with pool.acquire() as conn:
        with pytest.raises(ImportFailed) as failed:
            await import_directory(conn, tmp_path)
    found = [(e.file, e.line, e.reason) for e in failed.value.errors]
    assert found[0] == ("accounts.csv", 12_002, f"duplicate account_id '{prefix}-7': on lines 9 and 12002")
    assert [(f, line) for f, line, _ in found[1:]] == [("orders.csv", 14), ("orders.csv", 15), ("orders.csv", 16)]


async def _accounts_maintenance(conn: asyncpg.Connection) -> tuple[int, int]:
    row = await conn.fetchrow("SELECT vacuum_count, analyze_count FROM pg_stat_user_tables "
                              "WHERE relid = 'accounts'::regclass")
    return row["vacuum_count"], row["analyze_count"]


async def test_an_import_ends_with_vacuum_so_the_first_scan_does_not_read_the_heap(pool, prefix, tmp_path):
    """After a bulk load the dormancy scan's index-only pages visit the heap for every row until the visibility
    map is set (7.6-9.8 s instead of ~3 s for a million accounts): the import runs VACUUM (ANALYZE) itself.
    Inside a caller's transaction, where VACUUM cannot run, the import still lands and analyses."""
    write(tmp_path, "accounts.csv", [acct(f"{prefix}-{n}") for n in range(50)])
    async with pool.acquire() as conn:
        vacuums, analyses = await _accounts_maintenance(conn)
        await import_directory(conn, tmp_path)
        assert await _accounts_maintenance(conn) == (vacuums + 1, analyses + 1)
        write(tmp_path, "accounts.csv", [acct(f"{prefix}-{n}", name="Renamed") for n in range(50)])
        async with conn.transaction():
            report = await import_directory(conn, tmp_path)
        assert report.files["accounts.csv"].updated == 50
        assert await _accounts_maintenance(conn) == (vacuums + 1, analyses + 2)
