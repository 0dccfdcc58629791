"""`dormant import DIR`: load CRM CSV exports into the CRM store, all or nothing.

Every file is read and validated first and every error collected; if there is any, nothing is stored.
Then all files are applied in one transaction: COPY into a temp table, then an upsert that only touches
rows that really changed, so re-importing the same export is a no-op and changed rows are updated.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import asyncpg

from reactivation.crm_schema import IMPORT_ORDER, LINE, SPECS, FileSpec, RowError, check_header, validate_rows

BATCH = 10_000
Progress = Callable[[str, int, int], None]


class ImportFailed(Exception):
    def __init__(self, errors: list[RowError]):
        self.errors = errors
        shown = "\n".join(f"  {e}" for e in errors[:50])
        more = f"\n  ... and {len(errors) - 50} more" if len(errors) > 50 else ""
        super().__init__(f"{len(errors)} problem(s):\n{shown}{more}")


@dataclass
class FileCounts:
    rows: int = 0
    inserted: int = 0
    updated: int = 0

    @property
    def unchanged(self) -> int:
        return self.rows - self.inserted - self.updated


@dataclass
class ImportReport:
    files: dict[str, FileCounts] = field(default_factory=dict)

    def summary(self) -> str:
        return "; ".join(f"{name}: {c.rows} rows ({c.inserted} new, {c.updated} updated, {c.unchanged} unchanged)"
                         for name, c in self.files.items())


def _read(path: Path, spec: FileSpec) -> tuple[list[dict], list[RowError]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        return [], [RowError(spec.name, line, None, f"is not UTF-8 (byte {raw[err.start]:#04x} at offset {err.start})")]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return [], [RowError(spec.name, 1, None, "the file is empty (a header row is required)")]
    except csv.Error as err:
        return [], [RowError(spec.name, 1, None, f"unreadable CSV: {err}")]
    errors = check_header(spec, header)
    if errors:
        return [], errors

    def numbered():
        start = 2
        try:
            for cells in reader:
                if any(c.strip() for c in cells):
                    yield start, cells
                start = reader.line_num + 1
        except csv.Error as err:
            errors.append(RowError(spec.name, reader.line_num, None, f"unreadable CSV: {err}"))

    rows, row_errors = validate_rows(spec, header, numbered())
    return rows, errors + row_errors


async def _check_accounts_exist(conn: asyncpg.Connection, loaded: dict[str, list[dict]]) -> list[RowError]:
    known = {r["account_id"] for r in loaded.get("accounts.csv", [])}
    referenced = {r["account_id"] for name, rows in loaded.items() if SPECS[name].child for r in rows} - known
    if referenced:
        found = await conn.fetch("SELECT account_id FROM accounts WHERE account_id = ANY($1)", list(referenced))
        known |= {r["account_id"] for r in found}
    errors = []
    for name, rows in loaded.items():
        if SPECS[name].child:
            for row in rows:
                if row["account_id"] not in known:
                    errors.append(RowError(name, row[LINE], "account_id",
                                           f"account {row['account_id']!r} is neither in accounts.csv nor in the store"))
    return errors


async def _apply(conn: asyncpg.Connection, spec: FileSpec, rows: list[dict], progress: Progress | None) -> FileCounts:
    columns = list(spec.columns)
    temp = f"import_{spec.table}"
    await conn.execute(f"CREATE TEMP TABLE {temp} (LIKE {spec.table} INCLUDING DEFAULTS) ON COMMIT DROP")
    for start in range(0, len(rows), BATCH):
        batch = rows[start:start + BATCH]
        await conn.copy_records_to_table(temp, records=[tuple(r[c] for c in columns) for r in batch], columns=columns)
        if progress:
            progress(spec.name, start + len(batch), len(rows))
    values = [c for c in columns if c not in spec.key]
    touch = ", updated_at = now()" if spec.table == "accounts" else ""
    changed = (f"({', '.join(f'{spec.table}.{c}' for c in values)}) IS DISTINCT FROM "
               f"({', '.join(f'EXCLUDED.{c}' for c in values)})")
    result = await conn.fetch(
        f"""INSERT INTO {spec.table} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM {temp}
            ON CONFLICT ({', '.join(spec.key)}) DO UPDATE SET
                {', '.join(f'{c} = EXCLUDED.{c}' for c in values)}{touch}
            WHERE {changed}
            RETURNING (xmax = 0) AS inserted"""
    )
    await conn.execute(
        """INSERT INTO crm_sources (source, rows) VALUES ($1, $2)
           ON CONFLICT (source) DO UPDATE SET rows = EXCLUDED.rows, imported_at = now()""",
        spec.table, len(rows))
    inserted = sum(1 for r in result if r["inserted"])
    return FileCounts(rows=len(rows), inserted=inserted, updated=len(result) - inserted)


async def import_directory(conn: asyncpg.Connection, directory: Path, *,
                           progress: Progress | None = None) -> ImportReport:
    """Validate every file, then apply all of them in one transaction; raise ImportFailed on any problem."""
    directory = Path(directory)
    errors: list[RowError] = []
    if not (directory / "accounts.csv").exists():
        raise ImportFailed([RowError("accounts.csv", 0, None, f"not found in {directory} (it is required)")])
    for stray in sorted(p.name for p in directory.glob("*.csv") if p.name not in SPECS):
        errors.append(RowError(stray, 0, None, f"unknown file (expected {', '.join(IMPORT_ORDER)})"))
    loaded: dict[str, list[dict]] = {}
    for name in IMPORT_ORDER:
        path = directory / name
        if path.exists():
            rows, file_errors = _read(path, SPECS[name])
            loaded[name] = rows
            errors += file_errors
    if not errors:
        errors += await _check_accounts_exist(conn, loaded)
    if errors:
        raise ImportFailed(errors)
    report = ImportReport()
    async with conn.transaction():
        for name, rows in loaded.items():
            report.files[name] = await _apply(conn, SPECS[name], rows, progress)
    return report
