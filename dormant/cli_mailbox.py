"""`dormant mailbox`: read replies from DORMANT_IMAP_URL into the inbound pipeline."""

from __future__ import annotations

import argparse
import asyncio
import sys

from config.settings import Settings
from dormant.cli_common import require_db


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
    dsn = require_db(settings)
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
