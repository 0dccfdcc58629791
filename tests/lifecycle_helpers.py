"""Helpers for lifecycle tests: a worker on the test's own task queue, and waiting for a stage."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from temporalio.client import Client, WorkflowHandle

from reactivation.models import ReviewState
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
        except Exception:  # noqa: BLE001 - not started yet
            pass
        await asyncio.sleep(0.2)
    raise AssertionError(f"stage never became {stages}; last state: {state.stage if state else None}")


SECOND = timedelta(seconds=1)
