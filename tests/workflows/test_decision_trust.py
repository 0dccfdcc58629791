"""The trust boundary for decisions: with DORMANT_DECISION_KEY set, a decision reaches a workflow only
through the API, which authenticates the owner and signs the decision; anyone who can reach Temporal
directly (`temporal workflow update`, a client with a forged `decided_by_admin`) is refused."""

from __future__ import annotations

import asyncio
import json
import subprocess

import pytest
from pydantic import SecretStr
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from api.decisions import DecisionIn, submit_decision
from db.owners import Principal
from dormant.temporal_dev import temporal_cli
from reactivation.decision_proof import keys_from, sign
from reactivation.review_model import Decision
from tests.support.crm_fixtures import add_account
from tests.support.lifecycle_helpers import OWNER, running_worker, start_account, wait_for_stage
from workflows.dormant_account import DormantAccountWorkflow

KEY = "test-decision-key-0123456789abcdef0123456789"


async def test_only_decisions_signed_by_the_api_are_accepted(client, pool, settings, prefix, temporal_address):
    keyed = settings.model_copy(update={"decision_key": SecretStr(KEY)})
    account_id = f"{prefix}-trust"
    await add_account(pool, account_id)
    async with running_worker(client, pool, keyed):
        handle = await start_account(client, keyed, account_id)
        await wait_for_stage(handle, "awaiting_review")
        forged = Decision(action="approve", draft_version=1, decided_by="intruder@x", decided_by_admin=True)
        for attempt in (forged, sign(forged, keys_from("another-key")), forged.model_copy(update={"proof": "é"})):
            with pytest.raises(WorkflowUpdateFailedError) as refused:
                await handle.execute_update(DormantAccountWorkflow.decide, attempt)
            assert isinstance(refused.value.cause, ApplicationError) and refused.value.cause.type == "forbidden"
        state = await handle.query(DormantAccountWorkflow.review_state)
        assert state.stage.value == "awaiting_review" and state.decisions == []
        # By hand with Temporal's own CLI, as an operator with network access would: refused too.
        cli = subprocess.run(
            [temporal_cli(), "workflow", "update", "execute", "--address", temporal_address, "--workflow-id",
             handle.id, "--name", "decide", "--input",
             json.dumps({"action": "close", "draft_version": 1, "decided_by": OWNER, "reason": "by hand"})],
            capture_output=True, text=True, timeout=120)
        assert cli.returncode != 0, cli.stdout
        # Through the API's own path (the owner authenticated, the decision signed): accepted.
        # (The CLI's update leaves the workflow task failing for a while; the workflow recovers on its own.)
        owner = Principal(email=OWNER, is_admin=False)
        for _ in range(60):
            answer = await submit_decision(pool, client, owner, account_id,
                                           DecisionIn(action="hold", draft_version=1), keys_from(KEY))
            if answer.status != 409:
                break
            await asyncio.sleep(2)
        assert answer.status == 200 and answer.result.stage.value == "held"
        state = await handle.query(DormantAccountWorkflow.review_state)
        assert [d.action for d in state.decisions] == ["hold"]
        await handle.terminate("test done")
