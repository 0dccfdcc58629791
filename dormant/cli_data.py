"""The `dormant` commands that read or write the CRM store and the ledger: import, report, owners, migrate,
outbox."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from pathlib import Path

from config.settings import Settings
from dormant.cli_common import connected, require_db


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    import asyncpg

    from db.crm_import import ImportFailed, import_directory
    from db.migrate import migrate_dsn

    dsn = require_db(settings)
    directory = Path(args.dir)
    if not (directory / "accounts.csv").exists():
        print(f"error: {directory / 'accounts.csv'} not found (accounts.csv is required)", file=sys.stderr)
        return 2

    def progress(name: str, rows: int, done: int, size: int) -> None:
        width = 30
        filled = int(width * done / size) if size else width
        print(f"\r{name:<16} [{'#' * filled}{'.' * (width - filled)}] {done / 2**20:.1f}/{size / 2**20:.1f} MB, "
              f"{rows} rows", end="", file=sys.stderr, flush=True)
        if done >= size:
            print(file=sys.stderr)

    async def run() -> int:
        await migrate_dsn(dsn)
        conn = await asyncpg.connect(dsn)
        try:
            report = await import_directory(conn, directory, progress=progress)
        except ImportFailed as failed:
            print(f"\nimport failed; nothing was stored:\n{failed}", file=sys.stderr)
            return 1
        finally:
            await conn.close()
        print(report.summary())
        if report.warnings:
            total = getattr(report.warnings, "total", len(report.warnings))
            print(f"{total} warning(s):")
            print("\n".join(f"  {w}" for w in report.warnings))
            if total > len(report.warnings):
                print(f"  ... and {total - len(report.warnings)} more")
        return 0

    return asyncio.run(run())


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    """Print the full measurement report; optionally write the charts and export the events as CSV."""
    from datetime import date

    import asyncpg

    from api.report_csv import event_csv_lines
    from api.report_render import render_text, report_charts
    from db.report_scope import Scope, day_start
    from db.reports import full_report

    dsn = require_db(settings)
    try:
        since, until = (date.fromisoformat(v) if v else None for v in (args.since, args.until))
    except ValueError as err:
        sys.exit(f"--since/--until need ISO dates like 2024-03-01: {err}")
    if since and until and until <= since:
        sys.exit("--until must be a later date than --since")
    scope = Scope(since=day_start(since), until=day_start(until), owner_email=args.owner)

    async def export(conn: asyncpg.Connection) -> None:
        with contextlib.ExitStack() as stack:
            out = sys.stdout if args.csv == "-" else stack.enter_context(
                open(args.csv, "w", newline="", encoding="utf-8"))
            async for line in event_csv_lines(conn, scope):
                out.write(line)

    async def run() -> dict:
        conn = await asyncpg.connect(dsn)
        try:
            if args.csv:
                await export(conn)
            return await full_report(conn, scope, args.by, args.period)
        finally:
            await conn.close()

    report = asyncio.run(run())
    funnel_chart, lift_chart = report_charts(report)
    for target, svg in ((args.chart, funnel_chart), (args.lift_chart, lift_chart)):
        if target:
            Path(target).write_text(svg, encoding="utf-8")
    if args.csv != "-":  # with the CSV on stdout, the report would corrupt it
        print(render_text(report))
    return 0


def cmd_owners_add(args: argparse.Namespace, settings: Settings) -> int:

    from db.owners import add_owner

    dsn = require_db(settings)

    async def run() -> str:
        async with connected(dsn, migrate=True) as conn:
            return await add_owner(conn, args.email, admin=args.admin)

    token = asyncio.run(run())
    role = "admin" if args.admin else "owner"
    print(f"{role} {args.email.lower()} token (shown once, store it now):\n{token}")
    return 0


def cmd_owners_notify(args: argparse.Namespace, settings: Settings) -> int:

    from db.owners import set_notify_setting

    dsn = require_db(settings)

    async def run() -> bool:
        async with connected(dsn, migrate=True) as conn:
            return await set_notify_setting(conn, args.email, args.choice)

    if not asyncio.run(run()):
        print(f"error: no owner {args.email.lower()} (add them with `dormant owners add`)", file=sys.stderr)
        return 2
    print(f"{args.email.lower()} now hears: {args.choice}")
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from db.migrate import migrate_dsn

    applied = asyncio.run(migrate_dsn(require_db(settings)))
    print(f"applied migrations {', '.join(map(str, applied))}" if applied else "schema is up to date")
    return 0


def cmd_outbox(args: argparse.Namespace, settings: Settings) -> int:

    from db.outbox import OutboxRow, list_outbox

    dsn = require_db(settings)

    async def run() -> list[OutboxRow]:
        async with connected(dsn) as conn:
            return await list_outbox(conn, limit=args.limit)

    for msg in asyncio.run(run()):
        print(f"{msg.created_at:%Y-%m-%d %H:%M} {msg.status:<9} {msg.kind:<9} {msg.channel:<5} "
              f"{msg.to_address:<32} {msg.subject}{'  (' + msg.error + ')' if msg.error else ''}")
    return 0
