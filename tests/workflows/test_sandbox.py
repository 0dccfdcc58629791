"""The worker's sandbox passes the workflow code through instead of re-importing it for every run (the
cost and memory of a cached workflow, issue 18), while the frozen v1 workflow stays fully isolated."""

from __future__ import annotations

import ast
from pathlib import Path

from temporalio import workflow
from temporalio.api.common.v1 import Payloads
from temporalio.api.failure.v1 import Failure
from temporalio.converter import DataConverter
from temporalio.worker import WorkflowInstanceDetails
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox._runner import _fake_info

from client.sandbox import CompiledSandboxRunner
from worker import PASSED_THROUGH, SANDBOX
from workflows.dormant_account import DormantAccountWorkflow
from workflows.legacy.dormant_account_v1 import DormantAccountWorkflowV1

ROOT = Path(__file__).resolve().parents[2]


def _instance(cls: type, runner=SANDBOX):
    return runner.create_instance(WorkflowInstanceDetails(
        payload_converter_factory=DataConverter.default._new_payload_converter,
        failure_converter_class=DataConverter.default.failure_converter_class, interceptor_classes=[],
        defn=workflow._Definition.from_class(cls), info=_fake_info, randomness_seed=-1, extern_functions={},
        disable_eager_activity_execution=False, worker_level_failure_exception_types=[],
        patch_activation_callback=None, last_completion_result=Payloads(), last_failure=Failure()))


def _sandboxed_class(cls: type) -> type:
    return _instance(cls).globals_and_locals["__temporal_workflow_class"]  # type: ignore[attr-defined]


async def test_current_workflow_is_not_reimported_per_run():
    assert _sandboxed_class(DormantAccountWorkflow) is DormantAccountWorkflow


def test_worker_runs_the_compiled_once_sandbox():
    """If an SDK upgrade removed the private hook, the worker would silently fall back to the slower stock
    runner: this says so instead."""
    assert isinstance(SANDBOX, CompiledSandboxRunner)


async def test_serialization_context_read_directly_is_the_sdks_answer():
    stock = SandboxedWorkflowRunner(restrictions=SANDBOX.restrictions)
    ours, theirs = _instance(DormantAccountWorkflow), _instance(DormantAccountWorkflow, stock)
    assert ours.get_serialization_context(None) == theirs.get_serialization_context(None) is not None
    assert ours.get_external_store_context(None) == theirs.get_external_store_context(None)


async def test_frozen_v1_workflow_is_still_reimported_per_run():
    sandboxed = _sandboxed_class(DormantAccountWorkflowV1)
    assert sandboxed is not DormantAccountWorkflowV1 and sandboxed.__name__ == DormantAccountWorkflowV1.__name__


def test_every_current_workflow_module_is_passed_through():
    """A new module under workflows/ must be added to PASSED_THROUGH (and keep no mutable module state)."""
    modules = {f"workflows.{p.stem}" for p in (ROOT / "workflows").glob("*.py") if p.stem != "__init__"}
    assert modules <= set(PASSED_THROUGH), sorted(modules - set(PASSED_THROUGH))


def test_passed_through_workflow_modules_keep_no_mutable_module_state():
    """Module-level names in passed-through workflow modules are constants (UPPER_CASE), imports, classes or
    functions: state shared between runs would make one workflow's run depend on another's."""
    allowed_lower = {"__all__"}
    for path in (ROOT / "workflows").glob("*.py"):
        if path.stem in ("__init__", "decision_keys"):  # decision_keys: shared on purpose (worker.py)
            continue
        for node in ast.parse(path.read_text()).body:
            targets = [node.target] if isinstance(node, ast.AnnAssign) else getattr(node, "targets", [])
            for target in targets:
                names = [t.id for t in ast.walk(target) if isinstance(t, ast.Name)]
                for name in names:
                    assert name.isupper() or name in allowed_lower, f"{path.name}: module-level {name!r}"
