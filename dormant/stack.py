"""`dormant dev`: the whole product on its embedded default, in one supervised process tree.

Order: Temporal dev server -> PostgreSQL -> migrations -> demo owners and CRM data -> worker -> API ->
demo triggers. Ctrl-C (or SIGTERM) stops the children in reverse order; each child also dies with this
process (PR_SET_PDEATHSIG), so nothing is orphaned. Data lives under the data dir, so a restart finds the
same accounts, and workflows that were waiting for approval are still waiting.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from config.settings import Settings
from dormant.processes import wait_for_port
from dormant.supervisor import Child, Essential, Restartable

STACK_FILE = "stack.json"


def running_stack(data_dir: Path) -> dict[str, str]:
    """DATABASE_URL and TEMPORAL_ADDRESS of a `dormant dev` running on `data_dir`, or {}."""
    try:
        return json.loads((data_dir / STACK_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return {}


async def wait_for_temporal(address: str, timeout: float = 60.0) -> None:
    """The port opens before the frontend serves; wait until a namespace call succeeds."""
    from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
    from temporalio.client import Client

    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            client = await Client.connect(address)
            await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace="default"))
            return
        except Exception as err:
            last = err
            await asyncio.sleep(0.3)
    raise TimeoutError(f"Temporal at {address} was not ready within {timeout:.0f}s: {last}")


def _local_port(address: str) -> int | None:
    """The port of a TEMPORAL_ADDRESS on this machine (we start the server), else None (we use it)."""
    host, _, port = address.rpartition(":")
    return int(port) if host in ("localhost", "127.0.0.1", "0.0.0.0", "") and port.isdigit() else None


@dataclass
class DevStack:
    settings: Settings
    demo: bool = True
    children: list[Child] = field(default_factory=list)  # in start order; stopped in reverse

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir.resolve()

    def log(self, message: str) -> None:
        print(f"[dormant dev] {message}", flush=True)

    def __post_init__(self) -> None:
        # The demo should show a send when you approve, at any hour: no business-hours window unless
        # DORMANT_SEND_WINDOW is set explicitly (pydantic-settings marks what the environment set).
        if "send_window" not in self.settings.model_fields_set:
            self.settings = self.settings.model_copy(update={"send_window": "always"})

    def start(self) -> dict:
        """Start everything in order; one event loop for the whole start (the servers and children are
        processes: their own blocking starts are fine here, nothing else runs on the loop yet)."""
        return asyncio.run(self._start())

    async def _start(self) -> dict:
        from dormant.embedded_pg import EmbeddedPostgres
        from dormant.temporal_dev import TemporalDevServer

        self.data_dir.mkdir(parents=True, exist_ok=True)
        logs = self.data_dir / "logs"
        temporal_port = _local_port(self.settings.temporal_address)
        if temporal_port is not None:
            self.log(f"starting Temporal dev server on :{temporal_port} (UI :{self.settings.temporal_ui_port})")
            # With payload encryption on, the UI decodes through the API's codec endpoint (admins only).
            codec = ["--ui-codec-endpoint", f"{self.settings.public_url.rstrip('/')}/codec"] \
                if self.settings.payload_keys else []
            server = TemporalDevServer(db_file=self.data_dir / "temporal.db", port=temporal_port,
                                       ui_port=self.settings.temporal_ui_port, log_path=logs / "temporal.log",
                                       extra_args=codec)
            server.start()
            self.children.append(Essential("temporal", server, logs))
            temporal_address = server.address
        else:
            temporal_address = self.settings.temporal_address
            self.log(f"using Temporal at {temporal_address}")

        if self.settings.database_url:
            dsn = self.settings.database_url
            self.log(f"using PostgreSQL at {urlparse(dsn).hostname}:{urlparse(dsn).port or 5432}")
        else:
            self.log(f"starting embedded PostgreSQL on :{self.settings.embedded_pg_port}")
            pg = EmbeddedPostgres(data_dir=self.data_dir / "pgdata", port=self.settings.embedded_pg_port)
            pg.start()
            self.children.append(Essential("postgres", pg, logs))
            dsn = pg.dsn

        await wait_for_temporal(temporal_address)
        tokens = await self._prepare_data(dsn, temporal_address)
        env = {**os.environ, "DATABASE_URL": dsn, "TEMPORAL_ADDRESS": temporal_address,
               "DORMANT_DATA_DIR": str(self.data_dir), "DORMANT_SEND_WINDOW": self.settings.send_window,
               "DORMANT_DECISION_KEY": self._decision_key()}
        self.log("starting worker")
        worker = Restartable("worker", [sys.executable, "-m", "worker"], logs / "worker.log", env)
        worker.start()
        self.children.append(worker)
        self.log(f"starting API on {self.settings.api_host}:{self.settings.api_port}")
        api_child = Restartable("api", [sys.executable, "-m", "uvicorn", "api.main:app", "--host",
                                        self.settings.api_host, "--port", str(self.settings.api_port),
                                        "--log-level", "warning"], logs / "api.log", env)
        api = api_child.start()
        self.children.append(api_child)
        wait_for_port(self.settings.api_host, self.settings.api_port, proc=api, log_path=logs / "api.log")
        if self.settings.imap_url is not None:  # replies read from a mailbox, supervised like the others
            self.log("starting the mailbox reader (DORMANT_IMAP_URL)")
            mailbox = Restartable("mailbox", [sys.executable, "-m", "dormant.cli", "mailbox"], logs / "mailbox.log", env)
            mailbox.start()
            self.children.append(mailbox)
        # Other `dormant` commands in another shell find the running stack through this file.
        (self.data_dir / STACK_FILE).write_text(json.dumps({"DATABASE_URL": dsn, "TEMPORAL_ADDRESS": temporal_address}))
        if self.demo:  # the scan is a workflow: it needs the worker started above
            started = await self._start_demo_workflows(dsn, temporal_address)
            if started:
                self.log(f"demo: started {started} reactivation workflows")
        return {"temporal": temporal_address, "dsn": dsn, "tokens": tokens}

    def _decision_key(self) -> str:
        """DORMANT_DECISION_KEY, or one made for this data dir and kept there: the API signs owners'
        decisions with it and the worker refuses unsigned ones (README, Security)."""
        if self.settings.decision_key:
            return self.settings.decision_key.get_secret_value()
        path = self.data_dir / "decision.key"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(32))
            path.chmod(0o600)
        return path.read_text().strip()

    async def _prepare_data(self, dsn: str, temporal_address: str) -> dict:
        from db.migrate import migrate_dsn
        from dormant.demo import ensure_demo_owners, import_demo_data

        applied = await migrate_dsn(dsn)
        self.log(f"migrations: {'applied ' + ', '.join(map(str, applied)) if applied else 'up to date'}")
        tokens = await ensure_demo_owners(dsn, self.data_dir / "demo-tokens.json")
        if self.demo:
            summary = await import_demo_data(dsn)
            self.log(f"demo CRM data: {summary}")
        return tokens

    async def _start_demo_workflows(self, dsn: str, temporal_address: str) -> int:
        """Trigger the demo accounts once per data dir; later starts find them still waiting."""
        marker = self.data_dir / "demo-triggered"
        if marker.exists():
            return 0
        from client.connect import connect_temporal
        from dormant.scan import ensure_scan_schedule, run_scan

        settings = self.settings.model_copy(update={"temporal_address": temporal_address, "database_url": dsn})
        client = await connect_temporal(settings)
        await ensure_scan_schedule(settings, client)
        from dormant.notify_schedule import ensure_notification_schedule

        await ensure_notification_schedule(settings, client)
        result = await run_scan(settings, client=client)
        marker.write_text(json.dumps({"started": result.started}))
        return result.started

    def stop(self) -> None:
        (self.data_dir / STACK_FILE).unlink(missing_ok=True)
        for child in reversed(self.children):
            self.log(f"stopping {child.name}")
            child.stop()
        self.children.clear()

    def wait(self) -> None:
        """Block until Ctrl-C/SIGTERM. A crashed worker, API or mailbox reader is restarted
        (dormant/supervisor.py); if Temporal or PostgreSQL dies, or a child keeps crashing, say why and
        return (the caller stops all)."""
        stopping = {"flag": False}

        def _on_signal(signum, frame):
            stopping["flag"] = True

        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
        while not stopping["flag"]:
            for child in self.children:
                why = child.check(time.monotonic(), self.log)
                if why is not None:
                    self.log(f"{why}; stopping everything")
                    return
            time.sleep(0.5)


def banner(settings: Settings, info: dict) -> str:
    tokens = info["tokens"]
    owner_email, owner_token = tokens["owner"]
    api = f"http://{settings.api_host}:{settings.api_port}"
    return f"""
dormant-outreach is running. Ctrl-C stops everything.

  Temporal       {info['temporal']}   UI http://localhost:{settings.temporal_ui_port}
  PostgreSQL     {info['dsn']}
  API            {api}   docs {api}/docs   review page {api}/review
  Logs           {settings.data_dir.resolve() / 'logs'}

  Demo owner     {owner_email}   token {owner_token}
  Demo admin     {tokens['admin'][0]}   token {tokens['admin'][1]}

Try next:
  curl -s -H 'Authorization: Bearer {owner_token}' {api}/v1/queue
  temporal workflow list --address {info['temporal']} --query 'ReactivationStage="awaiting_review"'
  open {api}/review and sign in with the owner token
"""
