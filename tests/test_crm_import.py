"""`dormant import`: all or nothing, clear errors with file/line/column, re-import is a no-op."""

from __future__ import annotations

import csv
from datetime import datetime, timezone
from pathlib import Path

import pytest

from db.crm_import import ImportFailed, import_directory
from db.evidence_queries import load_evidence
from dormant.demo import DEMO_DATA
from reactivation.crm_schema import SPECS
from reactivation.models import Path as ReviewPath
from reactivation.policy import assess

ACCOUNT_COLUMNS = list(SPECS["accounts.csv"].columns)


def write(directory: Path, name: str, rows: list[dict], columns: list[str] | None = None) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / name, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns or list(SPECS[name].columns))
        writer.writeheader()
        writer.writerows(rows)


def acct(account_id: str, **overrides) -> dict:
    row = dict.fromkeys(ACCOUNT_COLUMNS, "")
    row.update(account_id=account_id, name="Acme", tier="standard", owner_email="o@x.dormant",
               account_value="1000", last_activity_at="2026-01-01", consent_status="granted")
    row.update(overrides)
    return row


async def test_import_then_reimport_is_a_no_op_and_changes_update(pool, prefix, tmp_path):
    write(tmp_path, "accounts.csv", [acct(f"{prefix}-1"), acct(f"{prefix}-2", consent_status="", account_value="")])
    write(tmp_path, "orders.csv", [{"order_id": f"{prefix}-o", "account_id": f"{prefix}-1", "at": "2025-05-01",
                                    "amount": "250.50", "description": "Annual plan"}])
    async with pool.acquire() as conn:
        first = await import_directory(conn, tmp_path)
        assert first.files["accounts.csv"].inserted == 2 and first.files["orders.csv"].inserted == 1
        again = await import_directory(conn, tmp_path)
        assert all(c.inserted == 0 and c.updated == 0 for c in again.files.values())
        write(tmp_path, "accounts.csv", [acct(f"{prefix}-1", name="Acme Renamed"),
                                         acct(f"{prefix}-2", consent_status="", account_value="")])
        changed = await import_directory(conn, tmp_path)
        assert changed.files["accounts.csv"].updated == 1 and changed.files["accounts.csv"].unchanged == 1
        blank = await conn.fetchrow("SELECT consent_status, account_value FROM accounts WHERE account_id = $1",
                                    f"{prefix}-2")
    assert blank["consent_status"] == "unknown" and blank["account_value"] is None


@pytest.mark.parametrize("name, rows, columns, expected", [
    ("accounts.csv", [{"tier": "gold"}], None, "accounts.csv:3: column tier: 'gold' is not one of"),
    ("accounts.csv", [{"last_activity_at": "last tuesday"}], None, "column last_activity_at: 'last tuesday'"),
    ("accounts.csv", [{}, {}], None, "accounts.csv:4: column account_id: duplicate"),
    ("accounts.csv", [{"timezone": "Mars/Olympus"}], None, "is not an IANA time zone"),
    ("accounts.csv", [{"name": "x" * 100_001}], None, "column name: cell is 100001 characters"),
    ("accounts.csv", [{}], ACCOUNT_COLUMNS + ["favourite_colour"], "unknown column(s): favourite_colour"),
    ("accounts.csv", [{}], ACCOUNT_COLUMNS[:-1], "missing column(s): fit"),
])
async def test_bad_rows_are_reported_and_nothing_is_stored(pool, prefix, tmp_path, name, rows, columns, expected):
    good = {"account_id": f"{prefix}-ok"}
    keep = columns or ACCOUNT_COLUMNS
    all_rows = [acct(f"{prefix}-ok")] + [acct(f"{prefix}-bad", **r) for r in rows]
    write(tmp_path, "accounts.csv", [{k: v for k, v in row.items() if k in keep} for row in all_rows], columns=keep)
    write(tmp_path, "offers.csv", [{"offer_id": f"{prefix}-off", "name": "Offer", "description": "", "kind": "",
                                    "promotional": "yes", "segment": "", "valid_until": ""}])
    async with pool.acquire() as conn:
        with pytest.raises(ImportFailed) as failed:
            await import_directory(conn, tmp_path)
        assert expected in str(failed.value)
        assert await conn.fetchval("SELECT count(*) FROM accounts WHERE account_id = $1", good["account_id"]) == 0
        assert await conn.fetchval("SELECT count(*) FROM offers WHERE offer_id = $1", f"{prefix}-off") == 0


async def test_non_utf8_and_unknown_account_are_reported(pool, prefix, tmp_path):
    write(tmp_path, "accounts.csv", [acct(f"{prefix}-1")])
    (tmp_path / "notes.csv").write_bytes(b"account_id,at,author_email,body\n" +
                                         f"{prefix}-1,2026-01-01,a@x.dormant,".encode() + b"caf\xe9\n")
    async with pool.acquire() as conn:
        with pytest.raises(ImportFailed, match=r"notes.csv:2: is not UTF-8"):
            await import_directory(conn, tmp_path)
        write(tmp_path, "notes.csv", [{"account_id": f"{prefix}-ghost", "at": "2026-01-01", "author_email": "",
                                       "body": "hello"}])
        with pytest.raises(ImportFailed, match=r"notes.csv:2: column account_id: account '.*-ghost' is neither"):
            await import_directory(conn, tmp_path)
        assert await conn.fetchval("SELECT count(*) FROM accounts WHERE account_id = $1", f"{prefix}-1") == 0


async def test_demo_data_imports_and_reaches_every_path(pool):
    async with pool.acquire() as conn:
        report = await import_directory(conn, DEMO_DATA)
        assert report.files["accounts.csv"].rows >= 60
        ids = [r["account_id"] for r in await conn.fetch("SELECT account_id FROM accounts WHERE account_id LIKE 'ACC-%'")]
        now = datetime(2026, 11, 22, tzinfo=timezone.utc)
        paths, flags = set(), set()
        for account_id in ids:
            result = assess(await load_evidence(conn, account_id, now), now)
            paths.add(result.path)
            flags.update(result.flags)
    assert paths == set(ReviewPath)
    assert {"unresolved_issue", "high_risk", "high_context", "conflicting_context", "poor_timing", "consent",
            "account_value", "relationship_owner"} <= flags
