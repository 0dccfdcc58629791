"""What an inbound email to our outreach is: a person's reply, an auto-reply, a bounce or an opt-out.

Pure and deterministic: bytes in, a `ParsedInbound` out (`parse_message`), then a `Verdict` with the
reason a person can read (`classify`). No network, database, clock or environment: `today` is passed in,
so the same message always gets the same verdict, in a workflow replay as in a test.

Rules, first match wins:
1. Delivery reports (RFC 3464 multipart/report, or the usual MAILER-DAEMON / postmaster notices): a 5.x.x
   status is a hard bounce, 4.x.x a soft one; a failure notice without any code is a hard bounce.
2. Auto-replies: RFC 3834 Auto-Submitted (not "no"), X-Autoreply / X-Autorespond, Precedence auto_reply
   (or bulk/junk with out-of-office text), or an out-of-office subject in English, German, French or
   Spanish. The date the person is back is read from the body when it can be.
3. Opt-outs: the new text (not the quoted history) is only an opt-out request. An opt-out phrase inside a
   longer message stays a human reply, flagged for the owner, never silently suppressed.
4. Everything else is a person's reply.
(A delivery report whose Status is 2.x.x, a success notice, is classed as an auto-reply: nobody wrote it.)

Mail is hostile input: parse_message never raises, and caps the bytes and the text it works on.
"""

from __future__ import annotations

import email
import html
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses, parseaddr
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict

from reactivation.plain_text import one_line
from reactivation.vocabulary import InboundClass

MAX_RAW_BYTES = 4_000_000  # a win-back reply is never this big; what follows is not parsed at all
MAX_TEXT_CHARS = 100_000
MAX_HEADER_CHARS = 2_000
MAX_ID_HEADER_CHARS = 50_000  # a long thread's References: the id we sent may be the last of hundreds
UNSUBSCRIBE_MAX_WORDS = 12
RETURN_HORIZON_DAYS = 180

# Raw headers kept on ParsedInbound (lower-cased names): the ones the rules read, and a few for the log.
KEPT_HEADERS = (
    "auto-submitted", "x-autoreply", "x-autorespond", "x-autoresponder", "precedence", "content-type",
    "x-ms-exchange-inbox-rules-loop", "x-auto-response-suppress", "x-failed-recipients", "list-id",
    "return-path", "x-ms-exchange-generated-message-source",
)


@dataclass(frozen=True)
class ParsedInbound:
    """The parts of an inbound email the classifier and the matching need, decoded and bounded."""

    message_id: str | None = None
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    from_address: str | None = None
    subject: str = ""
    text: str = ""
    new_text: str = ""
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    report_status: str | None = None
    report_recipients: tuple[str, ...] = ()
    original_message_id: str | None = None


class Verdict(BaseModel):
    """One inbound message's class, with the sentence that says which header, phrase or status decided."""

    model_config = ConfigDict(frozen=True)

    kind: InboundClass
    reason: str
    return_on: date | None = None
    needs_owner: bool = False
    status: str | None = None
    addresses: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------------- parsing

_MSGID = re.compile(r"<[^<>\s]{1,500}>")
_ADDRESS = re.compile(r"[A-Za-z0-9._%+\-=']{1,64}@[A-Za-z0-9.\-]{1,253}\.[A-Za-z]{2,24}")


def parse_message(raw: bytes) -> ParsedInbound:
    """`raw` as a ParsedInbound; garbage gives empty fields rather than an exception, because one broken
    message from the internet must not stop the mailbox poll."""
    try:
        return _parse(raw if isinstance(raw, bytes | bytearray) else bytes(raw or b""))
    except Exception:
        return ParsedInbound()


def _parse(raw: bytes) -> ParsedInbound:
    msg = email.message_from_bytes(bytes(raw[:MAX_RAW_BYTES]).replace(b"\x00", b""))
    text = _body_text(msg)[:MAX_TEXT_CHARS]
    status, report_recipients, original_id = _delivery_report(msg)
    return ParsedInbound(
        message_id=_first(_ids(_header(msg, "message-id"))),
        in_reply_to=_ids(_header(msg, "in-reply-to", MAX_ID_HEADER_CHARS)),
        references=_ids(_header(msg, "references", MAX_ID_HEADER_CHARS)),
        recipients=_recipients(msg),
        from_address=_bare_address(_header(msg, "from")),
        subject=_header(msg, "subject"),
        text=text,
        new_text=strip_quoted(text),
        headers=MappingProxyType({name: _header(msg, name) for name in KEPT_HEADERS if msg.get(name) is not None}),
        report_status=status,
        report_recipients=report_recipients,
        original_message_id=original_id,
    )


def _header(msg: Message, name: str, limit: int = MAX_HEADER_CHARS) -> str:
    """One header, RFC 2047-decoded, on one line, bounded: header injection (CR/LF) and junk flattened."""
    return _decode_header_value(msg.get(name), limit)


def _decode_header_value(value: object, limit: int = MAX_HEADER_CHARS) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = value[: limit * 4]
    try:
        text = "".join(_decode_chunk(chunk, charset) for chunk, charset in decode_header(str(value)))
    except Exception:
        text = str(value)
    return one_line(text[: limit * 4])[:limit]


def _decode_chunk(chunk: bytes | str, charset: str | None) -> str:
    """One decoded-word (or raw 8-bit) chunk as text: raw 8-bit headers are UTF-8 from most clients today,
    Latin-1 from the rest; an unknown charset falls back the same way."""
    if isinstance(chunk, str):
        return chunk
    if charset and charset != "unknown-8bit":
        try:
            return chunk.decode(charset, errors="replace")
        except (LookupError, ValueError):
            pass
    try:
        return chunk.decode("utf-8")
    except UnicodeDecodeError:
        return chunk.decode("latin-1")


def _first(values: tuple[str, ...]) -> str | None:
    return values[0] if values else None


def _ids(value: str) -> tuple[str, ...]:
    """Message ids in a header, in order, de-duplicated; bare ids (no angle brackets) are bracketed."""
    found = _MSGID.findall(value)
    if not found:
        found = [f"<{token.strip('<>,;')}>" for token in value.split() if "@" in token]
    return tuple(dict.fromkeys(found))


def _bare_address(value: str) -> str | None:
    address = parseaddr(value)[1].strip().lower()
    return address if "@" in address else None


def _recipients(msg: Message) -> tuple[str, ...]:
    values = [_decode_header_value(v) for name in ("to", "cc", "delivered-to", "x-original-to")
              for v in (msg.get_all(name) or [])]
    addresses = (address.strip().lower() for _, address in getaddresses(values))
    return tuple(dict.fromkeys(a for a in addresses if "@" in a))


def _walk_own_parts(msg: Message, depth: int = 0) -> Iterator[Message]:
    """The message's parts, not descending into attached messages (a returned original is not our text)."""
    yield msg
    if depth > 20 or not msg.is_multipart() or msg.get_content_type().startswith("message/"):
        return
    for part in msg.get_payload() or []:
        if isinstance(part, Message):
            yield from _walk_own_parts(part, depth + 1)


def _decoded_payload(part: Message) -> str:
    """The part's payload as text, whatever the transfer encoding and charset claim."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload[: MAX_TEXT_CHARS * 4].decode(charset, errors="replace")
    except (LookupError, ValueError):
        return payload[: MAX_TEXT_CHARS * 4].decode("utf-8", errors="replace")


def _body_text(msg: Message) -> str:
    """The first text/plain part not marked as an attachment, else the first text/html, stripped."""
    html_part = None
    for part in _walk_own_parts(msg):
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        content_type = part.get_content_type()
        if content_type == "text/plain":
            return _clean_text(_decoded_payload(part))
        if content_type == "text/html" and html_part is None:
            html_part = part
    return _clean_text(html_to_text(_decoded_payload(html_part))) if html_part is not None else ""


_BODY_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean_text(text: str) -> str:
    return _BODY_CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))[:MAX_TEXT_CHARS]


_HTML_DROP = re.compile(r"<(script|style|head)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_HTML_BREAK = re.compile(r"<(br|/p|/div|/tr|/li|/h\d|/blockquote)\b[^>]*>", re.IGNORECASE)
_HTML_QUOTE = re.compile(r"<blockquote\b[^>]*>", re.IGNORECASE)
_HTML_TAG = re.compile(r"<[^>]{0,2000}>")


def html_to_text(markup: str) -> str:
    """Readable text of an HTML body; a blockquote becomes "> " lines so quoting rules still apply."""
    markup = _HTML_DROP.sub(" ", markup[: MAX_TEXT_CHARS * 4])
    parts = re.split(r"(<blockquote\b[^>]*>|</blockquote\s*>)", markup, flags=re.IGNORECASE)
    out, depth = [], 0
    for chunk in parts:
        if _HTML_QUOTE.fullmatch(chunk):
            depth += 1
            continue
        if re.fullmatch(r"</blockquote\s*>", chunk, re.IGNORECASE):
            depth = max(0, depth - 1)
            continue
        text = html.unescape(_HTML_TAG.sub("", _HTML_BREAK.sub("\n", chunk)))
        if depth:
            text = "\n".join("> " + line for line in text.split("\n"))
        out.append(text)
    lines = (line.strip() for line in "".join(out).split("\n"))
    return "\n".join(line for line in lines if line)


# --- quoted history

_QUOTE_HEADER_ONE_LINE = re.compile(
    r"^\s*(?:"
    r"On\s.{1,300}\swrote\s*:"                          # Gmail / Apple Mail (EN)
    r"|Am\s.{1,300}\sschrieb.{0,200}:"                  # German
    r"|Le\s.{1,300}\sa\s[ée]crit\s*:"                   # French
    r"|El\s.{1,300}\sescribi[óo].{0,100}:"              # Spanish
    r"|-{2,}\s*(?:Original Message|Urspr[üu]ngliche Nachricht|Message d'origine|Mensaje original"
    r"|Forwarded message|Исходное сообщение)\s*-{2,}"
    r"|_{10,}"                                          # Outlook web's rule before the From: block
    r"|.{0,200}<[^<>@\s]+@[^<>\s]+>\s*(?:wrote|schrieb|a écrit|escribió|написал[а]?)?\s*:"  # any "<addr>:"
    r")\s*$",
    re.IGNORECASE,
)
_OUTLOOK_FROM = re.compile(r"^\s*\*?(?:From|Von|De|От)\s?\*?\s?:", re.IGNORECASE)
_OUTLOOK_SENT = re.compile(r"^\s*\*?(?:Sent|Date|Gesendet|Datum|Envoy[ée]|Enviado|Fecha|Отправлено)\s?\*?\s?:",
                           re.IGNORECASE)


def strip_quoted(text: str) -> str:
    """`text` without the quoted history: everything from the first "On ... wrote:" (or its German,
    French, Spanish forms, an Outlook "Original Message" rule or "From: ... Sent:" block) on, and any
    line starting with ">". What is left is what the person wrote this time."""
    lines = text.split("\n")
    kept = []
    for index, line in enumerate(lines):
        if _starts_history(lines, index):
            break
        if not line.lstrip().startswith(">"):
            kept.append(line)
    return "\n".join(kept).strip()


def _starts_history(lines: list[str], index: int) -> bool:
    line = lines[index]
    if len(line) > 600:
        return False
    if _QUOTE_HEADER_ONE_LINE.match(line):
        return True
    following = lines[index + 1] if index + 1 < len(lines) else ""
    # Gmail wraps long attributions: "On Tue, 1 Dec 2026 at 10:00, Anna Berg <anna@x>\nwrote:"
    if following.strip().lower() in ("wrote:", "schrieb:", "a écrit :", "a écrit:", "escribió:") and \
            len(following) < 40:
        return True
    if _OUTLOOK_FROM.match(line):
        return any(_OUTLOOK_SENT.match(later) for later in lines[index + 1: index + 4])
    return False


# --- delivery reports

def _delivery_report(msg: Message) -> tuple[str | None, tuple[str, ...], str | None]:
    """(first per-recipient Status, Final/Original-Recipient addresses, returned original's Message-ID)."""
    status, recipients, original_id = None, [], None
    for part in _walk_own_parts(msg):
        content_type = part.get_content_type()
        if content_type == "message/delivery-status":
            part_status, part_recipients = _delivery_status_fields(part)
            status = status or part_status
            recipients.extend(part_recipients)
        elif content_type == "message/rfc822" and original_id is None:
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                original_id = _first(_ids(_header(inner[0], "message-id")))
        elif content_type == "text/rfc822-headers" and original_id is None:
            headers = email.message_from_string(_decoded_payload(part)[:MAX_TEXT_CHARS])
            original_id = _first(_ids(_header(headers, "message-id")))
    return status, tuple(dict.fromkeys(recipients)), original_id


_FIELD = re.compile(r"^(Status|Final-Recipient|Original-Recipient)\s*:\s*(.*)$", re.IGNORECASE | re.MULTILINE)


def _delivery_status_fields(part: Message) -> tuple[str | None, list[str]]:
    """Status and recipient fields of a message/delivery-status part, whether the email package parsed
    it into blocks (it usually does) or left it as text."""
    payload = part.get_payload()
    if isinstance(payload, list):
        text = "\n".join(str(block) for block in payload if isinstance(block, Message))
    else:
        text = _decoded_payload(part) or str(payload or "")
    status, recipients = None, []
    for name, value in _FIELD.findall(text[:MAX_TEXT_CHARS]):
        value = one_line(value)
        if name.lower() == "status":
            code = _ENHANCED_CODE.search(value)
            status = status or (code.group(0) if code else None)
        else:
            address = value.split(";", 1)[-1].strip().strip("<>").lower()
            if "@" in address:
                recipients.append(address)
    return status, recipients


# ---------------------------------------------------------------------------------------------- matching

def message_ids(message: ParsedInbound) -> tuple[str, ...]:
    """Every Message-ID this message points back to (In-Reply-To, References, a DSN's returned original),
    de-duplicated, to match against the Message-IDs we sent."""
    ids = [*message.in_reply_to, *message.references]
    if message.original_message_id:
        ids.append(message.original_message_id)
    return tuple(dict.fromkeys(ids))


def reply_token(message: ParsedInbound, reply_local: str) -> str | None:
    """The token of the first recipient shaped like `{reply_local}+<token>@domain` (the local part compared
    case-insensitively), else None: plus-addressing survives clients that drop In-Reply-To."""
    prefix = f"{reply_local.lower()}+"
    for address in message.recipients:
        local = address.rsplit("@", 1)[0].lower()
        if local.startswith(prefix) and len(local) > len(prefix):
            return address.rsplit("@", 1)[0][len(prefix):]
    return None


# ---------------------------------------------------------------------------------------------- classify

_ENHANCED_CODE = re.compile(r"(?<![\d.])([245])\.\d{1,3}\.\d{1,3}(?![\d]|\.\d)")
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


def classify(message: ParsedInbound, today: date) -> Verdict:
    """The message's class and the reason; the first rule that matches decides (bounce, auto-reply,
    opt-out, then a person's reply), so the order is the policy."""
    for rule in (_bounce_verdict, _auto_reply_verdict, _unsubscribe_verdict):
        verdict = rule(message, today)
        if verdict is not None:
            return verdict
    return Verdict(kind=InboundClass.human_reply,
                   reason="A person's reply: no auto-reply header or subject, not a delivery report, "
                          "not an opt-out request.")


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


# --- auto-replies

_REPLY_PREFIX = re.compile(r"^\s*(?:re|aw|wg|fw|fwd|tr|rv|sv|vs|antw|réf|ref|ответ)\s*(?:\[\d+\])?\s*:",
                           re.IGNORECASE)
_OOO_SUBJECT = re.compile(
    r"^\s*\[?(?:Out of (?:the )?Office|Automatic reply|Auto(?:matic)?[- ]?Reply|Autoreply|Auto[- ]?Response"
    r"|I am out of the office|I'm out of the office|On vacation|On leave|Away from (?:the )?office"
    r"|Abwesenheitsnotiz|Automatische Antwort|Nicht im Büro|Abwesenheit|Abwesend"
    r"|Réponse automatique|R[ée]ponse automatique|Absence du bureau|Absent du bureau|Absent\b|En cong[ée]s?"
    r"|Respuesta automática|Respuesta automatica|Fuera de la oficina|Fuera de oficina|Ausente"
    r"|自動応答|自動返信|不在|Автоматический ответ|Автоответ|Нет на месте|Вне офиса)",
    re.IGNORECASE,
)
_OOO_TEXT = re.compile(
    r"out of (?:the )?office|on vacation|on holiday|on leave|away from (?:the|my) (?:office|desk)"
    r"|limited access to (?:my )?e-?mail|nicht im Büro|abwesend|im Urlaub|absent du bureau|en congés?"
    r"|fuera de la oficina|de vacaciones|automatic reply|automatische Antwort|réponse automatique"
    r"|respuesta automática",
    re.IGNORECASE,
)


def _auto_reply_verdict(message: ParsedInbound, today: date) -> Verdict | None:
    reason = _auto_reply_reason(message)
    if reason is None:
        return None
    return_on = return_date(message.new_text or message.text, today)
    when = f" back on {return_on.isoformat()}" if return_on else " no return date could be read"
    return Verdict(kind=InboundClass.auto_reply, return_on=return_on, reason=f"{reason};{when}.")


def _auto_reply_reason(message: ParsedInbound) -> str | None:
    """Which header or subject makes this an automatic answer, or None for a person."""
    headers = message.headers
    submitted = headers.get("auto-submitted", "").strip().lower()
    if submitted and not submitted.startswith("no"):
        return f"Auto-Submitted: {submitted[:40]} (RFC 3834)"
    for name in ("x-autoreply", "x-autorespond", "x-autoresponder"):
        value = headers.get(name, "").strip().lower()
        if name in headers and value not in ("no", "false", "0"):
            return f"{name} header present"
    precedence = headers.get("precedence", "").strip().lower()
    if precedence == "auto_reply":
        return "Precedence: auto_reply"
    ooo_subject = _OOO_SUBJECT.match(message.subject) is not None and not _REPLY_PREFIX.match(message.subject)
    if precedence in ("bulk", "junk", "list") and (ooo_subject or _OOO_TEXT.search(message.new_text[:3_000])):
        return f"Precedence: {precedence} with out-of-office text"
    if ooo_subject:
        exchange = [n for n in ("x-ms-exchange-inbox-rules-loop", "x-auto-response-suppress") if n in headers]
        extra = f" (with {', '.join(exchange)})" if exchange else ""
        return f"out-of-office subject {message.subject[:80]!r}{extra}"
    return None


# --- return dates

_MONTHS = {
    **dict.fromkeys(("january", "jan", "januar", "jänner", "janvier", "janv", "enero", "ene"), 1),
    **dict.fromkeys(("february", "feb", "februar", "février", "fevrier", "févr", "fevr", "febrero"), 2),
    **dict.fromkeys(("march", "mar", "märz", "maerz", "mär", "mars", "marzo"), 3),
    **dict.fromkeys(("april", "apr", "avril", "avr", "abril", "abr"), 4),
    **dict.fromkeys(("may", "mai", "mayo"), 5),
    **dict.fromkeys(("june", "jun", "juni", "juin", "junio"), 6),
    **dict.fromkeys(("july", "jul", "juli", "juillet", "juil", "julio"), 7),
    **dict.fromkeys(("august", "aug", "août", "aout", "agosto", "ago"), 8),
    **dict.fromkeys(("september", "sep", "sept", "septembre", "septiembre", "setiembre"), 9),
    **dict.fromkeys(("october", "oct", "oktober", "okt", "octobre", "octubre"), 10),
    **dict.fromkeys(("november", "nov", "novembre", "noviembre"), 11),
    **dict.fromkeys(("december", "dec", "dezember", "dez", "décembre", "decembre", "déc", "diciembre", "dic"), 12),
}
_MONTH = "(" + "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True)) + r")\b\.?"
_DAY_MONTH = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th|er|ᵉʳ)?\.?\s+(?:of\s+|de\s+)?" + _MONTH
                        + r"(?:,?\s+(?:de\s+)?(\d{4}))?", re.IGNORECASE)
_MONTH_DAY = re.compile(r"\b" + _MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(\d{4}))?", re.IGNORECASE)
_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_NUMERIC = re.compile(r"(?<![\d./-])(\d{1,2})([./-])(\d{1,2})(?:\2(\d{4}|\d{2}))?(?![\d/-]|\.\d)")
_STRONG_BEFORE = re.compile(
    r"(?:\bback\b|\breturn\w*|\buntil\b|\btill\b|\bthrough\b|\bzurück\b|\bbis\b|\bwieder\b|\bjusqu|\bretour\b"
    r"|\brevien\w*|\bhasta\b|\bregres\w*|\bvuelta\b|\bvolver\w*|\bab\b|\bpartir\b|\bdès\b)",
    re.IGNORECASE,
)
_ROMANCE_OR_GERMAN = re.compile(r"\b(?:bis|zurück|wieder|jusqu|retour|hasta|regreso|vuelta|de|le|la|el|des|der|die)\b",
                                re.IGNORECASE)


def return_date(text: str, today: date) -> date | None:
    """The date an out-of-office says the person is back: the latest plausible date (today .. today+180
    days) written near a back/return/until word in English, German, French or Spanish; None if none."""
    head = text[:5_000]
    best = None
    for position, end, candidates in _dates_in(head, today):
        before = head[max(0, position - 60):position]
        after = head[end:end + 40]
        near = _STRONG_BEFORE.search(before) or re.search(r"\bwieder\b|\bzurück\b", after, re.IGNORECASE)
        if not near:
            continue
        for candidate in candidates:
            if today <= candidate <= today + timedelta(days=RETURN_HORIZON_DAYS):
                best = candidate if best is None else max(best, candidate)
                break
    return best


def _dates_in(text: str, today: date) -> Iterator[tuple[int, int, list[date]]]:
    """(start, end, readings) of every date in the text; a numeric a/b date may have two readings, the
    likelier first (day-first in German/French/Spanish text, month-first in English)."""
    day_first = _ROMANCE_OR_GERMAN.search(text) is not None
    for match in _ISO.finditer(text):
        yield match.start(), match.end(), _valid([(int(match[1]), int(match[2]), int(match[3]))])
    for match in _DAY_MONTH.finditer(text):
        yield match.start(), match.end(), _resolve(int(match[1]), _MONTHS[match[2].lower()], match[3], today)
    for match in _MONTH_DAY.finditer(text):
        yield match.start(), match.end(), _resolve(int(match[2]), _MONTHS[match[1].lower()], match[3], today)
    for match in _NUMERIC.finditer(text):
        first, separator, second, year = int(match[1]), match[2], int(match[3]), match[4]
        if separator == "-" and year is None:
            continue  # "1-2" is a range, not a date
        if separator == "." or first > 12 or (day_first and second <= 12):
            readings = [(first, second)]
        else:
            readings = [(second, first)]  # English and ambiguous: month/day, the US form
        dates = [d for day, month in readings for d in _resolve(day, month, year, today)]
        yield match.start(), match.end(), dates


def _resolve(day: int, month: int, year: str | None, today: date) -> list[date]:
    """A day and month (and maybe a year) as a date; without a year, the next such date on or after today."""
    if year is not None:
        full = int(year) + (2000 if len(year) == 2 else 0)
        return _valid([(full, month, day)])
    this_year = _valid([(today.year, month, day)])
    if this_year and this_year[0] >= today:
        return this_year
    return _valid([(today.year + 1, month, day)])


def _valid(parts: Iterable[tuple[int, int, int]]) -> list[date]:
    out = []
    for year, month, day in parts:
        try:
            out.append(date(year, month, day))
        except ValueError:
            continue
    return out


# --- opt-outs

# An opt-out anywhere in a message: what flags a longer reply for the owner.
_OPT_OUT_STRONG = re.compile(
    r"\b(?:unsubscribe\w*|remove (?:me|us|my|our)\b|take (?:me|us) off|opt(?:[- ]?out|ing out)"
    r"|stop (?:sending|e-?mailing|contacting|writing|messaging|spamming)|no more (?:e-?mails?|messages)"
    r"|do not (?:e-?mail|contact)|don'?t (?:e-?mail|contact)|abmelden|abbestellen|austragen"
    r"|nicht mehr (?:kontaktieren|anschreiben)|désabonne\w*|desabonne\w*|désinscri\w*|desinscri\w*"
    r"|ne plus recevoir|darme de baja|dar(?:nos)? de baja|de baja|no me (?:envíen|envien|escriban)"
    r"|cancelar (?:la )?suscripci[óo]n|отписаться|отпишите|配信停止|購読解除)",
    re.IGNORECASE,
)
# Words that are an opt-out only when they are (nearly) the whole message: "STOP", "Baja", "remove".
_OPT_OUT_BARE = re.compile(
    r"\b(?:stopp?\b(?=\s*(?:[.!,;]|$|please|bitte|now|it\b|thanks|thank))|unsub\b|baja\b"
    r"|remove\b(?=\s*(?:[.!]|$|from\b|this\b))|retirez-moi|supprimez-moi|raus\b|list(?:e)? entfernen)",
    re.IGNORECASE,
)


def _opt_out_phrase(text: str) -> re.Match[str] | None:
    return _OPT_OUT_STRONG.search(text) or _OPT_OUT_BARE.search(text)


_SIGNATURE_START = re.compile(
    r"^\s*(?:--\s*|__+|Sent from my \w+|Get Outlook for \w+|Gesendet von meinem \w+|Von meinem \w+ gesendet"
    r"|Envoyé de mon \w+|Enviado desde mi \w+|Отправлено с \w+"
    r"|(?:thanks|thank you|thx|regards|best|best regards|kind regards|cheers|sincerely|danke|vielen dank"
    r"|mit freundlichen grüßen|viele grüße|beste grüße|gruß|grüße|lg|vg|mfg|merci|cordialement|bien à vous"
    r"|gracias|saludos|un saludo|atentamente|спасибо|с уважением)\s*(?:[,.!]\s*(?:\S+\s*){0,2})?)$",
    re.IGNORECASE,
)
_GREETING = re.compile(
    r"^\s*(?:hi|hello|hey|dear|hallo|guten tag|sehr geehrte\w*|liebe\w*|bonjour|salut|madame|monsieur"
    r"|hola|estimad\w+|buenos días|здравствуйте|добрый день)\b[^.!?\n]{0,40}[,!:]?\s*$",
    re.IGNORECASE,
)


def _unsubscribe_verdict(message: ParsedInbound, _: date) -> Verdict | None:
    """Only an opt-out request -> unsubscribe; an opt-out phrase in a longer message -> the owner looks."""
    body = core_text(message.new_text)
    subject = _REPLY_PREFIX.sub("", message.subject).strip()
    words = word_count(body)
    if words == 0 and subject and word_count(subject) <= 4 and _opt_out_phrase(subject):
        return Verdict(kind=InboundClass.unsubscribe,
                       reason=f"An empty message whose subject {subject[:60]!r} asks to opt out.")
    phrase = _opt_out_phrase(body)
    if phrase and 0 < words <= UNSUBSCRIBE_MAX_WORDS:
        return Verdict(kind=InboundClass.unsubscribe,
                       reason=f"The new text is only an opt-out request ({phrase.group(0)!r}, "
                              f"{words} word{'' if words == 1 else 's'}).")
    strong = _OPT_OUT_STRONG.search(body)
    if strong:
        return Verdict(kind=InboundClass.human_reply, needs_owner=True,
                       reason=f"A person's reply ({words} words) that contains {strong.group(0)!r}: it may be "
                              "an unsubscribe request, so the owner is asked to look.")
    return None


def core_text(new_text: str) -> str:
    """The new text without greeting lines and without the sign-off and signature (from "Thanks," or
    "-- " on): what the opt-out word count is taken over."""
    kept: list[str] = []
    for line in new_text[:20_000].split("\n"):
        if _SIGNATURE_START.match(line):
            if kept:
                break
            continue
        if not kept and _GREETING.match(line):
            continue
        if line.strip():
            kept.append(line.strip())
    return "\n".join(kept)


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def word_count(text: str) -> int:
    """Words in `text`; a run of CJK characters (no spaces between words) counts one word per 3 characters."""
    count = 0
    for token in re.findall(r"\w+", text):
        cjk = len(_CJK.findall(token))
        count += 1 + (cjk - 1) // 3 if cjk else 1
    return count
