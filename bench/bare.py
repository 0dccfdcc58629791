"""The bare baseline: what Temporal alone does on this machine with the product's history shape and none of
its work.

The product's happy path with a follow-up (template drafts, send window "always", no holdout), read from a
live history (`history_breakdown.with_follow_up.sequence` in the JSON, 48 events), is:

  before the owner decides   local gather_evidence, activity prepare_draft,
                             local record_steps(draft_generated, awaiting_review), upsert, reminder timer started
  owner decides              one Update (`decide`); the reminder timer is cancelled
  after                      upsert, activity deliver(first) (which also writes its `sent` event), upsert,
                             timer follow_up (1 s), activity deliver(follow_up) (writes `follow_up_sent`), upsert,
                             timer outcome_window (1 s), local record_steps(closed), upsert, completed

BareWorkflow makes exactly these commands, in this order, with no-op bodies and tiny payloads: the same
2 activities and 3 local activities, 5 upserts of the same search attribute, the reminder as a
wait_condition timeout that the signal cancels, two 1 s timers. So both histories have the same events
(48; the bare one has a signal where the product has the Update's accepted + completed). What the
ratios charge to the product is therefore its payloads, its SQL, its Python (the pure lifecycle, pydantic)
and the Update's synchronous round trip, not its number of events (which has its own target).

Latency: the driver notes time.time() just before each signal, the no-op activity standing for the first
`deliver` notes time.time() when it runs; the difference is the bare "signal to first send".
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from datetime import timedelta

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from temporalio.client import Client
    from temporalio.common import SearchAttributeKey
    from temporalio.worker import Worker

    from bench.stack import (
        APPROVE_CONCURRENCY,
        START_CONCURRENCY,
        Progress,
        bounded,
        percentile,
    )

STAGE = SearchAttributeKey.for_keyword("ReactivationStage")

BEFORE = ["local:evidence", "activity:draft", "local:waiting", "upsert:awaiting_review"]
AFTER = ["upsert:approved", "activity:send_first", "upsert:sent", "timer", "activity:send_follow_up",
         "upsert:follow_up_sent", "timer", "local:done", "upsert:closed"]
REMINDER_S = 86_400.0  # as the bench's review_reminder_after: started, then cancelled by the signal
ACTIVITIES = sum(step.startswith("activity") for step in BEFORE + AFTER)
LOCAL_ACTIVITIES = sum(step.startswith("local") for step in BEFORE + AFTER)
UPSERTS = sum(step.startswith("upsert") for step in BEFORE + AFTER)


class Probe:
    """In-process records of the bare workflows (their no-op activities run in this process)."""

    def __init__(self) -> None:
        self.waiting: set[str] = set()
        self.done: set[str] = set()
        self.first_send_at: dict[str, float] = {}

    @activity.defn(name="bench_noop")
    async def noop(self, tag: str) -> str:
        workflow_id = activity.info().workflow_id or ""  # always set: every bench_noop runs in a workflow
        if tag == "waiting":
            self.waiting.add(workflow_id)
        elif tag == "done":
            self.done.add(workflow_id)
        elif tag == "send_first":
            self.first_send_at.setdefault(workflow_id, time.time())
        return tag


@workflow.defn
class BareWorkflow:
    def __init__(self) -> None:
        self._approved = False

    @workflow.signal
    def approve(self) -> None:
        self._approved = True

    @workflow.update
    def approve_update(self) -> None:
        """The same decision as a synchronous Update (`--bare-decision update`): how much of the product's
        gap is its use of an Update rather than a signal."""
        self._approved = True

    @workflow.run
    async def run(self, timer_s: float) -> None:
        for step in BEFORE:
            await self._step(step, timer_s)
        with contextlib.suppress(TimeoutError):  # the review reminder: started while waiting, cancelled by the decision
            await workflow.wait_condition(lambda: self._approved, timeout=REMINDER_S)
        for step in AFTER:
            await self._step(step, timer_s)

    async def _step(self, step: str, timer_s: float) -> None:
        kind, _, tag = step.partition(":")
        if kind == "activity":
            await workflow.execute_activity("bench_noop", tag, start_to_close_timeout=timedelta(seconds=30))
        elif kind == "local":
            await workflow.execute_local_activity("bench_noop", tag, start_to_close_timeout=timedelta(seconds=10))
        elif kind == "upsert":
            workflow.upsert_search_attributes([STAGE.value_set(tag)])
        else:
            await workflow.sleep(timer_s)


async def _wait_for(ids_seen, total: int, label: str, watch: asyncio.Task, timeout: float = 3600) -> float:
    """Poll like crm.wait_for_stage does (every 0.25 s), so both sides are read with the same resolution."""
    progress = Progress(label, total)
    deadline = time.monotonic() + timeout
    while len(ids_seen) < total:
        if watch.done() and (failed := watch.exception()) is not None:
            raise failed
        if time.monotonic() > deadline:
            raise TimeoutError(f"{label}: {len(ids_seen)}/{total} after {timeout:.0f}s")
        progress.show(len(ids_seen))
        await asyncio.sleep(0.25)
    progress.show(len(ids_seen), force=True)
    return time.perf_counter()


def _product_tuning(settings) -> dict:
    """The product worker's concurrency and cache settings (worker.tuning), so both workers are alike."""
    try:
        from worker import tuning
    except ImportError:  # an older worker.py without tuning: SDK defaults on both sides
        return {}
    return {k: v for k, v in tuning(settings).items() if k != "graceful_shutdown_timeout"}


def bare_worker(client: Client, probe: Probe, queue: str, settings) -> Worker:
    tuning = _product_tuning(settings) if settings is not None else {}
    return Worker(client, task_queue=queue, workflows=[BareWorkflow], activities=[probe.noop], **tuning)


async def start_bare(client: Client, ids: list[str], queue: str, timer_s: float) -> None:
    async def start(wid):
        await client.start_workflow(BareWorkflow.run, timer_s, id=wid, task_queue=queue)

    await bounded(ids, start, START_CONCURRENCY)


async def bare_round(client: Client, n: int, timer_s: float, settings=None, cpu=None, decision: str = "signal") -> dict:
    """N bare workflows: start -> all waiting; signal all -> all done. Same concurrency as the product round.
    `decision="update"`: the decision is an Update instead (a diagnostic, not the issue's baseline)."""
    probe = Probe()
    out: dict = {}
    queue = f"bench-bare-{uuid.uuid4().hex[:8]}"
    ids = [f"{queue}-{i:06d}" for i in range(n)]
    async with bare_worker(client, probe, queue, settings):
        meter = cpu() if cpu else None
        started = time.perf_counter()
        starting = asyncio.create_task(start_bare(client, ids, queue, timer_s))
        waiting = await _wait_for(probe.waiting, n, "bare (waiting)", starting)
        await starting
        if meter:
            out["cpu_ms_per_account_bare_to_waiting"] = meter.per_account_ms(n)

        signalled_at: dict[str, float] = {}

        async def signal(wid):
            signalled_at[wid] = time.time()
            handle = client.get_workflow_handle(wid)
            if decision == "update":
                await handle.execute_update(BareWorkflow.approve_update)
            else:
                await handle.signal(BareWorkflow.approve)

        meter = cpu() if cpu else None
        first_signal = time.perf_counter()
        signalling = asyncio.create_task(bounded(ids, signal, APPROVE_CONCURRENCY))
        done = await _wait_for(probe.done, n, "bare (done)", signalling)
        await signalling
        if meter:
            out["cpu_ms_per_account_bare_after_signal"] = meter.per_account_ms(n)
    latencies = [(probe.first_send_at[w] - signalled_at[w]) * 1000 for w in ids]
    return {**out, "bare_accounts_per_s_to_waiting": round(n / (waiting - started), 2),
            "bare_accounts_per_s": round(n / (done - first_signal), 2),
            "bare_signal_to_send_p50_ms": round(percentile(latencies, 50), 1),
            "bare_signal_to_send_p99_ms": round(percentile(latencies, 99), 1)}


async def bare_starts_to_waiting(client: Client, n: int, timer_s: float, settings=None, cpu=None) -> dict:
    """The funnel's baseline: N bare workflows started (START_CONCURRENCY in flight, as the product's scan
    page does) until every one waits for its signal; the workflows are terminated afterwards."""
    probe = Probe()
    queue = f"bench-bare-funnel-{uuid.uuid4().hex[:8]}"
    ids = [f"{queue}-{i:06d}" for i in range(n)]
    out: dict = {}
    async with bare_worker(client, probe, queue, settings):
        meter = cpu() if cpu else None
        started = time.perf_counter()
        starting = asyncio.create_task(start_bare(client, ids, queue, timer_s))
        waiting = await _wait_for(probe.waiting, n, "bare funnel (waiting)", starting)
        await starting
        if meter:
            out["cpu_ms_per_account_funnel_bare"] = meter.per_account_ms(n)
    await bounded(ids, lambda wid: client.get_workflow_handle(wid).terminate("bench done"), 50)
    return {**out, "funnel_bare_accounts_per_s": round(n / (waiting - started), 2),
            "funnel_bare_elapsed_s": round(waiting - started, 2)}


def bare_shape(timer_s: float, decision: str = "signal") -> dict:
    return {"activities": ACTIVITIES, "local_activities": LOCAL_ACTIVITIES, "upserts": UPSERTS, "decision": decision,
            "timers": 2, "timer_s": timer_s, "reminder_timer": "started and cancelled",
            "before_signal": BEFORE, "after_signal": AFTER}
