"""The `dormant` command: dev, worker, api, scan, new-key and the parser; the data commands are in
cli_data.py, the mailbox reader in cli_mailbox.py."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from config.settings import Settings, load_settings
from dormant.cli_common import with_running_stack
from dormant.cli_data import cmd_import, cmd_migrate, cmd_outbox, cmd_owners_add, cmd_owners_notify, cmd_report
from dormant.cli_mailbox import cmd_mailbox


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


def cmd_new_key(args: argparse.Namespace, settings: Settings) -> int:
    from client.codec import generate_key_spec

    print(generate_key_spec())
    return 0


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
        settings = with_running_stack(settings)
    sys.exit(args.func(args, settings))


if __name__ == "__main__":
    main()
