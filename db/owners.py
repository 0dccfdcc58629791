"""Owner and admin API tokens. Only a SHA-256 of each token is stored: tokens are 32 random bytes, so a
fast hash is enough (no password-style stretching needed), and a database leak reveals no usable token."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import asyncpg

TOKEN_PREFIX = "dmt_"


@dataclass(frozen=True)
class Principal:
    email: str
    is_admin: bool


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


async def add_owner(conn: asyncpg.Connection, email: str, *, admin: bool = False, token: str | None = None) -> str:
    """Create the owner (or rotate their token); return the new token, shown to the caller once."""
    token = token or new_token()
    await conn.execute(
        """INSERT INTO owners (email, is_admin, token_hash) VALUES (lower($1), $2, $3)
           ON CONFLICT (email) DO UPDATE SET is_admin = EXCLUDED.is_admin, token_hash = EXCLUDED.token_hash""",
        email, admin, hash_token(token),
    )
    return token


async def principal_for_token(conn: asyncpg.Connection, token: str) -> Principal | None:
    row = await conn.fetchrow("SELECT email, is_admin FROM owners WHERE token_hash = $1", hash_token(token))
    return Principal(row["email"], row["is_admin"]) if row else None


async def notify_setting(conn: asyncpg.Connection, email: str) -> str | None:
    """What the owner chose to hear (`all`, `digest` or `none`); None for an unknown owner."""
    return await conn.fetchval("SELECT notify FROM owners WHERE email = lower($1)", email)


async def set_notify_setting(conn: asyncpg.Connection, email: str, notify: str) -> bool:
    """False for an unknown owner."""
    return await conn.execute("UPDATE owners SET notify = $2 WHERE email = lower($1)", email, notify) == "UPDATE 1"
