"""A scratch database for a standalone benchmark: DATABASE_URL when set, else an embedded PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dormant.embedded_pg import EmbeddedPostgres
from dormant.processes import free_port


@contextmanager
def scratch_dsn(tmp: Path) -> Iterator[str]:
    """Yield a DSN; an embedded server lives in tmp/pgdata and stops on exit."""
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    pg = EmbeddedPostgres(data_dir=tmp / "pgdata", port=free_port())
    pg.start()
    try:
        yield pg.dsn
    finally:
        pg.stop()
