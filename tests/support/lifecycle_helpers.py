"""Helpers for lifecycle tests: a worker on the test's own task queue, and waiting for a stage."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from temporalio.client import Client, WorkflowHandle

from reactivation.review_model import ReviewState
from worker import build_workers
from workflows.dormant_account import DormantAccountWorkflow


@contextlib.asynccontextmanager
async def running_worker(client: Client, pool, settings):
    workers = build_workers(client, pool, settings)
    async with contextlib.AsyncExitStack() as stack:
        for worker in workers:
            await stack.enter_async_context(worker)
        yield


async def wait_for_stage(handle: WorkflowHandle, *stages: str, timeout: float = 30.0) -> ReviewState:
    """Poll the workflow's query until it reports one of `stages`."""
    deadline = asyncio.get_running_loop().time() + timeout
    state = None
    while asyncio.get_running_loop().time() < deadline:
        try:
            state = await handle.query(DormantAccountWorkflow.review_state)
            if state.stage.value in stages:
                return state
        except Exception:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError(f"stage never became {stages}; last state: {state.stage if state else None}")


OWNER = "owner@test.dormant"


async def start_account(client: Client, settings, account_id: str) -> WorkflowHandle:
    """Start the account's reactivation on the test's own task queue; return a typed handle."""
    from client.starter import start_reactivation

    started = await start_reactivation(client, settings, account_id, task_queue=settings.task_queue)
    return client.get_workflow_handle_for(DormantAccountWorkflow.run, started.workflow_id)


HISTORIES = Path(__file__).parents[1] / "workflows" / "histories"


async def keep_history(handle: WorkflowHandle, name: str) -> None:
    """With DORMANT_RECORD_HISTORIES=1, save this run's history as tests/workflows/histories/<name>.json.

    Saved histories are replayed by test_replay.py on every run, so a workflow change that would break
    running workflows fails CI unless it is versioned with workflow.patched.
    """
    import os

    if os.environ.get("DORMANT_RECORD_HISTORIES") != "1":
        return
    history = await handle.fetch_history()
    HISTORIES.mkdir(exist_ok=True)
    (HISTORIES / f"{name}.json").write_text(history.to_json())


async def approve(handle: WorkflowHandle, version: int = 1, **edits):
    """The owner approves draft `version` through the Update (edits optional)."""
    from reactivation.review_model import Decision

    return await handle.execute_update(DormantAccountWorkflow.decide,
                                       Decision(action="approve", draft_version=version, decided_by=OWNER, **edits))


async def review_then_approve(client: Client, settings, account_id: str) -> WorkflowHandle:
    """Start the account, wait until it awaits review, approve draft 1; return the handle."""
    handle = await start_account(client, settings, account_id)
    await wait_for_stage(handle, "awaiting_review")
    await approve(handle)
    return handle


async def stored_review_matches(pool, handle: WorkflowHandle, timeout: float = 10.0) -> bool:
    """Whether the review the projection stores (written whole once, then as patches) becomes the
    workflow's own review, field for field, within `timeout` (the write follows the step it records)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        review = await handle.query(DormantAccountWorkflow.review_state)
        stored = await pool.fetchval("SELECT state FROM review_projection WHERE account_id = $1", review.account_id)
        if stored and ReviewState.model_validate(stored) == review:
            return True
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.1)

