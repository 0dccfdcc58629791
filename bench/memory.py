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

from bench.crm import (
    account_ids,
    insert_accounts,
    new_prefix,
    stage_counts,
    start_all,
    wait_for_stage,
)
from config.settings import Settings
from dormant.processes import spawn, stop, tail

ROOT = Path(__file__).resolve().parent.parent


def _status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024, 1)  # kB
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


def worker_env(settings: Settings) -> dict[str, str]:
    if settings.database_url is None:
        raise ValueError("the worker under measurement needs DATABASE_URL (bench_settings sets it)")
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


EVICTED_APPROVALS = 100
CACHED_CONTROL = 20


def _settle_rss(proc, log: Path) -> float:
    if proc.poll() is not None:
        raise RuntimeError(f"the worker exited with {proc.returncode}:\n{tail(log)}")
    return _status_mb(proc.pid, "VmRSS")


START_CHUNK = 100


async def _start_paced(client, pool, settings, ids: list[str], prefix: str, label: str, already: int,
                       ahead: int) -> None:
    """Start `ids` in chunks, keeping at most `ahead` accounts started but not yet waiting for review.

    Why: with tens of thousands started at once (the first 50,000 run of stop 25: 40,000 started in eight
    minutes) far more workflows are in progress than the sticky cache holds, so nearly every workflow task
    replays its history and the worker's rate falls from ~28 to ~8 accounts/s. This step measures memory
    with N accounts waiting, not a start storm; the dormancy scan's own starts (~34/s) are about the rate
    the worker drains them at.
    """
    started = already
    for at in range(0, len(ids), START_CHUNK):
        while started - (await stage_counts(pool, prefix)).get("awaiting_review", 0) > ahead:
            await asyncio.sleep(0.25)
        chunk = ids[at:at + START_CHUNK]
        await start_all(client, settings, chunk, label)
        started += len(chunk)


async def _start_level(client, pool, settings, ids, prefix, label, total: int, ahead: int) -> float:
    """Start `ids` and wait until `total` accounts under `prefix` (these and the earlier levels') wait."""
    starting = asyncio.create_task(_start_paced(client, pool, settings, ids, prefix, label, total - len(ids),
                                                ahead))
    await wait_for_stage(pool, prefix, "awaiting_review", total, f"{label} (awaiting_review)", watch=starting)
    await starting
    return time.perf_counter()


async def _approvals_one_at_a_time(client, pool, ids: list[str], name: str) -> dict:
    """Approve `ids` one at a time, each after the previous one's first message is in the outbox; p50/p99
    of the Update's round trip and of approval -> first message."""
    from bench.lifecycle import _approve, _latency_summary, _send_latencies_ms

    approved_at: dict[str, float] = {}
    update_ms: list[float] = []
    for aid in ids:
        approved_at[aid] = await _approve(client, aid, update_ms)
        for _ in range(1000):
            if await pool.fetchval("SELECT 1 FROM outbox WHERE account_id = $1 AND kind = 'first'", aid):
                break
            await asyncio.sleep(0.01)
    return {**_latency_summary(f"{name}_approval_to_send", await _send_latencies_ms(pool, approved_at)),
            **_latency_summary(f"{name}_approval_update", update_ms)}


async def measure_worker_rss(client: Client, pool: asyncpg.Pool, settings: Settings, levels: list[int],
                             sticky_cache: int, evicted: int = EVICTED_APPROVALS) -> dict:
    """RSS of `python -m worker` (its own process, sticky cache `sticky_cache`) with levels[0], then
    levels[-1] accounts waiting; then `evicted` of the oldest approved one at a time."""
    prefix = new_prefix("rss")
    ids = account_ids(prefix, levels[-1])
    await insert_accounts(pool, ids)
    log = settings.data_dir / "logs" / f"worker-{prefix}.log"
    env = {**worker_env(settings), "DORMANT_STICKY_CACHE_SIZE": str(sticky_cache)}
    proc = spawn([sys.executable, "-m", "worker"], log_path=log, env=env, cwd=ROOT)
    out: dict = {"worker_sticky_cache": sticky_cache, "worker_rss_levels": {}}
    try:
        await _wait_polling(log, proc)
        out["worker_rss_idle_mb"] = _status_mb(proc.pid, "VmRSS")
        started, done = time.perf_counter(), 0
        for level in levels:
            reached = await _start_level(client, pool, settings, ids[done:level], prefix, f"worker rss {level:,}", level,
                                         ahead=max(START_CHUNK, sticky_cache * 4 // 5))
            done = level
            await asyncio.sleep(3)  # let the last workflow tasks and the pollers settle
            out["worker_rss_levels"][str(level)] = _settle_rss(proc, log)
            print(f"  worker RSS with {level:,} waiting: {out['worker_rss_levels'][str(level)]} MB", flush=True)
        out["worker_process_accounts_per_s_to_review"] = round(levels[-1] / (reached - started), 2)
        low, high = out["worker_rss_levels"][str(levels[0])], out["worker_rss_levels"][str(levels[-1])]
        out["worker_rss_mb_10k_waiting"] = out["worker_rss_levels"].get("10000", high)
        out["worker_rss_accounts_waiting"] = 10_000 if "10000" in out["worker_rss_levels"] else levels[-1]
        out["worker_rss_growth"] = round(high / low - 1, 3)
        out["worker_rss_growth_basis"] = f"RSS with {levels[-1]:,} waiting / with {levels[0]:,} waiting - 1"
        out["worker_rss_peak_mb"] = _status_mb(proc.pid, "VmHWM")
        # The oldest accounts left the 500-workflow LRU cache thousands of workflows ago: each Update's workflow
        # task replays the account's history first. The control: the newest accounts, still cached.
        print(f"  approving {evicted} of the oldest waiting accounts (evicted), one at a time", flush=True)
        out.update(await _approvals_one_at_a_time(client, pool, ids[:evicted], "evicted"))
        print(f"  approving {CACHED_CONTROL} of the newest waiting accounts (cached), one at a time", flush=True)
        out.update(await _approvals_one_at_a_time(client, pool, ids[-CACHED_CONTROL:], "cached"))
        out["worker_rss_after_evicted_approvals_mb"] = _settle_rss(proc, log)
        return out
    finally:
        stop(proc, sig=signal.SIGTERM, timeout=30)
