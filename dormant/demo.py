"""Demo owners and the demo CRM data set for `dormant dev`.

Demo tokens are kept in the data dir (dev only) so that every start prints the same working tokens; the
database still stores only their hashes.
"""

from __future__ import annotations

import json
from pathlib import Path

import asyncpg

DEMO_DATA = Path(__file__).parent / "demo_data"
DEMO_OWNER = "alex.morgan@demo.dormant"
DEMO_OWNERS = ("sam.lee@demo.dormant", "priya.shah@demo.dormant")
DEMO_ADMIN = "admin@demo.dormant"


async def ensure_demo_owners(dsn: str, tokens_file: Path) -> dict[str, tuple[str, str]]:
    from db.owners import add_owner, hash_token

    saved = json.loads(tokens_file.read_text()) if tokens_file.exists() else {}
    conn = await asyncpg.connect(dsn)
    try:
        tokens: dict[str, tuple[str, str]] = {}
        for role, email, admin in [("owner", DEMO_OWNER, False), ("admin", DEMO_ADMIN, True),
                                   *[(e, e, False) for e in DEMO_OWNERS]]:
            token = saved.get(role, [None, None])[1]
            stored = token and await conn.fetchval("SELECT 1 FROM owners WHERE token_hash = $1", hash_token(token))
            if not stored:
                token = await add_owner(conn, email, admin=admin)
            tokens[role] = (email, token)
    finally:
        await conn.close()
    tokens_file.parent.mkdir(parents=True, exist_ok=True)
    tokens_file.write_text(json.dumps(tokens, indent=1))
    tokens_file.chmod(0o600)
    return tokens


async def import_demo_data(dsn: str) -> str:
    from db.crm_import import import_directory

    conn = await asyncpg.connect(dsn)
    try:
        report = await import_directory(conn, DEMO_DATA)
    finally:
        await conn.close()
    return report.summary()
