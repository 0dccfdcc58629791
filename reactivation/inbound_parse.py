"""Parsing an inbound email: bytes in, a bounded and decoded `ParsedInbound` out.

Split out of reactivation/inbound_mail.py (which re-exports `parse_message`, `html_to_text` and
`strip_quoted`) so that reading MIME, RFC 2047 headers, HTML bodies, quoted history and delivery reports
sits apart from the rules that classify the result. Mail is hostile input: parse_message never raises,
and caps the bytes and the text it works on. Pure: no network, database, clock or environment.
"""

from __future__ import annotations

import email
import html
import re
from collections.abc import Iterator
from email.header import Header, decode_header
from email.message import Message
from email.utils import getaddresses, parseaddr
from types import MappingProxyType

from reactivation.inbound_model import (
    KEPT_HEADERS,
    MAX_HEADER_CHARS,
    MAX_ID_HEADER_CHARS,
    MAX_RAW_BYTES,
    MAX_TEXT_CHARS,
    ParsedInbound,
)
from reactivation.plain_text import one_line

_MSGID = re.compile(r"<[^<>\s]{1,500}>")
_ENHANCED_CODE = re.compile(r"(?<![\d.])([245])\.\d{1,3}\.\d{1,3}(?![\d]|\.\d)")


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
        text = "".join(_decode_chunk(chunk, charset) for chunk, charset in decode_header(value if isinstance(value, Header) else str(value)))
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
