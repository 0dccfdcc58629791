"""Exactly once across a crash: the worker process is SIGKILLed after the provider has the message and
before the send is recorded, then restarted. The retry must not send a second message.

SMTP has no idempotency key, so email is at most once: the retry finds the claim still `sending`, marks
the message `uncertain` for ops and does not resend. The SMS provider deduplicates on our
Idempotency-Key, so the retry resends the same request and gets the first message back: one SMS, recorded.
"""

from __future__ import annotations

import asyncio
import email
import threading
from datetime import timedelta
from email import policy

from aiosmtpd.controller import Controller

from dormant.processes import free_port
from tests.support.crm_fixtures import add_account
from tests.support.fake_sms import FakeSmsProvider
from tests.support.lifecycle_helpers import approve, start_account, wait_for_stage
from tests.support.worker_process import sigkill, worker_env, worker_process


class HoldingSmtpSink:
    """Captures each message, then holds the SMTP reply until released: the sender is mid-send."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.received = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        self.received.set()
        await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 60)
        return "250 OK"


def crash_settings(settings):
    """A short send timeout so Temporal retries soon after the crash; no follow-up during the test."""
    return settings.model_copy(update={"delivery_timeout": timedelta(seconds=3),
                                       "follow_up_after": timedelta(minutes=10)})


async def approve_and_wait_for_provider(client, settings, account_id, received) -> object:
    handle = await start_account(client, settings, account_id)
    await wait_for_stage(handle, "awaiting_review")
    await approve(handle)
    assert await received(), "the provider never got the message"
    return handle


async def test_smtp_send_interrupted_by_a_worker_kill_is_not_repeated(client, pool, settings, prefix, tmp_path):
    account_id = f"{prefix}-kill-smtp"
    await add_account(pool, account_id, contact_email=f"{prefix}@example.com")
    sink = HoldingSmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    active = crash_settings(settings)
    env = worker_env(active, DORMANT_DELIVERY="smtp", DORMANT_SMTP_HOST="127.0.0.1",
                     DORMANT_SMTP_PORT=str(controller.port))
    log = tmp_path / "worker.log"
    try:
        with worker_process(env, log) as first:
            handle = await approve_and_wait_for_provider(
                client, active, account_id, lambda: asyncio.to_thread(sink.received.wait, 30))
            sigkill(first, log)  # the server has the message; the send was never recorded
        sink.release.set()
        with worker_process(env, log):
            state = await wait_for_stage(handle, "sent", timeout=60)
            await handle.terminate("test done")
    finally:
        sink.release.set()
        controller.stop()
    assert len(sink.messages) == 1
    row = await pool.fetchrow("SELECT status, error FROM outbox WHERE account_id = $1", account_id)
    assert row["status"] == "uncertain" and "crashed" in row["error"]
    assert state.sent_message_ids == [sink.messages[0]["Message-ID"]]


async def test_sms_send_interrupted_by_a_worker_kill_is_completed_once(client, pool, settings, prefix, tmp_path):
    account_id = f"{prefix}-kill-sms"
    await add_account(pool, account_id, preferred_channel="sms", contact_phone="+15550002222")
    active = crash_settings(settings)
    log = tmp_path / "worker.log"
    async with FakeSmsProvider(hold=True) as provider:
        update = provider.settings_update()
        env = worker_env(active, DORMANT_DELIVERY="sms", DORMANT_SMS_BASE_URL=update["sms_base_url"],
                         DORMANT_SMS_ACCOUNT_SID=update["sms_account_sid"],
                         DORMANT_SMS_AUTH_TOKEN=update["sms_auth_token"].get_secret_value(),
                         DORMANT_SMS_FROM=update["sms_from"])

        async def received() -> bool:
            await asyncio.wait_for(provider.received.wait(), 30)
            return True

        with worker_process(env, log) as first:
            handle = await approve_and_wait_for_provider(client, active, account_id, received)
            sigkill(first, log)
        provider.hold = False
        provider.release.set()
        with worker_process(env, log):
            await wait_for_stage(handle, "sent", timeout=60)
            await handle.terminate("test done")
    assert len(provider.requests) == 2 and len({r["key"] for r in provider.requests}) == 1
    assert len(provider.messages) == 1
    row = await pool.fetchrow("SELECT status, provider_id FROM outbox WHERE account_id = $1", account_id)
    assert (row["status"], row["provider_id"]) == ("sent", provider.messages[0]["sid"])
