"""A decision is committed to history before anything records it.

An Update is durable only once the workflow task that accepted it completes; local activities (ledger,
review projection) run inside that task. The workflow therefore ends the task with a 1 ms timer before
recording a decision, so a server that loses the task cannot leave a ledger event for a decision that
never happened. This test reads the real history and checks that order.
"""

from __future__ import annotations

from temporalio.api.enums.v1 import EventType

from tests.crm_fixtures import add_account
from tests.lifecycle_helpers import keep_history, review_then_approve, running_worker, wait_for_stage


async def test_the_decision_is_in_history_before_its_ledger_event(client, pool, settings, prefix):
    account_id = f"{prefix}-barrier"
    await add_account(pool, account_id)
    async with running_worker(client, pool, settings):
        handle = await review_then_approve(client, settings, account_id)
        await handle.result()
        await keep_history(handle, "approved_with_decision_barrier")
        history = await handle.fetch_history()
    events = list(history.events)
    accepted = next(i for i, e in enumerate(events)
                    if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)
    first_record = next(i for i, e in enumerate(events) if i > accepted
                        and e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
                        and e.marker_recorded_event_attributes.marker_name == "core_local_activity")
    between = [e.event_type for e in events[accepted:first_record]]
    assert EventType.EVENT_TYPE_TIMER_FIRED in between, "a ledger write ran in the task that accepted the decision"
    recorded = await pool.fetchval("SELECT count(*) FROM measurement_events WHERE account_id = $1 AND type = "
                                   "'approved'", account_id)
    assert recorded == 1
