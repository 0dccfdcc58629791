"""The workflow sandbox the worker runs, with the SDK's per-call compile taken out.

Temporal's sandbox enters a workflow run by `exec`-ing a short code string: on every activation and on
every payload it (de)serializes (to build the payload's serialization context). CPython compiles such a
string again on each call: ~30-45 µs, several times per workflow task, ~5 ms of worker CPU per account over
an episode (py-spy, issue 18). The strings are a handful of constants, so they are compiled once here and
the same code objects run: what runs, and in which sandbox, is unchanged. The per-payload serialization
context, a pure lookup, is read without the exec round trip at all (another ~3-8 ms per account).

This reaches into a private SDK class (`_Instance._run_code`); when an SDK release no longer has it, the
worker falls back to the stock runner (`sandbox_runner`), slower but correct, and
tests/workflows/test_sandbox.py fails so the change is noticed.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import CodeType
from typing import Any

from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

try:
    from temporalio.worker.workflow_sandbox._runner import _Instance
except ImportError:  # pragma: no cover - an SDK without the private class: the stock runner is used
    _Instance = None  # type: ignore[assignment,misc]

_COMPILED: dict[str, CodeType] = {}  # code string -> code object; a few strings per workflow type


if _Instance is not None and hasattr(_Instance, "_run_code"):

    class _CompiledOnceInstance(_Instance):  # type: ignore[misc,valid-type]
        def _run_code(self, code: str, **extra_globals: Any) -> None:
            compiled = _COMPILED.get(code)
            if compiled is None:
                compiled = _COMPILED.setdefault(code, compile(code, "<string>", "exec"))
            super()._run_code(compiled, **extra_globals)  # type: ignore[arg-type]

        # Asked once per payload of every activation and completion. The answer is a lookup in the run's own
        # bookkeeping (workflow id, the pending activity's type and id): no import, no clock, nothing the
        # sandbox restricts, so it is read directly instead of through exec and the sandbox's importer.
        def get_serialization_context(self, command_info: Any) -> Any:
            in_sandbox: Any = self.globals_and_locals.get("__temporal_in_sandbox")
            if in_sandbox is None:
                return super().get_serialization_context(command_info)
            return in_sandbox.get_serialization_context(command_info)

        def get_external_store_context(self, command_info: Any) -> Any:
            in_sandbox: Any = self.globals_and_locals.get("__temporal_in_sandbox")
            if in_sandbox is None:
                return super().get_external_store_context(command_info)
            return in_sandbox.get_external_store_context(command_info)

    @dataclass(frozen=True)
    class CompiledSandboxRunner(SandboxedWorkflowRunner):
        """A SandboxedWorkflowRunner whose instances run pre-compiled entry code."""

        def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
            return _CompiledOnceInstance(det, self.runner_class, self.restrictions)

    def sandbox_runner(restrictions: SandboxRestrictions) -> SandboxedWorkflowRunner:
        return CompiledSandboxRunner(restrictions=restrictions)

else:  # pragma: no cover

    def sandbox_runner(restrictions: SandboxRestrictions) -> SandboxedWorkflowRunner:
        return SandboxedWorkflowRunner(restrictions=restrictions)
