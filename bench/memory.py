"""Worker memory with many accounts waiting for review: `python -m worker` as its own OS process.

A separate process so its RSS is the worker's alone (not the bench driver's, nor the in-process workers'
of earlier steps). It reads its settings from the environment exactly as in production; the lifecycle's
second-scale timings travel in each workflow's input (set by start_reactivation from the bench's Settings).
RSS is VmRSS from /proc/<pid>/status once every account is awaiting_review; VmHWM is the peak on the way.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import asyncpg
from temporalio.client import Client

from bench.crm import account_ids, insert_accounts, new_prefix, start_all, wait_for_stage
from dormant.processes import spawn, stop, tail
from reactivation.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def _status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024, 1)  # kB
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


def worker_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DORMANT_", "OPENAI_"))}
    env.update({"DATABASE_URL": settings.database_url, "TEMPORAL_ADDRESS": settings.temporal_address,
                "DORMANT_TASK_QUEUE": settings.task_queue, "DORMANT_SEND_WINDOW": "always",
                "DORMANT_HOLDOUT_SHARE": "0", "DORMANT_DATA_DIR": str(settings.data_dir)})
    return env


async def _wait_polling(log: Path, proc, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the worker exited with {proc.returncode}:\n{tail(log)}")
        if log.exists() and "worker polling" in log.read_text(errors="replace"):
            return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"the worker did not start polling within {timeout:.0f}s:\n{tail(log)}")


async def measure_worker_rss(client: Client, pool: asyncpg.Pool, settings: Settings, n: int) -> dict:
    prefix = new_prefix("rss")
    ids = account_ids(prefix, n)
    await insert_accounts(pool, ids)
    log = settings.data_dir / "logs" / f"worker-{prefix}.log"
    proc = spawn([sys.executable, "-m", "worker"], log_path=log, env=worker_env(settings), cwd=ROOT)
    try:
        await _wait_polling(log, proc)
        idle_mb = _status_mb(proc.pid, "VmRSS")
        started = time.perf_counter()
        starting = asyncio.create_task(start_all(client, settings, ids, "worker rss"))
        reviewed = await wait_for_stage(pool, prefix, "awaiting_review", n, "worker rss (awaiting_review)",
                                        watch=starting)
        await starting
        await asyncio.sleep(2)  # let the last workflow tasks and the pollers settle
        if proc.poll() is not None:
            raise RuntimeError(f"the worker exited with {proc.returncode}:\n{tail(log)}")
        return {"worker_rss_mb_10k_waiting": _status_mb(proc.pid, "VmRSS"),
                "worker_rss_peak_mb": _status_mb(proc.pid, "VmHWM"),
                "worker_rss_idle_mb": idle_mb,
                "worker_rss_accounts_waiting": n,
                "worker_process_accounts_per_s_to_review": round(n / (reviewed - started), 2)}
    finally:
        stop(proc, sig=signal.SIGTERM, timeout=30)
