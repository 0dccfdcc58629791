"""Session-wide real servers: one Temporal dev server and one PostgreSQL for the whole run.

TEMPORAL_ADDRESS / DATABASE_URL, when set, point the suite at servers you already run; otherwise the
suite starts the same embedded servers `dormant dev` uses, on free ports, in a temp directory.
Each test gets its own task queue and its own account ids, so tests never see each other's data.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import pytest_asyncio

from client.connect import connect_temporal
from config.settings import load_settings
from db.migrate import migrate_dsn
from db.owners import add_owner
from db.pool import create_pool
from dormant.embedded_pg import EmbeddedPostgres
from dormant.processes import free_port
from dormant.temporal_dev import TemporalDevServer


@pytest.fixture(scope="session")
def servers_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("servers")


@pytest.fixture(scope="session")
def temporal_address(servers_dir: Path):
    if os.environ.get("TEMPORAL_ADDRESS"):
        yield os.environ["TEMPORAL_ADDRESS"]
        return
    server = TemporalDevServer(db_file=servers_dir / "temporal.db", port=free_port(), ui_port=None,
                               log_path=servers_dir / "temporal.log")
    server.start()
    yield server.address
    server.stop()


@pytest.fixture(scope="session")
def database_url(servers_dir: Path):
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    pg = EmbeddedPostgres(data_dir=servers_dir / "pgdata", port=free_port())
    pg.start()
    yield pg.dsn
    pg.stop()


@pytest_asyncio.fixture(scope="session")
async def migrated_db(database_url: str) -> str:
    await migrate_dsn(database_url)
    return database_url


@pytest_asyncio.fixture(scope="session")
async def pool(migrated_db: str):
    pool = await create_pool(migrated_db, max_size=10)
    yield pool
    await pool.close()


@pytest.fixture
def settings(temporal_address: str, migrated_db: str, tmp_path: Path):
    """Settings for one test: real servers, second-scale durations, the outbox delivery."""
    return load_settings(
        temporal_address=temporal_address, database_url=migrated_db, data_dir=tmp_path,
        task_queue=f"test-{uuid.uuid4().hex[:12]}", follow_up_after="3", outcome_window="4",
        review_reminder_after="60", review_escalate_after="120", openai_api_key=None,
        send_window="always", holdout_share=0,
    )


@pytest_asyncio.fixture(scope="session")
async def client(temporal_address: str):
    from dormant.stack import wait_for_temporal

    await wait_for_temporal(temporal_address)
    return await connect_temporal(load_settings(), address=temporal_address)


@pytest.fixture
def prefix() -> str:
    """A unique account-id prefix for one test's data."""
    return f"t{uuid.uuid4().hex[:8]}"


@pytest_asyncio.fixture
async def tokens(pool, prefix):
    """An owner, another owner and an admin, each with a token (the `prefix`'s own)."""
    async with pool.acquire() as conn:
        return {
            "owner": await add_owner(conn, f"{prefix}-owner@test.dormant"),
            "other": await add_owner(conn, f"{prefix}-other@test.dormant"),
            "admin": await add_owner(conn, f"{prefix}-admin@test.dormant", admin=True),
        }
