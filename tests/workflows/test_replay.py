"""Replays every saved history (tests/workflows/histories/*.json) against today's workflow code.

A non-determinism error here means a change would break workflows already running in production: guard
the change with workflow.patched, keep the old history, and record a new one.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.dormant_account import DormantAccountWorkflow
from workflows.dormant_account_models import workflow_id_for
from workflows.legacy.dormant_account_v1 import DormantAccountWorkflowV1

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def workflow_id_of(path: Path) -> str:
    """The id the execution ran under, as production replays it (the starter's `dormant-account-<id>`, from
    the input): the workflow names each message after it, and what it writes itself depends on whether
    the delivery activity wrote the message's event under that name."""
    started = json.loads(path.read_text())["events"][0]["workflowExecutionStartedEventAttributes"]
    return workflow_id_for(json.loads(base64.b64decode(started["input"]["payloads"][0]["data"]))["account_id"])


def test_there_are_histories_to_replay():
    assert len(HISTORIES) >= 2, "record histories with DORMANT_RECORD_HISTORIES=1 pytest tests/"


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_saved_history_replays(path: Path):
    history = WorkflowHistory.from_json(workflow_id_of(path), path.read_text())
    # Each history replays against the code registered under its workflow type: v1 histories against the
    # frozen v1 class, "DormantAccount" histories against today's interpreter.
    replayer = Replayer(workflows=[DormantAccountWorkflow, DormantAccountWorkflowV1],
                        data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
def test_every_saved_path_has_a_bounded_history(path: Path):
    """No path grows without bound: long waits are timers, monitor loops continue as new."""
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    assert len(history.events) <= 90, f"{path.stem}: {len(history.events)} events"
    assert len(path.read_bytes()) < 200_000
