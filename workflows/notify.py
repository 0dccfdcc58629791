"""OwnerNotificationsWorkflow: one minute's owner notifications, started by the `dormant-notify` Schedule.

Two activities: enqueue what is due (reminders, escalations, the daily digest), then send the outbox. The
workflow holds no state and no secrets (the webhook URL and SMTP password stay in the worker's settings);
its input is nothing and the activities' inputs are a timestamp, so histories carry no addresses or text.
`workflow.now()` is the run's start time, recorded in history, so replay is deterministic.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from reactivation.notifications import NotifyCounts

# The Schedule starts a run every minute: a few quick retries, then the next run tries again.
NOTIFY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(seconds=20),
                           maximum_attempts=3)


@workflow.defn
class OwnerNotificationsWorkflow:
    @workflow.run
    async def run(self) -> NotifyCounts:
        enqueued = await workflow.execute_activity(
            "enqueue_due_notifications", workflow.now(), result_type=int,
            start_to_close_timeout=timedelta(minutes=1), retry_policy=NOTIFY_RETRY, summary="enqueue due",
        )
        counts = await workflow.execute_activity(
            "dispatch_notifications", result_type=NotifyCounts, start_to_close_timeout=timedelta(minutes=5),
            heartbeat_timeout=timedelta(minutes=1), retry_policy=NOTIFY_RETRY, summary="send notifications",
        )
        return counts.model_copy(update={"enqueued": enqueued})
