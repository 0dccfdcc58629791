"""What the `dormant` commands share: finding the database (or a running `dormant dev`), and one way to
hold a connection for the length of a command."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator

import asyncpg

from config.settings import Settings


@contextlib.asynccontextmanager
async def connected(dsn: str, *, migrate: bool = False) -> AsyncIterator[asyncpg.Connection]:
    """One connection for a command (migrated first when it writes), closed however the command ends."""
    if migrate:
        from db.migrate import migrate_dsn

        await migrate_dsn(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        yield conn
    finally:
        await conn.close()


def require_db(settings: Settings) -> str:
    if not settings.database_url:
        sys.exit("DATABASE_URL is not set. Run `dormant dev` (embedded PostgreSQL) or export DATABASE_URL.")
    return settings.database_url


def with_running_stack(settings: Settings) -> Settings:
    """Without DATABASE_URL, use the PostgreSQL (and Temporal) of a `dormant dev` running on the data dir."""
    from dormant.stack import running_stack

    if settings.database_url:
        return settings
    stack = running_stack(settings.data_dir)
    if not stack:
        return settings
    return settings.model_copy(update={"database_url": stack["DATABASE_URL"],
                                       "temporal_address": stack["TEMPORAL_ADDRESS"]})
