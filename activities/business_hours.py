"""Planning a send into the customer's business hours (not the send-time re-check: that is the delivery
activity's guard, reactivation/send_guard.py). A local activity, so the tz database is read outside workflow code and the
answer is recorded in history (replays never depend on the worker's tzdata)."""

from __future__ import annotations

from temporalio import activity

from reactivation.delivery_model import SendPlan, SendTimeRequest
from reactivation.send_window import next_send_time, parse_window, zone


@activity.defn(name="plan_send_time")
async def plan_send_time(request: SendTimeRequest) -> SendPlan:
    tz = zone(request.timezone, request.default_timezone)
    return SendPlan(send_at=next_send_time(request.earliest, parse_window(request.window), tz), timezone=str(tz))
