"""The product's own lifecycle under load: review throughput, lifecycle throughput, approval-to-send latency,
and the size of a happy-path history.

The worker is the product's (worker.build_workers, in this process, as the tests run it) on a task queue of
its own. Throughput is read from the review_projection table, latency from the outbox row's created_at
against this machine's clock taken just before the approval's execute_update call.
"""

from __future__ import annotations

import asyncio
import time

import asyncpg
from temporalio.client import Client

from bench.crm import (
    account_ids,
    insert_accounts,
    new_prefix,
    owner_of,
    start_all,
    wait_for_stage,
)
from bench.history_payloads import history_breakdown, trace_after_update
from bench.stack import APPROVE_CONCURRENCY, Progress, bounded, percentile
from config.settings import Settings
from reactivation.review_model import Decision
from tests.support.lifecycle_helpers import running_worker
from workflows.dormant_account import DormantAccountWorkflow
from workflows.dormant_account_models import workflow_id_for

IDLE_SAMPLE = 20  # accounts approved one at a time on an otherwise idle worker


async def _approve(client: Client, account_id: str, update_ms: list[float] | None = None, *,
                   via: str = "update", **edits) -> float:
    """Approve draft 1 as the account's owner; return the wall-clock time just before the call.

    `update_ms` collects how long the call itself took (for the Update: its round trip through the server
    and a workflow task), so the latency to the outbox can be split into "accepted" and "then sent".
    (`via="signal"` is gone: the lifecycle ignores decision signals, which cannot be authenticated.)
    """
    handle = client.get_workflow_handle(workflow_id_for(account_id))
    decision = Decision(action="approve", draft_version=1, decided_by=owner_of(account_id), **edits)
    before = time.time()
    await handle.execute_update(DormantAccountWorkflow.decide, decision)
    if update_ms is not None:
        update_ms.append((time.time() - before) * 1000)
    return before


async def _send_latencies_ms(pool: asyncpg.Pool, approved_at: dict[str, float]) -> list[float]:
    rows = await pool.fetch("""SELECT account_id, extract(epoch FROM created_at)::float8 AS at FROM outbox
                               WHERE kind = 'first' AND account_id = ANY($1::text[])""", list(approved_at))
    if len(rows) != len(approved_at):
        raise RuntimeError(f"only {len(rows)} of {len(approved_at)} first messages are in the outbox")
    return [(r["at"] - approved_at[r["account_id"]]) * 1000 for r in rows]


def _latency_summary(name: str, values: list[float]) -> dict:
    return {f"{name}_p50_ms": round(percentile(values, 50), 1), f"{name}_p99_ms": round(percentile(values, 99), 1),
            f"{name}_max_ms": round(max(values), 1), f"{name}_samples": len(values)}


async def product_round(client: Client, worker_pool: asyncpg.Pool, pool: asyncpg.Pool, settings: Settings, n: int,
                        *, lifecycle: bool = True, cpu=None, via: str = "update") -> dict:
    """One round of N fresh accounts: start -> all awaiting_review; then approve all -> all closed (no_response).

    `worker_pool` is the product worker's; `pool` is the bench's own, for inserts and polling; `cpu()`
    returns a CpuMeter (bench/stack.py) started at the beginning of a phase.
    """
    prefix = new_prefix("life")
    ids = account_ids(prefix, n)
    await insert_accounts(pool, ids)
    out: dict = {"n_accounts": n}
    async with running_worker(client, worker_pool, settings):
        meter = cpu() if cpu else None
        started = time.perf_counter()
        starting = asyncio.create_task(start_all(client, settings, ids, "review"))
        reviewed = await wait_for_stage(pool, prefix, "awaiting_review", n, "review", watch=starting)
        await starting
        if meter:
            out["cpu_ms_per_account_review"] = meter.per_account_ms(n)
        out["review_elapsed_s"] = round(reviewed - started, 2)
        out["accounts_per_s_to_review"] = round(n / (reviewed - started), 2)
        if not lifecycle:
            return out

        approved_at: dict[str, float] = {}
        update_ms: list[float] = []
        approving_progress = Progress("approve", n)

        async def approve(aid):
            approved_at[aid] = await _approve(client, aid, update_ms, via=via)
            approving_progress.show(len(approved_at))

        meter = cpu() if cpu else None
        first_approval = time.perf_counter()
        async def approve_all() -> float:
            await bounded(ids, approve, APPROVE_CONCURRENCY)
            return time.perf_counter()

        approving = asyncio.create_task(approve_all())
        closed = await wait_for_stage(pool, prefix, "closed", n, "lifecycle (closed)", watch=approving,
                                      extra=lambda: f"(approved {len(approved_at)})")
        out["approvals_elapsed_s"] = round(await approving - first_approval, 2)
        if meter:
            out["cpu_ms_per_account_lifecycle"] = meter.per_account_ms(n)
        out["approved_via"] = via
        out["lifecycle_elapsed_s"] = round(closed - first_approval, 2)
        out["accounts_per_s_lifecycle"] = round(n / (closed - first_approval), 2)
        out.update(_latency_summary("approval_to_send", await _send_latencies_ms(pool, approved_at)))
        out.update(_latency_summary("approval_update", update_ms))
    return out


async def idle_latency(client: Client, worker_pool: asyncpg.Pool, pool: asyncpg.Pool, settings: Settings) -> dict:
    async with running_worker(client, worker_pool, settings):
        return await _idle_latency(client, pool, settings)


async def _idle_latency(client: Client, pool: asyncpg.Pool, settings: Settings) -> dict:
    """The same latency with one approval at a time on an idle worker: the floor the load figure sits on."""
    prefix = new_prefix("idle")
    ids = account_ids(prefix, IDLE_SAMPLE)
    await insert_accounts(pool, ids)
    starting = asyncio.create_task(start_all(client, settings, ids, "idle sample"))
    await wait_for_stage(pool, prefix, "awaiting_review", len(ids), "idle sample (review)", watch=starting)
    await starting
    approved_at: dict[str, float] = {}
    update_ms: list[float] = []
    for aid in ids:
        approved_at[aid] = await _approve(client, aid, update_ms)
        for _ in range(500):  # wait for the first message before the next approval
            if await pool.fetchval("SELECT 1 FROM outbox WHERE account_id = $1 AND kind = 'first'", aid):
                break
            await asyncio.sleep(0.01)
    history = await client.get_workflow_handle(workflow_id_for(ids[-1])).fetch_history()
    return {**_latency_summary("approval_to_send_idle", await _send_latencies_ms(pool, approved_at)),
            **_latency_summary("approval_update_idle", update_ms),
            "approval_to_send_idle_trace": trace_after_update(history)}


async def measure_history(client: Client, worker_pool: asyncpg.Pool, pool: asyncpg.Pool, settings: Settings) -> dict:
    """One account without a follow-up (follow_up_body edited to "") and one with, each run to completion."""
    prefix = new_prefix("hist")
    ids = account_ids(prefix, 2)
    await insert_accounts(pool, ids)
    async with running_worker(client, worker_pool, settings):
        starting = asyncio.create_task(start_all(client, settings, ids, "history"))
        await wait_for_stage(pool, prefix, "awaiting_review", 2, "history (review)", watch=starting)
        await starting
        await _approve(client, ids[0], follow_up_body="")
        await _approve(client, ids[1])
        results = {}
        for aid, name in zip(ids, ("no_follow_up", "with_follow_up")):
            handle = client.get_workflow_handle(workflow_id_for(aid))
            await asyncio.wait_for(handle.result(), timeout=120)
            results[name] = history_breakdown(await handle.fetch_history())
            info = (await handle.describe()).raw_description.workflow_execution_info
            results[name]["server_history_size_bytes"] = info.history_size_bytes
    plain, follow = results["no_follow_up"], results["with_follow_up"]
    return {"happy_path_history_events": plain["events"],
            "happy_path_history_bytes": plain["server_history_size_bytes"],
            "happy_path_history_json_bytes": plain["bytes"], "happy_path_payload_bytes": plain["payload_bytes"],
            "happy_path_with_follow_up_history_events": follow["events"],
            "happy_path_with_follow_up_history_bytes": follow["server_history_size_bytes"],
            "happy_path_with_follow_up_history_json_bytes": follow["bytes"],
            "happy_path_with_follow_up_payload_bytes": follow["payload_bytes"],
            "history_bytes_basis": "server_history_size_bytes: the history size Temporal itself counts (the "
                                   "protobuf events, what its history size limits apply to); JSON and payload "
                                   "bytes alongside",
            "history_breakdown": results}
