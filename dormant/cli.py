"""The `dormant` command: dev, worker, api, import, scan, report, owners add, outbox."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from pathlib import Path

from config.settings import Settings, load_settings


def _require_db(settings: Settings) -> str:
    if not settings.database_url:
        sys.exit("DATABASE_URL is not set. Run `dormant dev` (embedded PostgreSQL) or export DATABASE_URL.")
    return settings.database_url


def _with_running_stack(settings: Settings) -> Settings:
    """Without DATABASE_URL, use the PostgreSQL (and Temporal) of a `dormant dev` running on the data dir."""
    from dormant.stack import running_stack

    if settings.database_url:
        return settings
    stack = running_stack(settings.data_dir)
    if not stack:
        return settings
    return settings.model_copy(update={"database_url": stack["DATABASE_URL"],
                                       "temporal_address": stack["TEMPORAL_ADDRESS"]})


def cmd_dev(args: argparse.Namespace, settings: Settings) -> int:
    from dormant.stack import DevStack, banner

    if args.data_dir:
        settings = settings.model_copy(update={"data_dir": Path(args.data_dir)})
    stack = DevStack(settings, demo=not args.no_demo)
    try:
        info = stack.start()
        print(banner(settings, info), flush=True)
        stack.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from worker import run_worker

    asyncio.run(run_worker(settings))
    return 0


def cmd_api(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    uvicorn.run("api.main:app", host=settings.api_host, port=settings.api_port)
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    import asyncpg

    from db.crm_import import ImportFailed, import_directory
    from db.migrate import migrate_dsn

    dsn = _require_db(settings)
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


def cmd_scan(args: argparse.Namespace, settings: Settings) -> int:
    from client.connect import connect_temporal
    from dormant.scan import ensure_scan_schedule, run_scan

    if args.schedule:
        created = asyncio.run(_schedule(settings, ensure_scan_schedule, connect_temporal))
        print("daily scan schedule 'dormant-scan' " + ("created" if created else "already exists"))
        return 0

    def progress(details: str) -> None:
        if details:
            print(f"\r{details}", end="", file=sys.stderr, flush=True)

    result = asyncio.run(run_scan(settings, progress=progress))
    print(file=sys.stderr)
    print("\n".join([result.summary(), *result.skip_lines()]))
    return 0


async def _schedule(settings: Settings, ensure, connect) -> bool:
    return await ensure(settings, await connect(settings))


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    """Print the full measurement report; optionally write the charts and export the events as CSV."""
    from datetime import date

    import asyncpg

    from api.report_csv import event_csv_lines
    from api.report_render import render_text, report_charts
    from db.report_scope import Scope, day_start
    from db.reports import full_report

    dsn = _require_db(settings)
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
    import asyncpg

    from db.migrate import migrate_dsn
    from db.owners import add_owner

    dsn = _require_db(settings)

    async def run() -> str:
        await migrate_dsn(dsn)
        conn = await asyncpg.connect(dsn)
        try:
            return await add_owner(conn, args.email, admin=args.admin)
        finally:
            await conn.close()

    token = asyncio.run(run())
    role = "admin" if args.admin else "owner"
    print(f"{role} {args.email.lower()} token (shown once, store it now):\n{token}")
    return 0


def cmd_owners_notify(args: argparse.Namespace, settings: Settings) -> int:
    import asyncpg

    from db.migrate import migrate_dsn
    from db.owners import set_notify_setting

    dsn = _require_db(settings)

    async def run() -> bool:
        await migrate_dsn(dsn)
        conn = await asyncpg.connect(dsn)
        try:
            return await set_notify_setting(conn, args.email, args.choice)
        finally:
            await conn.close()

    if not asyncio.run(run()):
        print(f"error: no owner {args.email.lower()} (add them with `dormant owners add`)", file=sys.stderr)
        return 2
    print(f"{args.email.lower()} now hears: {args.choice}")
    return 0


def cmd_new_key(args: argparse.Namespace, settings: Settings) -> int:
    from client.codec import generate_key_spec

    print(generate_key_spec())
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from db.migrate import migrate_dsn

    applied = asyncio.run(migrate_dsn(_require_db(settings)))
    print(f"applied migrations {', '.join(map(str, applied))}" if applied else "schema is up to date")
    return 0


def cmd_outbox(args: argparse.Namespace, settings: Settings) -> int:
    import asyncpg

    from db.outbox import list_outbox

    dsn = _require_db(settings)

    async def run() -> list[dict]:
        conn = await asyncpg.connect(dsn)
        try:
            return await list_outbox(conn, limit=args.limit)
        finally:
            await conn.close()

    for msg in asyncio.run(run()):
        print(f"{msg['created_at']:%Y-%m-%d %H:%M} {msg['status']:<9} {msg['kind']:<9} {msg['channel']:<5} "
              f"{msg['to_address']:<32} {msg['subject']}{'  (' + msg['error'] + ')' if msg['error'] else ''}")
    return 0


def cmd_mailbox(args: argparse.Namespace, settings: Settings) -> int:
    """Read DORMANT_IMAP_URL every DORMANT_IMAP_POLL_SECONDS and hand each new message to the inbound
    pipeline, until Ctrl-C/SIGTERM. Imports are lazy so the rest of the CLI works without them."""
    import logging

    from activities.imap_reader import parse_imap_url

    if not settings.imap_url:
        sys.exit("DORMANT_IMAP_URL is not set (e.g. imaps://user:password@imap.example.com/INBOX).")
    try:
        parse_imap_url(settings.imap_url.get_secret_value())
    except ValueError as err:  # names the wrong part, never the password
        sys.exit(f"invalid DORMANT_IMAP_URL: {err}")
    dsn = _require_db(settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncio.run(_read_mailbox(settings, dsn))
    return 0


async def _read_mailbox(settings: Settings, dsn: str) -> None:
    import signal

    from activities.imap_reader import parse_imap_url, run_mailbox
    from api.inbound_service import receive_raw_email
    from client.connect import connect_temporal
    from db.mailbox_cursor import PgCursorStore
    from db.migrate import migrate_dsn
    from db.pool import create_pool

    url = settings.imap_url.get_secret_value() if settings.imap_url else ""
    await migrate_dsn(dsn)
    client = await connect_temporal(settings)
    pool = await create_pool(dsn, max_size=settings.db_pool_size)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)

    async def handle(raw: bytes) -> None:
        await receive_raw_email(pool, client, settings, raw, source="imap")

    try:
        await run_mailbox(url, PgCursorStore(pool, parse_imap_url(url).key), handle,
                          interval=settings.imap_poll_seconds, stop=stop)
    finally:
        await pool.close()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dormant", description="dormant-outreach: win back quiet accounts safely")
    sub = parser.add_subparsers(dest="command", required=True)
    dev = sub.add_parser("dev", help="run the whole product on its embedded default")
    dev.add_argument("--data-dir", help="where data lives (default .data/ or DORMANT_DATA_DIR)")
    dev.add_argument("--no-demo", action="store_true", help="skip the demo owners' CRM data and workflows")
    dev.set_defaults(func=cmd_dev)
    sub.add_parser("worker", help="run a Temporal worker").set_defaults(func=cmd_worker)
    sub.add_parser("api", help="run the HTTP API").set_defaults(func=cmd_api)
    imp = sub.add_parser("import", help="import CRM CSV files from DIR (all or nothing)")
    imp.add_argument("dir")
    imp.set_defaults(func=cmd_import)
    scan = sub.add_parser("scan", help="start reactivations for dormant accounts (the scan is a workflow)")
    scan.add_argument("--schedule", action="store_true", help="install the daily 'dormant-scan' Schedule instead")
    scan.set_defaults(func=cmd_scan)
    report = sub.add_parser("report", help="print the measurement report (funnel, coverage, pilot threshold, lift)",
                            description="Print the measurement report. Dates are ISO days in UTC; --until is "
                                        "excluded. --chart writes the funnel SVG, --lift-chart the holdout lift SVG.")
    report.add_argument("--since", help="first day included, e.g. 2024-03-01")
    report.add_argument("--until", help="first day excluded, e.g. 2024-04-01")
    report.add_argument("--by", choices=["period", "owner", "segment", "path"], help="also show the funnel per group")
    report.add_argument("--period", choices=["day", "week", "month"], default="month", help="period for --by period")
    report.add_argument("--owner", type=str.lower, help="only this owner's events (default: everyone's)")
    report.add_argument("--chart", metavar="FILE", help="write the funnel chart (SVG) to FILE")
    report.add_argument("--lift-chart", metavar="FILE", help="write the holdout lift chart (SVG) to FILE")
    report.add_argument("--csv", metavar="FILE",
                        help="export the events as CSV to FILE ('-': stdout, and the report is not printed)")
    report.set_defaults(func=cmd_report)
    owners = sub.add_parser("owners", help="manage owners and admins")
    owners_sub = owners.add_subparsers(dest="owners_command", required=True)
    add = owners_sub.add_parser("add", help="add an owner and print their API token once")
    add.add_argument("email")
    add.add_argument("--admin", action="store_true")
    add.set_defaults(func=cmd_owners_add)
    notify = owners_sub.add_parser("notify", help="what an owner hears: all, digest (only the daily digest) or none")
    notify.add_argument("email")
    notify.add_argument("choice", choices=["all", "digest", "none"])
    notify.set_defaults(func=cmd_owners_notify)
    sub.add_parser("migrate", help="apply pending database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("new-key", help="print a new DORMANT_PAYLOAD_KEYS entry (key id and AES-256 key)").set_defaults(
        func=cmd_new_key)
    outbox = sub.add_parser("outbox", help="list stored outgoing messages")
    outbox.add_argument("--limit", type=int, default=50)
    outbox.set_defaults(func=cmd_outbox)
    sub.add_parser("mailbox", help="read new mail from DORMANT_IMAP_URL into the inbound pipeline").set_defaults(
        func=cmd_mailbox)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except Exception as err:  # pydantic ValidationError: name the setting and the reason
        sys.exit(f"invalid settings: {err}")
    if args.func is not cmd_dev:
        settings = _with_running_stack(settings)
    sys.exit(args.func(args, settings))


if __name__ == "__main__":
    main()
