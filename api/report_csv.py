"""The measurement ledger as CSV, streamed from db/report_events.py's cursor.

The ledger grows by a dozen rows per account episode, so an export can be millions of rows: rows are
fetched in batches from a cursor and written one line at a time, and neither the database client nor
the HTTP response ever holds the whole export in memory.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator

import asyncpg

from db.report_events import EVENT_COLUMNS, scoped_events
from db.report_scope import Scope

CSV_COLUMNS = EVENT_COLUMNS
# A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value):
    """A text cell that a spreadsheet would run as a formula gets a leading `'` (OWASP); numbers, dates and
    other non-text values are left as they are, so a negative number stays a number."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_line(values) -> str:
    """One RFC 4180 line (quoted where needed, CRLF-terminated), every text cell neutralised."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow([neutralised(v) for v in values])
    return buffer.getvalue()


def _compact(detail) -> str:
    """Compact JSON whether or not the connection decodes jsonb (the CLI's plain connection does not)."""
    value = json.loads(detail) if isinstance(detail, str) else detail
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def _cells(row: asyncpg.Record) -> list:
    return [row["at"].isoformat() if c == "at" else _compact(row[c]) if c == "detail" else row[c]
            for c in CSV_COLUMNS]


async def event_csv_lines(conn: asyncpg.Connection, scope: Scope) -> AsyncIterator[str]:
    """Yield the header, then one line per event in time order. Opens its own transaction (a cursor
    needs one; inside a caller's transaction this is a savepoint)."""
    yield csv_line(CSV_COLUMNS)
    async for row in scoped_events(conn, scope):
        yield csv_line(_cells(row))


async def event_csv_chunks(pool: asyncpg.Pool, scope: Scope, rows_per_chunk: int = 500) -> AsyncIterator[str]:
    """For HTTP streaming: takes its own connection (the response outlives the route handler) and
    joins lines into chunks, so a big export is not millions of tiny writes."""
    async with pool.acquire() as conn:
        chunk: list[str] = []
        async for line in event_csv_lines(conn, scope):
            chunk.append(line)
            if len(chunk) >= rows_per_chunk:
                yield "".join(chunk)
                chunk = []
        if chunk:
            yield "".join(chunk)
