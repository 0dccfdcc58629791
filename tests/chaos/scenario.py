"""The chaos scenario: many accounts through the whole lifecycle while the parts fail underneath.

The worker process is SIGKILLed several times and restarted, the Temporal dev server is restarted (its
SQLite file kept), PostgreSQL is restarted, SMTP is down for a while and the LLM server fails every k-th
request. A driver plays the owners (approving through the Update, retrying when it gets no answer) and
the customers (some reply). Afterwards `verify` checks what a user cares about: every account reached
its expected outcome, each approved customer got one first email and at most one follow-up in the same
thread, no ledger event is duplicated, no accepted decision was lost. Used by tests/chaos (CI size) and
bench/chaos.py (larger).
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

import asyncpg
from temporalio.client import Client, WorkflowUpdateFailedError

from client.connect import connect_temporal
from client.starter import start_reactivation
from config.settings import Settings, load_settings
from db.migrate import migrate_dsn
from db.pool import create_pool
from dormant.embedded_pg import EmbeddedPostgres
from dormant.processes import free_port, spawn
from dormant.temporal_dev import TemporalDevServer
from reactivation.review_model import CrmEvent, Decision
from tests.chaos.servers import FlakyLlm, RestartableSmtp
from tests.support.crm_fixtures import add_account
from tests.support.worker_process import worker_env
from workflows.dormant_account import DormantAccountWorkflow
from workflows.dormant_account_models import workflow_id_for

OWNER = "owner@chaos.dormant"
TRANSIENT = (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, RuntimeError)


@dataclass
class ChaosConfig:
    accounts: int = 200
    worker_kills: int = 4
    restart_temporal: bool = True
    restart_postgres: bool = True
    smtp_outage_s: float = 8.0
    llm_fail_every: int = 3
    seed: int = 20261123
    deadline_s: float = 480.0


def expected_outcome(index: int) -> str:
    """Account i's fate by construction: 10% no consent, 10% missing value, a quarter of the rest reply."""
    if index % 10 == 0:
        return "suppressed"
    if index % 10 == 1:
        return "not_ready"
    return "responded" if index % 4 == 2 else "no_response"


@dataclass
class Chaos:
    config: ChaosConfig
    workdir: Path
    counts: dict = field(default_factory=lambda: {"worker_kills": 0, "worker_restarts_after_own_death": 0,
                                                  "temporal_restarts": 0, "postgres_restarts": 0,
                                                  "smtp_outages": 0, "approval_attempts": 0,
                                                  "approvals_accepted": 0, "replies_signalled": 0})
    accepted: set[str] = field(default_factory=set)
    _killing: bool = False
    replied: set[str] = field(default_factory=set)

    def ids(self) -> list[str]:
        return [f"chaos-{i:04d}" for i in range(self.config.accounts)]

    # ------------------------------------------------------------------ parts

    async def start(self) -> None:
        self.temporal = TemporalDevServer(db_file=self.workdir / "temporal.db", port=free_port(), ui_port=None,
                                          log_path=self.workdir / "logs" / "temporal.log")
        self.pg = EmbeddedPostgres(data_dir=self.workdir / "pgdata", port=free_port())
        await asyncio.to_thread(self.temporal.start)
        await asyncio.to_thread(self.pg.start)
        await migrate_dsn(self.pg.dsn)
        self.smtp = RestartableSmtp()
        self.smtp.start()
        self.llm = FlakyLlm(fail_every=self.config.llm_fail_every)
        await self.llm.__aenter__()
        self.settings: Settings = load_settings(
            temporal_address=self.temporal.address, database_url=self.pg.dsn, data_dir=self.workdir,
            task_queue="chaos", llm_task_queue="chaos-llm", follow_up_after="5", outcome_window="30",
            review_reminder_after="3600", review_escalate_after="7200", send_window="always", holdout_share=0,
            openai_api_key="sk-chaos", openai_base_url=self.llm.base_url, delivery="smtp",
            smtp_host="127.0.0.1", smtp_port=self.smtp.port, delivery_timeout="10", llm_rate_per_s=100)
        self.env = worker_env(self.settings, DORMANT_LLM_TASK_QUEUE="chaos-llm", OPENAI_API_KEY="sk-chaos",
                              OPENAI_BASE_URL=self.llm.base_url, DORMANT_LLM_RATE_PER_S="100",
                              DORMANT_DELIVERY="smtp", DORMANT_SMTP_HOST="127.0.0.1",
                              DORMANT_SMTP_PORT=str(self.smtp.port))
        self.worker: subprocess.Popen | None = None
        self._start_worker()
        self.pool = await create_pool(self.pg.dsn, max_size=5)
        self.client: Client = await connect_temporal(self.settings)

    def _start_worker(self) -> None:
        import sys

        self.worker = spawn([sys.executable, "-m", "worker"], log_path=self.workdir / "logs" / "worker.log",
                            env=self.env, cwd=Path(__file__).resolve().parents[2])

    async def stop(self) -> None:
        if self.worker and self.worker.poll() is None:
            self.worker.kill()
            self.worker.wait(timeout=10)
        await self.pool.close()
        await self.llm.__aexit__(None, None, None)
        self.smtp.stop()
        await asyncio.to_thread(self.pg.stop)
        await asyncio.to_thread(self.temporal.stop)

    # ------------------------------------------------------------------ the run

    async def seed_accounts(self) -> None:
        for index, account_id in enumerate(self.ids()):
            fate = expected_outcome(index)
            await add_account(self.pool, account_id, owner_email=OWNER, contact_email=f"{account_id}@chaos.example",
                              consent_status="unknown" if fate == "suppressed" else "granted",
                              account_value=None if fate == "not_ready" else 12000)
        for account_id in self.ids():
            await start_reactivation(self.client, self.settings, account_id)

    async def run(self) -> float:
        started = time.monotonic()
        await self.seed_accounts()
        done = asyncio.Event()
        chaos = asyncio.create_task(self._break_things(done))
        supervisor = asyncio.create_task(self._supervise(done))
        try:
            await asyncio.wait_for(self._drive(), self.config.deadline_s)
        except TimeoutError:
            raise AssertionError(f"not every account finished in {self.config.deadline_s:.0f} s: "
                                 f"{await self.progress()}; {self.counts}") from None
        finally:
            done.set()
            await chaos
            await supervisor
        return time.monotonic() - started

    async def _supervise(self, done: asyncio.Event) -> None:
        """What a process supervisor does in production: a worker that died is started again."""
        while not done.is_set():
            if self.worker is not None and self.worker.poll() is not None and not self._killing:
                self.counts["worker_restarts_after_own_death"] += 1
                self._start_worker()
            await asyncio.sleep(1)

    async def _break_things(self, done: asyncio.Event) -> None:
        rng = random.Random(self.config.seed)
        actions = ["kill_worker"] * self.config.worker_kills
        if self.config.restart_temporal:
            actions.insert(1, "restart_temporal")
        if self.config.smtp_outage_s:
            actions.insert(3, "smtp_outage")
        if self.config.restart_postgres:
            actions.insert(5, "restart_postgres")
        for action in actions:
            await asyncio.sleep(rng.uniform(2.0, 6.0))
            if done.is_set():
                return
            await getattr(self, action)(rng)

    async def kill_worker(self, rng: random.Random) -> None:
        self._killing = True  # the supervisor must not count (or restart) this death
        try:
            if self.worker is not None and self.worker.poll() is None:
                self.worker.kill()
                self.worker.wait(timeout=10)
                self.counts["worker_kills"] += 1
            await asyncio.sleep(rng.uniform(0.5, 2.0))
            self._start_worker()
        finally:
            self._killing = False

    async def restart_temporal(self, rng: random.Random) -> None:
        await asyncio.to_thread(self.temporal.stop)
        await asyncio.sleep(rng.uniform(0.5, 2.0))
        await asyncio.to_thread(self.temporal.start)
        self.counts["temporal_restarts"] += 1

    async def restart_postgres(self, rng: random.Random) -> None:
        await asyncio.to_thread(self.pg.stop)
        await asyncio.sleep(rng.uniform(0.5, 2.0))
        await asyncio.to_thread(self.pg.start)
        self.counts["postgres_restarts"] += 1

    async def smtp_outage(self, rng: random.Random) -> None:
        self.smtp.stop()
        await asyncio.sleep(self.config.smtp_outage_s)
        self.smtp.start()
        self.counts["smtp_outages"] += 1

    async def progress(self) -> str:
        """Accounts per stage (and finished), for progress lines and for a clear timeout message."""
        try:
            rows = await self.pool.fetch("SELECT stage, count(*) AS n, count(outcome) AS done FROM review_projection "
                                         "WHERE account_id LIKE 'chaos-%' GROUP BY stage ORDER BY stage")
        except TRANSIENT as err:
            return f"(database unavailable: {type(err).__name__})"
        return ", ".join(f"{r['stage']} {r['n']}" for r in rows) + f" (finished {sum(r['done'] for r in rows)})"

    # ------------------------------------------------------------------ owners and customers

    async def _drive(self) -> None:
        """Approve what awaits review, reply where the customer replies, until every account has an outcome."""
        fates = {account_id: expected_outcome(i) for i, account_id in enumerate(self.ids())}
        last_report = time.monotonic()
        while True:
            if time.monotonic() - last_report > 15:
                print(f"[chaos] {await self.progress()}", flush=True)
                last_report = time.monotonic()
            try:
                rows = await self.pool.fetch(
                    "SELECT account_id, stage, draft_version, outcome FROM review_projection "
                    "WHERE account_id LIKE 'chaos-%'")
            except TRANSIENT:
                await asyncio.sleep(1)
                continue
            if len(rows) == len(fates) and all(r["outcome"] for r in rows):
                return
            jobs = []
            for row in rows:
                account_id = row["account_id"]
                # "approved" too: the projection is written by local activities, which may run in a
                # workflow task that never completed (the server restarted), so it can be a step ahead of
                # the workflow. The workflow itself refuses a second approval, and says why.
                if row["stage"] in ("awaiting_review", "approved") and account_id not in self.accepted:
                    jobs.append(self._approve(account_id, row["draft_version"]))
                if fates[account_id] == "responded" and row["stage"] in ("sent", "follow_up_sent") \
                        and account_id not in self.replied:
                    jobs.append(self._reply(account_id))
            await asyncio.gather(*jobs)
            await asyncio.sleep(0.5)

    async def _approve(self, account_id: str, draft_version: int) -> None:
        self.counts["approval_attempts"] += 1
        handle = self.client.get_workflow_handle(workflow_id_for(account_id))
        decision = Decision(action="approve", draft_version=draft_version, decided_by=OWNER)
        try:
            await asyncio.wait_for(handle.execute_update(DormantAccountWorkflow.decide, decision), 20)
        except WorkflowUpdateFailedError as err:
            # An earlier attempt whose answer we never got may have landed: the workflow says so.
            if "approved" in str(err.cause) or "sent" in str(err.cause):
                self._accept(account_id)
            return
        except Exception:
            return
        self._accept(account_id)

    def _accept(self, account_id: str) -> None:
        if account_id not in self.accepted:
            self.accepted.add(account_id)
            self.counts["approvals_accepted"] += 1

    async def _reply(self, account_id: str) -> None:
        handle = self.client.get_workflow_handle(workflow_id_for(account_id))
        try:
            await asyncio.wait_for(handle.signal(DormantAccountWorkflow.crm_event,
                                                 CrmEvent(type="reply", at=_now(), detail="sounds good")), 10)
        except Exception:
            return
        self.replied.add(account_id)
        self.counts["replies_signalled"] += 1


def _now():
    from datetime import datetime

    return datetime.now(UTC)
