"""Sends an approved message on the customer's channel, exactly once per workflow step.

The idempotency key (workflow id, episode, kind) is deterministic, so an activity retried after a crash
finds the message already stored and does not store or send it again. Contact details are read from the
CRM store here, at send time, never carried in workflow inputs. Every message is stored in the outbox
table first (the sent-log); DORMANT_DELIVERY decides which channels then go out through a provider.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.sms_sender import send_sms
from activities.smtp_sender import send_email
from config.settings import Settings
from db.ledger import record_steps
from db.outbox import claim_message, message_status, set_status, store_message
from db.send_guard_queries import guard_facts, lock_account
from db.suppression import suppress_address
from reactivation.delivery_model import (
    AddressRefused,
    DeliveryOutcomeUnknown,
    DeliveryRequest,
    DeliveryResult,
    InvalidMessage,
    OutgoingMessage,
    idempotency_key,
    message_domain,
    message_id_for,
)
from reactivation.ledger_model import StepRecord
from reactivation.plain_text import header_unsafe
from reactivation.policy import assess
from reactivation.send_guard import send_fingerprint, send_guard
from reactivation.send_window import next_send_time, parse_window, zone
from reactivation.unsubscribe import make_token
from reactivation.vocabulary import DeliveryStatus, GuardStop

# What to do when a previous attempt claimed the message and did not record the outcome (a crash).
# "sending": it never reached the point where the provider could have the message for email (the claim is
# moved to "handing_off" just before SMTP DATA), so resending is safe. "handing_off": the SMTP server may
# have accepted it; SMTP has no idempotency key, and a duplicate to a customer we are trying not to annoy
# costs more than a rare lost email, so it becomes "uncertain" and is not resent (at most once). SMS: the
# provider deduplicates on our Idempotency-Key, so resending the same request is always safe.
UNCERTAIN_AFTER_CRASH = {"email": "handing_off", "sms": None}
# Outbox states in which no provider can have the message yet, so the guard may still stop it
# (None: no row yet). "retry" and "sending" are a provider that was down or a crash before the hand-off.
GUARDED_STATES = (None, "retry", "sending")
WINDOW_SLACK = timedelta(minutes=1)  # a retry a few seconds past the window's start is inside it

class DeliveryActivities:
    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None:
        self.pool = pool
        self.settings = settings

    def _domain(self) -> str:
        return message_domain(self.settings.mail_from)

    def _provider_sends(self, channel: str) -> bool:
        return {"email": self.settings.sends_email, "sms": self.settings.sends_sms}.get(channel, False)

    @activity.defn(name="deliver")
    async def deliver(self, request: DeliveryRequest) -> DeliveryResult:
        """Claim the message and check the last-moment guard in one transaction, then hand it on.

        First, the approval's ledger events the workflow handed over: this activity is the first step that
        runs once the approval is committed to history, so they are recorded now, even when the provider
        is down or the guard stops the send (idempotent ids: a retry writes nothing twice)."""
        async with self.pool.acquire() as conn:
            if request.records:  # one statement of its own: kept whatever the claim decides
                await record_steps(conn, request.records)
            async with conn.transaction():
                claimed = await self._claim(conn, request)
            if isinstance(claimed, DeliveryResult):
                if claimed.status == DeliveryStatus.sent:  # stored in the outbox, committed: now its event
                    return claimed.model_copy(
                        update={"recorded_at": await self._record_sent(conn, request.on_sent, claimed.message_id)})
                return claimed
        message, previous, result = claimed
        return await self._send_once(message, previous, result, request.on_sent)

    async def _claim(self, conn: asyncpg.Connection, request: DeliveryRequest
                     ) -> DeliveryResult | tuple[OutgoingMessage, str, DeliveryResult]:
        """In the claiming transaction: the last-moment guard, then the message stored (outbox mode: that is
        its sending; the result) or claimed for a provider (the message, its previous state, the result)."""
        account = await lock_account(conn, request.account_id)
        if account is None:
            raise ApplicationError(f"account {request.account_id!r} vanished from the CRM store",
                                   type="AccountNotFound", non_retryable=True)
        to_address = account["contact_phone"] if request.channel == "sms" else account["contact_email"]
        if not to_address:
            raise ApplicationError(f"account {request.account_id!r} has no {request.channel} address",
                                   type="NoAddress", non_retryable=True)
        message = self._compose(request, to_address)
        result = DeliveryResult(message_id=message.message_id, newly_sent=False, to_address=to_address)
        prior = await message_status(conn, message.idempotency_key)
        if prior in GUARDED_STATES:  # nothing can have reached the provider yet: judge it now
            stop = await self._guard(conn, request, account, to_address)
            if stop is not None:
                if prior is not None:
                    await set_status(conn, message.idempotency_key, "cancelled", error=stop[1])
                return result.model_copy(update={"status": DeliveryStatus.blocked, "stop": stop[0],
                                                 "reason": stop[1]})
        if not self._provider_sends(request.channel):
            message_id, new = await store_message(conn, message, "outbox")
            return result.model_copy(update={"message_id": message_id, "newly_sent": new})
        previous = await claim_message(conn, message, "smtp" if request.channel == "email" else "sms")
        return message, previous, result

    async def _record_sent(self, conn: asyncpg.Connection, on_sent: StepRecord | None, message_id: str) -> datetime | None:
        """Write the workflow's `sent` / `follow_up_sent` event with the message's status, so the workflow
        need not write it afterwards (one history event fewer per send, issue 18). Only the event for this
        very message (a different Message-ID: the sender's domain changed since the workflow started).
        Written after the status has committed, as a statement of its own (no savepoint round trips): should
        the write fail, or the worker die before it, the status stands, a retried activity writes the event
        (it finds the message already sent) or the workflow does (`recorded_at` None), under the same id, so
        it is never recorded twice. Returns when it was written."""
        if on_sent is None or on_sent.detail.get("message_id") != message_id:
            return None
        at = max(datetime.now(UTC), on_sent.at)
        try:
            await record_steps(conn, [on_sent.model_copy(update={"at": at})])
        except asyncpg.PostgresError as err:
            activity.logger.warning("the sent event %s was not written here (%s); the workflow writes it",
                                    on_sent.event_id, err)
            return None
        return at

    async def _guard(self, conn, request: DeliveryRequest, account, address: str) -> tuple[GuardStop, str] | None:
        now = datetime.now(UTC)
        window = parse_window(request.send_window)
        window_open = True
        if window is not None:
            window_open = (next_send_time(now, window, zone(account["timezone"], request.default_timezone))
                           <= now + WINDOW_SLACK)
        policy = request.policy

        def fingerprint_of(pack):
            return send_fingerprint(assess(pack, now, policy)) if policy else None

        facts = await guard_facts(conn, account, address=address, episode=request.episode,
                                  approved_at=request.approved_at, window_open=window_open,
                                  approved_fingerprint=request.fingerprint if policy else None,
                                  fingerprint_of=fingerprint_of)
        return send_guard(facts)

    async def _send_once(self, message: OutgoingMessage, previous: str, result: DeliveryResult,
                         on_sent: StepRecord | None) -> DeliveryResult:
        """Send only from a state this attempt claimed ("new", "retry") or one a crash left where resending
        is safe ("sending"); "sent", "bounced" and "uncertain" are final."""
        key = message.idempotency_key
        if previous == "bounced":
            return result.model_copy(update={"suppressed_reason": "bounce: refused by the provider",
                                             "status": DeliveryStatus.bounced})
        if previous is not None and previous == UNCERTAIN_AFTER_CRASH[message.channel]:
            async with self.pool.acquire() as conn:
                await set_status(conn, key, "uncertain", error="a previous attempt crashed during SMTP DATA; not resent")
            activity.logger.warning("delivery %s outcome unknown after a crash; not resending", key)
            return result.model_copy(update={"status": DeliveryStatus.uncertain})
        if previous == "uncertain":
            return result.model_copy(update={"status": DeliveryStatus.uncertain})
        if previous == "cancelled":
            return result.model_copy(update={"status": DeliveryStatus.blocked, "stop": GuardStop.episode_ended,
                                             "reason": "This message was stopped earlier: nothing was sent."})
        if previous not in ("new", "retry", "sending"):  # "sent": an earlier attempt sent it
            async with self.pool.acquire() as conn:
                return result.model_copy(update={"recorded_at": await self._record_sent(conn, on_sent, message.message_id)})
        try:
            if message.channel == "sms":
                provider_id = await send_sms(self.settings, message)
            else:
                provider_id = await send_email(self.settings, message, before_data=lambda: self._mark(key, "handing_off"))
        except AddressRefused as refused:
            async with self.pool.acquire() as conn:
                await suppress_address(conn, message.to_address, message.channel, "bounce", message.account_id,
                                       str(refused))
                await set_status(conn, key, "bounced", error=str(refused))
            return result.model_copy(update={"suppressed_reason": f"bounce: {refused}",
                                             "status": DeliveryStatus.bounced})
        except InvalidMessage as invalid:  # no retry can fix it: fail for good, the owner sees why
            async with self.pool.acquire() as conn:
                await set_status(conn, key, "cancelled", error=str(invalid)[:300])
            raise ApplicationError(f"the message cannot be sent as written: {invalid}"[:300], type="InvalidMessage",
                                   non_retryable=True) from invalid
        except DeliveryOutcomeUnknown as unknown:
            async with self.pool.acquire() as conn:
                await set_status(conn, key, "uncertain", error=f"connection lost during SMTP DATA: {unknown}")
            return result.model_copy(update={"status": DeliveryStatus.uncertain})
        except Exception as err:
            detail = f"{message.channel} send failed: {type(err).__name__}: {err}"[:300]
            async with self.pool.acquire() as conn:
                await set_status(conn, key, "retry", error=detail)
            raise ApplicationError(detail, type="ProviderUnavailable") from err
        async with self.pool.acquire() as conn:
            await set_status(conn, key, "sent", provider_id=provider_id[:200])
            recorded_at = await self._record_sent(conn, on_sent, message.message_id)
        return result.model_copy(update={"newly_sent": True, "recorded_at": recorded_at})

    async def _mark(self, key: str, status: str) -> None:
        async with self.pool.acquire() as conn:
            await set_status(conn, key, status)

    def _compose(self, request: DeliveryRequest, to_address: str) -> OutgoingMessage:
        if header_unsafe(request.subject):
            raise ApplicationError("the subject contains a line break or control character; edit it and approve "
                                   "again", type="InvalidMessage", non_retryable=True)
        key = idempotency_key(request.workflow_id, request.episode, request.kind, request.attempt)
        message_id = message_id_for(key, self._domain())
        headers: dict[str, str] = {"Message-ID": message_id}
        subject = request.subject
        body = request.body
        from_address = self.settings.mail_from
        if request.channel == "email":
            if request.kind == "follow_up" and request.thread_message_id:
                headers["In-Reply-To"] = request.thread_message_id
                headers["References"] = request.thread_message_id
                if not subject.lower().startswith("re:"):
                    subject = f"Re: {subject}"
            if request.path == "account_led" and request.owner_email:
                headers["Reply-To"] = request.owner_email
            else:
                secret = self.settings.unsubscribe_secret.get_secret_value()
                token = make_token(request.account_id, to_address, secret)  # unsubscribes this address
                url = f"{self.settings.public_url.rstrip('/')}/v1/unsubscribe/{token}"
                headers["List-Unsubscribe"] = f"<{url}>"
                headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
                body = f"{body}\n\n--\nTo stop these emails: {url}"
            if self.settings.reply_address:  # replies reach our mailbox too, matched by the token
                local, domain = self.settings.reply_address.split("@")
                ours = f"{local}+{message_id[1:].split('@')[0]}@{domain}"
                headers["Reply-To"] = f"{headers['Reply-To']}, {ours}" if "Reply-To" in headers else ours
        elif request.channel == "sms":
            from_address = self.settings.sms_from or ""
        return OutgoingMessage(
            idempotency_key=key, message_id=message_id, account_id=request.account_id,
            workflow_id=request.workflow_id, kind=request.kind, channel=request.channel, to_address=to_address,
            from_address=from_address, subject=subject, body=body, headers=headers,
        )
