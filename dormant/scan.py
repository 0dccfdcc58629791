"""`dormant scan`: run the dormancy scan workflow now, or install the daily `dormant-scan` Schedule.

The scan itself is a Temporal workflow (workflows/dormancy_scan.py), so a crash mid-scan resumes from its
cursor and ops see its progress in Temporal UI; this module only starts it and reports progress.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)

from client.connect import connect_temporal
from config.settings import Settings
from reactivation.scan_model import ScanInput, ScanResult
from workflows.dormancy_scan import DormancyScanWorkflow

SCHEDULE_ID = "dormant-scan"


def scan_input(settings: Settings) -> ScanInput:
    return ScanInput(dormancy_days=settings.dormancy_days)


async def run_scan(settings: Settings, *, client: Client | None = None, task_queue: str | None = None,
                   progress: Callable[[str], None] | None = None) -> ScanResult:
    client = client or await connect_temporal(settings)
    handle = await client.start_workflow(
        DormancyScanWorkflow.run, scan_input(settings), id=f"dormancy-scan-manual-{uuid.uuid4().hex[:8]}",
        task_queue=task_queue or settings.task_queue, static_summary="Dormancy scan (manual)",
    )
    result_task = asyncio.ensure_future(handle.result())
    while not result_task.done():
        await asyncio.wait([result_task], timeout=1.0)
        if progress and not result_task.done():
            try:
                latest = client.get_workflow_handle_for(DormancyScanWorkflow.run, handle.id)  # follows continue-as-new
                progress(await latest.query(DormancyScanWorkflow.progress))
            except Exception:
                pass
    return result_task.result()


async def ensure_scan_schedule(settings: Settings, client: Client, every: timedelta = timedelta(days=1)) -> bool:
    """Create the daily scan Schedule once; True if it was created now."""
    try:
        await client.create_schedule(
            SCHEDULE_ID,
            Schedule(
                action=ScheduleActionStartWorkflow(DormancyScanWorkflow.run, scan_input(settings),
                                                   id="dormancy-scan", task_queue=settings.task_queue),
                spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
                policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
            ),
        )
    except ScheduleAlreadyRunningError:
        return False
    return True
