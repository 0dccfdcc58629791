"""SMTP delivery against a real SMTP server (aiosmtpd): headers, threading, recipients, exactly once,
and SMTP down then up (retried by Temporal, delivered once)."""

from __future__ import annotations

import asyncio
import email
from email import policy

import pytest
from aiosmtpd.controller import Controller

from dormant.processes import free_port
from reactivation.review_model import Decision
from reactivation.unsubscribe import UnsubscribeToken, verify
from tests.support.crm_fixtures import add_account
from tests.support.lifecycle_helpers import OWNER, review_then_approve, running_worker, start_account, wait_for_stage
from workflows.dormant_account import DormantAccountWorkflow


class Sink:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"


def smtp_settings(settings, port: int):
    return settings.model_copy(update={"delivery": "smtp", "smtp_host": "127.0.0.1", "smtp_port": port})


async def test_smtp_first_email_and_threaded_follow_up(client, pool, settings, prefix):
    account_id = f"{prefix}-smtp"
    await add_account(pool, account_id, contact_email=f"{prefix}@example.com")
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        active = smtp_settings(settings, controller.port)
        async with running_worker(client, pool, active):
            handle = await review_then_approve(client, active, account_id)
            await handle.result()
    finally:
        controller.stop()
    assert [rcpt for rcpt, _ in sink.messages] == [[f"{prefix}@example.com"]] * 2
    first, follow = (m for _, m in sink.messages)
    assert follow["In-Reply-To"] == first["Message-ID"] and follow["References"] == first["Message-ID"]
    assert follow["Subject"] == f"Re: {first['Subject']}"
    assert first["List-Unsubscribe"].startswith("<http") and first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/v1/unsubscribe/" in first.get_content()
    # the link unsubscribes the address the email went to, nothing else
    token = first["List-Unsubscribe"].strip("<>").rsplit("/", 1)[1]
    assert token in first.get_content()
    assert verify(token, active.unsubscribe_secret.get_secret_value()) == UnsubscribeToken(account_id,
                                                                                           f"{prefix}@example.com")
    statuses = [r["status"] for r in await pool.fetch("SELECT status FROM outbox WHERE account_id = $1", account_id)]
    assert statuses == ["sent", "sent"]


async def test_smtp_down_then_up_is_delivered_once(client, pool, settings, prefix):
    account_id = f"{prefix}-down"
    await add_account(pool, account_id, contact_email=f"{prefix}@example.com")
    port = free_port()
    sink = Sink()
    active = smtp_settings(settings, port).model_copy(update={"follow_up_after": settings.outcome_window * 10})
    async with running_worker(client, pool, active):
        handle = await review_then_approve(client, active, account_id)
        await asyncio.sleep(3)  # the first attempts fail: nothing listens yet
        assert await pool.fetchval("SELECT status FROM outbox WHERE account_id = $1", account_id) == "retry"
        controller = Controller(sink, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            await wait_for_stage(handle, "sent", timeout=30)
        finally:
            await handle.terminate("test done")
            controller.stop()
    assert len(sink.messages) == 1


@pytest.mark.parametrize("left_behind, sent, final", [("handing_off", 0, "uncertain"), ("sending", 1, "sent")])
async def test_a_crashed_send_is_resent_only_if_smtp_data_never_started(client, pool, settings, prefix,
                                                                       left_behind, sent, final):
    """A crash leaves the claim `sending` (before SMTP DATA: the server cannot have the message, so the retry
    sends it) or `handing_off` (inside DATA: it may have it, so the retry marks it `uncertain` and does not
    send again: at most once)."""
    from reactivation.delivery_model import idempotency_key

    account_id = f"{prefix}-crash"
    await add_account(pool, account_id, contact_email=f"{prefix}@example.com")
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        active = smtp_settings(settings, controller.port).model_copy(
            update={"follow_up_after": settings.outcome_window * 10})
        async with running_worker(client, pool, active):
            handle = await start_account(client, active, account_id)
            state = await wait_for_stage(handle, "awaiting_review")
            key = idempotency_key(handle.id, state.episode, "first")
            # What the crashed attempt left behind: the claim, with no record of the outcome.
            await pool.execute(
                """INSERT INTO outbox (idempotency_key, message_id, account_id, workflow_id, kind, channel,
                                       to_address, from_address, body, delivery, status)
                   VALUES ($1, '<x@y>', $2, $3, 'first', 'email', 'a@example.com', 'b@example.com', 'x',
                           'smtp', $4)""", key, account_id, handle.id, left_behind)
            await handle.execute_update(DormantAccountWorkflow.decide,
                                        Decision(action="approve", draft_version=1, decided_by=OWNER))
            await wait_for_stage(handle, "sent")
            await handle.terminate("test done")
    finally:
        controller.stop()
    assert len(sink.messages) == sent
    assert await pool.fetchval("SELECT status FROM outbox WHERE idempotency_key = $1", key) == final
