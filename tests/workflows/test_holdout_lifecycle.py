"""The control group in the running lifecycle: a control account gets no draft and no message and is
watched for a return; a treatment account goes to review as usual. Both are recorded with their arm."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from reactivation.holdout import assign_arm
from reactivation.review_model import CrmEvent
from tests.support.crm_fixtures import add_account
from tests.support.ledger import fetch_events
from tests.support.lifecycle_helpers import approve, keep_history, running_worker, start_account, wait_for_stage
from workflows.dormant_account import DormantAccountWorkflow

SALT, SHARE = "test-salt", 0.5


def first_id_in(arm: str, prefix: str) -> str:
    return next(f"{prefix}-{i}" for i in range(1000) if assign_arm(f"{prefix}-{i}", SALT, SHARE) == arm)


async def test_control_gets_no_outreach_and_its_return_is_counted(client, pool, settings, prefix):
    control, treatment = first_id_in("control", prefix), first_id_in("treatment", prefix)
    quiet = first_id_in("control", f"{prefix}-q")
    for account_id in (control, treatment, quiet):
        await add_account(pool, account_id)
    active = settings.model_copy(update={"holdout_share": SHARE, "holdout_salt": SALT, "outcome_window": timedelta(seconds=20)})
    async with running_worker(client, pool, active):
        handles = {a: await start_account(client, active, a) for a in (control, treatment, quiet)}
        await wait_for_stage(handles[control], "holdout")
        await wait_for_stage(handles[treatment], "awaiting_review")
        with pytest.raises(WorkflowUpdateFailedError):  # nothing to approve: no draft, no outreach
            await approve(handles[control])
        await handles[control].signal(DormantAccountWorkflow.crm_event,
                                      CrmEvent(type="activity", at=datetime.now(UTC)))
        result = await handles[control].result()
        quiet_result = await handles[quiet].result()
        await keep_history(handles[control], "holdout_control_reactivated")
        await handles[treatment].terminate("test done")
    assert (result.stage.value, result.outcome.value) == ("closed", "reactivated")
    assert (quiet_result.stage.value, quiet_result.outcome.value) == ("closed", "no_response")
    assert await fetch_events(pool, control) == ["holdout_assigned", "reactivated"]
    assert await fetch_events(pool, quiet) == ["holdout_assigned", "closed"]
    assert "draft_generated" in await fetch_events(pool, treatment)
    arms = await pool.fetch("SELECT account_id, detail->>'arm' AS arm FROM measurement_events "
                            "WHERE type = 'holdout_assigned' AND account_id = ANY($1)", [control, treatment, quiet])
    assert {r["account_id"]: r["arm"] for r in arms} == {control: "control", treatment: "treatment", quiet: "control"}
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE account_id = ANY($1)", [control, quiet]) == 0
    reason = await pool.fetchval("SELECT detail->>'reason' FROM measurement_events WHERE account_id = $1 "
                                 "AND type = 'closed'", quiet)
    assert reason == "holdout_window_ended"
