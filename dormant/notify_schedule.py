"""The `dormant-notify` Temporal Schedule: OwnerNotificationsWorkflow every minute.

Modelled on `ensure_scan_schedule` (dormant/scan.py). Every minute, because a customer's reply should reach
its owner within a minute; the daily digest goes out from DORMANT_DIGEST_HOUR (UTC), a setting the worker
reads, so changing it needs a worker restart, not a new Schedule. Overlap SKIP: a slow run is never doubled.
`python -m dormant.notify_schedule` creates it against the configured Temporal.
"""

from __future__ import annotations

import asyncio
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
from config.settings import Settings, load_settings
from workflows.notify import OwnerNotificationsWorkflow

SCHEDULE_ID = "dormant-notify"
WORKFLOW_ID = "owner-notifications"


async def ensure_notification_schedule(settings: Settings, client: Client,
                                       every: timedelta = timedelta(minutes=1)) -> bool:
    """Create the notifications Schedule once; True if it was created now."""
    try:
        await client.create_schedule(
            SCHEDULE_ID,
            Schedule(
                action=ScheduleActionStartWorkflow(OwnerNotificationsWorkflow.run, id=WORKFLOW_ID,
                                                   task_queue=settings.task_queue),
                spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
                policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
            ),
        )
    except ScheduleAlreadyRunningError:
        return False
    return True


async def _main() -> None:
    settings = load_settings()
    created = await ensure_notification_schedule(settings, await connect_temporal(settings))
    print(f"notification schedule '{SCHEDULE_ID}' " + ("created" if created else "already exists"))


if __name__ == "__main__":
    asyncio.run(_main())
