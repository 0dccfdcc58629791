"""The deterministic template drafter: used when no LLM is configured and as the LLM's fallback.

It starts from the evidence, never from a generic "we miss you". The hook is chosen in a stated order:

0. an open support issue (the policy only allows outreach that addresses it, so it always comes first);
1. an open question or request in a recent note by the owner ("asked about bulk pricing ...");
2. the last products ordered (with the seasonal timing when those orders cluster in a coming month);
3. a resolved issue and when it was resolved;
4. the seasonal timing alone (orders that cluster in a coming month);
5. the inactivity reason, rephrased (pronouns and determiners changed, never pasted).

The first hook whose draft passes every guardrail wins, so a note that cannot be rephrased safely falls
through to the next piece of evidence rather than being pasted. Account-led (and held) accounts get a
note in the owner's voice, signed by the owner, offering a conversation and at most a service offer;
marketing-led accounts get the team's voice and may get a promotional offer for their segment.

Customer- and CRM-written text is untrusted: every field placed into the text goes through `one_line`
and is capped, so a line break in an account name gives a clean subject, not one the guardrails (or the
mail server) refuse, and a megabyte note cannot make a megabyte draft. Dates come from the pack (as_of),
never the clock, so the same pack always gives the same draft.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from reactivation.citations import (
    MAX_CLAIMS,
    MAX_SENTENCE_CHARS,
    MAX_SOURCES_PER_CLAIM,
    account_field_source,
)
from reactivation.guardrails import SMS_LIMIT, check_draft
from reactivation.models import (
    Assessment,
    Claim,
    EvidencePack,
    NoteFact,
    OfferFact,
    OrderFact,
    OutreachDraft,
    Path,
    ReviewBrief,
)
from reactivation.plain_text import one_line
from reactivation.specificity import OWNER_VOICED, first_name, owner_name

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
NOTE_RECENT_DAYS = 365  # an owner note older than this no longer speaks for the account
TOPIC_WORDS = 8  # a topic taken from a note is cut to this many words
NAME_CHARS = 50  # an account name in a subject
TOPIC_CHARS = 60  # a topic in a subject or follow-up
PRODUCT_CHARS = 40
TICKET_CHARS = 80
OFFER_CHARS = 160
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


# ---------------------------------------------------------------- small text helpers


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


# ---------------------------------------------------------------- offers


def _valid(offer: OfferFact, pack: EvidencePack) -> bool:
    return offer.valid_until is None or offer.valid_until >= pack.as_of.date()


def pick_offer(pack: EvidencePack, assessment: Assessment) -> OfferFact | None:
    """The promotional offer a marketing-led template may use, preferring one made for the segment
    (its name or description names the segment); None on every other path."""
    if assessment.path != Path.marketing_led or not assessment.promotional_allowed:
        return None
    promos = [o for o in pack.offers if o.promotional and _valid(o, pack)]
    stem = pack.account.segment.casefold()[:5]
    fitting = [o for o in promos if stem and stem in f"{o.name} {o.description}".casefold()]
    chosen = fitting or promos
    return chosen[0] if chosen else None


def service_offer(pack: EvidencePack) -> OfferFact | None:
    """A non-promotional offer (an account review, a health check): what an owner may propose."""
    services = [o for o in pack.offers if not o.promotional and _valid(o, pack)]
    return next((o for o in services if o.kind == "service"), services[0] if services else None)


def _offer_for(pack: EvidencePack, assessment: Assessment, hook: Hook) -> OfferFact | None:
    if hook.kind == HookKind.open_issue or assessment.path == Path.hold:
        return None  # the issue, or the owner's judgement, comes before any offer
    if assessment.path == Path.marketing_led:
        return pick_offer(pack, assessment) or service_offer(pack)
    return service_offer(pack)


def _offer_text(offer: OfferFact, short: bool = False) -> str:
    """The offer as the draft names it: its name and description, or the description alone when it
    repeats the name ("20% off ..."), or the name alone in an SMS."""
    name = _cap(offer.name, OFFER_CHARS)
    description = _lower_first(_cap(offer.description, OFFER_CHARS)).rstrip(".")
    if short or not description:
        return name
    if name.casefold().split()[:2] == description.casefold().split()[:2]:
        return description
    return f"{name} ({description})"


def _ask(voice: Voice, offer: OfferFact | None, hook: Hook, sms: bool = False) -> str:
    if hook.kind == HookKind.open_issue:
        return "Could we find 15 minutes this week to go through where it stands?"
    if sms:
        if voice == Voice.owner:
            return "Could we talk this week or next?"
        offer_line = f"We can offer you {_offer_text(offer, short=True)}. " if offer else ""
        return offer_line + "Reply here if it's useful."
    if voice == Voice.owner:
        ask = "Could we find 30 minutes in the next two weeks to talk it through?"
        return ask + (f" If it helps, I can also set up {_offer_text(offer)}." if offer else "")
    if offer is not None:
        return (f"If the timing is right, we can offer you {_offer_text(offer)}. "
                "Reply to this email and we'll set it up.")
    return "If it would help, reply to this email and we'll set up a short call."


# ---------------------------------------------------------------- the draft


def _voice(assessment: Assessment) -> Voice:
    return Voice.owner if assessment.path in OWNER_VOICED else Voice.team


def _compose(pack: EvidencePack, assessment: Assessment, hook: Hook, version: int) -> OutreachDraft:
    """One draft around `hook`: greeting, the evidence, the path's ask and offer, the path's signature."""
    voice = _voice(assessment)
    first = first_name(pack.account.contact_name) or "there"
    signer = owner_name(pack.account.owner_email) if voice == Voice.owner else ""
    signer = signer or "Your account team"
    offer = _offer_for(pack, assessment, hook)
    ask = _ask(voice, offer, hook)
    opening = " ".join(s for s in (hook.sentence, hook.follow_on) if s)
    topic = _cap(hook.topic, TOPIC_CHARS)
    name = _cap(pack.account.name, NAME_CHARS)
    sign_off = "Best," if voice == Voice.owner else "Best regards,"

    if hook.kind == HookKind.open_issue:
        subject = f"Following up on {_cap(hook.headline, TOPIC_CHARS)}"
    else:
        subject = f"{name}: {topic}" if name else topic[:1].upper() + topic[1:]
    paragraphs = [p for p in (f"Hi {first},", opening, ask) if p]
    body = "\n\n".join(paragraphs) + f"\n\n{sign_off}\n{signer}"
    follow_up = (f"Hi {first}, a short follow-up on {topic}: "
                 + ("happy to find a time that suits you." if voice == Voice.owner
                    else "reply whenever it suits you and we'll take it from there.")
                 + f"\n\n{signer}")

    channel = pack.account.preferred_channel
    if channel == "sms":
        subject = ""
        if voice == Voice.owner:
            offer = None  # an SMS from the owner asks for a conversation and nothing else
        ask = _ask(voice, offer, hook, sms=True)
        body, follow_up = _sms(first, signer if voice == Voice.owner else "", hook, ask, topic)

    claims = [_claim(hook.sentence, list(hook.sources))] if hook.sources else []
    if hook.follow_on_sources:
        claims.append(_claim(hook.follow_on, list(hook.follow_on_sources)))
    if offer is not None:
        claims.append(_claim(ask, [offer.source]))
    return OutreachDraft(version=version, channel=channel, subject=subject, body=body, follow_up_body=follow_up,
                         offer_id=offer.offer_id if offer else None, claims=claims)


def _sms(first: str, owner: str, hook: Hook, ask: str, topic: str) -> tuple[str, str]:
    """Body and follow-up as one-paragraph texts within SMS_LIMIT: the hook first, so a shorter variant
    drops the follow-on sentence, never the evidence."""
    sign = owner.split()[0] if owner else "your account team"
    opening = _after_greeting(" ".join(s for s in (hook.sentence, hook.follow_on) if s))
    hook_only = _after_greeting(hook.sentence)
    body = _fit_sms(f"Hi {first}, {opening} {ask} – {sign}", f"Hi {first}, {hook_only} {ask}")
    follow_up = _fit_sms(f"Hi {first}, a short follow-up on {topic}. Reply here if it's useful. – {sign}")
    return body, follow_up


def draft_outreach(pack: EvidencePack, assessment: Assessment, version: int = 1) -> OutreachDraft:
    """The first draft, in the hook order, that passes every guardrail; the first one when none does
    (its violations are then shown to the owner, never hidden)."""
    drafts = [_compose(pack, assessment, hook, version) for hook in hooks(pack, _voice(assessment))]
    return next((d for d in drafts if not check_draft(d, pack, assessment)), drafts[0])


def _fit_sms(text: str, shorter: str = "") -> str:
    """The text if it fits an SMS, else the shorter variant, else the text cut with an ellipsis."""
    for candidate in (text, shorter):
        if candidate and len(candidate) <= SMS_LIMIT:
            return candidate
    return _cap(text, SMS_LIMIT)


# ---------------------------------------------------------------- the brief


def draft_brief(pack: EvidencePack, assessment: Assessment) -> ReviewBrief:
    """The owner's one-minute brief; every sentence that states a fact carries its sources as a claim."""
    account = pack.account
    reason = _cap(account.inactivity_reason, 300) or "No reason recorded in the CRM."
    quiet = "never active" if account.last_activity_at is None else f"last active {account.last_activity_at.date()}"
    orders = pack.order_summary
    relationship = (
        f"{account.tier.replace('_', ' ')} account, relationship {account.relationship}, fit {account.fit}; "
        f"{orders.total} orders worth {orders.total_amount:,.0f} {account.currency}; "
        f"{pack.ticket_summary.total} tickets ({pack.ticket_summary.open_count} open)."
    )
    citations = [pack.account_source] + [v for verdict in assessment.verdicts for v in verdict.sources]
    why_quiet = f"{reason.rstrip('. ')} ({quiet})."
    claims = [
        _claim(why_quiet, [account_field_source(pack, "inactivity_reason"),
                                           account_field_source(pack, "last_activity")]),
        _claim(relationship, [account_field_source(pack, "profile")]
              + [o.source for o in pack.orders[:2]] + [t.source for t in pack.tickets[:1]]),
    ]
    claims += [_claim(v.reason, v.sources) for v in assessment.verdicts
               if v.verdict != "pass" and v.sources]
    claims += [_claim(f"Owner note, {n.at.date()}: {_cap(n.excerpt, 200)}", [n.source])
               for n in _recent_owner_notes(pack)[:3]]
    opening = draft_outreach(pack, assessment).claims[:1]  # the hook the template's draft actually uses
    claims += [_claim(f"The draft opens with: {c.sentence}", c.sources) for c in opening]
    return ReviewBrief(
        why_quiet=why_quiet,
        relationship_summary=relationship,
        risk_flags=[v.reason for v in assessment.verdicts if v.verdict != "pass"],
        recommended_next_step=assessment.recommended_next_step,
        why_this_step="; ".join(v.reason for v in assessment.verdicts if v.verdict != "pass")
        or "Consent is granted, no open issues and no high-context signals: a tailored message fits.",
        citations=list(dict.fromkeys(citations + [s for c in claims for s in c.sources])),
        drafted_by="template",
        claims=claims[:MAX_CLAIMS],
    )
