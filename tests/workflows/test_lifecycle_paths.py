"""The other lifecycle paths: reminders, the signal form, call tasks, monitor loops, reassignment,
standing approval, and bounded history lengths."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from reactivation.review_model import CrmEvent, Decision
from reactivation.vocabulary import Outcome
from tests.support.crm_fixtures import add_account
from tests.support.ledger import fetch_events
from tests.support.lifecycle_helpers import (
    OWNER,
    keep_history,
    review_then_approve,
    running_worker,
    start_account,
    stored_review_matches,
    wait_for_stage,
)
from workflows.dormant_account import DormantAccountWorkflow


async def test_reminder_then_escalation_but_never_auto_approval(client, pool, settings, prefix):
    account_id = f"{prefix}-remind"
    await add_account(pool, account_id)
    quick = settings.model_copy(update={"review_reminder_after": timedelta(seconds=1),
                                        "review_escalate_after": timedelta(seconds=2)})
    async with running_worker(client, pool, quick):
        handle = await start_account(client, quick, account_id)
        await wait_for_stage(handle, "awaiting_review")
        for _ in range(50):
            events = await fetch_events(pool, account_id)
            if "escalated" in events:
                break
            await asyncio.sleep(0.2)
        state = await handle.query(DormantAccountWorkflow.review_state)
        await handle.terminate("test done")
    assert events.count("reminder_sent") == 1 and events.count("escalated") == 1
    assert state.stage.value == "awaiting_review" and "approved" not in events


async def test_a_decision_signal_is_ignored_with_a_notice(client, pool, settings, prefix):
    """A signal cannot be validated before it is in history: decisions go through the Update only."""
    account_id = f"{prefix}-signal"
    await add_account(pool, account_id)
    async with running_worker(client, pool, settings):
        handle = await start_account(client, settings, account_id)
        await wait_for_stage(handle, "awaiting_review")
        await handle.signal(DormantAccountWorkflow.decide_signal,
                            Decision(action="close", draft_version=1, decided_by=OWNER, reason="bad fit"))
        for _ in range(25):
            state = await handle.query(DormantAccountWorkflow.review_state)
            if state.notice:
                break
            await asyncio.sleep(0.2)
        assert "ignored" in state.notice and state.stage.value == "awaiting_review" and state.decisions == []
        await handle.terminate("test done")


async def test_call_preference_creates_an_owner_task(client, pool, settings, prefix):
    account_id = f"{prefix}-call"
    await add_account(pool, account_id, preferred_channel="call")
    async with running_worker(client, pool, settings):
        handle = await start_account(client, settings, account_id)
        state = await wait_for_stage(handle, "awaiting_review")
        assert state.current_draft.channel == "call"
        await handle.execute_update(DormantAccountWorkflow.decide,
                                    Decision(action="approve", draft_version=1, decided_by=OWNER))
        await wait_for_stage(handle, "owner_task")
        await handle.execute_update(DormantAccountWorkflow.decide, Decision(
            action="close", draft_version=1, decided_by=OWNER, reason="responded"))
        result = await handle.result()
        await keep_history(handle, "call_owner_task_responded")
    assert result.outcome == Outcome.responded
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE account_id = $1", account_id) == 0


async def test_monitor_until_a_date_reviews_again_with_continue_as_new(client, pool, settings, prefix):
    account_id = f"{prefix}-monitor"
    await add_account(pool, account_id)
    async with running_worker(client, pool, settings):
        handle = await start_account(client, settings, account_id)
        first = await wait_for_stage(handle, "awaiting_review")
        yesterday = date.today() - timedelta(days=1)
        await handle.execute_update(DormantAccountWorkflow.decide, Decision(
            action="monitor", draft_version=1, decided_by=OWNER, until=yesterday))
        latest = client.get_workflow_handle_for(DormantAccountWorkflow.run, handle.id)
        again = await wait_for_stage(latest, "awaiting_review")
        description = await latest.describe()
        await latest.terminate("test done")
    assert again.episode == first.episode and description.run_id != handle.result_run_id
    assert len(again.drafts) == 2 and "monitoring" in await fetch_events(pool, account_id)


async def test_owner_change_reassigns(client, pool, settings, prefix):
    account_id = f"{prefix}-reassign"
    await add_account(pool, account_id)
    async with running_worker(client, pool, settings):
        handle = await start_account(client, settings, account_id)
        await wait_for_stage(handle, "awaiting_review")
        await handle.signal(DormantAccountWorkflow.crm_event, CrmEvent(
            type="owner_changed", at=datetime.now(UTC), new_owner_email="new@test.dormant"))
        for _ in range(25):
            owner = await pool.fetchval("SELECT owner_email FROM review_projection WHERE account_id = $1", account_id)
            if owner == "new@test.dormant":
                break
            await asyncio.sleep(0.2)
        assert owner == "new@test.dormant"
        refused = await handle.execute_update(DormantAccountWorkflow.decide, Decision(
            action="close", draft_version=1, decided_by="new@test.dormant", reason="not now"))
        assert refused.accepted
        await handle.result()


async def test_standing_approval_sends_marketing_led_self_serve_and_records_the_rule(client, pool, settings, prefix):
    account_id = f"{prefix}-standing"
    await add_account(pool, account_id, tier="self_serve")
    standing = settings.model_copy(update={"standing_approval": True})
    async with running_worker(client, pool, standing):
        handle = await start_account(client, standing, account_id)
        result = await handle.result()
        state = await handle.query(DormantAccountWorkflow.review_state)
    assert result.outcome == Outcome.no_response and state.decisions[0].by == "rule:standing-approval"
    strategic = f"{prefix}-strategic"
    await add_account(pool, strategic, tier="strategic")
    async with running_worker(client, pool, standing):
        handle = await start_account(client, standing, strategic)
        await wait_for_stage(handle, "awaiting_review")
        await handle.terminate("test done")


async def test_happy_path_history_is_bounded(client, pool, settings, prefix):
    account_id = f"{prefix}-bounded"
    await add_account(pool, account_id)
    async with running_worker(client, pool, settings):
        handle = await review_then_approve(client, settings, account_id)
        await handle.result()
        history = await handle.fetch_history()
    assert len(history.events) <= 80


async def test_standard_tier_without_response_becomes_an_owner_phone_task(client, pool, settings, prefix):
    account_id = f"{prefix}-phone"
    await add_account(pool, account_id, tier="standard")
    async with running_worker(client, pool, settings):
        handle = await review_then_approve(client, settings, account_id)
        await wait_for_stage(handle, "owner_task", timeout=40)
        await handle.signal(DormantAccountWorkflow.crm_event,
                            CrmEvent(type="reply", at=datetime.now(UTC), detail="call back Tuesday"))
        result = await handle.result()
        await keep_history(handle, "standard_tier_phone_task_then_reply")
    assert result.outcome == Outcome.responded
    events = await fetch_events(pool, account_id)
    assert events.index("follow_up_sent") < events.index("owner_task") < events.index("responded")


async def test_redraft_keeps_every_version_and_makes_the_old_one_stale(client, pool, settings, prefix):
    from temporalio.client import WorkflowUpdateFailedError

    account_id = f"{prefix}-redraft"
    await add_account(pool, account_id)
    async with running_worker(client, pool, settings):
        handle = await start_account(client, settings, account_id)
        await wait_for_stage(handle, "awaiting_review")
        await handle.execute_update(DormantAccountWorkflow.decide, Decision(
            action="redraft", draft_version=1, decided_by=OWNER, note="mention the spring schedule"))
        for _ in range(50):
            state = await handle.query(DormantAccountWorkflow.review_state)
            if len(state.drafts) == 2 and state.stage.value == "awaiting_review":
                break
            await asyncio.sleep(0.2)
        assert await stored_review_matches(pool, handle)  # both drafts and the redraft decision, by patches
        try:
            await handle.execute_update(DormantAccountWorkflow.decide,
                                        Decision(action="approve", draft_version=1, decided_by=OWNER))
            stale_refused = False
        except WorkflowUpdateFailedError as err:
            stale_refused = "stale" in str(err.cause)
        await handle.terminate("test done")
    assert [d.version for d in state.drafts] == [1, 2] and stale_refused


async def test_a_new_episode_judges_a_high_value_account_owner_led(client, pool, settings, prefix):
    """The policy a new episode carries in its input has the high-value rule (inputs from before it do not)."""
    await add_account(pool, f"{prefix}-big", account_value=500_000)
    async with running_worker(client, pool, settings):
        handle = await start_account(client, settings, f"{prefix}-big")
        state = await wait_for_stage(handle, "awaiting_review")
    assert state.path == "account_led" and "high_context" in state.assessment.flags
