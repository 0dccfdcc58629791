"""Sends an approved message on the customer's channel, exactly once per workflow step.

The idempotency key (workflow id, episode, kind) is deterministic, so an activity retried after a crash
finds the message already stored and does not store or send it again. Contact details are read from the
CRM store here, at send time, never carried in workflow inputs.
"""

from __future__ import annotations

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.smtp_sender import send_email
from db.outbox import claim_message, set_status, store_message
from reactivation.delivery_models import (
    DeliveryRequest, DeliveryResult, OutgoingMessage, idempotency_key, message_id_for,
)
from reactivation.settings import Settings
from reactivation.unsubscribe import make_token


class DeliveryActivities:
    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None:
        self.pool = pool
        self.settings = settings

    def _domain(self) -> str:
        return self.settings.mail_from.rsplit("@", 1)[-1] or "dormant-outreach.local"

    @activity.defn(name="deliver")
    async def deliver(self, request: DeliveryRequest) -> DeliveryResult:
        async with self.pool.acquire() as conn:
            contact = await conn.fetchrow(
                "SELECT contact_email, contact_phone, contact_name FROM accounts WHERE account_id = $1",
                request.account_id,
            )
            if contact is None:
                raise ApplicationError(f"account {request.account_id!r} vanished from the CRM store",
                                       type="AccountNotFound", non_retryable=True)
            to_address = contact["contact_phone"] if request.channel == "sms" else contact["contact_email"]
            if not to_address:
                raise ApplicationError(f"account {request.account_id!r} has no {request.channel} address",
                                       type="NoAddress", non_retryable=True)
            message = self._compose(request, to_address)
            if self.settings.delivery == "outbox" or request.channel != "email":
                message_id, new = await store_message(conn, message, self.settings.delivery)
                return DeliveryResult(message_id=message_id, newly_sent=new, to_address=to_address)
            previous = await claim_message(conn, message, "smtp")
        return await self._send_smtp(message, previous)

    async def _send_smtp(self, message, previous: str) -> DeliveryResult:
        """Exactly once within what SMTP allows (SMTP has no idempotency key):

        - "sent": the message went out before; never again.
        - "sending": a previous attempt crashed after claiming and maybe after the server accepted it.
          We choose at-most-once: mark it "uncertain" for ops and do not send again, because a duplicate
          to a dormant customer costs more than a rare lost first email (the follow-up still threads on
          the same deterministic Message-ID).
        - "new"/"retry": send; on a failure before acceptance, mark "retry" so the next attempt sends.
        """
        result = DeliveryResult(message_id=message.message_id, newly_sent=False, to_address=message.to_address)
        if previous == "sent":
            return result
        if previous == "sending":
            async with self.pool.acquire() as conn:
                await set_status(conn, message.idempotency_key, "uncertain")
            activity.logger.warning("delivery %s outcome unknown after a crash; not resending",
                                    message.idempotency_key)
            return result
        try:
            await send_email(self.settings, message)
        except Exception as err:
            async with self.pool.acquire() as conn:
                await set_status(conn, message.idempotency_key, "retry")
            raise ApplicationError(f"SMTP send failed: {type(err).__name__}: {err}"[:300], type="SMTPUnavailable") from err
        async with self.pool.acquire() as conn:
            await set_status(conn, message.idempotency_key, "sent")
        return result.model_copy(update={"newly_sent": True})

    def _compose(self, request: DeliveryRequest, to_address: str) -> OutgoingMessage:
        key = idempotency_key(request.workflow_id, request.episode, request.kind)
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
                url = f"{self.settings.public_url.rstrip('/')}/v1/unsubscribe/{make_token(request.account_id, secret)}"
                headers["List-Unsubscribe"] = f"<{url}>"
                headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
                body = f"{body}\n\n--\nTo stop these emails: {url}"
        return OutgoingMessage(
            idempotency_key=key, message_id=message_id, account_id=request.account_id,
            workflow_id=request.workflow_id, kind=request.kind, channel=request.channel, to_address=to_address,
            from_address=from_address, subject=subject, body=body, headers=headers,
        )
