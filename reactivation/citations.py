"""Which evidence a brief or draft may cite, and the check that its claims cite only that.

Pure functions, shared by the LLM drafting activity and the guardrails: a claim is a sentence plus the
evidence source ids it rests on. The model only sees ids from the pack, so an id that is not in the pack
is invented; the claim resting on it is dropped (the owner must never see a made-up source badge) and the
owner is told, which also triggers the LLM's one redraft. Claims are capped in number and length because
they travel in workflow payloads (history size is bounded).
"""

from __future__ import annotations

from reactivation.evidence_model import EvidencePack
from reactivation.plain_text import one_line
from reactivation.review_model import Claim

MAX_CLAIMS = 8  # per brief and per draft
MAX_SENTENCE_CHARS = 300
MAX_SOURCES_PER_CLAIM = 4
MAX_ACTIVITY_ITEMS = 3
ACCOUNT_FIELDS = ("profile", "inactivity_reason", "last_activity")  # suffixes of the account's source id


def account_field_source(pack: EvidencePack, field: str) -> str:
    """An account fact's id: the account's source plus a field suffix, so a claim says which fact it uses."""
    return f"{pack.account_source}#{field}"


def activity_source(pack: EvidencePack, index: int) -> str:
    """Recent-activity lines carry no id of their own; number them under the account (1-based)."""
    return account_field_source(pack, f"activity-{index}")


def evidence_sources(pack: EvidencePack) -> dict[str, str]:
    """Every source id a claim may cite, with a short description of the item (for titles and messages)."""
    account = pack.account
    known = {pack.account_source: f"Account {one_line(account.name)}"[:120],
             account_field_source(pack, "profile"): f"Account {one_line(account.name)}"[:120],
             account_field_source(pack, "inactivity_reason"): one_line(account.inactivity_reason)[:120],
             account_field_source(pack, "last_activity"): f"Last activity {account.last_activity_at:%Y-%m-%d}"
             if account.last_activity_at else "Last activity unknown"}
    for i, line in enumerate(pack.recent_activity[:MAX_ACTIVITY_ITEMS], start=1):
        known[activity_source(pack, i)] = one_line(line)[:120]
    known.update({o.source: f"{o.at:%Y-%m-%d} · {o.amount:,.0f} · {one_line(o.description)[:80]}" for o in pack.orders})
    known.update({t.source: f"{t.status} · {one_line(t.subject)[:100]}" for t in pack.tickets})
    known.update({n.source: f"Note {n.at:%Y-%m-%d}: {one_line(n.excerpt)[:90]}" for n in pack.notes})
    known.update({o.source: f"Offer {one_line(o.name)[:100]}" for o in pack.offers})
    return known


def check_citations(sources: list[str], pack: EvidencePack, where: str = "draft") -> tuple[list[str], list[str]]:
    """The cited ids that are in the pack (deduplicated, in order) and one message per id that is not."""
    known = evidence_sources(pack)
    cited = list(dict.fromkeys(s.strip() for s in sources if s.strip()))
    problems = [f"The {where} cites a source that is not in the evidence: {one_line(s)[:80]}"
                for s in cited if s not in known]
    return [s for s in cited if s in known], problems


def check_claims(claims: list[Claim], pack: EvidencePack, where: str = "draft") -> tuple[list[Claim], list[str]]:
    """Keep the claims whose every source is in the pack; return them and one message per invented id.

    A claim without any source cites nothing to check and is dropped without a message; claims past
    MAX_CLAIMS are dropped too (the prompt asks for fewer). Sentences and source lists are capped.
    """
    kept: list[Claim] = []
    problems: list[str] = []
    for claim in claims[:MAX_CLAIMS]:
        sources, unknown = check_citations(claim.sources, pack, where)
        problems += unknown
        if sources and not unknown:
            kept.append(Claim(sentence=one_line(claim.sentence)[:MAX_SENTENCE_CHARS],
                              sources=sources[:MAX_SOURCES_PER_CLAIM]))
    return kept, list(dict.fromkeys(problems))
