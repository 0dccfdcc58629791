"""`dormant import DIR`: load CRM CSV exports into the CRM store, all or nothing.

Every file is read and validated first (reactivation.crm_schema) and every error collected, including
child rows whose account is neither in accounts.csv nor already stored; if there is any, ImportFailed
lists them and nothing is stored. A free-text cell over the cell limit is not an error: it is stored cut
to the limit and the report's warnings name it (file, line, column, original length). Then all files are
applied in one transaction: COPY into a temp table (fast: 100,000 accounts take seconds), then one upsert
per file that only touches rows that really changed, so re-importing the same export is a no-op and
changed rows are updated (accounts.updated_at moves only for those).

Two facts the service learned itself outrank a CRM export, because an export can be older than them:
an opt-out (the account is opted_out, or an opt_out CRM event was received) is never lifted by an import,
and last_activity_at never moves backwards. Rows absent from a file are left alone (this is an upsert,
not a mirror).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import asyncpg

from reactivation.crm_schema import IMPORT_ORDER, LINE, SPECS, FileSpec, RowError, validate_rows

BATCH = 10_000
MAX_SHOWN = 50
Progress = Callable[[str, int, int], None]

# The csv module's own limit (128 KiB) would stop at a big cell without naming its column; MAX_CELL in
# crm_schema is the real limit, checked with the column's name.
csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))


# When an import changes a stored account's consent, remember when: an opted-out or suppressed account is
# reopened only by a consent change after its last episode ended (reactivation/reentry.py). A new account
# has no stored consent to change, so it keeps NULL.
CONSENT_CHANGED = """, consent_changed_at = CASE WHEN cur.consent_status IS DISTINCT FROM EXCLUDED.consent_status
                                         THEN now() ELSE cur.consent_changed_at END"""


class ImportFailed(Exception):
    """The import was refused and nothing was stored; errors holds every problem found."""

    def __init__(self, errors: list[RowError], warnings: list[RowError] | None = None):
        self.errors = errors
        self.warnings = warnings or []  # cells that would have been cut; not the reason for the refusal
        shown = "\n".join(f"  {e}" for e in errors[:MAX_SHOWN])
        more = f"\n  ... and {len(errors) - MAX_SHOWN} more" if len(errors) > MAX_SHOWN else ""
        super().__init__(f"{len(errors)} problem(s), nothing was stored:\n{shown}{more}")


@dataclass
class FileCounts:
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    kept_opt_out: int = 0  # accounts.csv rows whose consent was not applied because the account opted out

    @property
    def unchanged(self) -> int:
        return self.rows - self.inserted - self.updated


@dataclass
class ImportReport:
    files: dict[str, FileCounts] = field(default_factory=dict)
    warnings: list[RowError] = field(default_factory=list)  # e.g. a long text cell stored cut to the limit

    def summary(self) -> str:
        parts = []
        for name, c in self.files.items():
            kept = f", {c.kept_opt_out} opt-out(s) kept" if c.kept_opt_out else ""
            parts.append(f"{name}: {c.rows} rows ({c.inserted} new, {c.updated} updated, "
                         f"{c.unchanged} unchanged{kept})")
        return "; ".join(parts)


@dataclass
class _Loaded:
    rows: list[dict]
    errors: list[RowError]
    warnings: list[RowError] = field(default_factory=list)
    raw_ids: set[str] = field(default_factory=set)  # account_id cells of every row, valid or not


def _read(path: Path, spec: FileSpec) -> _Loaded:
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _Loaded([], [RowError(spec.name, 1, None, "is UTF-16; save it as UTF-8")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        return _Loaded([], [RowError(spec.name, line, None, f"is not UTF-8: byte {raw[err.start]:#04x} "
                                                           f"at offset {err.start}; save the file as UTF-8")])
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return _Loaded([], [RowError(spec.name, 1, None, "the file is empty (a header row is required)")])
    except csv.Error as err:
        return _Loaded([], [RowError(spec.name, 1, None, f"unreadable CSV: {err}")])
    loaded = _Loaded([], [])
    names = [h.strip() for h in header]
    id_at = names.index("account_id") if "account_id" in names else None

    def numbered() -> Iterator[tuple[int, list[str]]]:
        start = reader.line_num + 1  # physical lines: a quoted cell may span several
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as err:
                loaded.errors.append(RowError(spec.name, start, None, f"unreadable CSV: {err}"))
            else:
                if id_at is not None and len(cells) > id_at:
                    loaded.raw_ids.add(cells[id_at].strip())
                yield start, cells
            start = reader.line_num + 1

    loaded.rows, row_errors = validate_rows(spec.name, header, numbered(), loaded.warnings)
    loaded.errors += row_errors
    return loaded


async def _unknown_accounts(conn: asyncpg.Connection, files: dict[str, _Loaded]) -> list[RowError]:
    """Child rows whose account is in neither accounts.csv nor the store (rows found are locked)."""
    accounts = files.get("accounts.csv")
    if accounts and accounts.errors and not accounts.raw_ids:
        return []  # accounts.csv could not be read at all: every child row would look orphaned
    known = accounts.raw_ids if accounts else set()
    wanted = {r["account_id"] for name, f in files.items() if SPECS[name].child for r in f.rows} - known
    if wanted:
        found = await conn.fetch("SELECT account_id FROM accounts WHERE account_id = ANY($1::text[]) FOR KEY SHARE",
                                 list(wanted))
        known = known | {r["account_id"] for r in found}
    return [RowError(name, row[LINE], "account_id",
                     f"account {row['account_id']!r} is neither in accounts.csv nor already imported")
            for name, f in files.items() if SPECS[name].child for row in f.rows if row["account_id"] not in known]


async def _protect_account_facts(conn: asyncpg.Connection, temp: str) -> int:
    """Keep opt-outs and newer activity the service already knows; returns how many opt-outs were kept."""
    status = await conn.execute(
        f"""UPDATE {temp} t SET consent_status = 'opted_out'
            WHERE t.consent_status <> 'opted_out'
              AND (EXISTS (SELECT 1 FROM accounts a WHERE a.account_id = t.account_id
                                                     AND a.consent_status = 'opted_out')
                   OR EXISTS (SELECT 1 FROM crm_events e WHERE e.account_id = t.account_id
                                                       AND e.type = 'opt_out'))""")
    await conn.execute(
        f"""UPDATE {temp} t SET last_activity_at = a.last_activity_at FROM accounts a
            WHERE a.account_id = t.account_id AND a.last_activity_at IS NOT NULL
              AND (t.last_activity_at IS NULL OR t.last_activity_at < a.last_activity_at)""")
    return int(status.split()[-1])


async def _apply(conn: asyncpg.Connection, spec: FileSpec, rows: list[dict], progress: Progress | None) -> FileCounts:
    columns = list(spec.columns)
    temp = f"import_{spec.table}"
    await conn.execute(f"DROP TABLE IF EXISTS pg_temp.{temp}")
    await conn.execute(f"CREATE TEMP TABLE {temp} (LIKE {spec.table} INCLUDING DEFAULTS) ON COMMIT DROP")
    if progress:
        progress(spec.name, 0, len(rows))
    for start in range(0, len(rows), BATCH):
        batch = rows[start:start + BATCH]
        await conn.copy_records_to_table(temp, records=[tuple(r[c] for c in columns) for r in batch], columns=columns)
        if progress:
            progress(spec.name, start + len(batch), len(rows))
    kept = await _protect_account_facts(conn, temp) if spec.table == "accounts" else 0
    values = [c for c in columns if c not in spec.key]
    touch = ", updated_at = now()" + CONSENT_CHANGED if spec.table == "accounts" else ""
    result = await conn.fetch(
        f"""INSERT INTO {spec.table} AS cur ({', '.join(columns)}) SELECT {', '.join(columns)} FROM {temp}
            ON CONFLICT ({', '.join(spec.key)}) DO UPDATE SET
                {', '.join(f'{c} = EXCLUDED.{c}' for c in values)}{touch}
            WHERE ({', '.join(f'cur.{c}' for c in values)}) IS DISTINCT FROM
                  ({', '.join(f'EXCLUDED.{c}' for c in values)})
            RETURNING (xmax = 0) AS inserted""")
    await conn.execute(
        """INSERT INTO crm_sources (source, rows, imported_at) VALUES ($1, $2, now())
           ON CONFLICT (source) DO UPDATE SET rows = EXCLUDED.rows, imported_at = EXCLUDED.imported_at""",
        spec.source, len(rows))
    inserted = sum(1 for r in result if r["inserted"])
    return FileCounts(rows=len(rows), inserted=inserted, updated=len(result) - inserted, kept_opt_out=kept)


async def import_directory(conn: asyncpg.Connection, directory: Path, *,
                           progress: Progress | None = None) -> ImportReport:
    """Validate every file, then apply all of them in one transaction; raise ImportFailed on any problem."""
    directory = Path(directory)
    if not (directory / "accounts.csv").is_file():
        raise ImportFailed([RowError("accounts.csv", 0, None, f"not found in {directory} (it is required)")])
    errors = [RowError(stray, 0, None, f"unknown file (expected {', '.join(IMPORT_ORDER)})")
              for stray in sorted(p.name for p in directory.glob("*.csv") if p.name not in SPECS)]
    files = {name: _read(directory / name, SPECS[name]) for name in IMPORT_ORDER if (directory / name).is_file()}
    warnings = []
    for loaded in files.values():
        errors += loaded.errors
        warnings += loaded.warnings
    report = ImportReport(warnings=warnings)
    async with conn.transaction():
        errors += await _unknown_accounts(conn, files)
        if errors:
            raise ImportFailed(errors, warnings)  # rolls back: nothing was written yet anyway
        for name, loaded in files.items():
            report.files[name] = await _apply(conn, SPECS[name], loaded.rows, progress)
    if "accounts.csv" in report.files:
        # After a bulk load the visibility map is stale and the dormancy scan's index-only pages read the
        # heap too (7.8 s vs 2.5 s for 1M accounts, bench/README.md). VACUUM cannot run inside a caller's
        # transaction; ANALYZE can.
        await conn.execute("ANALYZE accounts" if conn.is_in_transaction() else "VACUUM (ANALYZE) accounts")
    return report
