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

The work is split by responsibility, each module small and pure: inbound_model (ParsedInbound, Verdict,
limits), inbound_parse (parse_message, html_to_text, strip_quoted), inbound_classify (classify,
message_ids, reply_token, auto-replies, opt-outs), inbound_bounce (delivery reports) and inbound_dates
(return_date). This module re-exports their public names, so callers import from here.
"""

from __future__ import annotations

from reactivation.inbound_classify import classify, core_text, message_ids, reply_token, word_count
from reactivation.inbound_dates import return_date
from reactivation.inbound_model import (
    KEPT_HEADERS,
    MAX_HEADER_CHARS,
    MAX_ID_HEADER_CHARS,
    MAX_RAW_BYTES,
    MAX_TEXT_CHARS,
    RETURN_HORIZON_DAYS,
    UNSUBSCRIBE_MAX_WORDS,
    ParsedInbound,
    Verdict,
)
from reactivation.inbound_parse import html_to_text, parse_message, strip_quoted

__all__ = [
    "KEPT_HEADERS", "MAX_HEADER_CHARS", "MAX_ID_HEADER_CHARS", "MAX_RAW_BYTES", "MAX_TEXT_CHARS", "RETURN_HORIZON_DAYS",
    "UNSUBSCRIBE_MAX_WORDS", "ParsedInbound", "Verdict", "classify", "core_text", "html_to_text", "message_ids",
    "parse_message", "reply_token", "return_date", "strip_quoted", "word_count",
]
