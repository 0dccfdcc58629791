"""The decision keys this worker process holds, per task queue, for the `decide` Update's validator.

Set by worker.py when it builds a worker; imported into the sandbox as a pass-through module, so the
workflow reads the process's keys without them ever entering a workflow input or history. Per task queue,
so workers with different keys (tests, a key being rolled out) never see each other's. Read only by the
validator, which does not run on replay.
"""

from __future__ import annotations

_KEYS: dict[str, tuple[bytes, ...]] = {}


def install(task_queue: str, keys: tuple[bytes, ...]) -> None:
    _KEYS[task_queue] = keys


def keys_for(task_queue: str) -> tuple[bytes, ...]:
    return _KEYS.get(task_queue, ())
