"""The product's own lifecycle under load: review throughput, lifecycle throughput, approval-to-send latency,
and the size of a happy-path history.

The worker is the product's (worker.build_workers, in this process, as the tests run it) on a task queue of
its own. Throughput is read from the review_projection table, latency from the outbox row's created_at
against this machine's clock taken just before the approval's execute_update call.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter

import asyncpg
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from bench.crm import (
    account_ids,
    insert_accounts,
    new_prefix,
    owner_of,
    start_all,
    wait_for_stage,
)
from bench.stack import APPROVE_CONCURRENCY, Progress, bounded, percentile
from config.settings import Settings
from reactivation.models import Decision
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
            "approval_to_send_idle_trace": _trace_after_update(history)}


def _trace_after_update(history) -> list[str]:
    """Server-side timestamps from the Update's acceptance to the first delivery's completion: where the
    approval-to-send time goes (one idle account)."""
    trace, start = [], None
    for event in history.events:
        name = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
        at = event.event_time.ToDatetime()
        if start is None and name == "WORKFLOW_EXECUTION_UPDATE_ACCEPTED":
            start = at
        if start is None:
            continue
        trace.append(f"{(at - start).total_seconds() * 1000:7.1f} ms  {_label(event, name)}")
        if name == "ACTIVITY_TASK_COMPLETED" and "deliver" in trace[-4]:
            break
    return trace


def _history_breakdown(history) -> dict:
    types: Counter = Counter()
    bytes_by_type: Counter = Counter()
    activities: Counter = Counter()
    local_activities: Counter = Counter()
    sequence: list[str] = []
    for event in history.events:
        name = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
        types[name] += 1
        sequence.append(_label(event, name))
        bytes_by_type[name] += event.ByteSize()
        if event.HasField("activity_task_scheduled_event_attributes"):
            activities[event.activity_task_scheduled_event_attributes.activity_type.name] += 1
        if event.HasField("marker_recorded_event_attributes"):
            local_activities[_local_activity_name(event.marker_recorded_event_attributes)] += 1
    payloads = _payloads(history)
    return {"events": len(history.events), "bytes": len(history.to_json()),
            "proto_bytes": sum(e.ByteSize() for e in history.events),
            "payload_bytes": sum(p["bytes"] for p in payloads),
            "by_type": dict(types.most_common()), "proto_bytes_by_type": dict(bytes_by_type.most_common()),
            "activities": dict(activities), "local_activities_and_markers": dict(local_activities),
            "biggest_payloads": payloads[:TOP_PAYLOADS], "sequence": sequence}


TOP_PAYLOADS = 8


def _walk_payloads(message, path: str):
    """Every temporal.api.common.v1.Payload inside a proto message, with its field path."""
    if message.DESCRIPTOR.full_name == "temporal.api.common.v1.Payload":
        yield path, message
        return
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        name = f"{path}.{field.name}" if path else field.name
        if hasattr(value, "DESCRIPTOR"):  # a single message
            yield from _walk_payloads(value, name)
        elif hasattr(value, "items"):  # a map
            for key, item in value.items():
                if hasattr(item, "DESCRIPTOR"):
                    yield from _walk_payloads(item, f"{name}[{key}]")
        else:  # a repeated message field
            for i, item in enumerate(value):
                yield from _walk_payloads(item, f"{name}[{i}]")


def _json_fields(data: bytes) -> dict[str, int]:
    """Bytes per top-level field of a JSON payload (for a list, of its items' fields summed): what a payload
    carries. Empty when the payload is not a JSON object."""
    try:
        value = json.loads(data)
    except ValueError:
        return {}
    sizes: Counter = Counter()
    _field_sizes(value, "", sizes, depth=0)
    return dict(sizes.most_common(8))


def _field_sizes(value, path: str, sizes: Counter, depth: int) -> None:
    """Bytes of each field two levels deep (`records[].view.state` sums over a list's items)."""
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, dict):
            continue
        for key, sub in item.items():
            name = f"{path}.{key}" if path else key
            size = len(json.dumps(sub, separators=(",", ":")))
            if depth < 2 and isinstance(sub, (dict, list)) and size > 500:
                _field_sizes(sub, name + ("[]" if isinstance(sub, list) else ""), sizes, depth + 1)
            else:
                sizes[name] += size


def _payloads(history) -> list[dict]:
    """Every payload in the history, biggest first: the event (with activity or step), its field, its size
    and the biggest fields inside it."""
    scheduled: dict[int, str] = {}
    found = []
    for event in history.events:
        name = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
        label = _label(event, name)
        if event.HasField("activity_task_scheduled_event_attributes"):
            scheduled[event.event_id] = event.activity_task_scheduled_event_attributes.activity_type.name
        if event.HasField("activity_task_completed_event_attributes"):
            label += " " + scheduled.get(event.activity_task_completed_event_attributes.scheduled_event_id, "?")
        attrs = event.WhichOneof("attributes")
        if attrs is None:
            continue
        for path, payload in _walk_payloads(getattr(event, attrs), ""):
            if payload.ByteSize() < 64:
                continue
            found.append({"event_id": event.event_id, "event": label, "field": path, "bytes": payload.ByteSize(),
                          "fields_bytes": _json_fields(payload.data)})
    found.sort(key=lambda p: -p["bytes"])
    return found


def _label(event, name: str) -> str:
    """The event type, with the activity's name and the step's summary where there are some."""
    parts = [name]
    if event.HasField("activity_task_scheduled_event_attributes"):
        parts.append(event.activity_task_scheduled_event_attributes.activity_type.name)
    if event.HasField("user_metadata") and event.user_metadata.HasField("summary"):
        parts.append(f"({event.user_metadata.summary.data.decode(errors='replace').strip(chr(34))})")
    return " ".join(parts)


def _local_activity_name(marker) -> str:
    if marker.marker_name != "core_local_activity":
        return marker.marker_name
    try:
        data = json.loads(marker.details["data"].payloads[0].data)
        return data.get("activity_type") or "local_activity"
    except Exception:
        return "local_activity"


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
            results[name] = _history_breakdown(await handle.fetch_history())
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
