"""The servers one bench run uses, the Settings it runs the product with, and small shared helpers.

Why its own servers: numbers taken on a server that tests or `dormant dev` also use mix in their load,
and a temp dir leaves nothing behind. Like tests/conftest.py, TEMPORAL_ADDRESS / DATABASE_URL, when set,
point the bench at servers you already run instead (then clock-based latencies assume the database
server's clock is this machine's).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from config.settings import Settings, load_settings
from dormant.embedded_pg import EmbeddedPostgres
from dormant.processes import free_port
from dormant.temporal_dev import TemporalDevServer

T = TypeVar("T")

# The product's own bound for concurrent starts (activities/scan.py: the SQLite dev server times out with
# about 1,000 starts in flight), and a bounded approval concurrency as an owner-facing API would see.
START_CONCURRENCY = 20
APPROVE_CONCURRENCY = 50


@dataclass
class BenchStack:
    temporal_address: str
    database_url: str
    tmp: Path
    own_temporal: bool
    own_postgres: bool
    temporal_pid: int | None = None
    postgres_pid: int | None = None

    def cpu(self) -> CpuMeter:
        return CpuMeter(self.temporal_pid, self.postgres_pid)


@contextlib.contextmanager
def bench_stack() -> Iterator[BenchStack]:
    """Start (or reuse, from the environment) Temporal and PostgreSQL; stop what we started at the end."""
    tmp = Path(tempfile.mkdtemp(prefix="dormant-bench-"))
    temporal = pg = None
    try:
        address = os.environ.get("TEMPORAL_ADDRESS")
        if not address:
            # The WAL pragmas come with TemporalDevServer, the same server `dormant dev` and the tests run.
            temporal = TemporalDevServer(db_file=tmp / "temporal.db", port=free_port(), ui_port=None,
                                         log_path=tmp / "logs" / "temporal.log")
            temporal.start()
            address = temporal.address
        dsn = os.environ.get("DATABASE_URL")
        if not dsn:
            pg = EmbeddedPostgres(data_dir=tmp / "pgdata", port=free_port())
            pg.start()
            dsn = pg.dsn
        yield BenchStack(address, dsn, tmp, temporal is not None, pg is not None,
                         temporal.proc.pid if temporal and temporal.proc else None, pg.proc.pid if pg and pg.proc else None)
    finally:
        if pg is not None:
            pg.stop()
        if temporal is not None:
            temporal.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def bench_settings(stack: BenchStack, task_queue: str | None = None, **overrides: object) -> Settings:
    """Second-scale lifecycle, outbox delivery, no send window, no holdout, template drafts.

    The review reminder is a day away so no reminder fires while thousands of accounts wait their turn
    to be approved (its timer is still started and cancelled, as in production).
    """
    values: dict[str, object] = {
        "temporal_address": stack.temporal_address, "database_url": stack.database_url, "data_dir": stack.tmp,
        "task_queue": task_queue or f"bench-{uuid.uuid4().hex[:10]}", "follow_up_after": "1",
        "outcome_window": "1", "review_reminder_after": "86400", "review_escalate_after": "172800",
        "openai_api_key": None, "send_window": "always", "holdout_share": 0, "delivery": "outbox",
    }
    values.update(overrides)
    return load_settings(**values)


class Progress:
    """Prints `label: done/total` at most every `every` seconds, so long steps show they are alive."""

    def __init__(self, label: str, total: int, every: float = 3.0) -> None:
        self.label, self.total, self.every = label, total, every
        self._last = time.monotonic()

    def show(self, done: int, extra: str = "", force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last >= self.every:
            self._last = now
            print(f"  {self.label}: {done}/{self.total}{' ' + extra if extra else ''}", flush=True)


async def bounded(items: Iterable[T], fn: Callable[[T], Awaitable[object]], limit: int) -> list:
    """Run fn over items with at most `limit` in flight (like the product's scan does for starts)."""
    gate = asyncio.Semaphore(limit)

    async def one(item):
        async with gate:
            return await fn(item)

    return await asyncio.gather(*(one(item) for item in items))


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile. No values is a failed measurement, said as such (not a None to round)."""
    if not values:
        raise ValueError(f"no samples to take the p{p:g} of")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
    return ordered[rank - 1]


_TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu_s(pid: int) -> float:
    """utime + stime of one process, in seconds (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK  # fields 14 and 15 of proc(5), after pid and comm


def _children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    kids.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                continue
    return kids


class CpuMeter:
    """CPU seconds spent by this process (driver + in-process worker), the Temporal server and PostgreSQL
    (postmaster and its backends) between start() and per_account(n).

    Why: on a shared 2-core machine wall-clock rates move with other people's load; CPU per account moves
    much less and says which process the product's overhead lands in. Only for servers the bench started.
    """

    def __init__(self, temporal_pid: int | None, postgres_pid: int | None) -> None:
        self.temporal_pid, self.postgres_pid = temporal_pid, postgres_pid
        self._start = self._snapshot()

    def _snapshot(self) -> dict[str, float]:
        snap = {"bench_process": _proc_cpu_s(os.getpid())}
        if self.temporal_pid:
            snap["temporal_server"] = _proc_cpu_s(self.temporal_pid)
        if self.postgres_pid:
            snap["postgres"] = sum(_proc_cpu_s(p) for p in [self.postgres_pid, *_children(self.postgres_pid)])
        return snap

    def per_account_ms(self, n: int) -> dict[str, float]:
        end = self._snapshot()
        out = {k: round((end[k] - self._start.get(k, 0.0)) * 1000 / n, 2) for k in end}
        out["total"] = round(sum(out.values()), 2)
        return out
