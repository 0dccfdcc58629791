"""A decision is committed to history before anything records it.

An Update is durable only once the workflow task that accepted it completes; local activities (ledger,
review projection) run inside that task. So an approval is recorded after the send sequence's first
activity, and other decisions after a 1 ms timer: a server that loses the task cannot leave a ledger
event for a decision that never happened. These tests read the real history and check that order.
"""

from __future__ import annotations

import asyncio

import pytest
from temporalio.api.enums.v1 import EventType

from reactivation.review_model import Decision
from tests.support.crm_fixtures import add_account
from tests.support.lifecycle_helpers import OWNER, keep_history, running_worker, start_account, wait_for_stage
from workflows.dormant_account import DormantAccountWorkflow


@pytest.mark.parametrize("action", ["approve", "hold"])
async def test_the_decision_is_in_history_before_its_ledger_event(client, pool, settings, prefix, action):
    account_id = f"{prefix}-barrier"
    await add_account(pool, account_id)
    async with running_worker(client, pool, settings):
        handle = await start_account(client, settings, account_id)
        await wait_for_stage(handle, "awaiting_review")
        await handle.execute_update(DormantAccountWorkflow.decide, Decision(
            action=action, draft_version=1, decided_by=OWNER, reason="renewal talk first"))
        if action == "approve":
            await handle.result()
            await keep_history(handle, "approved_decision_committed_first")
        else:
            await wait_for_stage(handle, "held")
            for _ in range(300):  # the 1 ms barrier timer fires on the server's ~1 s tick; slower on a loaded CI
                if await pool.fetchval("SELECT count(*) FROM measurement_events WHERE account_id = $1 "
                                       "AND type = 'held'", account_id):
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the hold was never recorded")
            # The local activity writes the row before its workflow task completes: terminating now could
            # drop that task and its marker, so wait for the marker to be in history first.
            for _ in range(100):
                if _first_record_after_decision(list((await handle.fetch_history()).events)) is not None:
                    break
                await asyncio.sleep(0.1)
            await handle.terminate("test done")
        history = await handle.fetch_history()
    events = list(history.events)
    accepted = next(i for i, e in enumerate(events)
                    if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)
    first_record = _first_record_after_decision(events)
    assert first_record is not None, "no ledger write after the decision in history"
    between = [e.event_type for e in events[accepted:first_record]]
    assert EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED in between, \
        "a ledger write ran in the workflow task that accepted the decision"
    kinds = [r["type"] for r in await pool.fetch(
        "SELECT type FROM measurement_events WHERE account_id = $1 ORDER BY at, event_id", account_id)]
    expected = "approved" if action == "approve" else "held"
    assert kinds.count("reviewed") == 1 and kinds.count(expected) == 1
    assert kinds.index("reviewed") < kinds.index(expected)


def _first_record_after_decision(events: list) -> int | None:
    """Index of the first local-activity marker (a ledger write) after the decision's Update was accepted."""
    accepted = next((i for i, e in enumerate(events)
                     if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED), None)
    if accepted is None:
        return None
    return next((i for i, e in enumerate(events) if i > accepted
                 and e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
                 and e.marker_recorded_event_attributes.marker_name == "core_local_activity"), None)
