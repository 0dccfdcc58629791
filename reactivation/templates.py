"""The deterministic template drafter: used when no LLM is configured and as the LLM's fallback.

It is tailored by path, inactivity reason and evidence, never a generic "we miss you": an account-led or
unresolved-issue draft carries no offer and speaks for the owner; a marketing-led draft may use an
available, non-expired promotional offer for the account's segment.

Every CRM field it places into the text (names, ticket subjects, the inactivity reason, offers) goes
through `one_line` first: those fields are typed by people and imported from spreadsheets, and a line
break in an account name must give a clean subject, not one the guardrails (or the mail server) refuse.
"""

from __future__ import annotations

from reactivation.guardrails import SMS_LIMIT
from reactivation.models import Assessment, EvidencePack, OfferFact, OutreachDraft, Path, ReviewBrief
from reactivation.plain_text import one_line


def _first_name(pack: EvidencePack) -> str:
    name = one_line(pack.account.contact_name)
    return name.split()[0] if name else "there"


def _owner_name(pack: EvidencePack) -> str:
    owner = pack.account.owner_email or ""
    local = one_line(owner.split("@")[0].replace(".", " ").replace("_", " "))
    return local.title() if local else "Your account team"


def pick_offer(pack: EvidencePack, assessment: Assessment) -> OfferFact | None:
    """The offer a template may use: promotional only when the path allows it."""
    if assessment.path != Path.marketing_led or not assessment.promotional_allowed:
        return None
    for offer in pack.offers:
        if offer.promotional:
            return offer
    return None


def draft_brief(pack: EvidencePack, assessment: Assessment) -> ReviewBrief:
    account = pack.account
    reason = account.inactivity_reason or "No reason recorded in the CRM."
    quiet = "never active" if account.last_activity_at is None else f"last active {account.last_activity_at.date()}"
    orders = pack.order_summary
    relationship = (
        f"{account.tier.replace('_', ' ')} account, relationship {account.relationship}, fit {account.fit}; "
        f"{orders.total} orders worth {orders.total_amount:,.0f} {account.currency}; "
        f"{pack.ticket_summary.total} tickets ({pack.ticket_summary.open_count} open)."
    )
    citations = [pack.account_source] + [v for verdict in assessment.verdicts for v in verdict.sources]
    return ReviewBrief(
        why_quiet=f"{reason} ({quiet}).",
        relationship_summary=relationship,
        risk_flags=[v.reason for v in assessment.verdicts if v.verdict != "pass"],
        recommended_next_step=assessment.recommended_next_step,
        why_this_step="; ".join(v.reason for v in assessment.verdicts if v.verdict != "pass")
        or "Consent is granted, no open issues and no high-context signals: a tailored message fits.",
        citations=list(dict.fromkeys(citations)),
        drafted_by="template",
    )


def draft_outreach(pack: EvidencePack, assessment: Assessment, version: int = 1) -> OutreachDraft:
    account = pack.account
    first = _first_name(pack)
    owner = _owner_name(pack)
    name = one_line(account.name)
    open_issue = next((t for t in pack.tickets if t.is_open), None)
    issue = one_line(open_issue.subject) if open_issue else ""
    offer = pick_offer(pack, assessment)
    reason = one_line(account.inactivity_reason).rstrip(".")

    if open_issue is not None:
        subject = f"Following up on {issue or 'your open request'}"
        body = (
            f"Hi {first},\n\nI'm following up personally on {issue or 'the issue you raised'}. "
            "I'd like to make sure it gets resolved properly before anything else. "
            "Could we find 15 minutes this week to go through where it stands?\n\n"
            f"{owner}"
        )
        follow_up = f"Hi {first}, just checking whether you had a moment to see my note about the open issue. {owner}"
    elif assessment.path in (Path.account_led, Path.hold):
        subject = f"{name}: checking in from {owner}"
        context = f" I know things changed on your side ({reason.lower()})." if reason else ""
        body = (
            f"Hi {first},\n\nIt's been a while since we worked together.{context} "
            "I'd value a short conversation about what you're focused on now and whether we can help.\n\n"
            f"{owner}"
        )
        follow_up = f"Hi {first}, in case my last note got buried: happy to work around your schedule. {owner}"
    else:
        subject = f"{name}: something that might help"
        context = f" You mentioned {reason.lower()}." if reason else ""
        offer_line = f" We'd like to offer you {one_line(offer.name)}: {one_line(offer.description)}" if offer else ""
        body = (
            f"Hi {first},\n\nWe noticed it's been a while since your last visit.{context}{offer_line} "
            "If the timing is right, reply and we'll set it up.\n\nThe team"
        )
        follow_up = f"Hi {first}, a quick follow-up on my note below, in case it's useful now. The team"

    channel = account.preferred_channel
    if channel == "sms":
        body = _fit_sms(body.replace("\n\n", " ").replace("\n", " "))
        follow_up = _fit_sms(follow_up)
        subject = ""
    return OutreachDraft(version=version, channel=channel, subject=subject, body=body, follow_up_body=follow_up,
                         offer_id=offer.offer_id if offer else None)


def _fit_sms(text: str) -> str:
    return text if len(text) <= SMS_LIMIT else text[: SMS_LIMIT - 1].rstrip() + "…"
