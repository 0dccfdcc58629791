"""`dormant dev`'s supervisor: a crashed child restarts with growing backoff; one that keeps crashing
stops the stack with the reason."""

from __future__ import annotations

import subprocess
import sys
import time

from dormant.supervisor import MAX_RESTARTS, Restartable, supervise_step


def test_a_crashing_child_is_restarted_with_backoff_then_given_up(tmp_path):
    child = Restartable("worker", [sys.executable, "-c", "raise SystemExit(3)"], tmp_path / "w.log", {})
    child.start()
    child.proc.wait(10)
    lines: list[str] = []
    now, delays, why = time.monotonic(), [], None
    for _ in range(MAX_RESTARTS + 1):
        why = supervise_step(child, now, lines.append)
        if why:
            break
        delays.append(child.next_start - now)
        now = child.next_start
        supervise_step(child, now, lines.append)  # starts it again
        child.proc.wait(10)
    assert delays == sorted(delays) and delays[0] == 1 and delays[-1] > delays[0]
    assert any("exited with 3; restarting in 1 s" in line for line in lines)
    assert any("restarted (pid" in line for line in lines)
    assert why is not None and "giving up" in why


def test_a_running_child_is_left_alone(tmp_path):
    child = Restartable("api", [sys.executable, "-c", "import time; time.sleep(30)"], tmp_path / "a.log", {})
    child.start()
    try:
        assert supervise_step(child, time.monotonic(), print) is None and child.next_start is None
    finally:
        child.proc.kill()


def test_a_dead_essential_server_stops_the_stack_and_says_why(tmp_path):
    """Temporal or PostgreSQL hold the state: when one dies, the stack stops (no restart) and names it."""
    from dormant.supervisor import Essential

    class Server:
        def __init__(self) -> None:
            self.proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(7)"])
            self.stopped = False

        def stop(self) -> None:
            self.stopped = True

    server = Server()
    server.proc.wait()
    child = Essential("postgres", server, tmp_path)
    why = child.check(time.monotonic(), print)
    assert why == f"postgres exited with 7 and holds the data the others need (see {tmp_path})"
    child.stop()
    assert server.stopped
