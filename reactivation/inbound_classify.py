"""Classifying a parsed inbound email (`classify`) and matching it to what we sent (`message_ids`,
`reply_token`).

Split out of reactivation/inbound_mail.py (which re-exports these names and states the rules in full) so
that the rules sit apart from parsing; the bounce rule is in reactivation/inbound_bounce.py and return
dates are read by reactivation/inbound_dates.py. First match wins: bounce, auto-reply, opt-out, then a
person's reply. Pure and deterministic: `today` is passed in.
"""

from __future__ import annotations

import re
from datetime import date

from reactivation.inbound_bounce import _bounce_verdict
from reactivation.inbound_dates import return_date
from reactivation.inbound_model import UNSUBSCRIBE_MAX_WORDS, ParsedInbound, Verdict
from reactivation.vocabulary import InboundClass

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
