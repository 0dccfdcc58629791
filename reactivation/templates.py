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

The hooks are in reactivation/template_hooks.py and the text helpers in reactivation/template_text.py
(split out to keep each module small); the names callers use are re-exported here.
"""

from __future__ import annotations

from reactivation.assessment_model import Assessment
from reactivation.citations import MAX_CLAIMS, account_field_source
from reactivation.evidence_model import EvidencePack, OfferFact
from reactivation.guardrails import SMS_LIMIT, check_draft
from reactivation.review_model import OutreachDraft, ReviewBrief
from reactivation.specificity import OWNER_VOICED, first_name, owner_name
from reactivation.template_hooks import (
    HOOK_ORDER,
    NOTE_RECENT_DAYS,
    SEASON_AHEAD_MONTHS,
    SEASON_MIN_YEARS,
    TOPIC_WORDS,
    Hook,
    HookKind,
    Voice,
    _recent_owner_notes,
    hooks,
    owner_requests,
    rephrase_reason,
)
from reactivation.template_text import (
    MONTHS,
    NAME_CHARS,
    OFFER_CHARS,
    PRODUCT_CHARS,
    TICKET_CHARS,
    TOPIC_CHARS,
    _after_greeting,
    _cap,
    _claim,
    _lower_first,
)
from reactivation.vocabulary import Path

__all__ = [
    "HOOK_ORDER", "MONTHS", "NAME_CHARS", "NOTE_RECENT_DAYS", "OFFER_CHARS", "PRODUCT_CHARS", "SEASON_AHEAD_MONTHS",
    "SEASON_MIN_YEARS", "TICKET_CHARS", "TOPIC_CHARS", "TOPIC_WORDS", "Hook", "HookKind", "Voice", "draft_brief",
    "draft_outreach", "hooks", "owner_requests", "pick_offer", "rephrase_reason", "service_offer",
]


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
