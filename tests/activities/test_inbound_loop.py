"""The whole reply loop over real servers: the first email goes out by SMTP (aiosmtpd), the customer's
Gmail-style reply lands in a real IMAP mailbox (Dovecot), `dormant mailbox`'s reader hands it to the
inbound pipeline, the follow-up never goes, and the owner's notification reaches their SMTP inbox.
An Outlook out-of-office read the same way moves the follow-up past the return date instead.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from activities.imap_reader import parse_imap_url, poll_once
from activities.notify import NotifyActivities
from api.inbound_service import receive_raw_email
from db.mailbox_cursor import PgCursorStore
from tests.activities.test_notify_delivery import smtp_inbox
from tests.api.test_inbound_api import gmail_reply, out_of_office
from tests.support.crm_fixtures import add_account
from tests.support.lifecycle_helpers import OWNER, review_then_approve, running_worker, wait_for_stage

pytest_plugins = ["tests.support.dovecot"]  # the `dovecot` and `mailbox` fixtures


def over_smtp(settings, port: int):
    return settings.model_copy(update={"delivery": "smtp", "smtp_host": "127.0.0.1", "smtp_port": port,
                                       "follow_up_after": timedelta(seconds=30), "digest_hour": 23})


async def read_mailbox(pool, client, settings, mailbox) -> int:
    url = parse_imap_url(mailbox.url)

    async def handle(raw: bytes) -> None:
        await receive_raw_email(pool, client, settings, raw, "imap")

    return await poll_once(url, PgCursorStore(pool, url.key), handle)


async def test_a_reply_read_from_imap_stops_the_follow_up_and_the_owner_hears_by_email(client, pool, settings,
                                                                                        prefix, mailbox):
    sink, smtp = smtp_inbox()
    settings = over_smtp(settings, smtp.port)
    account_id, contact = f"{prefix}-loop", f"{prefix}-pat@example.com"
    await add_account(pool, account_id, contact_email=contact, owner_email=OWNER, name="Northwind Clinics")
    try:
        async with running_worker(client, pool, settings):
            handle = await review_then_approve(client, settings, account_id)
            await wait_for_stage(handle, "sent")
            [first] = sink.to(contact)
            mailbox.append(gmail_reply(first["Message-ID"], contact, "Yes, let's talk on Thursday."))
            assert await read_mailbox(pool, client, settings, mailbox) == 1
            assert await read_mailbox(pool, client, settings, mailbox) == 0  # the cursor remembers
            state = await wait_for_stage(handle, "closed")
            await NotifyActivities(pool, settings).dispatch_notifications()
        await asyncio.sleep(1)
    finally:
        smtp.stop()
    assert state.outcome == "responded"
    assert len(sink.to(contact)) == 1  # no follow-up to someone who answered
    [told] = [m for m in sink.to(OWNER) if "Northwind" in m["Subject"] or account_id in m.get_content()]
    assert "Thursday" in told.get_content() and f"/review/accounts/{account_id}" in told.get_content()


async def test_an_out_of_office_read_from_imap_pauses_the_follow_up(client, pool, settings, prefix, mailbox):
    sink, smtp = smtp_inbox()
    settings = over_smtp(settings, smtp.port)
    account_id, contact = f"{prefix}-away", f"{prefix}-away@example.com"
    back = date.today() + timedelta(days=12)
    await add_account(pool, account_id, contact_email=contact, owner_email=OWNER)
    try:
        async with running_worker(client, pool, settings):
            handle = await review_then_approve(client, settings, account_id)
            await wait_for_stage(handle, "sent")
            [first] = sink.to(contact)
            mailbox.append(out_of_office(first["Message-ID"], contact, back))
            assert await read_mailbox(pool, client, settings, mailbox) == 1
            for _ in range(50):
                state = await handle.query("review_state")
                notice = state["notice"] if isinstance(state, dict) else state.notice
                if "waits until" in (notice or ""):
                    break
                await asyncio.sleep(0.2)
    finally:
        smtp.stop()
    assert f"the follow-up waits until {back + timedelta(days=1):%Y-%m-%d}" in notice
    assert len(sink.to(contact)) == 1
    kinds = await pool.fetch("SELECT kind FROM inbound_messages WHERE account_id = $1", account_id)
    assert [r["kind"] for r in kinds] == ["auto_reply"]
