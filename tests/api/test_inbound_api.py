"""Inbound mail through POST /v1/inbound/email, against the real PostgreSQL and Temporal dev server.

Each test sends the first message of a real episode (outbox delivery), then posts what a mailbox would
receive: a Gmail-style reply stops the follow-up, an Outlook out-of-office moves it past the return date,
a Postfix 5.1.1 report suppresses the address and a 4.x.x does not (until the soft-bounce limit), an
"unsubscribe" reply opts the address out, an unmatched message is kept and listed for admins only.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, timedelta

from reactivation.vocabulary import InboundClass
from tests.support.api import api_client, bearer
from tests.support.crm_fixtures import add_account
from tests.support.lifecycle_helpers import OWNER, review_then_approve, running_worker, wait_for_stage

RFC822 = {"Content-Type": "message/rfc822"}


def gmail_reply(to_message_id: str, sender: str, body: str = "Thanks Anna, happy to talk next week.") -> bytes:
    return (f"From: Pat Doe <{sender}>\r\nTo: accounts@dormant-outreach.example\r\n"
            f"Subject: Re: Your rollout\r\nMessage-ID: <CAF{abs(hash(body + sender))}@mail.gmail.com>\r\n"
            f"In-Reply-To: {to_message_id}\r\nReferences: {to_message_id}\r\n"
            "Content-Type: text/plain; charset=UTF-8\r\n\r\n"
            f"{body}\r\n\r\nOn Tue, 1 Dec 2026 at 09:00, Anna <accounts@dormant-outreach.example> wrote:\r\n"
            "> Hello Pat\r\n> To stop these emails: unsubscribe\r\n").encode()


def out_of_office(to_message_id: str, sender: str, back: date) -> bytes:
    return (f"From: Pat Doe <{sender}>\r\nTo: accounts@dormant-outreach.example\r\n"
            f"Subject: Automatic reply: Your rollout\r\nMessage-ID: <ooo-{back}-{sender}>\r\n"
            f"In-Reply-To: {to_message_id}\r\nAuto-Submitted: auto-replied\r\nX-Auto-Response-Suppress: All\r\n"
            "Content-Type: text/plain; charset=UTF-8\r\n\r\n"
            f"I am out of the office and will be back on {back:%d %B %Y}. For urgent matters call the desk.\r\n"
            ).encode()


def dsn(to_message_id: str, recipient: str, status: str, serial: str = "1") -> bytes:
    return (f"From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\r\nTo: accounts@dormant-outreach.example\r\n"
            f"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-{serial}-{status}-{recipient}>\r\n"
            "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
            "--B\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you that your message could not\r\n"
            "be delivered to one or more recipients.\r\n\r\n"
            "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n"
            f"Final-Recipient: rfc822; {recipient}\r\nOriginal-Recipient: rfc822;{recipient}\r\nAction: failed\r\n"
            f"Status: {status}\r\nDiagnostic-Code: smtp; 550 {status} <{recipient}>: Recipient address rejected\r\n\r\n"
            "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
            f"From: accounts@dormant-outreach.example\r\nTo: {recipient}\r\nSubject: Your rollout\r\n"
            f"Message-ID: {to_message_id}\r\n\r\n--B--\r\n").encode()


async def sent_first(pool, client, settings, account_id: str, contact: str):
    """An episode whose first email went out; the follow-up waits (30 s here)."""
    await add_account(pool, account_id, contact_email=contact, owner_email=OWNER)
    handle = await review_then_approve(client, settings, account_id)
    await wait_for_stage(handle, "sent")
    message_id = await pool.fetchval("SELECT message_id FROM outbox WHERE account_id = $1 AND kind = 'first'",
                                     account_id)
    return handle, message_id


def waiting(settings):
    return settings.model_copy(update={"follow_up_after": timedelta(seconds=30)})


async def kinds_sent(pool, account_id: str) -> list[str]:
    return [r["kind"] for r in await pool.fetch("SELECT kind FROM outbox WHERE account_id = $1 ORDER BY created_at",
                                                account_id)]


async def test_a_gmail_reply_stops_the_follow_up_and_is_recorded(client, pool, settings, prefix, tokens):
    settings = waiting(settings)
    account_id, contact = f"{prefix}-reply", f"{prefix}-pat@example.com"
    async with running_worker(client, pool, settings), api_client(settings) as http:
        handle, message_id = await sent_first(pool, client, settings, account_id, contact)
        answer = await http.post("/v1/inbound/email", content=gmail_reply(message_id, contact),
                                 headers={**RFC822, **bearer(tokens["admin"])})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert (body["kind"], body["account_id"], body["matched_by"], body["event"], body["delivered_to_workflow"]) \
            == (InboundClass.human_reply, account_id, "message_id", "reply", True)
        state = await wait_for_stage(handle, "closed", "suppressed")
        again = await http.post("/v1/inbound/email", content=gmail_reply(message_id, contact),
                                headers={**RFC822, **bearer(tokens["admin"])})
        assert again.json()["duplicate"] is True and again.json()["inbound_id"] == body["inbound_id"]
        thread = await http.get(f"/v1/accounts/{account_id}/inbound", headers=bearer(tokens["admin"]))
    assert state.outcome == "responded"
    await asyncio.sleep(1)
    assert await kinds_sent(pool, account_id) == ["first"]  # the follow-up never went
    assert [m["new_text"].strip() for m in thread.json()] == ["Thanks Anna, happy to talk next week."]
    ledger = await pool.fetch("SELECT detail FROM measurement_events WHERE account_id = $1 AND type = 'reply_received'",
                              account_id)
    assert len(ledger) == 1 and ledger[0]["detail"]["class"] == "human_reply"
    assert ledger[0]["detail"]["matched_by"] == "message_id"
    told = await pool.fetch("SELECT kind, recipient, body FROM owner_notifications WHERE account_id = $1", account_id)
    assert [(r["kind"], r["recipient"]) for r in told] == [("reply", OWNER)]  # once, though posted twice
    assert "happy to talk next week" in told[0]["body"]


async def test_an_out_of_office_moves_the_follow_up_past_the_return_date(client, pool, settings, prefix, tokens):
    settings = waiting(settings)
    account_id, contact = f"{prefix}-ooo", f"{prefix}-pat@example.com"
    back = date.today() + timedelta(days=10)
    async with running_worker(client, pool, settings), api_client(settings) as http:
        handle, message_id = await sent_first(pool, client, settings, account_id, contact)
        answer = await http.post("/v1/inbound/email", content=out_of_office(message_id, contact, back),
                                 headers={**RFC822, **bearer(tokens["admin"])})
        assert answer.json()["kind"] == InboundClass.auto_reply and answer.json()["event"] == "auto_reply"
        state = await wait_for_stage(handle, "sent")
        for _ in range(50):
            state = await handle.query("review_state")
            if "waits until" in (state.get("notice") if isinstance(state, dict) else state.notice or ""):
                break
            await asyncio.sleep(0.2)
    notice = state["notice"] if isinstance(state, dict) else state.notice
    assert f"Out of office until {back:%Y-%m-%d}" in notice and f"{back + timedelta(days=1):%Y-%m-%d}" in notice
    assert await kinds_sent(pool, account_id) == ["first"]


async def test_a_hard_bounce_suppresses_and_a_soft_one_does_not_until_the_limit(client, pool, settings, prefix,
                                                                                tokens):
    settings = waiting(settings)
    hard, soft = f"{prefix}-hard", f"{prefix}-soft"
    async with running_worker(client, pool, settings), api_client(settings) as http:
        _, soft_id = await sent_first(pool, client, settings, soft, f"{prefix}-full@example.com")
        for n in range(settings.soft_bounce_limit):
            answer = await http.post("/v1/inbound/email", headers={**RFC822, **bearer(tokens["admin"])},
                                     content=dsn(soft_id, f"{prefix}-full@example.com", "4.2.2", str(n)))
            assert answer.json()["kind"] == InboundClass.soft_bounce
            suppressed = await pool.fetchval("SELECT reason FROM suppressed_addresses WHERE address = $1",
                                             f"{prefix}-full@example.com")
            assert (suppressed is None) == (n < settings.soft_bounce_limit - 1), n
        handle, hard_id = await sent_first(pool, client, settings, hard, f"{prefix}-gone@example.com")
        answer = await http.post("/v1/inbound/email", content=dsn(hard_id, f"{prefix}-gone@example.com", "5.1.1"),
                                 headers={**RFC822, **bearer(tokens["admin"])})
        assert (answer.json()["kind"], answer.json()["matched_by"]) == (InboundClass.hard_bounce, "message_id")
        state = await wait_for_stage(handle, "closed", "suppressed")
    assert state.outcome == "suppressed"
    assert await pool.fetchval("SELECT reason FROM suppressed_addresses WHERE address = $1",
                               f"{prefix}-gone@example.com") == "bounce"


async def test_an_unsubscribe_reply_opts_the_address_out(client, pool, settings, prefix, tokens):
    settings = waiting(settings)
    account_id, contact = f"{prefix}-stop", f"{prefix}-pat@example.com"
    async with running_worker(client, pool, settings), api_client(settings) as http:
        handle, message_id = await sent_first(pool, client, settings, account_id, contact)
        answer = await http.post("/v1/inbound/email", content=gmail_reply(message_id, contact, "Unsubscribe"),
                                 headers={**RFC822, **bearer(tokens["admin"])})
        assert answer.json()["kind"] == InboundClass.unsubscribe
        state = await wait_for_stage(handle, "closed", "suppressed")
    assert state.outcome == "opted_out"
    assert await pool.fetchval("SELECT reason FROM suppressed_addresses WHERE address = $1", contact) == "unsubscribe"


async def test_unmatched_mail_is_kept_and_listed_for_admins_only(pool, settings, prefix, tokens):
    stranger = f"{prefix}-nobody@example.org"
    async with api_client(settings) as http:
        answer = await http.post("/v1/inbound/email", content=gmail_reply("<not-ours@x>", stranger),
                                 headers={**RFC822, **bearer(tokens["admin"])})
        assert answer.status_code == 200 and answer.json()["account_id"] is None
        listed = await http.get("/v1/inbound/unmatched", headers=bearer(tokens["admin"]))
        owner = await http.get("/v1/inbound/unmatched", headers=bearer(tokens["owner"]))
        anonymous = await http.post("/v1/inbound/email", content=gmail_reply("<x@y>", stranger), headers=RFC822)
        by_owner = await http.post("/v1/inbound/email", content=gmail_reply("<x@y>", stranger),
                                   headers={**RFC822, **bearer(tokens["owner"])})
        basic = await http.post("/v1/inbound/email", content=gmail_reply("<x@y>", stranger + "x"), headers=RFC822,
                                auth=("postmark", tokens["admin"]))
        basic_owner = await http.post("/v1/inbound/email", content=gmail_reply("<x@y>", stranger), headers=RFC822,
                                      auth=("postmark", tokens["owner"]))
        garbage = await http.post("/v1/inbound/email", content=gmail_reply("<x@y>", stranger),
                                  headers={**RFC822, "Authorization": "Basic ²²²".encode()})
    assert stranger in [m["from_address"] for m in listed.json()]
    assert (owner.status_code, anonymous.status_code, by_owner.status_code) == (403, 401, 401)
    assert (basic.status_code, basic_owner.status_code, garbage.status_code) == (200, 401, 401)


async def test_provider_formats_and_bad_input(pool, settings, prefix, tokens):
    sender = f"{prefix}-pm@example.org"
    postmark = {"From": f"Pat <{sender}>", "To": "accounts@dormant-outreach.example", "Subject": "Re: hello",
                "TextBody": "Sounds good, call me.", "Headers": [
                    {"Name": "Message-ID", "Value": f"<{prefix}-pm@mail.example.org>"},
                    {"Name": "X-Evil", "Value": "a\r\nBcc: x@y"}]}
    raw = gmail_reply("<x@y>", f"{prefix}-sg@example.org", "Yes please, send the review.")
    admin = bearer(tokens["admin"])
    async with api_client(settings) as http:
        pm = await http.post("/v1/inbound/email", json=postmark, headers=admin)
        sg = await http.post("/v1/inbound/email", files={"email": (None, raw)}, data={"to": "x"}, headers=admin)
        missing = await http.post("/v1/inbound/email", data={"text": "hi"}, headers=admin)
        weird = await http.post("/v1/inbound/email", content=b"\x00\xff" * 1000 + "\u0416".encode() * 10,
                                headers={**RFC822, **admin})
        wrong_type = await http.post("/v1/inbound/email", content=b"x", headers={"Content-Type": "image/png", **admin})
        not_json = await http.post("/v1/inbound/email", content=b"{", headers={"Content-Type": "application/json",
                                                                               **admin})
    assert pm.status_code == 200 and pm.json()["kind"] == InboundClass.human_reply, pm.text
    assert sg.status_code == 200 and sg.json()["kind"] == InboundClass.human_reply, sg.text
    assert missing.status_code == 422 and missing.json()["detail"][0]["field"] == "email"
    assert weird.status_code == 200 and weird.json()["account_id"] is None
    assert wrong_type.status_code == 415 and not_json.status_code == 422
    rows = await pool.fetch("SELECT from_address, source FROM inbound_messages WHERE from_address LIKE $1",
                            f"{prefix}-%")
    assert {(r["from_address"], r["source"]) for r in rows} == {(sender, "postmark"),
                                                              (f"{prefix}-sg@example.org", "sendgrid")}


async def test_the_report_counts_replies_by_class_and_the_reply_rate(pool, prefix):
    from datetime import datetime

    from db.report_scope import Scope
    from db.reports import replies

    owner, now = f"{prefix}-o@test.dormant", datetime.now(UTC)
    rows = [("a1", "sent", None), ("a2", "sent", None), ("a3", "sent", None), ("a4", "sent", None),
            ("a1", "reply_received", "human_reply"), ("a1", "reply_received", "human_reply"),
            ("a2", "reply_received", "auto_reply"), ("a3", "reply_received", "soft_bounce")]
    for n, (account, kind, klass) in enumerate(rows):
        await pool.execute(
            """INSERT INTO measurement_events (event_id, at, type, account_id, workflow_id, episode, owner_email, detail)
               VALUES ($1, $2, $3, $4, 'w', 'e', $5, $6)""", f"{prefix}-{n}", now, kind, f"{prefix}-{account}", owner,
            {"class": klass} if klass else {})
    async with pool.acquire() as conn:
        report = await replies(conn, Scope(owner_email=owner))
    assert report == {"by_class": {"auto_reply": 1, "human_reply": 2, "soft_bounce": 1}, "accounts_sent": 4,
                      "accounts_replied": 1, "reply_rate": 0.25}


async def test_the_review_page_shows_the_reply_as_text_to_its_owner_only(client, pool, settings, prefix,
                                                                       tokens):
    from tests.api.test_review_page import sign_in

    settings = waiting(settings)
    account_id, contact = f"{prefix}-page", f"{prefix}-pat@example.com"
    hostile = "<script>alert(1)</script> Ja, gerne — давайте созвонимся 来週"
    await add_account(pool, account_id, contact_email=contact, owner_email=f"{prefix}-owner@test.dormant")
    await pool.execute("INSERT INTO outbox (idempotency_key, message_id, account_id, workflow_id, kind, channel, "
                       "to_address, from_address, body, delivery) VALUES ($1, $2, $3, 'w', 'first', 'email', $4, "
                       "'a@x', 'hi', 'outbox')", f"{prefix}-k", f"<{prefix}@x>", account_id, contact)
    async with api_client(settings) as http:
        answer = await http.post("/v1/inbound/email", content=gmail_reply(f"<{prefix}@x>", contact, hostile),
                                 headers={**RFC822, **bearer(tokens["admin"])})
        assert answer.json()["account_id"] == account_id
        await sign_in(http, tokens["owner"])
        mine = await http.get(f"/review/accounts/{account_id}")
    async with api_client(settings) as http:
        await sign_in(http, tokens["other"])
        theirs = await http.get(f"/review/accounts/{account_id}")
    assert mine.status_code == 200 and 'id="replies"' in mine.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Ja, gerne — давайте созвонимся 来週" in mine.text
    assert "<script>alert(1)" not in mine.text
    assert theirs.status_code == 404 and "давайте" not in theirs.text


def test_auto_replies_are_kept_from_the_draining_v1_workflow_by_its_type_name():
    """The v1 owner task ends on any event, so an auto_reply is signalled only to the current type."""
    from temporalio import workflow

    from api.crm_signal import NEWER_THAN_V1, WORKFLOW_TYPE
    from workflows.dormant_account import DormantAccountWorkflow
    from workflows.legacy.dormant_account_v1 import DormantAccountWorkflowV1

    assert workflow._Definition.must_from_class(DormantAccountWorkflow).name == WORKFLOW_TYPE
    assert workflow._Definition.must_from_class(DormantAccountWorkflowV1).name != WORKFLOW_TYPE
    assert "auto_reply" in NEWER_THAN_V1



def test_a_postmark_header_the_email_parser_trips_on_is_dropped_not_a_server_error():
    """Found by the schema fuzzer: this To made the email package raise IndexError (a 500)."""
    from api.routes.inbound import postmark_to_raw

    raw = postmark_to_raw({"Subject": "N\u00e5", "From": "Q\u0003\u00cdq", "To": "\udaff\uddb7\b\u008d@"})
    assert b"Subject:" in raw and b"\nTo:" not in raw
