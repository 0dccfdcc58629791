"""Readiness gates, stop rules and the path decision: the product's judgement, rule by rule.

Each rule returns a verdict and a sentence an owner can read in the brief. The path is chosen by
precedence, strongest first: not_ready > suppressed > hold > monitor > account_led > marketing_led.
The seed's rules: review the inactivity reason before outreach; exclude unresolved-issue accounts unless
the outreach addresses the issue; never send generic offers to high-context accounts; let the owner
decide when no outreach is best; never automate outreach without consent.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from reactivation.assessment_model import Assessment, RuleVerdict
from reactivation.evidence_model import EvidencePack, NoteFact
from reactivation.policy_config import PolicyConfig, PolicyRules
from reactivation.scoring import score_priority
from reactivation.vocabulary import Path

DEFAULT_POLICY = PolicyConfig.current()

_DO_NOT_CONTACT = re.compile(r"\b(do not|don't|dont|never)\s+(contact|call|email|reach out)", re.I)
_COMPETITOR = re.compile(r"\b(competitor|switched to|moved to|went with|left for)\b", re.I)
# A note with substance: a question, a request or a plan the owner can pick up (else a long note).
_SUBSTANCE = re.compile(r"\?|\b(asked|asks|request|interested|expan\w*|pricing|quote|budget|renew\w*|plan(s|ned|ning)?|"
                        r"new (location|site|office|practice|team)s?|hiring|launch\w*|migrat\w*)\b", re.I)
SUBSTANTIVE_WORDS = 12
_SEASONAL = re.compile(r"\b(season(al)?|off[- ]season|winter|summer|holiday|fiscal year|budget freeze)\b", re.I)


def readiness_gates(pack: EvidencePack) -> list[RuleVerdict]:
    """The seed's "not ready if": each missing item is a verdict naming what to fix in the CRM."""
    account = pack.account
    gates = []
    if account.account_value is None:
        gates.append(RuleVerdict(rule="account_value", verdict="not_ready",
                                 reason="Account value is unavailable: add it in the CRM.",
                                 sources=[pack.account_source]))
    if not account.owner_email:
        gates.append(RuleVerdict(rule="relationship_owner", verdict="not_ready",
                                 reason="Relationship owner is unclear: assign an owner in the CRM.",
                                 sources=[pack.account_source]))
    if not pack.support_history_connected or not pack.order_history_connected:
        which = "support" if not pack.support_history_connected else "purchase/cancellation"
        gates.append(RuleVerdict(rule="history_connected", verdict="not_ready",
                                 reason=f"The {which} history is not connected: import it before review."))
    return gates


def stop_rules(pack: EvidencePack, now: datetime, rules: PolicyRules = DEFAULT_POLICY.rules) -> list[RuleVerdict]:
    """Every stop rule, each with a verdict ("pass" when it does not apply) so owners see all of them."""
    return [
        _consent(pack),
        _unresolved_issue(pack),
        _high_risk(pack),
        _high_context(pack, now, rules),
        _conflicting_context(pack),
        _poor_timing(pack, now, rules),
    ]


def _consent(pack: EvidencePack) -> RuleVerdict:
    status = "opted_out" if pack.opted_out_event else pack.account.consent_status
    if status == "opted_out":
        return RuleVerdict(rule="consent", verdict="suppress", sources=[pack.account_source],
                           reason="The customer opted out: no automated outreach.")
    if status == "unknown":
        return RuleVerdict(rule="consent", verdict="suppress", sources=[pack.account_source],
                           reason="Consent is unknown (blank is never consent): no automated outreach.")
    if pack.contact_suppressed:
        return RuleVerdict(rule="consent", verdict="suppress", sources=[pack.account_source],
                           reason=f"The customer's {pack.account.preferred_channel} address is suppressed "
                                  f"({pack.contact_suppressed}): update it in the CRM first.")
    return RuleVerdict(rule="consent", verdict="pass", reason="Consent to contact is granted.",
                       sources=[pack.account_source])


def _unresolved_issue(pack: EvidencePack) -> RuleVerdict:
    open_tickets = [t for t in pack.tickets if t.is_open]
    if open_tickets or pack.ticket_summary.open_count:
        count = max(len(open_tickets), pack.ticket_summary.open_count)
        subjects = "; ".join(t.subject for t in open_tickets[:3] if t.subject)
        return RuleVerdict(
            rule="unresolved_issue", verdict="no_promotion", sources=[t.source for t in open_tickets[:5]],
            reason=f"{count} unresolved issue(s){': ' + subjects if subjects else ''}. No promotional outreach; "
                   "the owner should follow up on the issue first.",
        )
    return RuleVerdict(rule="unresolved_issue", verdict="pass", reason="No unresolved support issues.")


def _high_risk(pack: EvidencePack) -> RuleVerdict:
    if pack.account.risk_level == "high":
        return RuleVerdict(rule="high_risk", verdict="hold", sources=[pack.account_source],
                           reason="The account is marked high risk: the owner decides whether to reach out at all.")
    return RuleVerdict(rule="high_risk", verdict="pass", reason=f"Risk is {pack.account.risk_level}.")


def _high_context(pack: EvidencePack, now: datetime, rules: PolicyRules) -> RuleVerdict:
    """Strategic tier, a strong relationship, a high value, or a recent note with substance: the owner leads,
    because a generic or promotional message would waste what the relationship already knows."""
    account = pack.account
    why, sources = None, [pack.account_source]
    if account.tier == "strategic" or account.relationship == "strong":
        why = "strategic tier" if account.tier == "strategic" else "strong relationship"
    elif rules.high_value_at is not None and (account.account_value or 0) >= rules.high_value_at:
        why = (f"account value {account.account_value:,.0f} {account.currency} is at or above "
               f"{rules.high_value_at:,.0f}, the high-value line for {account.segment or 'its segment'}")
    elif rules.substantive_note_days is not None and (note := _substantive_note(pack, now, rules)) is not None:
        why = f"a recent note with substance ({note.at:%Y-%m-%d}): the owner has context to build on"
        sources = [note.source]
    if why:
        return RuleVerdict(rule="high_context", verdict="account_led", sources=sources,
                           reason=f"High-context account ({why}): owner-led outreach, never a generic offer.")
    return RuleVerdict(rule="high_context", verdict="pass", reason="Not a high-context account.")


def _substantive_note(pack: EvidencePack, now: datetime, rules: PolicyRules) -> NoteFact | None:
    """The most recent note within `substantive_note_days` that asks, plans or tells something (a question,
    a request, expansion, pricing, budget, renewal...) or is long enough to carry context."""
    since = now - timedelta(days=rules.substantive_note_days or 0)
    for note in sorted(pack.notes, key=lambda n: n.at, reverse=True):
        if note.at >= since and not _DO_NOT_CONTACT.search(note.excerpt) and (
                _SUBSTANCE.search(note.excerpt) or len(note.excerpt.split()) >= SUBSTANTIVE_WORDS):
            return note
    return None


def _conflicting_context(pack: EvidencePack) -> RuleVerdict:
    for note in pack.notes:
        if _DO_NOT_CONTACT.search(note.excerpt):
            return RuleVerdict(rule="conflicting_context", verdict="hold", sources=[note.source],
                               reason="A note says not to contact this customer: hold for the owner.")
    if _COMPETITOR.search(pack.account.inactivity_reason):
        return RuleVerdict(rule="conflicting_context", verdict="hold", sources=[pack.account_source],
                           reason="The inactivity reason says they left for a competitor: hold for the owner.")
    return RuleVerdict(rule="conflicting_context", verdict="pass", reason="No conflicting customer context.")


def _poor_timing(pack: EvidencePack, now: datetime, rules: PolicyRules) -> RuleVerdict:
    window = timedelta(days=rules.recent_ticket_close_days)
    recently_closed = [t for t in pack.tickets if t.closed_at and now - t.closed_at < window]
    if recently_closed:
        return RuleVerdict(rule="poor_timing", verdict="monitor", sources=[t.source for t in recently_closed[:3]],
                           reason=f"A support ticket closed in the last {rules.recent_ticket_close_days} days: "
                                  "let it settle, review again later.")
    if _SEASONAL.search(pack.account.inactivity_reason):
        return RuleVerdict(rule="poor_timing", verdict="monitor", sources=[pack.account_source],
                           reason=f"The inactivity reason is seasonal ({pack.account.inactivity_reason!r}): "
                                  "review again later.")
    return RuleVerdict(rule="poor_timing", verdict="pass", reason="Nothing suggests waiting.")


_NEXT_STEP = {
    Path.not_ready: "Complete the missing CRM data; nothing is drafted until then.",
    Path.suppressed: "No outreach: consent is missing or withdrawn.",
    Path.hold: "Owner judgement needed before any contact.",
    Path.monitor: "Wait and review again on the re-review date.",
    Path.account_led: "Owner-led personal outreach, no generic offer.",
    Path.marketing_led: "Approve the tailored reactivation message.",
}


def assess(pack: EvidencePack, now: datetime, policy: PolicyConfig = DEFAULT_POLICY) -> Assessment:
    """Apply gates, stop rules and scoring; return the path with every verdict and its reason."""
    settings = policy.for_segment(pack.account.segment)
    gates = readiness_gates(pack)
    rules = stop_rules(pack, now, settings)
    verdicts = gates + rules
    fired = {v.verdict for v in verdicts}
    flags = [v.rule for v in verdicts if v.verdict != "pass"]
    issue = any(v.rule == "unresolved_issue" and v.verdict != "pass" for v in rules)

    if "not_ready" in fired:
        path = Path.not_ready
    elif "suppress" in fired:
        path = Path.suppressed
    elif "hold" in fired:
        path = Path.hold
    elif "monitor" in fired:
        path = Path.monitor
    elif "account_led" in fired or issue:
        path = Path.account_led
    else:
        path = Path.marketing_led

    next_step = _NEXT_STEP[path]
    if path == Path.account_led and issue:
        next_step = "Owner call about the unresolved issue, before any promotional outreach."
    return Assessment(
        path=path,
        verdicts=verdicts,
        missing=[v.reason for v in gates],
        flags=flags,
        priority=score_priority(pack, now, settings),
        recommended_next_step=next_step,
        review_again_on=(now + timedelta(days=settings.monitor_again_days)).date() if path == Path.monitor else None,
        promotional_allowed=not issue and path == Path.marketing_led,
        policy_version=policy.version,
    )
