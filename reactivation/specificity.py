"""The specificity guardrail: a draft must start from this account's evidence, not from a stock comeback.

The product's named risk is "the message sounds generic". These rules make that checkable, deterministic
and the same for the template and the LLM:

- the message references at least one concrete fact of the evidence (an order line, a note, the inactivity
  reason, a ticket), detected by the fact's distinctive words appearing in the draft, and its `claims` cite
  at least one evidence source id that really is in the pack (an unknown id is a violation of its own);
- no stock win-back phrase ("we miss you", "it's been a while", ...), whatever the apostrophes;
- no CRM field pasted as is: the inactivity reason, or six words in a row of a note or a ticket body,
  copied into prose reads as a mail merge (short product names and ticket titles may be quoted);
- the greeting and sign-off fit the path: account-led mail greets the contact by first name and is
  signed by the owner; marketing-led mail is signed by the owner or the team.

Everything here is pure and linear in the text, which check_draft caps at SCAN_LIMIT characters.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from reactivation.citations import account_field_source
from reactivation.citations import evidence_sources as citable_sources
from reactivation.evidence_model import EvidencePack
from reactivation.plain_text import one_line
from reactivation.review_model import OutreachDraft
from reactivation.vocabulary import Path

PASTE_RUN = 6  # this many words in a row copied from a note, ticket body or the reason is a pasted field
REASON_MIN_WORDS = 4  # a reason this long, copied whole, is pasted too
STEM = 5  # words are compared by their first letters, so "expanding" matches "expansion"
QUOTE_CHARS = 80  # how much of copied text a violation quotes back
BODY_CHARS = 10_000  # as guardrails.SCAN_LIMIT: a longer body already breaks a length rule
LINE_CHARS = 200  # a greeting or signature line longer than this is judged on its start

OWNER_VOICED = frozenset({Path.account_led, Path.hold})

_WORD = re.compile(r"\w+")
_APOSTROPHES = str.maketrans({"\u2019": "", "\u2018": "", "'": "", "`": "", "\u00b4": "", "\u02bc": ""})

# Stock win-back phrases, matched on text made lower case, apostrophe-free and single-spaced.
_STOCK = re.compile(
    r"\b(?:we (?:really |truly )?(?:miss|missed|have missed|ve missed) you"
    r"|(?:its|it has|it s) been (?:a long time|some time|too long|ages)"
    r"|been a while"
    r"|we noticed (?:that )?you (?:havent|have not|hadnt|had not|werent|stopped)"
    r"|just (?:checking|check) in|checking in (?:on|with) you|checking in to see"
    r"|touch(?:ing)? base"
    r"|(?:havent|have not|hadnt|not) heard from you"
    r"|long time no (?:see|talk|speak)"
    r"|come back|coming back|welcome (?:you )?back|win you back|have you back"
    r"|since your last visit"
    r"|just wanted to reach out|reaching out to reconnect)\b"
)

STOP_WORDS = frozenset([
    "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as",
    "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could",
    "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has",
    "have", "having", "he", "her", "here", "hers", "him", "his", "how", "i", "if", "in", "into", "is", "it",
    "its", "itself", "just", "me", "more", "most", "my", "no", "nor", "not", "now", "of", "off", "on", "once",
    "only", "or", "other", "our", "ours", "out", "over", "own", "same", "she", "should", "so", "some", "such",
    "than", "that", "the", "their", "theirs", "them", "then", "there", "these", "they", "this", "those",
    "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where",
    "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "yet", "via",
    "per", "any", "asked", "ask", "asks", "said", "says", "told", "wants", "want", "like", "liked", "new",
    "next", "last", "this", "year", "years", "month", "months", "week", "weeks", "day", "days", "time", "times",
    "get", "got", "account", "accounts", "customer", "customers", "client", "clients", "team", "service",
    "services", "order", "orders", "ordered", "work", "please", "thanks", "thank", "hello", "hi", "dear",
    "best", "regards", "one", "two", "three",
])


class FactKind(StrEnum):
    """What a piece of evidence is: the draft may rest on any of them."""

    reason = "inactivity reason"
    note = "note"
    order = "order"
    ticket = "ticket"


@dataclass(frozen=True)
class Fact:
    """One citable piece of evidence and the words that show a draft refers to it."""

    kind: FactKind
    source: str
    text: str

    @property
    def terms(self) -> frozenset[str]:
        return frozenset(distinctive_terms(self.text))


def words(text: str) -> list[str]:
    """Lower-case words of `text`, apostrophes dropped ("haven't" -> "havent"), any script."""
    return _WORD.findall(unicodedata.normalize("NFC", text).casefold().translate(_APOSTROPHES))


def distinctive_terms(text: str) -> set[str]:
    """The stems of the words that identify a fact: stop words and everyday outreach words never do."""
    return {w[:STEM] for w in words(text) if len(w) >= 3 and w not in STOP_WORDS and not w.isdigit()}


def evidence_facts(pack: EvidencePack) -> list[Fact]:
    """Every fact a draft may reference, with the source id a claim must cite for it."""
    facts = []
    if pack.account.inactivity_reason.strip():
        facts.append(Fact(FactKind.reason, account_field_source(pack, "inactivity_reason"),
                          pack.account.inactivity_reason))
    facts += [Fact(FactKind.note, n.source, n.excerpt) for n in pack.notes if n.excerpt.strip()]
    facts += [Fact(FactKind.order, o.source, o.description) for o in pack.orders if o.description.strip()]
    facts += [Fact(FactKind.ticket, t.source, f"{t.subject} {t.category}") for t in pack.tickets
              if t.subject.strip()]
    return facts


def known_sources(pack: EvidencePack) -> set[str]:
    """Every id a claim may cite (reactivation/citations.py, shared with the LLM path): the account record
    and its fields, recent activity, orders, tickets, notes and the offers the pack lists."""
    return set(citable_sources(pack))


def evidence_sources(pack: EvidencePack) -> set[str]:
    """The ids of the account's own evidence: every citable id but the offers, which say nothing about
    why this account went quiet."""
    return known_sources(pack) - {o.source for o in pack.offers}


def referenced_facts(text: str, pack: EvidencePack) -> list[Fact]:
    """The facts `text` refers to: at least two of a fact's distinctive words (or its only one) appear.

    Two words, not one, so a lone common word ("bookings") does not pass for a reference."""
    present = distinctive_terms(text)
    found = []
    for fact in evidence_facts(pack):
        terms = fact.terms
        if terms and len(terms & present) >= min(2, len(terms)):
            found.append(fact)
    return found


def stock_phrases(text: str) -> list[str]:
    """The stock win-back phrases in `text`, as found (normalised), in order, each once."""
    normal = " ".join(words(text))
    return list(dict.fromkeys(m.group(0) for m in _STOCK.finditer(normal)))


def pasted_runs(text: str, field: str) -> str:
    """The first run of PASTE_RUN words of `field` that `text` repeats word for word ("" when none)."""
    field_words, text_words = words(field), words(text)
    if len(field_words) < PASTE_RUN:
        return ""
    seen = {tuple(text_words[i:i + PASTE_RUN]) for i in range(len(text_words) - PASTE_RUN + 1)}
    for i in range(len(field_words) - PASTE_RUN + 1):
        if tuple(field_words[i:i + PASTE_RUN]) in seen:
            return " ".join(field_words[i:i + PASTE_RUN])
    return ""


def contains_run(text: str, field: str) -> bool:
    """True when all of `field`'s words appear in `text` consecutively (case and punctuation ignored)."""
    needle, hay = words(field), words(text)
    n = len(needle)
    return n > 0 and any(hay[i:i + n] == needle for i in range(len(hay) - n + 1))


def owner_name(owner_email: str | None) -> str:
    """The owner's display name from their address ("alex.morgan@..." -> "Alex Morgan"), as they sign."""
    local = one_line((owner_email or "").split("@")[0].replace(".", " ").replace("_", " ").replace("-", " "))
    return local.title() if local else ""


def first_name(contact_name: str) -> str:
    """The contact's first name as the greeting uses it (the first word of the CRM's contact name)."""
    name = one_line(contact_name)
    return name.split()[0] if name else ""


def specificity_violations(draft: OutreachDraft, pack: EvidencePack, path: Path, text: str) -> list[str]:
    """Every specificity rule the draft breaks, as sentences for the owner. `text` is the draft's subject,
    body and follow-up, already capped by the caller."""
    found = _reference_violations(draft, pack, draft.body[:BODY_CHARS])
    phrases = stock_phrases(text)
    if phrases:
        found.append("The draft uses stock win-back phrasing (" + ", ".join(f'"{p}"' for p in phrases[:3])
                     + "); start from this account's evidence instead.")
    found += _paste_violations(pack, text)
    if draft.channel == "email":
        found += _greeting_violations(draft, pack, path)
    return found


def _reference_violations(draft: OutreachDraft, pack: EvidencePack, body: str) -> list[str]:
    """The body (not the subject alone) must name a fact, and a claim must cite where it comes from."""
    found = []
    if evidence_facts(pack) and not referenced_facts(body, pack):
        found.append("The draft references nothing concrete from the evidence (an order, a note, the reason "
                     "the account went quiet, an issue): it reads as a generic message.")
    evidence, known = evidence_sources(pack), known_sources(pack)
    cited = [s for claim in draft.claims for s in claim.sources]
    if not any(s in evidence for s in cited):
        found.append("The draft cites no evidence: name the source (note, order, ticket or account record) "
                     "its specific sentence rests on.")
    for source in dict.fromkeys(s for s in cited if s not in known):
        found.append(f"A claim cites {one_line(source)[:QUOTE_CHARS]!r}, which is not in this account's evidence.")
    return found


def _paste_violations(pack: EvidencePack, text: str) -> list[str]:
    found = []
    reason = pack.account.inactivity_reason
    if (len(words(reason)) >= REASON_MIN_WORDS and contains_run(text, reason)) or pasted_runs(text, reason):
        found.append("The draft pastes the CRM's inactivity reason word for word; say it in your own words.")
    for label, items in (("a note", [(n.source, n.excerpt) for n in pack.notes]),
                         ("a ticket", [(t.source, t.excerpt) for t in pack.tickets])):
        for source, field in items:
            run = pasted_runs(text, field)
            if run:
                found.append(f"The draft copies {label} ({source}) word for word (\"{run[:QUOTE_CHARS]}\"); "
                             "rephrase it rather than pasting CRM text.")
    return found


def _greeting_violations(draft: OutreachDraft, pack: EvidencePack, path: Path) -> list[str]:
    lines = [line.strip()[:LINE_CHARS] for line in draft.body.splitlines() if line.strip()]
    if not lines:
        return []
    found = []
    first, owner = first_name(pack.account.contact_name), owner_name(pack.account.owner_email)
    owner_first = owner.split()[0] if owner else ""
    signature = set(words(lines[-1]))
    if path in OWNER_VOICED:
        if first and not set(words(first)) <= set(words(lines[0])):
            found.append(f"Account-led mail should greet {first} by first name.")
        if owner_first and not set(words(owner_first)) <= signature:
            found.append(f"Account-led mail must be signed by the owner ({owner}), not \"{lines[-1][:40]}\".")
    elif owner_first and not (set(words(owner_first)) <= signature or "team" in signature):
        found.append(f"The email should be signed by the owner ({owner}) or the team, not \"{lines[-1][:40]}\".")
    return found
