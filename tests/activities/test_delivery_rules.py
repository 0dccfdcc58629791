"""Delivery rules in the running lifecycle: the customer's business hours, and bounces."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from db.owners import add_owner
from tests.support.api import api_client, bearer
from tests.support.crm_fixtures import add_account
from tests.support.ledger import fetch_events
from tests.support.lifecycle_helpers import (
    approve,
    keep_history,
    review_then_approve,
    running_worker,
    start_account,
    wait_for_stage,
)


async def test_the_first_message_waits_for_the_customers_business_hours(client, pool, settings, prefix):
    account_id = f"{prefix}-window"
    kolkata = ZoneInfo("Asia/Kolkata")  # UTC+05:30: the window is read in the customer's zone
    await add_account(pool, account_id, timezone="Asia/Kolkata")
    opens = (datetime.now(kolkata) + timedelta(seconds=15)).replace(microsecond=0)
    window = f"daily {opens:%H:%M:%S}-{opens + timedelta(hours=1):%H:%M:%S}"
    active = settings.model_copy(update={"send_window": window})
    async with running_worker(client, pool, active):
        handle = await start_account(client, active, account_id)
        await wait_for_stage(handle, "awaiting_review")
        assert datetime.now(UTC) < opens - timedelta(seconds=5), "the start took too long to test the wait"
        await approve(handle)
        for _ in range(50):
            state = await handle.query("review_state")
            if "business hours" in state["notice"]:
                break
            await asyncio.sleep(0.2)
        assert "business hours" in state["notice"] and "Asia/Kolkata" in state["notice"]
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE account_id = $1", account_id) == 0
        await handle.result()
        await keep_history(handle, "send_window_wait")
    first_at = await pool.fetchval("SELECT created_at FROM outbox WHERE account_id = $1 AND kind = 'first'",
                                   account_id)
    assert first_at >= opens.astimezone(UTC) - timedelta(milliseconds=500)


async def test_a_bounce_after_sending_suppresses_the_address_and_stops_the_sequence(client, pool, settings, prefix):
    account_id = f"{prefix}-bounce"
    address = f"{prefix}@example.com"
    await add_account(pool, account_id, contact_email=address)
    active = settings.model_copy(update={"follow_up_after": timedelta(seconds=60)})
    async with pool.acquire() as conn:
        admin = await add_owner(conn, f"{prefix}-admin@test.dormant", admin=True)
    async with running_worker(client, pool, active), api_client(active) as http:
        handle = await review_then_approve(client, active, account_id)
        await wait_for_stage(handle, "sent")
        answer = await http.post("/v1/events", headers=bearer(admin),
                                 json={"account_id": account_id, "type": "bounce", "detail": "550 5.1.1 no such user"})
        assert answer.status_code == 200 and answer.json()["delivered_to_workflow"] is True
        result = await handle.result()
        await keep_history(handle, "bounced_after_first_email")
    assert (result.stage.value, result.outcome.value) == ("suppressed", "suppressed")
    assert [r["kind"] for r in await pool.fetch("SELECT kind FROM outbox WHERE account_id = $1", account_id)] == ["first"]
    events = await fetch_events(pool, account_id)
    assert "bounced" in events and "follow_up_sent" not in events
    row = await pool.fetchrow("SELECT reason, detail FROM suppressed_addresses WHERE address = $1", address)
    assert (row["reason"], row["detail"]) == ("bounce", "550 5.1.1 no such user")
