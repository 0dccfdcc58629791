"""The worker as a real OS process (`python -m worker`), so tests can SIGKILL it mid-step and restart it."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

from dormant.processes import spawn, tail

ROOT = Path(__file__).resolve().parents[2]


def worker_env(settings, **extra: str) -> dict[str, str]:
    """The environment `python -m worker` reads its settings from, for this test's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DORMANT_", "OPENAI_"))}
    env.update({"DATABASE_URL": settings.database_url, "TEMPORAL_ADDRESS": settings.temporal_address,
                "DORMANT_TASK_QUEUE": settings.task_queue, "DORMANT_DATA_DIR": str(settings.data_dir),
                "DORMANT_SEND_WINDOW": "always",
                # the suite's Temporal is shared: a test's worker must not install the notification schedule,
                # whose runs would then dispatch other tests' notifications to this test's SMTP server
                "DORMANT_SCHEDULES": "false", **extra})
    return env


@contextlib.contextmanager
def worker_process(env: dict[str, str], log_path: Path):
    """Yield a started worker process; whatever state it is in at the end, it is killed."""
    proc = spawn([sys.executable, "-m", "worker"], log_path=log_path, env=env, cwd=ROOT)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def sigkill(proc: subprocess.Popen, log_path: Path) -> None:
    assert proc.poll() is None, f"the worker died on its own:\n{tail(log_path)}"
    proc.kill()
    proc.wait(timeout=10)
