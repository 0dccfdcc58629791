"""The owner-notifications outbox and the queries that decide what is due.

A notification is enqueued once (its key is the primary key: INSERT ... ON CONFLICT DO NOTHING), claimed by
one dispatch (FOR UPDATE SKIP LOCKED, then status `sending`), and sent at most once: a claim that crashed
before SMTP DATA goes back to `pending`, one that crashed inside DATA becomes `failed` (the server may have
it). Owner emails are compared in lower case, as in db/reviews.py: a CRM may spell an owner `Alex.Morgan@`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import asyncpg
from pydantic import Field

from reactivation.notifications import (
    DIGEST_TOP,
    Notification,
    NotificationStatus,
    NotifySetting,
    ReviewAlert,
    WaitingAccount,
    notification_key,
)
from reactivation.notifications import reply as compose_reply
from reactivation.vocabulary import LedgerKind, NotificationKind, Stage


class NotificationRow(Notification):
    """One owner_notifications row: the notification as enqueued (its `key` is the column notification_key)
    and what dispatch has done with it so far."""

    key: str = Field(validation_alias="notification_key")
    status: NotificationStatus
    error: str | None
    attempts: int  # claims so far, this one included for a claimed row
    created_at: datetime
    claimed_at: datetime | None
    sent_at: datetime | None


class ClaimedNotification(NotificationRow):
    """A row `claim` moved to `sending`, with the recipient's notify setting (None: the recipient is no owner,
    which `reactivation.notifications.allowed` reads as `all`)."""

    notify: NotifySetting | None


async def enqueue(conn: asyncpg.Connection, n: Notification) -> bool:
    """Store the notification unless its key exists; True when it was new."""
    return bool(await conn.fetchval(
        """INSERT INTO owner_notifications
               (notification_key, kind, recipient, account_id, episode, subject, body, slack_text)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (notification_key) DO NOTHING RETURNING true""",
        n.key, n.kind.value, n.recipient, n.account_id, n.episode, n.subject, n.body, n.slack_text))


async def pending(conn: asyncpg.Connection, limit: int) -> list[NotificationRow]:
    """Pending rows, oldest first (for ops and tests; dispatch uses `claim`)."""
    rows = await conn.fetch("SELECT * FROM owner_notifications WHERE status = $1 ORDER BY created_at LIMIT $2",
                            NotificationStatus.pending.value, limit)
    return [NotificationRow.model_validate(dict(r)) for r in rows]


async def claim(conn: asyncpg.Connection, limit: int) -> list[ClaimedNotification]:
    """Move up to `limit` pending rows to `sending` and return them with the recipient's `notify` setting.
    SKIP LOCKED: two dispatches running at once claim disjoint rows."""
    rows = await conn.fetch(
        """UPDATE owner_notifications n
              SET status = $2, attempts = n.attempts + 1, claimed_at = now()
            WHERE n.status = $1 AND n.notification_key IN (
                  SELECT notification_key FROM owner_notifications WHERE status = $1
                   ORDER BY created_at LIMIT $3 FOR UPDATE SKIP LOCKED)
        RETURNING n.*, (SELECT o.notify FROM owners o WHERE o.email = lower(n.recipient)) AS notify""",
        NotificationStatus.pending.value, NotificationStatus.sending.value, limit)
    return [ClaimedNotification.model_validate(dict(r)) for r in rows]


async def mark(conn: asyncpg.Connection, key: str, status: NotificationStatus, error: str | None = None) -> None:
    await conn.execute(
        """UPDATE owner_notifications SET status = $2, error = coalesce($3, error),
                  sent_at = CASE WHEN $4 THEN now() ELSE sent_at END
            WHERE notification_key = $1""",
        key, status.value, error[:300] if error else None, status == NotificationStatus.sent)


async def release_stale(conn: asyncpg.Connection, older_than: timedelta) -> int:
    """Claims a crashed dispatch left behind: `sending` (SMTP never had it) is pending again; `handing_off`
    (SMTP may have it) fails, not resent."""
    rows = await conn.fetch(
        """UPDATE owner_notifications
              SET status = CASE status WHEN $1 THEN $3 ELSE $4 END,
                  error = CASE status WHEN $1 THEN error
                               ELSE 'a dispatch stopped inside SMTP DATA: outcome unknown, not resent' END
            WHERE status IN ($1, $2) AND claimed_at < now() - $5::interval
        RETURNING 1""",
        NotificationStatus.sending.value, NotificationStatus.handing_off.value, NotificationStatus.pending.value,
        NotificationStatus.failed.value, older_than)
    return len(rows)


async def record_notified(conn: asyncpg.Connection, row: NotificationRow, detail: dict) -> None:
    """The `owner_notified` ledger row; its event id is the notification key, so it is written once."""
    await conn.execute(
        """INSERT INTO measurement_events (event_id, at, type, account_id, workflow_id, episode, owner_email, detail)
           VALUES ($1, now(), $2, coalesce($3, ''),
                   coalesce((SELECT workflow_id FROM review_projection WHERE account_id = $3), ''),
                   coalesce($4, ''), $5, $6)
           ON CONFLICT (event_id) DO NOTHING""",
        row.key, LedgerKind.owner_notified.value, row.account_id, row.episode, row.recipient, detail)


async def admin_emails(conn: asyncpg.Connection) -> list[str]:
    return [r["email"] for r in await conn.fetch("SELECT email FROM owners WHERE is_admin ORDER BY email")]


async def account_name(conn: asyncpg.Connection, account_id: str) -> str:
    return await conn.fetchval("SELECT name FROM accounts WHERE account_id = $1", account_id) or account_id


async def due_alerts(conn: asyncpg.Connection, ledger: LedgerKind, kind: NotificationKind, since: datetime,
                     limit: int = 200) -> list[ReviewAlert]:
    """`reminder_sent` / `escalated` ledger rows since `since` with no notification of `kind` for their
    (account, episode) yet, whose review still waits (a decision in between makes the alert moot).
    The owner is the projection's current one, so a reassigned account reminds its new owner."""
    rows = await conn.fetch(
        """SELECT DISTINCT ON (me.account_id, me.episode) me.account_id, me.episode,
                  coalesce(a.name, me.account_id) AS name, rp.owner_email,
                  (SELECT max(w.at) FROM measurement_events w
                    WHERE w.account_id = me.account_id AND w.episode = me.episode AND w.type = $5
                      AND w.at <= me.at) AS waiting_since
             FROM measurement_events me
             JOIN review_projection rp ON rp.account_id = me.account_id AND rp.episode = me.episode
                                      AND rp.stage = $4
             LEFT JOIN accounts a ON a.account_id = me.account_id
            WHERE me.type = $1 AND me.at >= $2
              AND ($3 <> $7 OR rp.owner_email IS NOT NULL)
              AND NOT EXISTS (SELECT 1 FROM owner_notifications n
                               WHERE n.account_id = me.account_id AND n.episode = me.episode AND n.kind = $3)
            ORDER BY me.account_id, me.episode, me.at
            LIMIT $6""",
        ledger.value, since, kind.value, Stage.awaiting_review.value, LedgerKind.awaiting_review.value, limit,
        NotificationKind.reminder.value)  # a reminder needs an owner; an escalation goes to the admins
    return [ReviewAlert(**dict(r)) for r in rows]


async def digest_due(conn: asyncpg.Connection, day: date) -> list[tuple[str, int, list[WaitingAccount]]]:
    """Per owner with accounts awaiting their review and no digest for `day` yet: (owner, how many wait,
    the first DIGEST_TOP by priority). Each owner's list is selected by that owner alone."""
    counts = await conn.fetch(
        """SELECT lower(owner_email) AS owner, count(*) AS total FROM review_projection
            WHERE stage = $1 AND owner_email IS NOT NULL GROUP BY lower(owner_email)""",
        Stage.awaiting_review.value)
    keys = {notification_key(NotificationKind.digest, r["owner"], day.isoformat()): r for r in counts}
    done = {r["notification_key"] for r in await conn.fetch(
        "SELECT notification_key FROM owner_notifications WHERE notification_key = ANY($1)", list(keys))}
    due = {r["owner"]: r["total"] for key, r in keys.items() if key not in done}
    if not due:
        return []
    rows = await conn.fetch(
        """SELECT * FROM (
               SELECT lower(rp.owner_email) AS owner, rp.account_id, coalesce(a.name, rp.account_id) AS name,
                      rp.account_value::float8 AS account_value, coalesce(a.currency, '') AS currency, rp.stage,
                      rp.recommended_next_step, rp.priority,
                      row_number() OVER (PARTITION BY lower(rp.owner_email)
                                         ORDER BY rp.priority DESC NULLS LAST, rp.account_id) AS rank
                 FROM review_projection rp LEFT JOIN accounts a ON a.account_id = rp.account_id
                WHERE rp.stage = $1 AND lower(rp.owner_email) = ANY($2)) ranked
            WHERE rank <= $3 ORDER BY owner, rank""",
        Stage.awaiting_review.value, list(due), DIGEST_TOP)
    top: dict[str, list[WaitingAccount]] = {owner: [] for owner in due}
    for r in rows:
        top[r["owner"]].append(WaitingAccount(**{k: r[k] for k in WaitingAccount.model_fields}))
    return [(owner, due[owner], top[owner]) for owner in sorted(due)]


async def notify_reply(conn: asyncpg.Connection, public_url: str, account_id: str, episode: str,
                       owner_email: str | None, from_address: str, subject: str, new_text: str, *,
                       inbound_message_id: str) -> bool:
    """Enqueue "the customer answered" for the owner (the admins when the account has none); True if new.

    Called by the inbound-mail endpoint. The key holds the inbound message id, so each reply notifies once
    however often the endpoint is retried. The next dispatch (every minute) sends it: the endpoint stays
    fast and never talks to SMTP or Slack itself.
    """
    recipients = [owner_email] if owner_email else await admin_emails(conn)
    name = await account_name(conn, account_id)
    new = False
    for recipient in recipients:
        n = compose_reply(account_id=account_id, episode=episode, inbound_message_id=inbound_message_id,
                          recipient=recipient, account_name=name, from_address=from_address, subject=subject,
                          new_text=new_text, public_url=public_url)
        new = await enqueue(conn, n) or new
    return new
