"""`dormant import DIR`: load CRM CSV exports into the CRM store, all or nothing, streamed.

Everything happens in one transaction. Each file is streamed line by line through the validator
(reactivation.crm_schema) into a temp table (COPY, in batches bounded by rows and bytes, with each row's
line number), so memory does not grow with the file: a 100 MB accounts.csv imports in a bounded footprint
(bench/import_100k.py --big). Every error is collected (the first 1,000 kept, the rest counted); repeated
keys and child rows whose account is neither in accounts.csv nor already stored are found in SQL on the
temp tables. If there is any error, ImportFailed lists them and the transaction rolls back: nothing is
stored. A free-text cell over the cell limit is not an error: it is stored cut to the limit and the
report's warnings name it (file, line, column, original length). Then one upsert per file touches only rows
that really changed, so re-importing the same export is a no-op and changed rows are updated
(accounts.updated_at moves only for those).

What the service learned itself outranks an older export: an opt-out (the account, or an opt_out CRM event)
is never lifted, last_activity_at never moves backwards. Rows absent from a file are left alone (upsert).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from reactivation.crm_schema import (
    IMPORT_ORDER,
    LINE,
    SPECS,
    BoundedErrors,
    FileSpec,
    RowError,
    check_header,
    convert_row,
    duplicate_error,
)

BATCH_ROWS = 10_000
BATCH_BYTES = 8 * 2**20  # a batch of long notes is cut by size, not by row count
MAX_SHOWN = 50
_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # what surrogateescape makes of a byte that is not UTF-8
LINE_COLUMN = "import_line"  # the temp tables' extra column: where each row came from, for errors found in SQL
Progress = Callable[[str, int, int, int], None]  # file, rows read, bytes read, file size

# The csv module's own limit (128 KiB) would stop at a big cell without naming its column; MAX_CELL in
# crm_schema is the real limit, checked with the column's name.
csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))


# When an import changes a stored account's consent, remember when: an opted-out or suppressed account is
# reopened only by a consent change after its last episode ended (reactivation/reentry.py). A new account
# has no stored consent to change, so it keeps NULL.
CONSENT_CHANGED = """, consent_changed_at = CASE WHEN cur.consent_status IS DISTINCT FROM EXCLUDED.consent_status
                                         THEN now() ELSE cur.consent_changed_at END"""


class ImportFailed(Exception):
    """The import was refused and nothing was stored; errors holds the problems found (the first 1,000)."""

    def __init__(self, errors: list[RowError], warnings: list[RowError] | None = None):
        self.errors = errors
        self.warnings = warnings or []  # cells that would have been cut; not the reason for the refusal
        total = errors.total if isinstance(errors, BoundedErrors) else len(errors)
        shown = "\n".join(f"  {e}" for e in errors[:MAX_SHOWN])
        more = f"\n  ... and {total - MAX_SHOWN} more" if total > MAX_SHOWN else ""
        super().__init__(f"{total} problem(s), nothing was stored:\n{shown}{more}")


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
class _Staged:
    """One file in its temp table."""

    spec: FileSpec
    temp: str
    rows: int = 0
    read_to_end: bool = False  # false if the header or the encoding stopped the reading
    bad_ids: set[str] = field(default_factory=set)  # account_id cells of rows with errors (not orphans' parents)


def _lines(text: io.TextIOWrapper, staged: _Staged, errors: list[RowError]) -> Iterator[str]:
    """The file's physical lines (\\n, \\r\\n or a lone \\r ends one, as Excel writes them); a line that is
    not UTF-8 is an error naming the line and ends the reading.

    Bytes that are not UTF-8 are decoded as lone surrogates (surrogateescape) and found per line, so the
    error can name its line although the file is decoded in chunks, never whole.
    """
    for number, line in enumerate(text, start=1):
        bad = _NOT_UTF8.search(line)
        if bad:
            errors.append(RowError(staged.spec.name, number, None,
                                   f"is not UTF-8: byte {ord(bad.group()) - 0xDC00:#04x} at character "
                                   f"{bad.start() + 1} of the line; save the file as UTF-8"))
            return
        yield line
    staged.read_to_end = True


async def _stage(conn: asyncpg.Connection, path: Path, spec: FileSpec, errors: list[RowError],
                 warnings: list[RowError], progress: Progress | None) -> _Staged:
    """Stream one file through the validator into its temp table; errors and warnings are appended."""
    staged = _Staged(spec, f"import_{spec.table}")
    await conn.execute(f"DROP TABLE IF EXISTS pg_temp.{staged.temp}")
    await conn.execute(f"CREATE TEMP TABLE {staged.temp} (LIKE {spec.table} INCLUDING DEFAULTS, "
                       f"{LINE_COLUMN} integer NOT NULL) ON COMMIT DROP")
    size = path.stat().st_size
    with open(path, "rb") as fh:
        if fh.peek(2)[:2] in (b"\xff\xfe", b"\xfe\xff"):
            errors.append(RowError(spec.name, 1, None, "is UTF-16; save it as UTF-8"))
            return staged
        text = io.TextIOWrapper(fh, encoding="utf-8-sig", errors="surrogateescape", newline="")
        try:
            reader = csv.reader(_lines(text, staged, errors))
            await _copy_rows(conn, staged, reader, errors, warnings,
                             (lambda rows: progress(spec.name, rows, fh.tell(), size)) if progress else None)
        finally:
            text.detach()  # the file is closed by its own `with`
    return staged


async def _copy_rows(conn: asyncpg.Connection, staged: _Staged, reader, errors: list[RowError],
                     warnings: list[RowError], progress: Callable[[int], None] | None) -> None:
    """Check the header, then convert each row and COPY the good ones in batches bounded by rows and bytes."""
    spec, columns = staged.spec, list(staged.spec.columns)
    try:
        header = next(reader)
    except StopIteration:
        if staged.read_to_end:  # not a decoding error: the file has no lines at all
            errors.append(RowError(spec.name, 1, None, "the file is empty (a header row is required)"))
        staged.read_to_end = False
        return
    except csv.Error as err:
        errors.append(RowError(spec.name, 1, None, f"unreadable CSV: {err}"))
        return
    header_errors = check_header(spec.name, header)
    if header_errors:
        errors.extend(header_errors)
        staged.read_to_end = False
        return
    names = [h.strip() for h in header]
    id_at = names.index("account_id") if "account_id" in names else None
    batch: list[tuple] = []
    batch_bytes = 0

    async def flush() -> None:
        nonlocal batch, batch_bytes
        if batch:
            await conn.copy_records_to_table(staged.temp, records=batch, columns=columns + [LINE_COLUMN])
            staged.rows += len(batch)
            batch, batch_bytes = [], 0
        if progress:
            progress(staged.rows)

    if progress:
        progress(0)
    start = reader.line_num + 1  # physical lines: a quoted cell may span several
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            errors.append(RowError(spec.name, start, None, f"unreadable CSV: {err}"))
        else:
            row = convert_row(spec, start, names, cells, errors, warnings)
            if row is not None:
                batch.append(tuple(row[c] for c in columns) + (row[LINE],))
                batch_bytes += sum(len(c) for c in cells)
                if len(batch) >= BATCH_ROWS or batch_bytes >= BATCH_BYTES:
                    await flush()
            elif id_at is not None and len(cells) > id_at and cells[id_at].strip():
                staged.bad_ids.add(cells[id_at].strip())
        start = reader.line_num + 1
    await flush()


async def _duplicates(conn: asyncpg.Connection, staged: _Staged, errors: list[RowError]) -> None:
    """Repeated primary keys within the file: each later line is an error naming the first."""
    key = ", ".join(staged.spec.key)
    for group in await conn.fetch(
            f"""SELECT {key}, array_agg({LINE_COLUMN} ORDER BY {LINE_COLUMN}) AS lines FROM {staged.temp}
                GROUP BY {key} HAVING count(*) > 1 ORDER BY min({LINE_COLUMN}) LIMIT 1000"""):
        values = tuple(group[k] for k in staged.spec.key)
        for line in group["lines"][1:]:
            errors.append(duplicate_error(staged.spec, values, group["lines"][0], line))


async def _orphans(conn: asyncpg.Connection, staged: _Staged, accounts: _Staged | None,
                   errors: list[RowError]) -> None:
    """Child rows whose account is in neither accounts.csv nor the store."""
    in_file = (f"AND NOT EXISTS (SELECT 1 FROM {accounts.temp} i WHERE i.account_id = t.account_id)"
               if accounts else "")
    for row in await conn.fetch(
            f"""SELECT {LINE_COLUMN} AS line, account_id FROM {staged.temp} t
                WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.account_id = t.account_id) {in_file}
                  AND t.account_id <> ALL($1::text[])
                ORDER BY {LINE_COLUMN} LIMIT 1000""", list(accounts.bad_ids) if accounts else []):
        errors.append(RowError(staged.spec.name, row["line"], "account_id",
                               f"account {row['account_id']!r} is neither in accounts.csv nor already imported"))


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


async def _apply(conn: asyncpg.Connection, staged: _Staged) -> FileCounts:
    spec, temp = staged.spec, staged.temp
    columns = list(spec.columns)
    kept = await _protect_account_facts(conn, temp) if spec.table == "accounts" else 0
    values = [c for c in columns if c not in spec.key]
    touch = ", updated_at = now()" + CONSENT_CHANGED if spec.table == "accounts" else ""
    counts = await conn.fetchrow(
        f"""WITH upserted AS (
                INSERT INTO {spec.table} AS cur ({', '.join(columns)}) SELECT {', '.join(columns)} FROM {temp}
                ON CONFLICT ({', '.join(spec.key)}) DO UPDATE SET
                    {', '.join(f'{c} = EXCLUDED.{c}' for c in values)}{touch}
                WHERE ({', '.join(f'cur.{c}' for c in values)}) IS DISTINCT FROM
                      ({', '.join(f'EXCLUDED.{c}' for c in values)})
                RETURNING (xmax = 0) AS inserted)
            SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) AS changed FROM upserted""")
    await conn.execute(
        """INSERT INTO crm_sources (source, rows, imported_at) VALUES ($1, $2, now())
           ON CONFLICT (source) DO UPDATE SET rows = EXCLUDED.rows, imported_at = EXCLUDED.imported_at""",
        spec.source, staged.rows)
    return FileCounts(rows=staged.rows, inserted=counts["inserted"], updated=counts["changed"] - counts["inserted"],
                      kept_opt_out=kept)


async def import_directory(conn: asyncpg.Connection, directory: Path, *,
                           progress: Progress | None = None) -> ImportReport:
    """Stream and check every file, then apply all of them, in one transaction; raise ImportFailed on any problem."""
    directory = Path(directory)
    if not (directory / "accounts.csv").is_file():
        raise ImportFailed([RowError("accounts.csv", 0, None, f"not found in {directory} (it is required)")])
    errors = BoundedErrors()
    warnings = BoundedErrors(keep=10_000)
    for stray in sorted(p.name for p in directory.glob("*.csv") if p.name not in SPECS):
        errors.append(RowError(stray, 0, None, f"unknown file (expected {', '.join(IMPORT_ORDER)})"))
    report = ImportReport(warnings=warnings)
    async with conn.transaction():
        staged = {name: await _stage(conn, directory / name, SPECS[name], errors, warnings, progress)
                  for name in IMPORT_ORDER if (directory / name).is_file()}
        for one in staged.values():
            await _duplicates(conn, one, errors)
        accounts = staged.get("accounts.csv")
        if accounts is None or accounts.read_to_end:  # else every child row would look orphaned
            for one in staged.values():
                if one.spec.child:
                    await _orphans(conn, one, accounts, errors)
        if errors:
            raise ImportFailed(errors, warnings)  # rolls back the temp tables; nothing else was written
        for name, one in staged.items():
            report.files[name] = await _apply(conn, one)
    if "accounts.csv" in report.files:
        await settle_accounts_after_load(conn)
    return report


async def settle_accounts_after_load(conn: asyncpg.Connection) -> None:
    """Set the visibility map and the planner's statistics of `accounts` after a bulk load.

    Why: right after a large load every row's page is not yet marked all-visible, so the dormancy scan's
    index-only keyset pages visit the heap for each row until autovacuum gets there: 7.6-9.8 s instead of
    ~3 s for a million accounts (bench/README.md). VACUUM cannot run inside a caller's transaction; there
    only ANALYZE is done (the statistics, not the visibility map).
    """
    await conn.execute("ANALYZE accounts" if conn.is_in_transaction() else "VACUUM (ANALYZE) accounts")
