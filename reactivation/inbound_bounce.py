"""The bounce rule of the inbound classifier: delivery reports and failure notices.

Split out of reactivation/inbound_classify.py to keep each module small. RFC 3464 reports are judged by
their Status (5.x.x hard, 4.x.x soft, 2.x.x a success notice nobody wrote); other failure notices from
the mail system by the first code in their text, and a failure notice without any code is a hard bounce.
Pure and deterministic.
"""

from __future__ import annotations

import re
from datetime import date

from reactivation.inbound_model import ParsedInbound, Verdict
from reactivation.inbound_parse import _ENHANCED_CODE
from reactivation.vocabulary import InboundClass

_ADDRESS = re.compile(r"[A-Za-z0-9._%+\-=']{1,64}@[A-Za-z0-9.\-]{1,253}\.[A-Za-z]{2,24}")
_SMTP_CODE = re.compile(r"(?<![\d.])([45][0-5]\d)(?=[ -][^\d])")
_DAEMON_LOCALS = ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon", "mail-delivery-subsystem")
_FAILURE_SUBJECT = re.compile(
    r"^\s*(?:Undelivered Mail Returned to Sender|Delivery Status Notification \((?:Failure|Delay)\)"
    r"|Mail delivery failed|Undeliverable\s*:|Undelivered|Delivery (?:has )?failed|Returned mail"
    r"|Failure Notice|Mail System Error|Delivery Failure|Message not delivered|Address not found"
    r"|Unzustellbar|Non remis|Non distribuable|No se puede entregar|Delivery delayed|Mail delivery delayed"
    r"|Delayed Mail|Warning: (?:message|could not send))",
    re.IGNORECASE,
)
_DELAY_SUBJECT = re.compile(r"\(Delay\)|delayed|Delay notification|still being retried|Warning:", re.IGNORECASE)


def _is_delivery_report(message: ParsedInbound) -> bool:
    content_type = message.headers.get("content-type", "").lower()
    return message.report_status is not None or (
        "multipart/report" in content_type and "delivery-status" in content_type)


def _from_daemon(message: ParsedInbound) -> bool:
    local = (message.from_address or "").split("@", 1)[0]
    return local in _DAEMON_LOCALS or local.startswith("microsoftexchange")


def _sent_by_machine(message: ParsedInbound) -> bool:
    """A failure-notice subject alone could be a person's ("Undelivered parcel"): it counts when the mail
    system sent it (daemon sender, null Return-Path, Auto-Submitted) or a failure code is in the text."""
    return (_from_daemon(message) or message.headers.get("return-path", "").strip() == "<>"
            or bool(message.headers.get("auto-submitted")) or _code_in_text(message.text) is not None)


def _bounce_verdict(message: ParsedInbound, _: date) -> Verdict | None:
    """RFC 3464 reports by their Status; other failure notices by the first code in the text."""
    report = _is_delivery_report(message)
    failure_subject = _FAILURE_SUBJECT.match(message.subject) is not None and _sent_by_machine(message)
    if not (report or failure_subject or _from_daemon(message)):
        return None
    addresses = _failed_addresses(message)
    if message.report_status and message.report_status[0] in "45":
        return _by_code(message.report_status, addresses, f"delivery report (RFC 3464) Status {message.report_status}")
    if message.report_status:
        return Verdict(kind=InboundClass.auto_reply, status=message.report_status, addresses=addresses,
                       reason=f"A delivery report with success Status {message.report_status}: "
                              "not a failure and not a person.")
    code = _code_in_text(message.text)
    if code:
        return _by_code(code, addresses, f"failure notice from {message.from_address or 'the mail system'} "
                                         f"with code {code} in its text")
    if report or failure_subject:
        if _DELAY_SUBJECT.search(message.subject):
            return Verdict(kind=InboundClass.soft_bounce, addresses=addresses,
                           reason=f"Delay notice (subject {message.subject[:80]!r}); no status code was found.")
        return Verdict(kind=InboundClass.hard_bounce, addresses=addresses,
                       reason=f"Failure notice (subject {message.subject[:80]!r}); no status code was found, "
                              "so it is treated as permanent.")
    return None  # a mailer-daemon message that is no failure notice: left to the other rules


def _by_code(code: str, addresses: tuple[str, ...], source: str) -> Verdict:
    """5xx / 5.x.x is permanent (hard), 4xx / 4.x.x temporary (soft)."""
    hard = code.startswith("5")
    kind = InboundClass.hard_bounce if hard else InboundClass.soft_bounce
    return Verdict(kind=kind, status=code, addresses=addresses,
                   reason=f"{'Permanent' if hard else 'Temporary'} failure: {source}.")


def _code_in_text(text: str) -> str | None:
    """The first failure code (enhanced 4.x.x/5.x.x preferred, else a 4xx/5xx SMTP reply) in the text."""
    head = text[:20_000]
    for match in _ENHANCED_CODE.finditer(head):
        if match.group(1) in "45":
            return match.group(0)
    reply = _SMTP_CODE.search(head)
    return reply.group(1) if reply else None


def _failed_addresses(message: ParsedInbound) -> tuple[str, ...]:
    """The recipients that failed: the DSN's fields, else X-Failed-Recipients, else the addresses in the
    notice's own text (not in the returned copy, not ours, not the daemon's)."""
    if message.report_recipients:
        return message.report_recipients
    header = message.headers.get("x-failed-recipients", "")
    found = [a.lower() for a in _ADDRESS.findall(header)]
    if not found:
        ours = {message.from_address, *message.recipients}
        notice = _RETURNED_COPY.split(message.new_text[:5_000], maxsplit=1)[0]
        notice = _HEADER_LINE.sub("", notice)
        found = [a.lower() for a in _ADDRESS.findall(notice)
                 if a.lower() not in ours and a.split("@", 1)[0].lower() not in _DAEMON_LOCALS]
    return tuple(dict.fromkeys(found))[:10]


# Where a plain-text notice starts quoting the returned message, and header lines inside it: addresses
# there are ours or Message-IDs, not the failed recipient.
_RETURNED_COPY = re.compile(r"^.*(?:copy of the message|original message headers|original message follows"
                            r"|message headers follow).*$", re.IGNORECASE | re.MULTILINE)
_HEADER_LINE = re.compile(r"^\s*(?:message-id|from|return-path|references|in-reply-to|reply-to|sender)\s*:.*$",
                          re.IGNORECASE | re.MULTILINE)
