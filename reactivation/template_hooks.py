"""The hooks of the template drafter: the piece of evidence a draft opens with, in the stated order.

Split out of reactivation/templates.py (which composes the draft around a hook) so that each module stays
small. The order is the policy: an open support issue, an open question in a recent owner note, the last
products ordered (with the seasonal timing), a resolved issue, the seasonal timing alone, the inactivity
reason rephrased. A note is always rephrased, never pasted. Dates come from the pack, never the clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from reactivation.citations import account_field_source
from reactivation.evidence_model import EvidencePack, NoteFact, OrderFact
from reactivation.plain_text import one_line
from reactivation.template_text import (
    MONTHS,
    TICKET_CHARS,
    TOPIC_CHARS,
    _addressed,
    _and,
    _cap,
    _lower_first,
    _month,
    _product,
)

NOTE_RECENT_DAYS = 365  # an owner note older than this no longer speaks for the account
TOPIC_WORDS = 8  # a topic taken from a note is cut to this many words
SEASON_AHEAD_MONTHS = 2  # "coming up": the next two calendar months
SEASON_MIN_YEARS = 2  # a month counts as a season when orders fell in it in this many different years


class Voice(StrEnum):
    """Who speaks: the owner (account-led, held) or the team (marketing-led)."""

    owner = "owner"
    team = "team"


class HookKind(StrEnum):
    open_issue = "open issue"
    note_request = "open question in an owner note"
    recent_products = "last products ordered"
    resolved_issue = "resolved issue"
    seasonal = "seasonal timing"
    reason = "inactivity reason"
    none = "no evidence"


@dataclass(frozen=True)
class Hook:
    """The evidence a draft opens with: its sentence, a short topic for the subject and follow-up, and
    the sources a claim cites for it."""

    kind: HookKind
    sentence: str
    follow_on: str
    topic: str
    sources: tuple[str, ...]
    follow_on_sources: tuple[str, ...] = ()
    headline: str = ""  # the subject's topic, when it differs from `topic`


# ---------------------------------------------------------------- hooks, in the stated order


def _open_issue(pack: EvidencePack, voice: Voice) -> Hook | None:
    ticket = next((t for t in pack.tickets if t.is_open), None)
    if ticket is None:
        return None
    subject = _cap(ticket.subject, TICKET_CHARS)
    what = f"your ticket \"{subject}\"" if subject else "the issue you raised"
    who = "I'm" if voice == Voice.owner else "We're"
    return Hook(HookKind.open_issue,
                sentence=f"{who} following up personally on {what}, which is still open on our side.",
                follow_on=f"{'I' if voice == Voice.owner else 'We'}'d like to make sure it is resolved properly "
                          "before anything else.",
                topic=what, headline=subject or "your open request", sources=(ticket.source,))


_REQUEST = re.compile(
    r"\b(?P<verb>asked(?: us| me)? (?:about|for)|enquired about|inquired about|questions? about"
    r"|requested|would like|interested in|expanding (?:to|into)|expand (?:to|into)|opening|discuss)\s+"
    r"(?P<topic>[^;.!?,\n]+?)(?=[;.!?,\n]|\s+and\s+(?:wants?|wanted|would|asked|needs?|plans?|are|is|was|were"
    r"|to|they|we|said|mentioned|also)\b|$)", re.IGNORECASE)
_TIME_TAIL = re.compile(r"\s+(?:this|next|later this|by the end of the) (?:year|quarter|month|spring|summer|autumn"
                        r"|fall|winter|season)$|\s+soon$", re.IGNORECASE)

# How each kind of request is said back to the customer, by voice: {t} is the rephrased topic.
_REQUEST_PHRASES: dict[str, dict[Voice, str]] = {
    "ask": {Voice.owner: "you asked me about {t}", Voice.team: "you asked us about {t}"},
    "interest": {Voice.owner: "you said you were interested in {t}",
                 Voice.team: "you told us you were interested in {t}"},
    "expand": {Voice.owner: "you told me you're expanding to {t}", Voice.team: "you told us you're expanding to {t}"},
    "open": {Voice.owner: "you told me you're opening {t}", Voice.team: "you told us you're opening {t}"},
    "discuss": {Voice.owner: "I noted that we should look at {t} together",
                Voice.team: "we noted that {t} could be worth a look together"},
}


# What the draft says next, by the most pressing kind of request present (an open question first).
_REQUEST_FOLLOW_ON: dict[str, dict[Voice, str]] = {
    "ask": {Voice.owner: "I'd like to give you a proper answer on that.", Voice.team: "We'd like to help with that."},
    "interest": {Voice.owner: "I'd like to show you what we can do there.",
                 Voice.team: "We'd be glad to show you what's possible."},
    "expand": {Voice.owner: "I'd like to hear how the plans are going and where we can help.",
               Voice.team: "We'd like to hear how the plans are going."},
    "open": {Voice.owner: "I'd like to hear how the plans are going and where we can help.",
             Voice.team: "We'd like to hear how the plans are going."},
}


def _request_kind(verb: str) -> str:
    verb = verb.lower()
    for prefix, kind in (("interested", "interest"), ("expand", "expand"), ("opening", "open"),
                         ("discuss", "discuss")):
        if verb.startswith(prefix):
            return kind
    return "ask"


def _topic(raw: str) -> str:
    """The request's object, cleaned: one line, no time tail, at most TOPIC_WORDS words, addressed."""
    topic = _TIME_TAIL.sub("", one_line(raw).strip(" ,:-"))
    return _lower_first(_addressed(" ".join(topic.split()[:TOPIC_WORDS])))


def owner_requests(note: NoteFact) -> list[tuple[str, str]]:
    """The open questions and requests an owner note records, as (kind, rephrased topic), at most two."""
    found = [(_request_kind(m.group("verb")), _topic(m.group("topic"))) for m in _REQUEST.finditer(note.excerpt)]
    return [(kind, topic) for kind, topic in found if topic][:2]


def _recent_owner_notes(pack: EvidencePack) -> list[NoteFact]:
    """Notes the owner wrote in the last year, newest first: only the owner's own notes speak for the
    relationship (a support note may carry what a customer typed into a web form)."""
    owner = (pack.account.owner_email or "").casefold()
    notes = [n for n in pack.notes if owner and n.author_email.casefold() == owner
             and 0 <= (pack.as_of - n.at).days <= NOTE_RECENT_DAYS]
    return sorted(notes, key=lambda n: n.at, reverse=True)


def _note_request(pack: EvidencePack, voice: Voice) -> Hook | None:
    for note in _recent_owner_notes(pack):
        requests = owner_requests(note)
        if not requests:
            continue
        clauses = [_REQUEST_PHRASES[kind][voice].format(t=topic) for kind, topic in requests]
        kinds = {kind for kind, _ in requests}
        lead = next((k for k in _REQUEST_FOLLOW_ON if k in kinds), requests[0][0])
        follow_on = _REQUEST_FOLLOW_ON[lead][voice] if lead in _REQUEST_FOLLOW_ON else ""
        topic = next(t for kind, t in requests if kind == lead)
        return Hook(HookKind.note_request, sentence=f"In {_month(note.at, pack.as_of)}, {', and '.join(clauses)}.",
                    follow_on=follow_on, topic=topic, sources=(note.source,))
    return None


def _latest_orders(pack: EvidencePack) -> list[OrderFact]:
    """The most recent order of each of the last two distinct products, newest first."""
    seen: dict[str, OrderFact] = {}
    for order in sorted(pack.orders, key=lambda o: o.at, reverse=True):
        name = _product(order)
        if name and name.casefold() not in seen:
            seen[name.casefold()] = order
        if len(seen) == 2:
            break
    return list(seen.values())


def _season(pack: EvidencePack) -> tuple[int, list[OrderFact]] | None:
    """A coming month (within SEASON_AHEAD_MONTHS) in which the account ordered in several past years."""
    for ahead in range(1, SEASON_AHEAD_MONTHS + 1):
        month = (pack.as_of.month - 1 + ahead) % 12 + 1
        orders = [o for o in pack.orders if o.at.month == month and o.at < pack.as_of]
        if len({o.at.year for o in orders}) >= SEASON_MIN_YEARS:
            return month, sorted(orders, key=lambda o: o.at)
    return None


def _season_sentence(pack: EvidencePack, voice: Voice) -> tuple[str, tuple[str, ...]]:
    season = _season(pack)
    if season is None:
        return "", ()
    month, orders = season
    years = _and([str(y) for y in sorted({o.at.year for o in orders})])
    who = "I" if voice == Voice.owner else "we"
    sentence = (f"You ordered in {MONTHS[month - 1]} in {years}, so with {MONTHS[month - 1]} coming up "
                f"{who} wanted to check what you'll need this time.")
    return sentence, tuple(o.source for o in orders)


def _recent_products(pack: EvidencePack, voice: Voice) -> Hook | None:
    orders = _latest_orders(pack)
    if not orders:
        return None
    names = [f"the {_product(o)}" for o in orders]
    when = _month(orders[0].at, pack.as_of)
    if len(orders) == 1:
        sentence = f"Your most recent order with us, in {when}, was for {names[0]}."
    else:
        sentence = f"Your most recent orders with us were for {_and(names)}, the last one in {when}."
    follow_on, season_sources = _season_sentence(pack, voice)
    if not follow_on:
        follow_on = ("I'd like to hear how that is working for you and what you need next." if voice == Voice.owner
                     else "We'd like to hear whether that still fits what you need.")
    return Hook(HookKind.recent_products, sentence=sentence, follow_on=follow_on, topic=names[0],
                sources=tuple(o.source for o in orders), follow_on_sources=season_sources)


def _resolved_issue(pack: EvidencePack, voice: Voice) -> Hook | None:
    closed = [(t.closed_at, t) for t in pack.tickets if not t.is_open and t.closed_at is not None and t.subject.strip()]
    if not closed:
        return None
    closed_at, ticket = max(closed, key=lambda pair: pair[0])
    subject = _cap(ticket.subject, TICKET_CHARS)
    days = max((closed_at - ticket.opened_at).days, 0)
    took = "the same day" if days == 0 else f"after {days} day{'s' if days != 1 else ''}"
    who = "I" if voice == Voice.owner else "we"
    return Hook(HookKind.resolved_issue,
                sentence=f"In {_month(ticket.opened_at, pack.as_of)} you reported \"{subject}\" to our support "
                         f"team, and it was resolved {took}.",
                follow_on=f"{who.capitalize()} wanted to make sure it has stayed fixed for you.",
                topic=f"your ticket \"{subject}\"", sources=(ticket.source,))


def _seasonal(pack: EvidencePack, voice: Voice) -> Hook | None:
    sentence, sources = _season_sentence(pack, voice)
    if not sentence:
        return None
    season = _season(pack)
    if season is None:
        return None
    month = MONTHS[season[0] - 1]
    return Hook(HookKind.seasonal, sentence=sentence, follow_on="", topic=f"your {month} order", sources=sources)


def rephrase_reason(reason: str) -> str:
    """The inactivity reason in the draft's words: its first clause, turned towards the reader, with the
    first determiner made "your" ("Budget cut after a leadership change" -> "budget cut after your
    leadership change"). Never the CRM field as typed."""
    clause = re.split(r"[;.\n]| - |, ", one_line(reason), maxsplit=1)[0].strip(" ,:-")
    if not clause:
        return ""
    tokens = _addressed(clause).split()
    for i, token in enumerate(tokens):
        if token.lower() in ("a", "an", "the"):
            tokens[i] = "your"
            break
    return _lower_first(_cap(" ".join(tokens[:TOPIC_WORDS]), TOPIC_CHARS * 2))


def _reason(pack: EvidencePack, voice: Voice) -> Hook | None:
    phrase = rephrase_reason(pack.account.inactivity_reason)
    if not phrase:
        return None
    who = "I know" if voice == Voice.owner else "We understand"
    follow_on = ("I'd value hearing what you're focused on now." if voice == Voice.owner
                 else "We'd like to hear what would be useful to you now.")
    return Hook(HookKind.reason, sentence=f"{who} things paused on your side ({phrase}).", follow_on=follow_on,
                topic="what you need next", sources=(account_field_source(pack, "inactivity_reason"),))


HOOK_ORDER: tuple[Callable[[EvidencePack, Voice], Hook | None], ...] = (
    _open_issue, _note_request, _recent_products, _resolved_issue, _seasonal, _reason,
)


def hooks(pack: EvidencePack, voice: Voice) -> list[Hook]:
    """Every hook the evidence offers, in the stated order (an open issue first, the reason last)."""
    found = [hook for builder in HOOK_ORDER if (hook := builder(pack, voice)) is not None]
    if found and found[0].kind == HookKind.open_issue:
        return found[:1]  # an unresolved issue is addressed first, never stepped around
    return found or [Hook(HookKind.none, sentence="", follow_on="", topic="what you need next", sources=())]
