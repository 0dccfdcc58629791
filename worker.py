"""Worker process: builds the pool and clients once, registers the workflow and every activity.

Drafting runs on its own task queue (DORMANT_LLM_TASK_QUEUE) when an LLM is configured, so its rate limit
never slows evidence, ledger or delivery work.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

import asyncpg
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxRestrictions

from activities.business_hours import plan_send_time
from activities.delivery import DeliveryActivities
from activities.drafting import DraftingActivities
from activities.evidence import EvidenceActivities
from activities.ledger import LedgerActivities
from activities.notify import NotifyActivities
from activities.scan import ScanActivities
from client.connect import connect_temporal
from client.sandbox import sandbox_runner
from config.settings import Settings, load_settings
from db.pool import create_pool
from reactivation.decision_proof import keys_from
from workflows import decision_keys
from workflows.dormancy_scan import DormancyScanWorkflow
from workflows.dormant_account import DormantAccountWorkflow
from workflows.legacy.dormant_account_v1 import DormantAccountWorkflowV1
from workflows.notify import OwnerNotificationsWorkflow

# Modules passed through the sandbox are imported once per process instead of once per workflow run. A run
# of a re-imported DormantAccountWorkflow cost ~6.6 ms of CPU and ~85 kB before it did anything (measured:
# bench/README.md, "Sandbox"); passed through, 0.4 ms and 7 kB. That is safe because these modules keep no
# mutable module state and are deterministic by rule: ruff bans clocks, randomness, sleeps and the environment
# in workflows/ and reactivation/ (TID251 in pyproject.toml), and the replay tests run every saved history.
# The decision keys' registry is shared on purpose: the validator reads the keys this process installed.
# The frozen v1 workflow stays fully sandboxed: it is not edited again, only drained.
PASSED_THROUGH = ("reactivation", "workflows.decision_keys", "workflows.dormant_account", "workflows.lifecycle_io",
                  "workflows.dormant_account_models", "workflows.dormancy_scan", "workflows.notify")
SANDBOX = sandbox_runner(SandboxRestrictions.default.with_passthrough_modules(*PASSED_THROUGH))
SHUTDOWN_GRACE = timedelta(seconds=10)  # on SIGTERM, running activities get this long to finish


def tuning(settings: Settings) -> dict:
    """Worker concurrency and cache from settings (see the scale-out section of the README)."""
    return dict(max_concurrent_workflow_tasks=settings.worker_workflow_tasks,
                max_concurrent_activities=settings.worker_activities,
                max_concurrent_local_activities=settings.worker_local_activities,
                max_cached_workflows=settings.sticky_cache_size, graceful_shutdown_timeout=SHUTDOWN_GRACE)


def build_workers(client: Client, pool, settings: Settings, task_queue: str | None = None) -> list[Worker]:
    """The workers one process runs: the main queue, plus the LLM queue when drafting uses the LLM."""
    evidence, ledger = EvidenceActivities(pool), LedgerActivities(pool)
    delivery, drafting = DeliveryActivities(pool, settings), DraftingActivities(settings)
    queue = task_queue or settings.task_queue
    decision_keys.install(queue, keys_from(settings.decision_key.get_secret_value() if settings.decision_key else ""))
    scan = ScanActivities(pool, client, settings)
    activities: list[Callable[..., Any]] = [evidence.gather_evidence, ledger.record_step, ledger.record_steps, delivery.deliver, scan.scan_dormant_page,
                  drafting.prepare_template_draft, plan_send_time]
    notify = NotifyActivities(pool, settings)
    activities += [notify.enqueue_due_notifications, notify.dispatch_notifications]
    if not settings.llm_enabled:
        activities.append(drafting.prepare_draft)
    workers = [Worker(client, task_queue=queue, workflow_runner=SANDBOX,
                      workflows=[DormantAccountWorkflow, DormantAccountWorkflowV1, DormancyScanWorkflow, OwnerNotificationsWorkflow],
                      activities=activities, **tuning(settings),
                      max_task_queue_activities_per_second=settings.activity_rate_per_s)]
    if settings.llm_enabled:
        # Its own queue with a server-side rate limit, shared by every worker polling it.
        workers.append(Worker(client, task_queue=settings.llm_task_queue, activities=[drafting.prepare_draft],
                              max_task_queue_activities_per_second=settings.llm_rate_per_s,
                              graceful_shutdown_timeout=SHUTDOWN_GRACE))
    return workers


async def _retry_start(what: str, connect, timeout_s: float = 300.0):
    """Wait for a dependency that is (re)starting instead of dying: a worker started while Temporal or
    PostgreSQL restarts comes up when they do. Gives up, with the last error, after `timeout_s`."""
    log = logging.getLogger("dormant.worker")
    deadline = asyncio.get_running_loop().time() + timeout_s
    delay = 0.5
    while True:
        try:
            return await connect()
        except (OSError, RuntimeError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
            if asyncio.get_running_loop().time() + delay > deadline:
                raise SystemExit(f"{what} is not reachable after {timeout_s:.0f} s: {err}") from err
            log.warning("waiting for %s: %s", what, err)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


async def run_worker(settings: Settings, dsn: str | None = None) -> None:
    dsn = dsn or settings.database_url
    if not dsn:
        raise SystemExit("DATABASE_URL is not set (`dormant dev` sets it for its embedded PostgreSQL)")
    client = await _retry_start("Temporal", lambda: connect_temporal(settings))
    pool = await _retry_start("PostgreSQL", lambda: create_pool(dsn, max_size=settings.db_pool_size))
    async with AsyncExitStack() as stack:
        stack.push_async_callback(pool.close)
        for worker in build_workers(client, pool, settings):
            await stack.enter_async_context(worker)
        logging.getLogger("dormant.worker").info("worker polling %s", settings.task_queue)
        if settings.schedules:
            await _ensure_notifications(settings, client)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()  # leaving the stack shuts the workers down gracefully


async def _ensure_notifications(settings: Settings, client) -> None:
    """Owners hear about their queue only if the notification schedule exists; every deployment runs a
    worker, so the worker makes sure of it (idempotent; a failure is logged, the worker still polls)."""
    from dormant.notify_schedule import ensure_notification_schedule

    try:
        if await ensure_notification_schedule(settings, client):
            logging.getLogger("dormant.worker").info("created the owner-notification schedule")
    except Exception:
        logging.getLogger("dormant.worker").exception("could not create the owner-notification schedule")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncio.run(run_worker(load_settings()))


if __name__ == "__main__":
    main()
