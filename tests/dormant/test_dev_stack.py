"""`dormant dev` as a user runs it: everything comes up, /healthz is ok, the demo workflows are visible in
Temporal with their search attributes, Ctrl-C leaves no process behind, and a restart finds the same
workflows still waiting for their owners."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from dormant.processes import free_port
from dormant.temporal_dev import temporal_cli


def _get(url: str, token: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, {}


def _descendants(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
    children: dict[int, list[int]] = {}
    for line in out.splitlines():
        child, parent = map(int, line.split())
        children.setdefault(parent, []).append(child)
    found, stack = set(), [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.add(child)
            stack.append(child)
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            os.kill(pid, 0)
            state = Path(f"/proc/{pid}/stat").read_text().split()[2]
            if state != "Z":
                alive.add(pid)
        except (ProcessLookupError, FileNotFoundError):
            pass
    return alive


class DevRun:
    def __init__(self, data_dir: Path):
        self.api_port, self.temporal_port = free_port(), free_port()
        self.env = {**os.environ, "DORMANT_API_PORT": str(self.api_port),
                    "TEMPORAL_ADDRESS": f"127.0.0.1:{self.temporal_port}",
                    "DORMANT_TEMPORAL_UI_PORT": str(free_port()), "DORMANT_EMBEDDED_PG_PORT": str(free_port())}
        self.env.pop("DATABASE_URL", None)
        self.data_dir = data_dir
        self.proc: subprocess.Popen | None = None
        self.output = data_dir.parent / "dev-output.log"

    def start(self, timeout: float = 120) -> None:
        before = self.output.read_text().count("is running") if self.output.exists() else 0
        self.proc = subprocess.Popen([sys.executable, "-m", "dormant.cli", "dev", "--data-dir", str(self.data_dir)],
                                     env=self.env, stdout=open(self.output, "ab"),  # noqa: SIM115 - the child's output, for its lifetime
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.output.read_text()[-3000:]
            if self.output.read_text().count("is running") > before:
                return
            time.sleep(0.5)
        raise AssertionError(f"dormant dev did not come up:\n{self.output.read_text()[-3000:]}")

    def stop(self) -> set[int]:
        children = _descendants(self.proc.pid)
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(60)
        time.sleep(1)
        return _alive(children)

    def owner_token(self) -> str:
        return json.loads((self.data_dir / "demo-tokens.json").read_text())["owner"][1]

    def workflows(self, query: str) -> list[dict]:
        out = subprocess.run([temporal_cli(), "workflow", "list", "--address", f"127.0.0.1:{self.temporal_port}",
                              "--query", query, "--output", "json"], capture_output=True, text=True, check=True)
        return json.loads(out.stdout or "[]")


def _wait_for_queue(run: DevRun, minimum: int, timeout: float = 90) -> list[dict]:
    deadline = time.monotonic() + timeout
    rows: list[dict] = []
    while time.monotonic() < deadline:
        status, rows = _get(f"http://127.0.0.1:{run.api_port}/v1/queue", run.owner_token())
        if status == 200 and len(rows) >= minimum:
            return rows
        time.sleep(1)
    raise AssertionError(f"queue has {len(rows)} rows, expected >= {minimum}")


def test_dormant_dev_runs_stops_cleanly_and_restarts(tmp_path):
    run = DevRun(tmp_path / "data")
    run.start()
    try:
        status, health = _get(f"http://127.0.0.1:{run.api_port}/healthz")
        assert status == 200 and health["database"] == "ok" and health["temporal"] == "ok"
        _wait_for_queue(run, minimum=5)
        deadline = time.monotonic() + 90
        while run.workflows('ReactivationStage="gathering_evidence" AND ExecutionStatus="Running"'):
            assert time.monotonic() < deadline, "demo workflows never finished gathering evidence"
            time.sleep(1)
        queue = _wait_for_queue(run, minimum=5)
        waiting = run.workflows('ReactivationStage="awaiting_review"')
        assert len(waiting) >= 5
        attrs = waiting[0]["searchAttributes"]["indexedFields"]
        assert "AccountOwner" in attrs and "ReactivationStage" in attrs and "ReactivationPriority" in attrs
        assert queue == sorted(queue, key=lambda row: -row["priority"])
    finally:
        leftovers = run.stop()
    assert leftovers == set(), f"processes left running after Ctrl-C: {leftovers}"

    run.start()
    try:
        again = _wait_for_queue(run, minimum=len(queue))
        assert {r["account_id"] for r in again} == {r["account_id"] for r in queue}
        still = run.workflows('ReactivationStage="awaiting_review" AND ExecutionStatus="Running"')
        assert len(still) == len(waiting)
        # The stack heals: kill the worker, and `dormant dev` starts it again (the approval below needs it).
        worker = [pid for pid in _alive(_descendants(run.proc.pid))
                  if b"-m\x00worker" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        assert len(worker) == 1, worker
        os.kill(worker[0], signal.SIGKILL)
        deadline = time.monotonic() + 30
        while "worker restarted" not in run.output.read_text():
            assert time.monotonic() < deadline, run.output.read_text()[-2000:]
            time.sleep(0.5)
        assert "worker exited with -9; restarting" in run.output.read_text()
        # The README's approval, after the restart: approve the top account, see it in the outbox.
        top = again[0]["account_id"]
        request = urllib.request.Request(
            f"http://127.0.0.1:{run.api_port}/v1/accounts/{top}/decision", method="POST",
            data=json.dumps({"action": "approve", "draft_version": 1}).encode(),
            headers={"Authorization": f"Bearer {run.owner_token()}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read())["stage"] == "approved"
        deadline = time.monotonic() + 30
        while True:
            outbox = subprocess.run([sys.executable, "-m", "dormant.cli", "outbox"], capture_output=True, text=True,
                                    env={**run.env, "DORMANT_DATA_DIR": str(run.data_dir)})
            if "first" in outbox.stdout or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert outbox.returncode == 0 and " first " in outbox.stdout, outbox.stdout + outbox.stderr
    finally:
        assert run.stop() == set()
