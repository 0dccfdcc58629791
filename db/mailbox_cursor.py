"""Where the IMAP reader remembers how far it has read a mailbox: (UIDVALIDITY, last handled UID).

The pair is all IMAP needs: UIDs only grow within one UIDVALIDITY, so "everything after last_uid" is the
new mail, and a changed UIDVALIDITY means the old UIDs mean nothing and reading starts over. The key
includes host, user and folder so two mailboxes never share (and corrupt) one cursor.
"""

from __future__ import annotations

from typing import Protocol

import asyncpg


def mailbox_key(host: str, username: str, folder: str) -> str:
    return f"{host}/{username}/{folder}"


class CursorStore(Protocol):
    async def load(self) -> tuple[int | None, int]:
        """(uidvalidity, last_uid); (None, 0) when the mailbox was never read."""
        ...

    async def save(self, uidvalidity: int, last_uid: int) -> None:
        ...


class PgCursorStore:
    """The cursor of one mailbox in `mailbox_cursors`, so a restarted reader continues where it stopped."""

    def __init__(self, pool: asyncpg.Pool, mailbox_key: str) -> None:
        self.pool = pool
        self.mailbox_key = mailbox_key

    async def load(self) -> tuple[int | None, int]:
        row = await self.pool.fetchrow(
            "SELECT uidvalidity, last_uid FROM mailbox_cursors WHERE mailbox = $1", self.mailbox_key)
        return (row["uidvalidity"], row["last_uid"]) if row else (None, 0)

    async def save(self, uidvalidity: int, last_uid: int) -> None:
        """Upsert, not max(): after a UIDVALIDITY change the cursor legitimately moves back."""
        await self.pool.execute(
            """INSERT INTO mailbox_cursors (mailbox, uidvalidity, last_uid) VALUES ($1, $2, $3)
               ON CONFLICT (mailbox) DO UPDATE
               SET uidvalidity = EXCLUDED.uidvalidity, last_uid = EXCLUDED.last_uid, updated_at = now()""",
            self.mailbox_key, uidvalidity, last_uid,
        )


class MemoryCursorStore:
    """A cursor that lives as long as the process: for tools and tests that need no database."""

    def __init__(self) -> None:
        self.uidvalidity: int | None = None
        self.last_uid = 0

    async def load(self) -> tuple[int | None, int]:
        return self.uidvalidity, self.last_uid

    async def save(self, uidvalidity: int, last_uid: int) -> None:
        self.uidvalidity, self.last_uid = uidvalidity, last_uid
