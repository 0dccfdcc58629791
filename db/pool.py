"""One way to open the asyncpg pool, with JSON codecs, used by the worker, the API and the CLI."""

from __future__ import annotations

import json

import asyncpg


async def _init_connection(conn: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _no_session_reset(conn: asyncpg.Connection) -> None:
    """Nothing to reset when a connection goes back to the pool: no code here sets session state that could
    leak to the next user (no SET outside a transaction, no LISTEN, no cursor held open; migrate's advisory
    lock is released in its own `finally`). asyncpg's default reset is a round trip (advisory unlock, CLOSE
    ALL, UNLISTEN, RESET ALL) on every release: six per account on the send path (issue 18). A transaction
    left open is still rolled back by asyncpg itself."""


async def create_pool(dsn: str, *, max_size: int = 10) -> asyncpg.Pool:
    """Open a pool whose connections encode and decode json/jsonb as Python objects."""
    return await asyncpg.create_pool(dsn, min_size=1, max_size=max_size, init=_init_connection,
                                     reset=_no_session_reset)
