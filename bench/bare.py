"""The bare baseline: what Temporal alone does on this machine with the product's shape and none of its work.

The product's happy path with a follow-up (template drafts, send window "always", no holdout) makes, in order:

  before the owner decides   activity gather_evidence, activity prepare_draft,
                             local record_step(draft_generated), local record_step(awaiting_review)
  owner decides              one Update (`decide`)
  after                      local record_step(reviewed), local record_step(approved), activity gather_evidence,
                             activity deliver(first), local record_step(sent), timer follow_up_after,
                             activity deliver(follow_up), local record_step(follow_up_sent),
                             timer outcome_window, local record_step(closed)

that is 5 activities + 7 local activities (counted from workflows/dormant_account.py and checked against a
live history by `python -m bench`: see history_breakdown in the JSON), plus a reminder timer that is started
and cancelled while it waits. BareWorkflow makes the same 5 no-op activities and 7 no-op local activities in
the same order around one signal, with one timer lasting follow_up_after + outcome_window, so both wait the
same wall-clock time. What the product does beyond that (real SQL, large pydantic payloads, search-attribute
upserts, the Update's round trip instead of a signal, a second and a cancelled timer) is what
ratio_vs_bare charges to it.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from temporalio.client import Client
    from temporalio.worker import Worker

    from bench.stack import APPROVE_CONCURRENCY, START_CONCURRENCY, Progress, bounded

BEFORE = ["activity", "activity", "local", "local:waiting"]
AFTER = ["local", "local", "activity", "activity", "local", "timer", "activity", "local", "local:done"]
ACTIVITIES = sum(step.startswith("activity") for step in BEFORE + AFTER)
LOCAL_ACTIVITIES = sum(step.startswith("local") for step in BEFORE + AFTER)


class Probe:
    """In-process sets of workflows that reached the wait and the end (bare activities run in this process)."""

    def __init__(self) -> None:
        self.waiting: set[str] = set()
        self.done: set[str] = set()

    @activity.defn(name="bench_noop")
    async def noop(self, tag: str) -> str:
        info = activity.info()
        if tag == "waiting":
            self.waiting.add(info.workflow_id)
        elif tag == "done":
            self.done.add(info.workflow_id)
        return tag


@workflow.defn
class BareWorkflow:
    def __init__(self) -> None:
        self._approved = False

    @workflow.signal
    def approve(self) -> None:
        self._approved = True

    @workflow.run
    async def run(self, timer_s: float) -> None:
        for step in BEFORE:
            await self._step(step, timer_s)
        await workflow.wait_condition(lambda: self._approved)
        for step in AFTER:
            await self._step(step, timer_s)

    async def _step(self, step: str, timer_s: float) -> None:
        kind, _, tag = step.partition(":")
        if kind == "activity":
            await workflow.execute_activity("bench_noop", tag, start_to_close_timeout=timedelta(seconds=30))
        elif kind == "local":
            await workflow.execute_local_activity("bench_noop", tag, start_to_close_timeout=timedelta(seconds=10))
        else:
            await workflow.sleep(timer_s)


async def _wait_for(ids_seen: set[str], total: int, label: str, watch: asyncio.Task, timeout: float = 3600) -> float:
    progress = Progress(label, total)
    deadline = time.monotonic() + timeout
    while len(ids_seen) < total:
        if watch.done() and watch.exception() is not None:
            raise watch.exception()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{label}: {len(ids_seen)}/{total} after {timeout:.0f}s")
        progress.show(len(ids_seen))
        await asyncio.sleep(0.05)
    progress.show(len(ids_seen), force=True)
    return time.perf_counter()


def _product_tuning(settings) -> dict:
    """The product worker's concurrency and cache settings (worker.tuning), so both workers are alike."""
    try:
        from worker import tuning
    except ImportError:  # an older worker.py without tuning: SDK defaults on both sides
        return {}
    return {k: v for k, v in tuning(settings).items() if k != "graceful_shutdown_timeout"}


async def measure_bare(client: Client, n: int, timer_s: float, settings=None, cpu=None) -> dict:
    """N bare workflows: start -> all waiting; signal all -> all done. Same concurrency as the product run."""
    probe = Probe()
    cpu_ms = {}
    queue = f"bench-bare-{uuid.uuid4().hex[:8]}"
    ids = [f"{queue}-{i:06d}" for i in range(n)]
    tuning = _product_tuning(settings) if settings is not None else {}
    async with Worker(client, task_queue=queue, workflows=[BareWorkflow], activities=[probe.noop], **tuning):
        meter = cpu() if cpu else None
        started = time.perf_counter()

        async def start(wid):
            await client.start_workflow(BareWorkflow.run, timer_s, id=wid, task_queue=queue)

        starting = asyncio.create_task(bounded(ids, start, START_CONCURRENCY))
        waiting = await _wait_for(probe.waiting, n, "bare (waiting)", starting)
        await starting
        if meter:
            cpu_ms["cpu_ms_per_account_bare_to_waiting"] = meter.per_account_ms(n)

        async def signal(wid):
            await client.get_workflow_handle(wid).signal(BareWorkflow.approve)

        meter = cpu() if cpu else None
        first_signal = time.perf_counter()
        signalling = asyncio.create_task(bounded(ids, signal, APPROVE_CONCURRENCY))
        done = await _wait_for(probe.done, n, "bare (done)", signalling)
        await signalling
        if meter:
            cpu_ms["cpu_ms_per_account_bare_after_signal"] = meter.per_account_ms(n)
    return {**cpu_ms, "bare_accounts_per_s_to_waiting": round(n / (waiting - started), 2),
            "bare_accounts_per_s": round(n / (done - first_signal), 2),
            "bare_shape": {"activities": ACTIVITIES, "local_activities": LOCAL_ACTIVITIES, "signals": 1,
                           "timers": 1, "timer_s": timer_s, "before_signal": BEFORE, "after_signal": AFTER}}
