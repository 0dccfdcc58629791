"""The ten lifecycle failures a careful user found, each replayed through the real stack (Temporal dev
server, PostgreSQL, aiosmtpd), with the behaviour the product promises instead."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from api.reentry import reentry_verdict
from db.crm_events import record_event
from dormant.processes import free_port
from reactivation.reentry import SkipReason
from reactivation.review_model import CrmEvent, Decision
from reactivation.vocabulary import Outcome
from tests.activities.test_delivery_smtp import Sink, smtp_settings
from tests.support.crm_fixtures import add_account
from tests.support.ledger import fetch_events
from tests.support.lifecycle_helpers import (
    OWNER,
    approve,
    keep_history,
    running_worker,
    start_account,
    stored_review_matches,
    wait_for_stage,
)
from workflows.dormant_account import DormantAccountWorkflow


async def crm(pool, handle, account_id: str, type_: str, detail: str = "", **extra) -> None:
    """What POST /v1/events does: store the event (and its effect on the CRM store), then signal."""
    at = datetime.now(UTC)
    async with pool.acquire() as conn:
        await record_event(conn, account_id, type_, at, detail, **extra)
    await handle.signal(DormantAccountWorkflow.crm_event, CrmEvent(type=type_, at=at, detail=detail, **extra))


async def decide(handle, action: str, version: int = 1, by: str = OWNER, **fields):
    return await handle.execute_update(DormantAccountWorkflow.decide,
                                       Decision(action=action, draft_version=version, decided_by=by, **fields))


def refusal_kind(err: WorkflowUpdateFailedError) -> str:
    assert isinstance(err.cause, ApplicationError)
    return err.cause.type


async def outbox(pool, account_id: str) -> list[dict]:
    rows = await pool.fetch("SELECT kind, subject, body, status FROM outbox WHERE account_id = $1 ORDER BY created_at",
                            account_id)
    return [dict(r) for r in rows]


async def test_1_approval_during_a_redraft_is_refused_and_only_the_reviewed_draft_is_sent(client, pool, settings, prefix):
    account_id = f"{prefix}-redraft"
    await add_account(pool, account_id)
    async with running_worker(client, pool, settings):
        handle = await start_account(client, settings, account_id)
        await wait_for_stage(handle, "awaiting_review")
        await decide(handle, "redraft", note="mention the new clinic")
        redrafting = handle
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await decide(handle, "approve", 1)  # the old version, while v2 is being written
        assert refusal_kind(refused.value) == "conflict"
        state = await wait_for_stage(handle, "awaiting_review")
        for _ in range(50):
            state = await handle.query(DormantAccountWorkflow.review_state)
            if len(state.drafts) == 2 and state.phase == "awaiting_review":
                break
            await asyncio.sleep(0.1)
        await decide(handle, "approve", 2, body="Edited v2 body the owner read")
        await handle.result()
        await keep_history(redrafting, "v2_redraft_then_approve_edited")
        assert await stored_review_matches(pool, handle)
    sent = await outbox(pool, account_id)
    first = [m["body"] for m in sent if m["kind"] == "first"]
    assert len(first) == 1 and first[0].startswith("Edited v2 body the owner read\n")  # plus the unsubscribe footer


async def test_2_issue_opened_during_the_follow_up_wait_cancels_it_and_keeps_the_outcome_window(
        client, pool, settings, prefix):
    account_id = f"{prefix}-fuissue"
    await add_account(pool, account_id)
    async with running_worker(client, pool, settings):
        handle = await start_account(client, settings, account_id)
        await wait_for_stage(handle, "awaiting_review")
        await approve(handle)
        await wait_for_stage(handle, "sent")
        await crm(pool, handle, account_id, "issue_opened", "Invoice wrong")
        result = await handle.result()
        await keep_history(handle, "v2_issue_cancels_follow_up")
        assert await stored_review_matches(pool, handle)
    assert [m["kind"] for m in await outbox(pool, account_id)] == ["first"]
    events = await fetch_events(pool, account_id)
    assert "follow_up_cancelled" in events and "follow_up_sent" not in events
    times = {r["type"]: r["at"] for r in await pool.fetch(
        "SELECT type, at FROM measurement_events WHERE account_id = $1", account_id)}
    window = settings.follow_up_after + settings.outcome_window
    assert times["closed"] - times["sent"] >= window - timedelta(seconds=1), "the outcome window was cut short"
    assert result.outcome == Outcome.no_response


async def test_3_opt_out_while_smtp_is_down_means_nothing_is_delivered_when_it_is_back(client, pool, settings, prefix):
    account_id = f"{prefix}-downopt"
    await add_account(pool, account_id, contact_email=f"{prefix}@example.com")
    port = free_port()
    active = smtp_settings(settings, port)
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    async with running_worker(client, pool, active):
        handle = await start_account(client, active, account_id)
        await wait_for_stage(handle, "awaiting_review")
        await approve(handle)
        for _ in range(100):  # the first attempt has failed: SMTP is down
            if await pool.fetchval("SELECT status FROM outbox WHERE account_id = $1", account_id) == "retry":
                break
            await asyncio.sleep(0.1)
        await crm(pool, handle, account_id, "opt_out", "unsubscribed by phone")
        controller.start()
        try:
            result = await asyncio.wait_for(handle.result(), 60)
            assert await stored_review_matches(pool, handle)
        finally:
            controller.stop()
    assert result.outcome == Outcome.opted_out
    assert sink.messages == []
    assert [m["status"] for m in await outbox(pool, account_id)] == ["cancelled"]


async def test_4_an_account_the_owner_closed_is_not_reopened_by_the_next_scan(client, pool, settings, prefix):
    account_id = f"{prefix}-closed"
    await add_account(pool, account_id)
    async with running_worker(client, pool, settings):
        handle = await start_account(client, settings, account_id)
        await wait_for_stage(handle, "awaiting_review")
        await decide(handle, "close", reason="do not pursue")
        await handle.result()
    async with pool.acquire() as conn:
        exists, skip = await reentry_verdict(conn, account_id, settings)
    assert exists and skip is not None and skip.reason == SkipReason.closed_by_owner
    assert skip.until - datetime.now(UTC) > timedelta(days=179)


async def test_6_a_line_break_in_the_account_name_still_gives_a_sendable_draft(client, pool, settings, prefix):
    account_id = f"{prefix}-crlf"
    await add_account(pool, account_id, name="Harbor\r\nDental\u2028Group", contact_name="Jordan\nReyes")
    async with running_worker(client, pool, settings):
        handle = await start_account(client, settings, account_id)
        state = await wait_for_stage(handle, "awaiting_review")
        assert "\n" not in state.current_draft.subject and "\r" not in state.current_draft.subject
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await decide(handle, "approve", subject="Hello\r\nBcc: everyone@example.com")
        assert refusal_kind(refused.value) == "invalid"
        await approve(handle)
        result = await asyncio.wait_for(handle.result(), 30)
    assert result.outcome == Outcome.no_response
    assert [m["kind"] for m in await outbox(pool, account_id)] == ["first", "follow_up"]


async def test_7_approval_and_an_issue_in_the_same_moment_never_drop_the_decision(client, pool, settings, prefix):
    account_id = f"{prefix}-same"
    await add_account(pool, account_id)
    async with running_worker(client, pool, settings):
        handle = await start_account(client, settings, account_id)
        await wait_for_stage(handle, "awaiting_review")
        answer, _ = await asyncio.gather(approve(handle), crm(pool, handle, account_id, "issue_opened", "Outage"))
        assert answer.accepted
        state = await wait_for_stage(handle, "held", "sent", "follow_up_sent", "closed")
        for _ in range(50):  # the ledger is written once the decision's workflow task is committed
            events = await fetch_events(pool, account_id)
            if {"held", "sent"} & set(events):
                break
            await asyncio.sleep(0.1)
        await handle.terminate("test done")
    assert "reviewed" in events and "approved" in events, "the accepted decision was not recorded"
    sent = [m["kind"] for m in await outbox(pool, account_id)]
    if state.stage.value == "held":
        assert sent == [] or "sent" in events
    assert "follow_up_sent" not in events, "a follow-up went out after the issue"


async def test_8_owner_change_keeps_the_owner_task_open_and_hands_it_to_the_new_owner(client, pool, settings, prefix):
    account_id = f"{prefix}-owner"
    await add_account(pool, account_id, preferred_channel="call")
    async with running_worker(client, pool, settings):
        handle = await start_account(client, settings, account_id)
        await wait_for_stage(handle, "awaiting_review")
        await approve(handle)
        await wait_for_stage(handle, "owner_task")
        await crm(pool, handle, account_id, "owner_changed", new_owner_email="New.Owner@Test.Dormant")
        await asyncio.sleep(1)
        state = await handle.query(DormantAccountWorkflow.review_state)
        assert state.stage.value == "owner_task" and state.owner_email == "new.owner@test.dormant"
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await decide(handle, "close", reason="responded")  # the old owner
        assert refusal_kind(refused.value) == "forbidden"
        await decide(handle, "close", reason="responded", by="NEW.owner@test.dormant")
        result = await handle.result()
        await keep_history(handle, "v2_owner_task_reassigned_responded")
    assert result.outcome == Outcome.responded
    assert await pool.fetchval("SELECT owner_email FROM accounts WHERE account_id = $1", account_id) \
        == "new.owner@test.dormant"
    owners = {r["owner_email"] for r in await pool.fetch(
        "SELECT owner_email FROM measurement_events WHERE account_id = $1 AND type IN ('reassigned', 'responded')",
        account_id)}
    assert owners == {"new.owner@test.dormant"}


async def test_9_a_scheduled_approval_is_recorded_at_once_and_can_be_held(client, pool, settings, prefix):
    account_id = f"{prefix}-later"
    await add_account(pool, account_id)
    async with running_worker(client, pool, settings):
        handle = await start_account(client, settings, account_id)
        await wait_for_stage(handle, "awaiting_review")
        await approve(handle, send_at=datetime.now(UTC) + timedelta(seconds=6))
        for _ in range(50):
            stage = await pool.fetchval("SELECT stage FROM review_projection WHERE account_id = $1", account_id)
            if stage == "approved":
                break
            await asyncio.sleep(0.1)
        assert stage == "approved" and "approved" in await fetch_events(pool, account_id)
        state = await handle.query(DormantAccountWorkflow.review_state)
        assert state.send_at is not None and state.approved.body == state.current_draft.body
        await decide(handle, "hold", reason="wait for the renewal call")
        await asyncio.sleep(8)  # past the send time
        state = await handle.query(DormantAccountWorkflow.review_state)
        await handle.terminate("test done")
    assert state.stage.value == "held" and state.approved is None
    assert await outbox(pool, account_id) == []


async def test_10_send_at_without_a_timezone_is_refused_as_invalid(client, pool, settings, prefix):
    account_id = f"{prefix}-naive"
    await add_account(pool, account_id)
    async with running_worker(client, pool, settings):
        handle = await start_account(client, settings, account_id)
        await wait_for_stage(handle, "awaiting_review")
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await approve(handle, send_at=datetime(2030, 1, 1, 9, 0))
        assert refusal_kind(refused.value) == "invalid" and "timezone" in refused.value.cause.message
        state = await handle.query(DormantAccountWorkflow.review_state)
        await handle.terminate("test done")
    assert state.stage.value == "awaiting_review"
