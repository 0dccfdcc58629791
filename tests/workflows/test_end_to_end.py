"""One dormant account all the way through, against the real dev server and PostgreSQL:
trigger -> evidence -> awaiting_review with a template draft -> owner approves -> outbox -> follow-up ->
outcome, with every step in the measurement ledger."""

from __future__ import annotations

from datetime import UTC

from client.starter import start_reactivation
from reactivation.review_model import Decision
from reactivation.vocabulary import Outcome
from tests.support.crm_fixtures import add_account
from tests.support.ledger import fetch_events
from tests.support.lifecycle_helpers import keep_history, running_worker, wait_for_stage
from workflows.dormant_account import DormantAccountWorkflow


async def test_one_account_end_to_end(client, pool, settings, prefix):
    account_id = f"{prefix}-harbor"
    await add_account(pool, account_id)
    async with running_worker(client, pool, settings):
        started = await start_reactivation(client, settings, account_id, reason="crm says dormant",
                                           task_queue=settings.task_queue)
        assert started.started
        handle = client.get_workflow_handle_for(DormantAccountWorkflow.run, started.workflow_id)
        state = await wait_for_stage(handle, "awaiting_review")
        assert state.path.value == "marketing_led"
        assert state.brief.drafted_by == "template"
        draft = state.current_draft
        assert "Jordan" in draft.body and draft.channel == "email"

        queued = await pool.fetchrow("SELECT stage, owner_email FROM review_projection WHERE account_id = $1",
                                     account_id)
        assert queued["stage"] == "awaiting_review" and queued["owner_email"] == "owner@test.dormant"

        result = await handle.execute_update(
            DormantAccountWorkflow.decide,
            Decision(action="approve", draft_version=draft.version, decided_by="owner@test.dormant"))
        assert result.accepted and result.stage.value == "approved"

        outcome = await handle.result()
        await keep_history(handle, "happy_path_follow_up_no_response")
    assert outcome.outcome == Outcome.no_response
    messages = await pool.fetch("SELECT kind, subject, headers, to_address FROM outbox WHERE account_id = $1 "
                                "ORDER BY created_at", account_id)
    assert [m["kind"] for m in messages] == ["first", "follow_up"]
    assert messages[1]["subject"].startswith("Re: ")
    assert messages[1]["headers"]["In-Reply-To"] == messages[0]["headers"]["Message-ID"]
    assert "List-Unsubscribe" in messages[0]["headers"]
    events = await fetch_events(pool, account_id)
    for expected in ("draft_generated", "awaiting_review", "reviewed", "approved", "sent", "follow_up_sent",
                     "closed"):
        assert expected in events, f"{expected} missing from {events}"


async def test_activity_after_first_email_means_no_follow_up(client, pool, settings, prefix):
    from datetime import datetime

    from reactivation.review_model import CrmEvent

    account_id = f"{prefix}-back"
    await add_account(pool, account_id)
    slow = settings.model_copy(update={"follow_up_after": settings.follow_up_after * 4})
    async with running_worker(client, pool, slow):
        started = await start_reactivation(client, slow, account_id, task_queue=slow.task_queue)
        handle = client.get_workflow_handle_for(DormantAccountWorkflow.run, started.workflow_id)
        state = await wait_for_stage(handle, "awaiting_review")
        await handle.execute_update(DormantAccountWorkflow.decide, Decision(
            action="approve", draft_version=state.current_draft.version, decided_by="owner@test.dormant"))
        await wait_for_stage(handle, "sent")
        await handle.signal(DormantAccountWorkflow.crm_event,
                            CrmEvent(type="activity", at=datetime.now(UTC), detail="posted a job"))
        outcome = await handle.result()
        await keep_history(handle, "reactivated_after_first_email")
    assert outcome.outcome == Outcome.reactivated
    kinds = [r["kind"] for r in await pool.fetch("SELECT kind FROM outbox WHERE account_id = $1", account_id)]
    assert kinds == ["first"]
    assert "reactivated" in await fetch_events(pool, account_id)
