"""What owners and admins hear about, composed as plain text (email) and Slack text. Pure: no I/O, no clock.

Account names come from the CRM and reply text from customers: both are untrusted. Anything that reaches a
subject is made one line (`one_line`: no CR/LF/NUL can start a header of its own) and capped; bodies drop
control characters and are capped too, so a 1 MB name cannot make a 1 MB email. Slack text escapes `&`, `<`
and `>` so a name cannot become a link or an `<!channel>` mention. A notification carries only what its
recipient may see: a digest is built from one owner's accounts, and Slack text of a reply carries no
customer words (a webhook posts to a shared channel).

Each notification has a deterministic key (the outbox's primary key and the `owner_notified` ledger
event id), so it is enqueued and sent once per (account, episode, kind); a digest once per (owner, day);
a reply once per inbound message.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, timedelta
from enum import StrEnum
from urllib.parse import quote

from pydantic import BaseModel

from reactivation.plain_text import one_line
from reactivation.vocabulary import NotificationKind

DIGEST_TOP = 5
SUBJECT_NAME_CHARS = 80  # an account name in a subject
SUBJECT_CHARS = 200
LINE_CHARS = 300  # a name, a next step or a sender in a body line
REPLY_EXCERPT_CHARS = 500
KEY_PART_CHARS = 120  # longer key parts are hashed so a key stays short and unique
_BODY_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")  # Cc except tab and LF


class NotifySetting(StrEnum):
    """`owners.notify`: what an owner chooses to hear (escalations to admins are never silenced)."""

    all = "all"
    digest = "digest"  # only the daily digest
    none = "none"


class NotificationStatus(StrEnum):
    """`owner_notifications.status`."""

    pending = "pending"
    sending = "sending"  # claimed by a dispatch; nothing handed to SMTP yet
    handing_off = "handing_off"  # inside SMTP DATA: the server may have it, so never resent
    sent = "sent"
    skipped_quiet = "skipped_quiet"  # the recipient's notify setting says no
    failed = "failed"


class Notification(BaseModel):
    key: str
    kind: NotificationKind
    recipient: str
    account_id: str | None = None
    episode: str | None = None
    subject: str
    body: str
    slack_text: str | None = None


class WaitingAccount(BaseModel):
    """One account waiting for its owner's decision, as the digest lists it."""

    account_id: str
    name: str
    account_value: float | None = None
    currency: str = ""
    stage: str
    recommended_next_step: str = ""
    priority: float | None = None


class ReviewAlert(BaseModel):
    """A review that waited too long (a `reminder_sent` or `escalated` ledger row), with what to say."""

    account_id: str
    episode: str
    name: str
    owner_email: str | None = None
    waiting_since: datetime | None = None


class NotifyCounts(BaseModel):
    """What one run of the notifications workflow did (its result, visible in Temporal UI)."""

    enqueued: int = 0
    sent: int = 0
    skipped_quiet: int = 0
    failed: int = 0
    retry: int = 0


def allowed(kind: NotificationKind, setting: str | None) -> bool:
    """Whether the recipient's notify setting lets this kind through. Escalations always go: they are the
    safety net for an owner who went quiet."""
    if kind == NotificationKind.escalation:
        return True
    choice = NotifySetting(setting) if setting in {s.value for s in NotifySetting} else NotifySetting.all
    return choice == NotifySetting.all or (choice == NotifySetting.digest and kind == NotificationKind.digest)


def notification_key(kind: NotificationKind, *parts: str) -> str:
    """`notify/<kind>/<part>/...`, each part percent-quoted (an id holding `/` cannot collide with another)
    and hashed when long."""
    def part(value: str) -> str:
        quoted = quote(value, safe="@")
        return quoted if len(quoted) <= KEY_PART_CHARS else hashlib.sha256(value.encode()).hexdigest()[:32]
    return "/".join(["notify", kind.value, *(part(p) for p in parts)])


def account_url(public_url: str, account_id: str) -> str:
    """The account's review page (api/web/pages.py: GET /review/accounts/{account_id})."""
    return f"{public_url.rstrip('/')}/review/accounts/{quote(account_id, safe='')}"


def cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def line(text: str | None, limit: int = LINE_CHARS) -> str:
    """Untrusted text as one capped line: safe in a subject, a body line or Slack."""
    return cap(one_line(text), limit)


def body_text(text: str | None, limit: int) -> str:
    """Untrusted multi-line text for a body: CRLF/CR become LF, other control characters go, capped."""
    cleaned = _BODY_CONTROL.sub("", (text or "").replace("\r\n", "\n").replace("\r", "\n"))
    return cap(cleaned.strip(), limit)


def slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_link(url: str, label: str) -> str:
    return f"<{url}|{slack_escape(label)}>"


def money(value: float | None, currency: str = "") -> str:
    return "value unknown" if value is None else f"{value:,.0f} {line(currency, 8)}".strip()


def waited(since: datetime | None, now: datetime) -> str:
    """How long a review waited, for people: days, else hours."""
    if since is None:
        return "an unknown time"
    span = max(now - since, timedelta(0))
    if span >= timedelta(days=1):
        days = span.days
        return f"{days} day{'s' if days != 1 else ''}"
    hours = int(span.total_seconds() // 3600)
    return f"{hours} hour{'s' if hours != 1 else ''}"


def _footer(public_url: str) -> str:
    return (f"\n\n--\nSent by dormant-outreach ({public_url.rstrip('/')}/review). "
            "Your notification setting decides what you receive: all, digest or none.")


def digest(owner: str, day: date, total: int, top: list[WaitingAccount], public_url: str) -> Notification:
    """The daily digest for one owner: how many accounts wait for them, the first five by priority.
    `top` must hold only this owner's accounts (the query selects by owner)."""
    shown = top[:DIGEST_TOP]
    plural = "s" if total != 1 else ""
    subject = f"{total} account{plural} waiting for your review ({day.isoformat()})"
    lines, slack = [], []
    for n, acc in enumerate(shown, 1):
        url = account_url(public_url, acc.account_id)
        name = line(acc.name, 120) or acc.account_id
        step = line(acc.recommended_next_step) or "review the draft"
        lines.append(f"{n}. {name} - {money(acc.account_value, acc.currency)} - {acc.stage}\n"
                     f"   Next step: {step}\n   {url}")
        slack.append(f"{n}. {slack_link(url, name)} - {slack_escape(money(acc.account_value, acc.currency))} - "
                     f"{acc.stage}: {slack_escape(step)}")
    more = f"\n\n... and {total - len(shown)} more in your queue: {public_url.rstrip('/')}/review/queue" \
        if total > len(shown) else ""
    body = (f"{total} account{plural} wait{'' if plural else 's'} for your decision. "
            f"The first {len(shown)} by priority:\n\n" + "\n\n".join(lines) + more + _footer(public_url))
    slack_text = f"*{slack_escape(subject)}* for {slack_escape(owner)}\n" + "\n".join(slack)
    return Notification(key=notification_key(NotificationKind.digest, owner.lower(), day.isoformat()),
                        kind=NotificationKind.digest, recipient=owner, subject=subject, body=body,
                        slack_text=slack_text)


def reminder(alert: ReviewAlert, recipient: str, public_url: str, now: datetime) -> Notification:
    """To the owner: a review of theirs waited past DORMANT_REVIEW_REMINDER_AFTER."""
    name = line(alert.name, SUBJECT_NAME_CHARS) or line(alert.account_id, SUBJECT_NAME_CHARS)
    url = account_url(public_url, alert.account_id)
    how_long = waited(alert.waiting_since, now)
    subject = cap(f"Reminder: {name} has waited {how_long} for your review", SUBJECT_CHARS)
    body = (f"The outreach to {line(alert.name) or alert.account_id} has waited {how_long} for your decision.\n"
            f"Approve, hold, redraft or close it here:\n{url}\n\n"
            "If it keeps waiting, it is escalated to the admins." + _footer(public_url))
    slack_text = f"Reminder for {slack_escape(recipient)}: {slack_link(url, name)} has waited {how_long} for review."
    return Notification(key=notification_key(NotificationKind.reminder, alert.account_id, alert.episode),
                        kind=NotificationKind.reminder, recipient=recipient, account_id=alert.account_id,
                        episode=alert.episode, subject=subject, body=body, slack_text=slack_text)


def escalations(alert: ReviewAlert, admins: list[str], public_url: str, now: datetime) -> list[Notification]:
    """To every admin: a review waited past DORMANT_REVIEW_ESCALATE_AFTER; names the owner and how long."""
    name = line(alert.name, SUBJECT_NAME_CHARS) or line(alert.account_id, SUBJECT_NAME_CHARS)
    owner = line(alert.owner_email, 120) or "no owner"
    url = account_url(public_url, alert.account_id)
    how_long = waited(alert.waiting_since, now)
    subject = cap(f"Escalation: {name} has waited {how_long} for {owner}", SUBJECT_CHARS)
    body = (f"The outreach to {line(alert.name) or alert.account_id} has waited {how_long} for a decision by "
            f"its owner, {owner}, past the reminder.\nReview it or reassign the account:\n{url}"
            + _footer(public_url))
    slack_text = (f"Escalation: {slack_link(url, name)} has waited {how_long} for "
                  f"{slack_escape(owner)}.")
    return [Notification(key=notification_key(NotificationKind.escalation, alert.account_id, alert.episode,
                                               admin.lower()),
                         kind=NotificationKind.escalation, recipient=admin, account_id=alert.account_id,
                         episode=alert.episode, subject=subject, body=body, slack_text=slack_text)
            for admin in admins]


def reply(*, account_id: str, episode: str, inbound_message_id: str, recipient: str, account_name: str,
          from_address: str, subject: str, new_text: str, public_url: str) -> Notification:
    """To the owner (or an admin when the account has none): the customer answered. The Slack text names
    the account and links to it, without the customer's words."""
    name = line(account_name, SUBJECT_NAME_CHARS) or line(account_id, SUBJECT_NAME_CHARS)
    sender = line(from_address, 120) or "the customer"
    url = account_url(public_url, account_id)
    excerpt = body_text(new_text, REPLY_EXCERPT_CHARS) or "(no text)"
    body = (f"{sender} replied about {line(account_name) or account_id}.\n"
            f"Subject: {line(subject) or '(none)'}\n\n{excerpt}\n\n"
            f"The sequence has stopped. Open the account:\n{url}" + _footer(public_url))
    return Notification(
        key=notification_key(NotificationKind.reply, account_id, episode, inbound_message_id, recipient.lower()),
        kind=NotificationKind.reply, recipient=recipient, account_id=account_id, episode=episode,
        subject=cap(f"{name} replied: {line(subject, 100) or '(no subject)'}", SUBJECT_CHARS), body=body,
        slack_text=f"{slack_link(url, name)} replied (for {slack_escape(recipient)}). Read it on the review page.")
