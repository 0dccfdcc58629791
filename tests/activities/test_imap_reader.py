"""The IMAP reader against a real Dovecot (tests/support/dovecot.py) and the real PostgreSQL cursor store.

Each test reads its own folder, whose cursor key is unique, so tests never see each other's mail.
"""

from __future__ import annotations

import asyncio
import imaplib
import logging
import ssl
import time
import uuid
from typing import TYPE_CHECKING

import pytest

from activities.imap_reader import (
    HandlerFailed,
    ImapError,
    MailboxUrl,
    parse_imap_url,
    poll_once,
    run_mailbox,
)
from db.mailbox_cursor import PgCursorStore

if TYPE_CHECKING:
    from tests.support.dovecot import Mailbox

pytest_plugins = ["tests.support.dovecot"]  # the `dovecot` and `mailbox` fixtures


def message(subject: str) -> bytes:
    return (f"From: Ana <ana@customer.example>\r\nTo: accounts@dormant-outreach.example\r\n"
            f"Subject: {subject}\r\nMessage-ID: <{uuid.uuid4().hex}@customer.example>\r\n\r\n"
            f"Body of {subject}.\r\n").encode()


class Inbox:
    """A handler that records what it was handed, optionally failing on chosen subjects."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.raws: list[bytes] = []
        self.fail_on = fail_on
        self.attempts = 0

    async def __call__(self, raw: bytes) -> None:
        if self.fail_on and f"Subject: {self.fail_on}\r\n".encode() in raw:
            self.attempts += 1
            raise RuntimeError("handler crashed")
        self.raws.append(raw)


def store(pool, box: Mailbox) -> PgCursorStore:
    """A new store object each call: what a restarted reader would create."""
    return PgCursorStore(pool, parse_imap_url(box.url).key)


async def wait_until(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_messages_are_handed_over_once_in_order_and_a_restart_does_not_reread(pool, mailbox):
    sent = [message(f"m{i}") for i in range(3)]
    for raw in sent:
        mailbox.append(raw)
    inbox = Inbox()
    assert await poll_once(mailbox.url, store(pool, mailbox), inbox) == 3
    assert inbox.raws == sent  # byte for byte, oldest first
    uidvalidity, last_uid = await store(pool, mailbox).load()
    assert uidvalidity is not None and last_uid == 3

    assert await poll_once(mailbox.url, store(pool, mailbox), inbox) == 0
    assert inbox.raws == sent


async def test_mail_appended_while_stopped_is_read_after_restart(pool, mailbox):
    mailbox.append(message("before"))
    inbox = Inbox()
    await poll_once(mailbox.url, store(pool, mailbox), inbox)
    later = message("while stopped")
    mailbox.append(later)
    restarted = Inbox()
    assert await poll_once(mailbox.url, store(pool, mailbox), restarted) == 1
    assert restarted.raws == [later]


async def test_handler_crash_redelivers_that_message_and_skips_none(pool, mailbox):
    sent = [message("first"), message("crashes"), message("third")]
    for raw in sent:
        mailbox.append(raw)
    crashing = Inbox(fail_on="crashes")
    with pytest.raises(HandlerFailed) as failed:
        await poll_once(mailbox.url, store(pool, mailbox), crashing)
    assert failed.value.uid == 2 and isinstance(failed.value.__cause__, RuntimeError)
    assert crashing.raws == [sent[0]]
    assert (await store(pool, mailbox).load())[1] == 1  # the cursor stays before the crashed message

    healthy = Inbox()
    assert await poll_once(mailbox.url, store(pool, mailbox), healthy) == 2
    assert healthy.raws == sent[1:]


class CrashAfterHandle:
    """A cursor whose next save fails: the process 'dies' after the handler ran, before the cursor moved."""

    def __init__(self, inner: PgCursorStore) -> None:
        self.inner = inner
        self.crash = True

    async def load(self) -> tuple[int | None, int]:
        return await self.inner.load()

    async def save(self, uidvalidity: int, last_uid: int) -> None:
        if self.crash:
            self.crash = False
            raise ConnectionError("database went away")
        await self.inner.save(uidvalidity, last_uid)


async def test_crash_between_handler_and_cursor_write_redelivers_only_that_message(pool, mailbox):
    sent = [message("one"), message("two")]
    for raw in sent:
        mailbox.append(raw)
    inbox = Inbox()
    with pytest.raises(ConnectionError):
        await poll_once(mailbox.url, CrashAfterHandle(store(pool, mailbox)), inbox)
    assert inbox.raws == [sent[0]]
    assert await poll_once(mailbox.url, store(pool, mailbox), inbox) == 2
    assert inbox.raws == [sent[0], sent[0], sent[1]]  # at-least-once: one repeat, nothing skipped


async def test_two_mailboxes_keep_separate_cursors(pool, dovecot):
    first, second = dovecot.new_mailbox(), dovecot.new_mailbox()
    first.append(message("to first"))
    for subject in ("to second 1", "to second 2"):
        second.append(message(subject))
    assert store(pool, first).mailbox_key != store(pool, second).mailbox_key
    assert await poll_once(first.url, store(pool, first), Inbox()) == 1
    assert await poll_once(second.url, store(pool, second), Inbox()) == 2
    assert (await store(pool, first).load())[1] == 1 and (await store(pool, second).load())[1] == 2


async def test_uidvalidity_change_restarts_from_the_beginning(pool, mailbox, caplog):
    for subject in ("old1", "old2"):
        mailbox.append(message(subject))
    await poll_once(mailbox.url, store(pool, mailbox), Inbox())
    old_validity, _ = await store(pool, mailbox).load()

    mailbox.set_uidvalidity_change()
    fresh = message("new folder, UID 1")  # its UID (1) is below the stored cursor (2)
    mailbox.append(fresh)
    inbox = Inbox()
    with caplog.at_level(logging.WARNING, logger="activities.imap_reader"):
        assert await poll_once(mailbox.url, store(pool, mailbox), inbox) == 1
    assert inbox.raws == [fresh]
    new_validity, last_uid = await store(pool, mailbox).load()
    assert new_validity != old_validity and last_uid == 1
    assert "UIDVALIDITY changed" in caplog.text


async def test_no_new_mail_handles_nothing_despite_the_n_star_quirk(pool, mailbox, dovecot):
    for subject in ("a", "b"):
        mailbox.append(message(subject))
    assert await poll_once(mailbox.url, store(pool, mailbox), Inbox()) == 2

    # the quirk is real on this server: "3:*" matches UID 2, the newest message
    imap = imaplib.IMAP4("127.0.0.1", dovecot.port)
    try:
        imap.login(mailbox.username, mailbox.password)
        imap.select(f'"{mailbox.folder}"', readonly=True)
        assert imap.uid("SEARCH", "UID 3:*")[1] == [b"2"]
    finally:
        imap.logout()
    inbox = Inbox()
    assert await poll_once(mailbox.url, store(pool, mailbox), inbox) == 0
    assert inbox.raws == []


async def test_batch_limits_one_poll_and_the_rest_follows(pool, mailbox):
    sent = [message(f"b{i}") for i in range(5)]
    for raw in sent:
        mailbox.append(raw)
    inbox = Inbox()
    assert await poll_once(mailbox.url, store(pool, mailbox), inbox, batch=2) == 2
    assert await poll_once(mailbox.url, store(pool, mailbox), inbox, batch=2) == 2
    assert await poll_once(mailbox.url, store(pool, mailbox), inbox, batch=2) == 1
    assert inbox.raws == sent


async def test_poison_message_is_skipped_after_five_failures(pool, mailbox, caplog):
    sent = [message("ok1"), message("poison"), message("ok2")]
    for raw in sent:
        mailbox.append(raw)
    inbox = Inbox(fail_on="poison")
    stop = asyncio.Event()
    with caplog.at_level(logging.WARNING, logger="activities.imap_reader"):
        runner = asyncio.create_task(run_mailbox(mailbox.url, store(pool, mailbox), inbox, interval=0.01, stop=stop))
        await wait_until(lambda: len(inbox.raws) == 2)
        stop.set()
        await asyncio.wait_for(runner, 5)
    assert inbox.raws == [sent[0], sent[2]]
    assert inbox.attempts == 5
    assert (await store(pool, mailbox).load())[1] == 3
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "UID 2" in errors[0].getMessage() and "skipping" in errors[0].getMessage()


async def test_run_mailbox_reads_new_mail_and_stops_promptly(pool, mailbox):
    inbox = Inbox()
    stop = asyncio.Event()
    runner = asyncio.create_task(run_mailbox(mailbox.url, store(pool, mailbox), inbox, interval=0.05, stop=stop))
    first, second = message("r1"), message("r2")
    mailbox.append(first)
    await wait_until(lambda: len(inbox.raws) == 1)
    mailbox.append(second)
    await wait_until(lambda: len(inbox.raws) == 2)
    assert inbox.raws == [first, second]

    started = time.monotonic()
    stop.set()
    await asyncio.wait_for(runner, 5)
    assert time.monotonic() - started < 1


async def test_stop_interrupts_a_long_interval_and_a_stuck_handler(pool, mailbox):
    """A handler stuck on one message is cancelled at stop; that message is offered again next start."""
    stuck = message("stuck")
    mailbox.append(stuck)
    entered = asyncio.Event()

    async def hang(raw: bytes) -> None:
        entered.set()
        await asyncio.Event().wait()

    stop = asyncio.Event()
    runner = asyncio.create_task(run_mailbox(mailbox.url, store(pool, mailbox), hang, interval=3600, stop=stop))
    await asyncio.wait_for(entered.wait(), 10)
    started = time.monotonic()
    stop.set()
    await asyncio.wait_for(runner, 5)
    assert time.monotonic() - started < 1

    inbox = Inbox()
    assert await poll_once(mailbox.url, store(pool, mailbox), inbox) == 1
    assert inbox.raws == [stuck]


async def test_network_errors_are_logged_without_the_password_and_never_end_the_loop(pool, caplog):
    from dormant.processes import free_port

    url = f"imap://someone:s3cret-pw@127.0.0.1:{free_port()}/INBOX"  # nothing listens there
    stop = asyncio.Event()
    with caplog.at_level(logging.INFO, logger="activities.imap_reader"):
        runner = asyncio.create_task(run_mailbox(url, PgCursorStore(pool, f"closed/{uuid.uuid4().hex}"), Inbox(),
                                                 interval=0.01, stop=stop))
        await wait_until(lambda: sum("poll failed" in r.getMessage() for r in caplog.records) >= 3)
        assert not runner.done()
        stop.set()
        await asyncio.wait_for(runner, 5)
    assert "ConnectionRefusedError" in caplog.text and "someone:***@127.0.0.1" in caplog.text
    assert "s3cret-pw" not in caplog.text


async def test_wrong_password_is_an_imap_error_that_does_not_repeat_it(pool, mailbox):
    url = mailbox.url.replace(f":{mailbox.password}@", ":Wrong-Secret-42@")
    with pytest.raises(ImapError) as refused:
        await poll_once(url, store(pool, mailbox), Inbox())
    assert "login refused" in str(refused.value) and "Wrong-Secret-42" not in str(refused.value)


async def test_imaps_and_starttls_with_a_percent_encoded_password(pool, dovecot):
    box = dovecot.awkward  # user awk@ward.example, password "p@ss/w rd%?#x", its own INBOX
    first, second = message("over imaps"), message("over starttls")
    box.append(first)
    imaps = parse_imap_url(box.imaps_url)
    assert (imaps.username, imaps.password, imaps.folder) == (box.username, box.password, "INBOX")
    cursor = PgCursorStore(pool, f"{imaps.key}/{uuid.uuid4().hex}")  # the INBOX outlives one test run
    await cursor.save(*(await _current(box, dovecot)))
    box.append(second)

    inbox = Inbox()
    with pytest.raises(ssl.SSLCertVerificationError):  # verification is on: the test CA is needed
        await poll_once(imaps, cursor, inbox)
    assert await poll_once(imaps, cursor, inbox, tls_context=dovecot.tls_context()) == 1
    box.append(third := message("third"))
    assert await poll_once(box.starttls_url, cursor, inbox, tls_context=dovecot.tls_context()) == 1
    assert inbox.raws == [second, third]


async def _current(box: Mailbox, dovecot) -> tuple[int, int]:
    """(UIDVALIDITY, newest UID) of the box's folder now, to start a cursor at the present."""
    imap = imaplib.IMAP4("127.0.0.1", dovecot.port)
    try:
        imap.login(f'"{box.username}"', box.password)
        imap.select(f'"{box.folder}"', readonly=True)
        validity = int(imap.response("UIDVALIDITY")[1][0])
        uids = imap.uid("SEARCH", "ALL")[1][0].split()
        return validity, int(uids[-1]) if uids else 0
    finally:
        imap.logout()


def test_url_parsing_decodes_and_defaults():
    url = parse_imap_url("imaps://ops%40acme.example:p%40ss%3Aw%2Frd@imap.acme.example/Sales%20Replies")
    assert url == MailboxUrl("imaps", "imap.acme.example", 993, "ops@acme.example", "p@ss:w/rd", "Sales Replies")
    assert url.key == "imap.acme.example/ops@acme.example/Sales Replies"
    assert "p@ss" not in repr(url) and "p@ss" not in str(url) and ":***@" in url.masked()
    plain = parse_imap_url("imap://u:p@localhost?starttls=1")
    assert (plain.port, plain.folder, plain.starttls) == (143, "INBOX", True)
    assert parse_imap_url("IMAP://u:p@h:1143/").port == 1143


@pytest.mark.parametrize(("url", "problem"), [
    ("https://u:p@host/INBOX", "scheme"),
    ("u:p@host/INBOX", "scheme"),
    ("imaps://u:p@/INBOX", "no host"),
    ("imaps://u:p@host:99999/INBOX", "port"),
    ("imaps://u:p@host:abc/INBOX", "port"),
    ("imaps://u:p@host:0/INBOX", "port"),
    ("imaps://:secretpw@host/INBOX", "no username"),
    ("imaps://u@host/INBOX", "no password"),
    ("imaps://u:@host/INBOX", "no password"),
    ("imaps://u:secret#pw@host/INBOX", "fragment"),  # '#' ends the host part: it must be %23
    ("imaps://u:secretpw@host/INBOX#x", "fragment"),
    ("imaps://u:secretpw@host/INBOX?starttls=1", "starttls=1 is for imap://"),
    ("imap://u:secretpw@host/INBOX?starttls=maybe", "starttls must be"),
    ("imap://u:secretpw@host/INBOX?tls=1", "unknown parameter 'tls'"),
    ("imap://u:secretpw@host/Entw%C3%BCrfe", "folder"),
    ("imap://u:secretpw@[::1/INBOX", "cannot be parsed"),
])
def test_bad_urls_name_the_problem_and_not_the_password(url, problem):
    with pytest.raises(ValueError) as bad:
        parse_imap_url(url)
    assert problem in str(bad.value)
    assert "secret" not in str(bad.value)
