"""Suppressed addresses: a bounce or a permanent refusal stops every future send to that address."""

from __future__ import annotations

import asyncpg


def normalise(address: str) -> str:
    return address.strip().lower()


async def suppress_address(conn: asyncpg.Connection, address: str, channel: str, reason: str,
                           account_id: str | None, detail: str = "") -> None:
    """Idempotent: the first reason recorded for an address is kept."""
    await conn.execute(
        """INSERT INTO suppressed_addresses (address, channel, reason, account_id, detail)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (address) DO NOTHING""",
        normalise(address), channel, reason, account_id, detail[:1000])


async def suppression_of(conn: asyncpg.Connection, address: str | None) -> str | None:
    """Why `address` is suppressed ("bounce: 550 no such user"), or None when it may be used."""
    if not address:
        return None
    row = await conn.fetchrow("SELECT reason, detail FROM suppressed_addresses WHERE address = $1",
                              normalise(address))
    return None if row is None else describe(row["reason"], row["detail"])


def describe(reason: str, detail: str | None) -> str:
    """How a suppression reads to an owner: "bounce: 550 no such user", or just the reason."""
    return f"{reason}: {detail or ''}".rstrip(": ")


async def last_sent_address(conn: asyncpg.Connection, account_id: str) -> tuple[str, str] | None:
    """(address, channel) of the latest message sent to the account: what a bounce report is about."""
    row = await conn.fetchrow(
        "SELECT to_address, channel FROM outbox WHERE account_id = $1 ORDER BY created_at DESC LIMIT 1",
        account_id)
    return None if row is None else (row["to_address"], row["channel"])
