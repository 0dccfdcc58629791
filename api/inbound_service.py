"""One inbound message, from any door (HTTP, a provider's webhook, the mailbox reader), to its effects.

Parse and classify (reactivation.inbound_mail, deterministic), find the account (db.inbound), then in one
transaction store the message with its verdict (once: the same message read twice is a no-op) and what it
means for the CRM store: a human reply or an auto-reply becomes a CRM event; a hard bounce suppresses the
failed address; soft bounces suppress after DORMANT_SOFT_BOUNCE_LIMIT of them; an unsubscribe request
suppresses the sender's address and opts the account out. After the commit, the account's workflow gets
the event as a signal (a missing workflow is fine: the event is stored, delivered=false) and the owner is
told of a human reply. An unmatched message is stored and listed for admins, never dropped; it still
suppresses a bounced or unsubscribing address, because those are facts about the address.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from temporalio.client import Client

from api.crm_signal import signal_event
from config.settings import Settings
from db.crm_events import record_event
from db.inbound import (
    Episode,
    InboundRow,
    Match,
    current_episode,
    match_account,
    record_reply_received,
    soft_bounces,
    store_inbound,
)
from db.notifications import notify_reply
from db.suppression import suppress_address
from reactivation.inbound_mail import (
    ParsedInbound,
    Verdict,
    classify,
    message_ids,
    parse_message,
    reply_token,
)
from reactivation.plain_text import one_line
from reactivation.review_model import CrmEvent
from reactivation.vocabulary import CrmEventType, InboundClass

log = logging.getLogger(__name__)

# What each class means for the account's workflow (a soft bounce means nothing until the limit).
EVENT_OF = {InboundClass.human_reply: CrmEventType.reply, InboundClass.auto_reply: CrmEventType.auto_reply,
            InboundClass.hard_bounce: CrmEventType.bounce, InboundClass.unsubscribe: CrmEventType.opt_out}


@dataclass(frozen=True)
class InboundResult:
    inbound_id: int
    duplicate: bool
    kind: InboundClass
    reason: str
    account_id: str | None
    matched_by: str | None
    event: CrmEventType | None  # what the account's workflow was told
    delivered_to_workflow: bool


def fingerprint(parsed: ParsedInbound, raw: bytes) -> str:
    return f"id:{parsed.message_id}" if parsed.message_id else f"sha256:{hashlib.sha256(raw).hexdigest()}"


def _senders(parsed: ParsedInbound, verdict: Verdict) -> tuple[str, ...]:
    """Who the message is about: a bounce is about the failed recipient, anything else about its sender."""
    if verdict.kind in (InboundClass.hard_bounce, InboundClass.soft_bounce):
        return tuple(verdict.addresses)
    return (parsed.from_address,) if parsed.from_address else ()


def _detail(parsed: ParsedInbound, verdict: Verdict) -> str:
    subject = one_line(parsed.subject)[:200]
    return one_line(f"{verdict.kind.value}: {subject} ({verdict.reason})")[:1000]


async def _suppressions(conn: asyncpg.Connection, parsed: ParsedInbound, verdict: Verdict, account_id: str | None,
                        settings: Settings) -> CrmEventType | None:
    """Suppress what the message says must not be written to again; the event the workflow should get."""
    if verdict.kind == InboundClass.unsubscribe:
        if parsed.from_address:
            await suppress_address(conn, parsed.from_address, "email", "unsubscribe", account_id,
                                   "asked to unsubscribe by reply")
        return CrmEventType.opt_out
    if verdict.kind == InboundClass.hard_bounce:
        for address in verdict.addresses:
            await suppress_address(conn, address, "email", "bounce", account_id, f"{verdict.status or ''} {verdict.reason}")
        return CrmEventType.bounce
    if verdict.kind == InboundClass.soft_bounce:
        over = [a for a in verdict.addresses if await soft_bounces(conn, a) >= settings.soft_bounce_limit]
        for address in over:
            await suppress_address(conn, address, "email", "bounce", account_id,
                                   f"{settings.soft_bounce_limit} soft bounces, the last {verdict.status or ''}")
        return CrmEventType.bounce if over else None
    return EVENT_OF.get(verdict.kind)


async def receive_raw_email(pool: asyncpg.Pool, temporal: Client, settings: Settings, raw: bytes,
                            source: str) -> InboundResult:
    """Store, classify, match and act on one raw RFC 5322 message; see the module docstring."""
    now = datetime.now(UTC)
    parsed = parse_message(raw)
    verdict = classify(parsed, now.date())
    local = settings.reply_address.split("@")[0] if settings.reply_address else None
    token = reply_token(parsed, local) if local else None
    event_type: CrmEventType | None = None
    event_id: int | None = None
    async with pool.acquire() as conn, conn.transaction():
        match: Match | None = await match_account(conn, message_ids(parsed), token, _senders(parsed, verdict))
        account_id = match.account_id if match else None
        episode: Episode | None = await current_episode(conn, account_id) if account_id else None
        inbound_id, new = await store_inbound(conn, InboundRow(
            source=source, fingerprint=fingerprint(parsed, raw), message_id=parsed.message_id,
            from_address=parsed.from_address, subject=parsed.subject[:1000], new_text=parsed.new_text[:100_000],
            kind=verdict.kind, reason=verdict.reason, needs_owner=verdict.needs_owner, return_on=verdict.return_on,
            addresses=tuple(verdict.addresses), account_id=account_id, matched_by=match.by if match else None,
            episode=episode.episode if episode else None, raw=raw))
        if not new:
            return InboundResult(inbound_id, True, verdict.kind, verdict.reason, account_id,
                                 match.by if match else None, None, False)
        event_type = await _suppressions(conn, parsed, verdict, account_id, settings)
        if account_id and event_type:
            event_id = await record_event(conn, account_id, event_type, now, _detail(parsed, verdict))
        if account_id and episode:
            await record_reply_received(conn, inbound_id, now, account_id, episode, {
                "class": verdict.kind.value, "reason": verdict.reason, "matched_by": match.by if match else None,
                "needs_owner": verdict.needs_owner or None,
                "return_on": verdict.return_on.isoformat() if verdict.return_on else None})
    delivered = False
    if account_id and event_type and event_id is not None:
        event = CrmEvent(type=event_type, at=now, detail=_detail(parsed, verdict), return_on=verdict.return_on)
        delivered = await signal_event(pool, temporal, account_id, event_id, event)
    if account_id and episode and verdict.kind == InboundClass.human_reply:
        await _tell_owner(pool, settings, account_id, episode, parsed, inbound_id)
    return InboundResult(inbound_id, False, verdict.kind, verdict.reason, account_id, match.by if match else None,
                         event_type, delivered)


async def _tell_owner(pool: asyncpg.Pool, settings: Settings, account_id: str, episode: Episode,
                      parsed: ParsedInbound, inbound_id: int) -> None:
    """The owner hears of a reply at once (the notification outbox sends it); a failure here is logged,
    never lost silently and never undoes the reply itself."""
    try:
        async with pool.acquire() as conn:
            await notify_reply(conn, settings.public_url, account_id=account_id, episode=episode.episode,
                               owner_email=episode.owner_email, from_address=parsed.from_address or "",
                               subject=parsed.subject, new_text=parsed.new_text, inbound_message_id=str(inbound_id))
    except Exception:
        log.exception("could not queue the reply notification for %s", account_id)
