"""Read new mail from an IMAP folder and hand each message, as raw RFC 5322 bytes, to a callback.

Delivery is at-least-once: the stored cursor (UIDVALIDITY, last UID) moves only after the callback
returned, so a crash in between re-delivers that one message and never skips one (the consumer
de-duplicates by Message-ID). The folder is opened read-only and bodies are fetched with BODY.PEEK[], so
the reader never changes flags a human reading the same mailbox relies on.

The stdlib `imaplib` is blocking; each call runs in a worker thread (`asyncio.to_thread`). The password
never reaches a log line or an exception: `MailboxUrl` hides it from repr and `masked()` is what is logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import logging
import re
import ssl
from collections.abc import Awaitable, Callable

from activities.imap_url import MailboxUrl, parse_imap_url
from db.mailbox_cursor import CursorStore

__all__ = ["HandlerFailed", "ImapError", "MailboxUrl", "parse_imap_url", "poll_once", "run_mailbox"]

log = logging.getLogger(__name__)

Handler = Callable[[bytes], Awaitable[None]]
TIMEOUT_S = 60.0  # one socket operation; a hung server must not hang the reader forever
MAX_FAILURES = 5  # handler failures of one UID before it is skipped as poison
MAX_BACKOFF_S = 300.0


class ImapError(RuntimeError):
    """The server refused something (login, SELECT, SEARCH); the message names the masked mailbox."""


class HandlerFailed(RuntimeError):
    """The callback raised for one message; the cursor stays before it so it is offered again."""

    def __init__(self, mailbox: str, uidvalidity: int, uid: int) -> None:
        super().__init__(f"{mailbox}: handler failed for UID {uid}")
        self.uidvalidity = uidvalidity
        self.uid = uid


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _open(mailbox: MailboxUrl, tls_context: ssl.SSLContext | None) -> imaplib.IMAP4:
    """Connect, secure, log in. Certificates are verified unless the caller passes its own context."""
    context = tls_context or ssl.create_default_context()
    conn: imaplib.IMAP4
    if mailbox.scheme == "imaps":
        conn = imaplib.IMAP4_SSL(mailbox.host, mailbox.port, ssl_context=context, timeout=TIMEOUT_S)
    else:
        conn = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=TIMEOUT_S)
    try:
        if mailbox.starttls:
            conn.starttls(ssl_context=context)
        _login(conn, mailbox)
    except BaseException:
        _abort(conn)
        raise
    return conn


def _login(conn: imaplib.IMAP4, mailbox: MailboxUrl) -> None:
    """LOGIN for ASCII credentials; AUTHENTICATE PLAIN (UTF-8) otherwise, which LOGIN cannot carry."""
    try:
        if (mailbox.username + mailbox.password).isascii():
            conn.login(_quote(mailbox.username), mailbox.password)
        else:
            secret = f"\0{mailbox.username}\0{mailbox.password}".encode()
            conn.authenticate("PLAIN", lambda _challenge: secret)
    except imaplib.IMAP4.error as err:  # the server's words, never our credentials
        raise ImapError(f"{mailbox.masked()}: login refused: {err}") from None


def _select(conn: imaplib.IMAP4, mailbox: MailboxUrl) -> int:
    """EXAMINE the folder (read-only: no flag changes) and return its UIDVALIDITY."""
    status, data = conn.select(_quote(mailbox.folder), readonly=True)
    if status != "OK":
        raise ImapError(f"{mailbox.masked()}: cannot open folder {mailbox.folder!r}: {_text(data)}")
    _, values = conn.response("UIDVALIDITY")
    if not values or values[0] is None:
        status, data = conn.status(_quote(mailbox.folder), "(UIDVALIDITY)")
        values = re.findall(rb"UIDVALIDITY (\d+)", data[0] or b"") if status == "OK" else []
    if not values:
        raise ImapError(f"{mailbox.masked()}: the server reported no UIDVALIDITY")
    return int(values[0])


def _new_uids(conn: imaplib.IMAP4, mailbox: MailboxUrl, last_uid: int, batch: int) -> list[int]:
    """UIDs above last_uid, oldest first. `N:*` always matches the newest message even when its UID is
    below N (RFC 3501: `*` is the largest UID), so that one is filtered out here."""
    status, data = conn.uid("SEARCH", f"UID {last_uid + 1}:*")
    if status != "OK":
        raise ImapError(f"{mailbox.masked()}: UID SEARCH failed: {_text(data)}")
    uids = sorted({int(u) for chunk in data if chunk for u in chunk.split()})
    return [uid for uid in uids if uid > last_uid][:batch]


def _fetch(conn: imaplib.IMAP4, mailbox: MailboxUrl, uid: int) -> bytes | None:
    """The raw message; None when it was expunged since the SEARCH."""
    status, data = conn.uid("FETCH", str(uid), "(BODY.PEEK[])")
    if status != "OK":
        raise ImapError(f"{mailbox.masked()}: UID FETCH {uid} failed: {_text(data)}")
    for item in data:
        if isinstance(item, tuple) and re.search(rb"\bUID %d\b" % uid, item[0]) and b"BODY[]" in item[0]:
            return item[1]
    return None


def _logout(conn: imaplib.IMAP4) -> None:
    with contextlib.suppress(Exception):  # the work is done; a rude server at LOGOUT changes nothing
        conn.logout()


def _abort(conn: imaplib.IMAP4) -> None:
    """Close the socket without LOGOUT; this also ends a read still blocked in a worker thread."""
    with contextlib.suppress(Exception):
        conn.shutdown()


def _text(data: list) -> str:
    return " ".join(d.decode(errors="replace") if isinstance(d, bytes) else str(d) for d in data or [])


# --- one poll ---


async def poll_once(url: MailboxUrl | str, cursor: CursorStore, handle: Handler, *, batch: int = 100,
                    tls_context: ssl.SSLContext | None = None) -> int:
    """Hand every message after the cursor (at most `batch`) to `handle`, oldest first; return how many.

    Raises HandlerFailed (cause attached) when `handle` raises: the cursor then stays just before that
    message, so it and everything after it is offered again next time.
    """
    mailbox = url if isinstance(url, MailboxUrl) else parse_imap_url(url)
    conn = await asyncio.to_thread(_open, mailbox, tls_context)
    try:
        handled = await _read_new(conn, mailbox, cursor, handle, batch)
    except HandlerFailed:
        await asyncio.to_thread(_logout, conn)  # the server is fine: say goodbye
        raise
    except BaseException:
        _abort(conn)  # a dead or hung server, or cancellation: LOGOUT could block for the timeout
        raise
    await asyncio.to_thread(_logout, conn)
    return handled


async def _read_new(conn: imaplib.IMAP4, mailbox: MailboxUrl, cursor: CursorStore, handle: Handler,
                    batch: int) -> int:
    uidvalidity = await asyncio.to_thread(_select, conn, mailbox)
    last_uid = await _start_uid(mailbox, cursor, uidvalidity)
    handled = 0
    for uid in await asyncio.to_thread(_new_uids, conn, mailbox, last_uid, batch):
        raw = await asyncio.to_thread(_fetch, conn, mailbox, uid)
        if raw is None:
            log.warning("%s: UID %d vanished before it was read (expunged); moving on", mailbox.masked(), uid)
        else:
            try:
                await handle(raw)
            except Exception as err:
                raise HandlerFailed(mailbox.masked(), uidvalidity, uid) from err
            handled += 1
        await cursor.save(uidvalidity, uid)  # only after handle(): a crash before here re-delivers
    return handled


async def _start_uid(mailbox: MailboxUrl, cursor: CursorStore, uidvalidity: int) -> int:
    """The last handled UID; 0 when the folder's UIDVALIDITY changed (its old UIDs mean nothing now)."""
    stored_validity, last_uid = await cursor.load()
    if stored_validity is None or stored_validity == uidvalidity:
        return last_uid
    log.warning("%s: UIDVALIDITY changed from %d to %d; reading the whole folder again "
                "(already handled messages are de-duplicated by Message-ID)",
                mailbox.masked(), stored_validity, uidvalidity)
    await cursor.save(uidvalidity, 0)
    return 0


# --- the loop ---


async def run_mailbox(url: str, cursor: CursorStore, handle: Handler, *, interval: float = 30.0,
                      stop: asyncio.Event, batch: int = 100, tls_context: ssl.SSLContext | None = None,
                      max_failures: int = MAX_FAILURES) -> None:
    """Poll every `interval` seconds until `stop` is set. Network, server and database errors are logged
    and retried with backoff; a failed handler is retried every interval, and a message whose handler
    failed `max_failures` times is skipped with an ERROR so one poison message cannot block the mailbox.
    A bad URL raises at once: that is configuration, not a transient error."""
    mailbox = parse_imap_url(url)
    failures: dict[tuple[int, int], int] = {}
    errors = 0
    log.info("reading %s every %gs", mailbox.masked(), interval)
    while not stop.is_set():
        try:
            handled = await _until_stopped(
                poll_once(mailbox, cursor, handle, batch=batch, tls_context=tls_context), stop)
        except HandlerFailed as failed:  # the server works: retry at the normal pace, no backoff
            errors = 0
            await _note_failure(mailbox, cursor, failed, failures, max_failures)
        except Exception as err:
            errors += 1
            log.warning("%s: poll failed (%s: %s); retrying in %gs", mailbox.masked(), type(err).__name__,
                        err, _delay(interval, errors))
        else:
            errors = 0
            if handled:
                log.info("%s: handed over %d new message(s)", mailbox.masked(), handled)
            if handled == batch:
                continue  # more is waiting: no pause
        await _sleep(stop, _delay(interval, errors))
    log.info("stopped reading %s", mailbox.masked())


async def _note_failure(mailbox: MailboxUrl, cursor: CursorStore, failed: HandlerFailed,
                        failures: dict[tuple[int, int], int], max_failures: int) -> None:
    """Count the failure; at `max_failures` move the cursor past the message (counts live in memory, so
    a restart gives a poison message another `max_failures` tries)."""
    key = (failed.uidvalidity, failed.uid)
    failures[key] = failures.get(key, 0) + 1
    if failures[key] < max_failures:
        log.warning("%s: handler failed for UID %d (attempt %d of %d); it will be offered again",
                    mailbox.masked(), failed.uid, failures[key], max_failures, exc_info=failed.__cause__)
        return
    log.error("%s: handler failed %d times for UID %d; skipping that message", mailbox.masked(),
              failures[key], failed.uid, exc_info=failed.__cause__)
    try:
        await cursor.save(failed.uidvalidity, failed.uid)
    except Exception as err:
        log.warning("%s: could not store the skip of UID %d (%s); will retry", mailbox.masked(), failed.uid, err)
        return
    del failures[key]


async def _until_stopped(poll: Awaitable[int], stop: asyncio.Event) -> int | None:
    """Run one poll, cancelling it when `stop` is set (at-least-once makes that safe); None if stopped."""
    task = asyncio.ensure_future(poll)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    return task.result() if not task.cancelled() else None


def _delay(interval: float, errors: int) -> float:
    """The interval while healthy; doubling per consecutive error, capped at 5 minutes (or the interval)."""
    if errors == 0:
        return interval
    return min(interval * 2 ** min(errors, 16), max(MAX_BACKOFF_S, interval))


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
