"""Owner notifications: enqueue what is due (reminders, escalations, the daily digest), then send the outbox.

Sending mirrors customer delivery (activities/delivery.py): with DORMANT_DELIVERY=smtp the email goes out
through the SMTP sender, otherwise the row is only marked sent (outbox mode, nothing leaves). The Slack
webhook (DORMANT_SLACK_WEBHOOK_URL), when set, gets the Slack text after the email, one attempt: a Slack
outage never resends an email. The webhook URL and SMTP password come from settings, never from inputs, and
no error text that could hold the URL is stored or logged.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import asyncpg
import httpx
from temporalio import activity

from activities.smtp_sender import send_email
from config.settings import Settings
from db import notifications as outbox
from db.notifications import ClaimedNotification
from reactivation import notifications as compose
from reactivation.delivery_model import (
    AddressRefused,
    DeliveryOutcomeUnknown,
    InvalidMessage,
    OutgoingMessage,
    message_id_for,
)
from reactivation.notifications import NotificationStatus, NotifyCounts
from reactivation.vocabulary import LedgerKind, NotificationKind

BATCH = 100  # rows claimed per dispatch; the rest wait for the next minute
MAX_ATTEMPTS = 10  # a provider down for ten runs (about ten minutes): the notification fails
ALERT_LOOKBACK = timedelta(days=7)  # ledger alerts older than this are not notified any more
STALE_CLAIM = timedelta(minutes=10)  # longer than the dispatch activity may run
SLACK_TIMEOUT_S = 10.0


class NotifyActivities:
    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None:
        self.pool = pool
        self.settings = settings

    @activity.defn(name="enqueue_due_notifications")
    async def enqueue_due_notifications(self, at: datetime) -> int:
        """Reminders and escalations from the ledger; from DORMANT_DIGEST_HOUR (UTC) on, today's digests
        (one per owner and day, so a worker down at that hour still sends them later that day)."""
        url = self.settings.public_url
        count = 0
        async with self.pool.acquire() as conn:
            for alert in await outbox.due_alerts(conn, LedgerKind.reminder_sent, NotificationKind.reminder,
                                                 at - ALERT_LOOKBACK):
                count += await outbox.enqueue(conn, compose.reminder(alert, alert.owner_email or "", url, at))
            admins = await outbox.admin_emails(conn)
            if admins:  # without admins an escalation waits until there is one
                for alert in await outbox.due_alerts(conn, LedgerKind.escalated, NotificationKind.escalation,
                                                     at - ALERT_LOOKBACK):
                    async with conn.transaction():
                        for n in compose.escalations(alert, admins, url, at):
                            count += await outbox.enqueue(conn, n)
        if at.hour >= self.settings.digest_hour:
            count += await self.enqueue_digests(at.date())
        return count

    async def enqueue_digests(self, day: date) -> int:
        """One digest per owner with accounts awaiting their review, for `day`."""
        count = 0
        async with self.pool.acquire() as conn:
            for owner, total, top in await outbox.digest_due(conn, day):
                count += await outbox.enqueue(conn, compose.digest(owner, day, total, top, self.settings.public_url))
        return count

    @activity.defn(name="dispatch_notifications")
    async def dispatch_notifications(self) -> NotifyCounts:
        """Claim pending rows and send each once; the owner's notify setting may skip it (skipped_quiet)."""
        counts = NotifyCounts()
        async with self.pool.acquire() as conn:
            await outbox.release_stale(conn, STALE_CLAIM)
            rows = await outbox.claim(conn, BATCH)
        for row in rows:
            if counts.retry:  # SMTP failed earlier in this run: the rest wait for the next run, untried
                await self._mark(row.key, NotificationStatus.pending)
                counts.retry += 1
                continue
            status = await self._send(row)
            field = {NotificationStatus.sent: "sent", NotificationStatus.skipped_quiet: "skipped_quiet",
                     NotificationStatus.failed: "failed"}.get(status, "retry")
            setattr(counts, field, getattr(counts, field) + 1)
            if activity.in_activity():
                activity.heartbeat(counts.sent)
        return counts

    async def _send(self, row: ClaimedNotification) -> NotificationStatus:
        key, kind = row.key, row.kind
        if not compose.allowed(kind, row.notify):
            await self._mark(key, NotificationStatus.skipped_quiet)
            return NotificationStatus.skipped_quiet
        channels = []
        if self.settings.sends_email:
            try:
                await send_email(self.settings, self._message(row),
                                 before_data=lambda: self._mark(key, NotificationStatus.handing_off))
            except (InvalidMessage, AddressRefused) as err:  # no retry can fix these
                await self._mark(key, NotificationStatus.failed, f"{type(err).__name__}: {err}")
                return NotificationStatus.failed
            except DeliveryOutcomeUnknown as err:  # the server may have it: at most once
                await self._mark(key, NotificationStatus.failed, f"outcome unknown, not resent: {err}")
                return NotificationStatus.failed
            except Exception as err:
                final = row.attempts >= MAX_ATTEMPTS
                status = NotificationStatus.failed if final else NotificationStatus.pending
                await self._mark(key, status, f"smtp: {type(err).__name__}: {err}")
                return status
            channels.append("email")
        slack_error = await self._post_slack(row)
        if slack_error is None and self.settings.slack_webhook_url is not None and row.slack_text:
            channels.append("slack")
        async with self.pool.acquire() as conn, conn.transaction():
            await outbox.mark(conn, key, NotificationStatus.sent, slack_error)
            await outbox.record_notified(conn, row, {"kind": kind.value, "recipient": row.recipient,
                                                     "channels": channels or ["outbox"]})
        return NotificationStatus.sent

    def _message(self, row: ClaimedNotification) -> OutgoingMessage:
        from_address = self.settings.notify_from or self.settings.mail_from
        domain = from_address.rsplit("@", 1)[-1] or "dormant-outreach.local"
        return OutgoingMessage(
            idempotency_key=row.key, message_id=message_id_for(row.key, domain),
            account_id=row.account_id or "", workflow_id="", kind=row.kind.value, channel="email",
            to_address=row.recipient, from_address=from_address, subject=row.subject, body=row.body,
            headers={"Message-ID": message_id_for(row.key, domain),
                     "Auto-Submitted": "auto-generated"})  # RFC 3834: no auto-replies to this

    async def _post_slack(self, row: ClaimedNotification) -> str | None:
        """POST {"text": ...} to the webhook; the error (without the URL, which is a secret) or None."""
        if self.settings.slack_webhook_url is None or not row.slack_text:
            return None
        try:
            async with httpx.AsyncClient(timeout=SLACK_TIMEOUT_S) as http:
                response = await http.post(self.settings.slack_webhook_url.get_secret_value(),
                                           json={"text": row.slack_text})
            if response.status_code >= 300:
                return f"slack: HTTP {response.status_code}"
        except httpx.HTTPError as err:
            return f"slack: {type(err).__name__}"
        return None

    async def _mark(self, key: str, status: NotificationStatus, error: str | None = None) -> None:
        async with self.pool.acquire() as conn:
            await outbox.mark(conn, key, status, error)
