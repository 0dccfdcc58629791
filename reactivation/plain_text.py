"""What counts as one line of plain text, in one place for the drafter, guardrails, API and SMTP sender.

A subject becomes an email header. A line break in it ends the header: the email library refuses it at
send time (a failure no retry can fix) or, worse, the rest becomes a header of its own. Other control
characters (NUL, BEL, ...) are refused by providers or shown as garbage. CRM fields are typed by people
and imported from spreadsheets, so names and ticket subjects can carry line breaks: the drafter makes
them one line before placing them in a subject or greeting, and whatever still carries such characters
is flagged before review (guardrails), refused where it enters (the decision API) or failed for good
at send time (SMTP), never sent.

Control characters are Unicode category Cc: U+0000-U+001F and U+007F-U+009F (NEL, U+0085, among them).
U+2028 and U+2029 are the line and paragraph separators. Everything else, any script, is plain text.
"""

from __future__ import annotations

import re

# Cc plus the Unicode line and paragraph separators: nothing of this belongs in a header.
_HEADER_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Cc except tab and line feed: what a body may not carry (CR included: line breaks are written as LF).
_BODY_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BODY_UNSAFE_CR_OK = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Cc that str.split() does not treat as whitespace: dropped rather than turned into a space.
_INVISIBLE_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")


def one_line(text: str | None) -> str:
    """`text` as a single line: every run of whitespace (CR, LF, tabs, U+2028/U+2029/U+0085, ...) becomes
    one space, other control characters are dropped, and the ends are trimmed."""
    return " ".join(_INVISIBLE_CONTROL.sub("", text or "").split())


def header_unsafe(text: str) -> bool:
    """True when `text` carries a line break or a control character, so it cannot be a header value."""
    return _HEADER_UNSAFE.search(text) is not None


def body_unsafe(text: str, *, allow_cr: bool = False) -> bool:
    """True when `text` carries a control character other than tab and line feed (and CR if allowed)."""
    return (_BODY_UNSAFE_CR_OK if allow_cr else _BODY_UNSAFE).search(text) is not None
