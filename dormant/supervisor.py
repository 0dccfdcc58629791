"""Keeps `dormant dev`'s own children alive: a crashed worker or API comes back, with backoff.

A durable-execution product's dev stack should heal like production would: the worker and the API are
stateless, so when one dies it is started again (1 s, 2 s, 4 s ... up to 30 s between tries, reset once
it has stayed up for a minute) with a log line saying so. Temporal and PostgreSQL hold the state: if one of
them dies the stack cannot go on, so it stops cleanly and says why. More than MAX_RESTARTS crashes of one
child within RESTART_WINDOW_S means it cannot start at all (a bad setting, a port in use): stop and say so.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from dormant.processes import spawn, stop

Log = Callable[[str], None]


class Child(Protocol):
    """One part of the dev stack the supervisor looks after, in start order."""

    name: str

    def check(self, now: float, log: Log) -> str | None:
        """Why the whole stack must stop now, or None (a restartable child restarts itself here)."""

    def stop(self) -> None: ...


class Server(Protocol):
    """An embedded server: the Temporal dev server or PostgreSQL."""

    proc: subprocess.Popen | None

    def stop(self) -> None: ...

MAX_BACKOFF_S = 30.0
STABLE_AFTER_S = 60.0
MAX_RESTARTS = 5
RESTART_WINDOW_S = 300.0


@dataclass
class Restartable:
    """A child process that may be started again with the same command line."""

    name: str
    args: list[str]
    log_path: Path
    env: dict[str, str]
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    next_start: float | None = None
    crashes: list[float] = field(default_factory=list)

    def start(self) -> subprocess.Popen:
        self.proc = spawn(self.args, log_path=self.log_path, env=self.env)
        self.started_at, self.next_start = time.monotonic(), None
        return self.proc

    def check(self, now: float, log: Log) -> str | None:
        return supervise_step(self, now, log)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc, sig=signal.SIGTERM, timeout=20)

    def backoff(self, now: float) -> float:
        recent = [t for t in self.crashes if now - t < STABLE_AFTER_S + MAX_BACKOFF_S]
        return min(MAX_BACKOFF_S, 2.0 ** max(len(recent) - 1, 0))


def supervise_step(child: Restartable, now: float, log: Log) -> str | None:
    """Look after one restartable child; return why the stack must stop, or None."""
    if child.next_start is None:
        if child.proc is None or child.proc.poll() is None:
            return None  # running
        child.crashes = [t for t in child.crashes if now - t < RESTART_WINDOW_S] + [now]
        if len(child.crashes) > MAX_RESTARTS:
            return (f"{child.name} crashed {len(child.crashes)} times in {RESTART_WINDOW_S:.0f} s; "
                    f"giving up (see {child.log_path})")
        delay = child.backoff(now)
        child.next_start = now + delay
        log(f"{child.name} exited with {child.proc.returncode}; restarting in {delay:.0f} s "
            f"(see {child.log_path})")
        return None
    if now >= child.next_start:
        child.start()
        log(f"{child.name} restarted (pid {child.proc.pid if child.proc else '?'})")
    return None


@dataclass
class Essential:
    """A server holding state the others need (Temporal, PostgreSQL): if it dies, the stack stops and says why."""

    name: str
    server: Server
    logs: Path

    def check(self, now: float, log: Log) -> str | None:
        proc = self.server.proc
        if proc is not None and proc.poll() is not None:
            return f"{self.name} exited with {proc.returncode} and holds the data the others need (see {self.logs})"
        return None

    def stop(self) -> None:
        self.server.stop()
