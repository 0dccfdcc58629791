"""Owner notifications against real PostgreSQL, a real SMTP server (aiosmtpd), a local Slack webhook and
the real Temporal worker: who gets what, exactly once, quiet settings, hostile text."""

from __future__ import annotations

import asyncio
import contextlib
import email
import json
from datetime import UTC, datetime, timedelta
from email import policy

from aiosmtpd.controller import Controller
from fastapi import FastAPI, Request
from pydantic import SecretStr

from activities.notify import NotifyActivities
from db.notifications import notify_reply
from db.owners import add_owner
from dormant.notify_schedule import SCHEDULE_ID, ensure_notification_schedule
from dormant.processes import free_port
from reactivation.notifications import NotifyCounts
from reactivation.plain_text import header_unsafe
from tests.support.crm_fixtures import add_account
from tests.support.lifecycle_helpers import running_worker
from tests.support.local_http import LocalHttpServer
from workflows.notify import OwnerNotificationsWorkflow

AT = datetime.now(UTC).replace(hour=0, minute=30, second=0, microsecond=0)  # before the digest hour
HOSTILE = "Acme\r\nBcc: victim@evil.example\x00\u2028 Ünïcødé 名前 مرحبا " + "x" * 1_000_000


class Sink:
    """The inbox: every message the SMTP server accepted, by recipient."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos),
                              email.message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for rcpt, m in self.messages if rcpt == [address]]


class SlackHook(LocalHttpServer):
    def __init__(self) -> None:
        self.port = free_port()
        self.posts: list[dict] = []

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hook")
        async def hook(request: Request) -> dict:
            self.posts.append(await request.json())
            return {"ok": True}
        return app


def smtp_inbox():
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    return sink, controller


async def notify_everything(pool, settings) -> Sink:
    """Enqueue what is due at AT (reminders, escalations, digests) and dispatch it all to a fresh SMTP inbox."""
    sink, controller = smtp_inbox()
    try:
        acts = NotifyActivities(pool, active(settings, controller.port))
        await acts.enqueue_due_notifications(AT)
        await acts.enqueue_digests(AT.date())
        await acts.dispatch_notifications()
    finally:
        controller.stop()
    return sink


def active(settings, port: int | None = None, **extra):
    update = {"digest_hour": 23, **extra}
    if port is not None:
        update |= {"delivery": "smtp", "smtp_host": "127.0.0.1", "smtp_port": port}
    return settings.model_copy(update=update)


async def waiting_account(pool, account_id: str, owner: str, priority: float = 1.0, *, name: str | None = None,
                          stage: str = "awaiting_review", episode: str = "ep1") -> None:
    await add_account(pool, account_id, owner_email=owner, name=name or f"Name of {account_id}")
    await pool.execute(
        """INSERT INTO review_projection (account_id, workflow_id, episode, stage, priority, owner_email,
                                          account_value, recommended_next_step)
           VALUES ($1, 'wf-' || $1, $2, $3, $4, $5, 12000, 'Offer a check-in call')""",
        account_id, episode, stage, priority, owner)


async def ledger(pool, account_id: str, kind: str, at: datetime, episode: str = "ep1") -> None:
    await pool.execute(
        """INSERT INTO measurement_events (event_id, at, type, account_id, workflow_id, episode)
           VALUES ($1 || '/' || $2 || '/' || $3, $4, $3, $1, 'wf-' || $1, $2)""", account_id, episode, kind, at)


async def owner(pool, address: str, *, admin: bool = False, notify: str = "all") -> str:
    async with pool.acquire() as conn:
        await add_owner(conn, address, admin=admin)
    await pool.execute("UPDATE owners SET notify = $2 WHERE email = $1", address, notify)
    return address


async def test_a_digest_reaches_each_owner_with_only_their_accounts(pool, settings, prefix):
    a, b = await owner(pool, f"{prefix}-a@example.com"), await owner(pool, f"{prefix}-b@example.com")
    for i in range(7):
        await waiting_account(pool, f"{prefix}-a{i}", a, priority=float(i))
    await waiting_account(pool, f"{prefix}-a-sent", a, priority=99.0, stage="sent")
    for i in range(2):
        await waiting_account(pool, f"{prefix}-b{i}", b, priority=float(i))
    sink, controller = smtp_inbox()
    try:
        acts = NotifyActivities(pool, active(settings, controller.port))
        assert await acts.enqueue_digests(AT.date()) >= 2
        assert await acts.enqueue_digests(AT.date()) == 0  # once per owner and day
        await acts.dispatch_notifications()
    finally:
        controller.stop()
    [mail_a], [mail_b] = sink.to(a), sink.to(b)
    body_a, body_b = mail_a.get_content(), mail_b.get_content()
    assert mail_a["Subject"].startswith("7 accounts waiting") and mail_b["Subject"].startswith("2 accounts waiting")
    assert [f"{prefix}-a{i}" in body_a for i in range(7)] == [False, False, True, True, True, True, True]
    assert f"{prefix}-b" not in body_a and f"{prefix}-a" not in body_b and f"{prefix}-a-sent" not in body_a
    assert f"{settings.public_url}/review/accounts/{prefix}-a6" in body_a and "Offer a check-in call" in body_a


async def test_reminder_and_escalation_are_sent_once_even_with_concurrent_dispatch(pool, settings, prefix):
    own, adm = await owner(pool, f"{prefix}-o@example.com"), await owner(pool, f"{prefix}-adm@example.com", admin=True)
    account = f"{prefix}-late"
    await waiting_account(pool, account, own)
    await ledger(pool, account, "awaiting_review", AT - timedelta(days=8))
    await ledger(pool, account, "reminder_sent", AT - timedelta(days=5))
    await ledger(pool, account, "escalated", AT - timedelta(days=1))
    sink, controller = smtp_inbox()
    try:
        one, two = (NotifyActivities(pool, active(settings, controller.port)) for _ in range(2))
        assert await one.enqueue_due_notifications(AT) >= 2
        assert await two.enqueue_due_notifications(AT) == 0
        await asyncio.gather(one.dispatch_notifications(), two.dispatch_notifications())
        await one.dispatch_notifications()
    finally:
        controller.stop()
    # every admin hears of every escalation, so the shared test database's other escalations reach adm too
    [reminder] = sink.to(own)
    [escalation] = [m for m in sink.to(adm) if f"Name of {account} " in m["Subject"]]
    assert reminder["Subject"] == f"Reminder: Name of {account} has waited 8 days for your review"
    assert escalation["Subject"] == f"Escalation: Name of {account} has waited 8 days for {own}"
    assert reminder["Auto-Submitted"] == "auto-generated"
    rows = await pool.fetch("""SELECT event_id, owner_email FROM measurement_events
                                WHERE account_id = $1 AND type = 'owner_notified' AND owner_email = ANY($2)""",
                            account, [own, adm])
    assert sorted(r["owner_email"] for r in rows) == sorted([own, adm])
    assert all(r["event_id"].startswith("notify/") for r in rows)


async def test_quiet_owners_hear_only_what_they_chose(pool, settings, prefix):
    none, dig = await owner(pool, f"{prefix}-n@example.com", notify="none"), \
        await owner(pool, f"{prefix}-d@example.com", notify="digest")
    for who, account in ((none, f"{prefix}-qn"), (dig, f"{prefix}-qd")):
        await waiting_account(pool, account, who)
        await ledger(pool, account, "reminder_sent", AT - timedelta(hours=1))
        async with pool.acquire() as conn:
            assert await notify_reply(conn, settings.public_url, account, "ep1", who, "jo@customer.example", "Re: hi", "Yes",
                                      inbound_message_id=f"<{account}@customer>")
    sink = await notify_everything(pool, settings)
    assert sink.to(none) == []
    assert [m["Subject"] for m in sink.to(dig)] == [f"1 account waiting for your review ({AT.date().isoformat()})"]
    statuses = await pool.fetch("SELECT recipient, kind, status FROM owner_notifications WHERE recipient = ANY($1)",
                                [none, dig])
    assert {(r["recipient"], r["kind"], r["status"]) for r in statuses} == {
        (none, "reminder", "skipped_quiet"), (none, "reply", "skipped_quiet"), (none, "digest", "skipped_quiet"),
        (dig, "reminder", "skipped_quiet"), (dig, "reply", "skipped_quiet"), (dig, "digest", "sent")}


async def test_slack_webhook_gets_the_links_and_a_reply_notifies_once(pool, settings, prefix):
    own = await owner(pool, f"{prefix}-s@example.com")
    account = f"{prefix}-slack"
    await waiting_account(pool, account, own, name="Harbor <!channel> & Co")
    async with SlackHook() as hook:
        hooked = active(settings, slack_webhook_url=SecretStr(f"http://127.0.0.1:{hook.port}/hook"))
        async with pool.acquire() as conn:
            for _ in range(2):  # the inbound endpoint retried: one notification
                await notify_reply(conn, hooked.public_url, account, "ep1", own, "jo@customer.example", "Re: hi",
                                   "secret customer words", inbound_message_id="<m1@customer>")
        counts = await NotifyActivities(pool, hooked).dispatch_notifications()
    mine = [p for p in hook.posts if own in p["text"]]
    assert counts.sent >= 1 and len(mine) == 1
    text = mine[0]["text"]
    assert f"<{settings.public_url}/review/accounts/{account}|Harbor &lt;!channel&gt; &amp; Co>" in text
    assert "secret customer words" not in text
    row = await pool.fetchrow("SELECT status, error FROM owner_notifications WHERE account_id = $1", account)
    assert (row["status"], row["error"]) == ("sent", None)
    detail = await pool.fetchval("SELECT detail FROM measurement_events WHERE account_id = $1 AND type = 'owner_notified'",
                                 account)
    assert detail["channels"] == ["slack"] and json.dumps(detail).find("hook") == -1


async def test_hostile_names_and_replies_do_not_break_the_email(pool, settings, prefix):
    own = await owner(pool, f"{prefix}-h@example.com")
    account = f"{prefix}-hostile"
    await waiting_account(pool, account, own, name=HOSTILE.replace("\x00", "\x07\x1b"))  # PostgreSQL has no NUL
    await ledger(pool, account, "reminder_sent", AT - timedelta(hours=1))
    async with pool.acquire() as conn:  # the reply keeps its NUL: the composer drops it before storing
        await notify_reply(conn, settings.public_url, account, "ep1", own, "Eve <eve@x>\r\nBcc: y@evil.example", HOSTILE,
                           HOSTILE, inbound_message_id="<h\r\n1@x>")
    sink = await notify_everything(pool, settings)
    mails = sink.to(own)
    assert len(mails) == 3 and all(rcpt == [own] for rcpt, m in sink.messages if m in mails)
    for mail in mails:
        assert set(mail.keys()) == {"From", "To", "Subject", "Message-ID", "Auto-Submitted", "Content-Type",
                                    "Content-Transfer-Encoding", "MIME-Version"}
        assert not header_unsafe(str(mail["Subject"])) and len(str(mail["Subject"])) <= 200
        assert "evil.example" not in str(mail["To"]) and len(mail.get_content()) < 5000
    assert any("名前" in m["Subject"] for m in mails)


async def test_the_workflow_runs_both_activities_on_the_worker(client, pool, settings, prefix):
    own = await owner(pool, f"{prefix}-w@example.com")
    account = f"{prefix}-wf"
    await waiting_account(pool, account, own)
    async with pool.acquire() as conn:
        await notify_reply(conn, settings.public_url, account, "ep1", own, "jo@customer.example", "Re: hi", "Yes",
                           inbound_message_id="<w1@customer>")
    async with running_worker(client, pool, settings):
        counts = await client.execute_workflow(OwnerNotificationsWorkflow.run, id=f"{prefix}-notify",
                                               task_queue=settings.task_queue)
    assert isinstance(counts, NotifyCounts) and counts.sent >= 1
    assert await pool.fetchval("SELECT status FROM owner_notifications WHERE account_id = $1", account) == "sent"


async def test_the_schedule_is_created_once(client, settings):
    with contextlib.suppress(Exception):  # a worker process of an earlier test (worker.py ensures it) made it
        await client.get_schedule_handle(SCHEDULE_ID).delete()
    try:
        assert await ensure_notification_schedule(settings, client) is True
        assert await ensure_notification_schedule(settings, client) is False
        described = await client.get_schedule_handle(SCHEDULE_ID).describe()
        assert described.schedule.spec.intervals[0].every == timedelta(minutes=1)
    finally:
        await client.get_schedule_handle(SCHEDULE_ID).delete()


async def test_smtp_down_then_up_sends_once(pool, settings, prefix):
    own = await owner(pool, f"{prefix}-down@example.com")
    account = f"{prefix}-down"
    await waiting_account(pool, account, own)
    async with pool.acquire() as conn:
        await notify_reply(conn, settings.public_url, account, "ep1", own, "jo@customer.example", "Re: hi", "Yes",
                           inbound_message_id="<d1@customer>")
    port = free_port()
    acts = NotifyActivities(pool, active(settings, port))
    assert (await acts.dispatch_notifications()).retry >= 1  # nothing listens yet
    row = await pool.fetchrow("SELECT status, error, attempts FROM owner_notifications WHERE account_id = $1", account)
    assert row["status"] == "pending" and row["error"].startswith("smtp:")
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        await acts.dispatch_notifications()
        await acts.dispatch_notifications()
    finally:
        controller.stop()
    assert len(sink.to(own)) == 1
    assert await pool.fetchval("SELECT status FROM owner_notifications WHERE account_id = $1", account) == "sent"
