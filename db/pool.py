"""One way to open the asyncpg pool, with JSON codecs, used by the worker, the API and the CLI."""

from __future__ import annotations

import json

import asyncpg


async def _init_connection(conn: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(dsn: str, *, max_size: int = 10) -> asyncpg.Pool:
    """Open a pool whose connections encode and decode json/jsonb as Python objects."""
    return await asyncpg.create_pool(dsn, min_size=1, max_size=max_size, init=_init_connection)
