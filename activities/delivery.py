"""Sends an approved message on the customer's channel, exactly once per workflow step.

The idempotency key (workflow id, episode, kind) is deterministic, so an activity retried after a crash
finds the message already stored and does not store or send it again. Contact details are read from the
CRM store here, at send time, never carried in workflow inputs.
"""

from __future__ import annotations

from urllib.parse import urlparse

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from db.outbox import store_message
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
            message_id, new = await store_message(conn, message, self.settings.delivery)
        return DeliveryResult(message_id=message_id, newly_sent=new, to_address=to_address)

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


def host_of(url: str) -> str:
    return urlparse(url).hostname or "localhost"
