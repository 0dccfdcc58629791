"""Lifecycle paths and races against the real dev server, with second-scale durations."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from reactivation.review_model import CrmEvent, Decision
from reactivation.vocabulary import Outcome
from tests.support.crm_fixtures import add_account, add_ticket
from tests.support.ledger import fetch_events
from tests.support.lifecycle_helpers import OWNER, keep_history, running_worker, start_account, wait_for_stage
from workflows.dormant_account import DormantAccountWorkflow


def approve(version: int = 1, **edits) -> Decision:
    return Decision(action="approve", draft_version=version, decided_by=OWNER, **edits)


async def test_two_approvals_at_once_one_wins(client, pool, settings, prefix):
    account_id = f"{prefix}-race"
    await add_account(pool, account_id)
    async with running_worker(client, pool, settings):
        handle = await start_account(client, settings, account_id)
        await wait_for_stage(handle, "awaiting_review")
        results = await asyncio.gather(handle.execute_update(DormantAccountWorkflow.decide, approve()),
                                       handle.execute_update(DormantAccountWorkflow.decide, approve()),
                                       return_exceptions=True)
        await handle.result()
    wins = [r for r in results if not isinstance(r, BaseException)]
    losses = [r for r in results if isinstance(r, WorkflowUpdateFailedError)]
    assert len(wins) == 1 and len(losses) == 1
    assert "conflict" in str(losses[0].cause)
    first = await pool.fetchval("SELECT count(*) FROM outbox WHERE account_id = $1 AND kind = 'first'", account_id)
    assert first == 1


async def test_opt_out_while_waiting_suppresses_without_sending(client, pool, settings, prefix):
    account_id = f"{prefix}-optout"
    await add_account(pool, account_id)
    async with running_worker(client, pool, settings):
        handle = await start_account(client, settings, account_id)
        await wait_for_stage(handle, "awaiting_review")
        await handle.signal(DormantAccountWorkflow.crm_event,
                            CrmEvent(type="opt_out", at=datetime.now(UTC), detail="unsubscribed"))
        result = await handle.result()
        await keep_history(handle, "opted_out_while_waiting")
    assert result.outcome == Outcome.opted_out and result.stage.value == "suppressed"
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE account_id = $1", account_id) == 0
    assert "opted_out" in await fetch_events(pool, account_id)


async def test_issue_opened_after_approval_before_send_window_sends_nothing(client, pool, settings, prefix):
    account_id = f"{prefix}-issue"
    await add_account(pool, account_id)
    async with running_worker(client, pool, settings):
        handle = await start_account(client, settings, account_id)
        await wait_for_stage(handle, "awaiting_review")
        send_at = datetime.now(UTC) + timedelta(seconds=30)
        await handle.execute_update(DormantAccountWorkflow.decide, approve(send_at=send_at))
        await wait_for_stage(handle, "approved")
        await add_ticket(pool, account_id, f"{prefix}-T9", subject="Login broken since the update")
        await handle.signal(DormantAccountWorkflow.crm_event, CrmEvent(
            type="issue_opened", at=datetime.now(UTC), detail="Login broken since the update"))
        state = await wait_for_stage(handle, "held")  # an issue returns an approved message to the owner, held
        assert "issue" in state.notice.lower() and state.approved is None
        # The owner closes it; nothing was ever sent.
        await handle.execute_update(DormantAccountWorkflow.decide, Decision(
            action="close", draft_version=state.current_draft.version, decided_by=OWNER, reason="fix issue first"))
        result = await handle.result()
    assert result.outcome == Outcome.closed_by_owner
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE account_id = $1", account_id) == 0
    assert "send_stopped" in await fetch_events(pool, account_id)


async def test_activity_while_waiting_closes_as_reactivated_before_outreach(client, pool, settings, prefix):
    account_id = f"{prefix}-self"
    await add_account(pool, account_id)
    async with running_worker(client, pool, settings):
        handle = await start_account(client, settings, account_id)
        await wait_for_stage(handle, "awaiting_review")
        await handle.signal(DormantAccountWorkflow.crm_event,
                            CrmEvent(type="activity", at=datetime.now(UTC), detail="logged in"))
        result = await handle.result()
    assert result.outcome == Outcome.reactivated_before_outreach


@pytest.mark.parametrize("overrides, outcome, stage", [
    ({"consent_status": "unknown"}, Outcome.suppressed, "suppressed"),
    ({"account_value": None}, Outcome.not_ready, "not_ready"),
])
async def test_stop_rules_end_the_episode_without_a_draft(client, pool, settings, prefix, overrides, outcome, stage):
    account_id = f"{prefix}-stop"
    await add_account(pool, account_id, **overrides)
    async with running_worker(client, pool, settings):
        handle = await start_account(client, settings, account_id)
        result = await handle.result()
        await keep_history(handle, f"stopped_{stage}")
        state = await handle.query(DormantAccountWorkflow.review_state)
    assert result.outcome == outcome and result.stage.value == stage
    assert state.drafts == []


async def test_worker_killed_while_waiting_loses_nothing(client, pool, settings, prefix):
    account_id = f"{prefix}-restart"
    await add_account(pool, account_id)
    async with running_worker(client, pool, settings):
        handle = await start_account(client, settings, account_id)
        await wait_for_stage(handle, "awaiting_review")
    # No worker now: the decision is still accepted once a worker returns.
    async with running_worker(client, pool, settings):
        result = await handle.execute_update(DormantAccountWorkflow.decide, approve())
        assert result.accepted
        final = await handle.result()
    assert final.outcome == Outcome.no_response
    kinds = sorted(r["kind"] for r in await pool.fetch("SELECT kind FROM outbox WHERE account_id = $1", account_id))
    assert kinds == ["first", "follow_up"]
