"""Migrations: applied once, recorded, re-running is a no-op, an edited applied migration is refused."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from db.migrate import MIGRATIONS_DIR, MigrationError, load_migrations, migrate


@pytest.fixture
async def fresh_db(migrated_db):
    name = f"mig_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(migrated_db)
    await admin.execute(f"CREATE DATABASE {name}")
    dsn = migrated_db.rsplit("/", 1)[0] + f"/{name}"
    yield dsn
    await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
    await admin.close()


async def test_migrations_apply_once_and_are_recorded(fresh_db):
    conn = await asyncpg.connect(fresh_db)
    try:
        applied = await migrate(conn)
        assert applied == [m.version for m in load_migrations()]
        assert await migrate(conn) == []
        recorded = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in recorded] == applied
        assert await conn.fetchval("SELECT to_regclass('measurement_events')") is not None
    finally:
        await conn.close()


async def test_changed_applied_migration_is_refused(fresh_db, tmp_path):
    for migration in MIGRATIONS_DIR.glob("*.sql"):
        (tmp_path / migration.name).write_text(migration.read_text())
    conn = await asyncpg.connect(fresh_db)
    try:
        await migrate(conn, tmp_path)
        first = sorted(tmp_path.glob("*.sql"))[0]
        first.write_text(first.read_text() + "\n-- edited\n")
        with pytest.raises(MigrationError, match="changed after it was applied"):
            await migrate(conn, tmp_path)
    finally:
        await conn.close()
