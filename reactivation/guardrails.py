"""Deterministic checks run on every draft, LLM-written or template, before an owner sees it.

A violation is never passed silently: it is listed on the draft and shown prominently in review.
Text that cannot be sent as is (a subject with a line break, a NUL in a body) is one of them, so the owner
sees it before approving rather than the send failing afterwards. The content patterns run in linear time
over at most SCAN_LIMIT characters of each field: a draft that long already breaks a length rule, and a
megabyte of pasted text must come back as a violation, not hang the activity.

The specificity rules (reactivation/specificity.py) run on every non-empty draft too: a message that
cites no evidence, uses a stock win-back phrase, pastes a CRM field or is signed by the wrong voice is a
violation like a link or a missing subject, so the LLM gets its one redraft and the owner sees the rest.
"""

from __future__ import annotations

import re

from reactivation.assessment_model import Assessment
from reactivation.evidence_model import EvidencePack
from reactivation.plain_text import body_unsafe, header_unsafe
from reactivation.review_model import OutreachDraft
from reactivation.specificity import specificity_violations
from reactivation.vocabulary import Path

SMS_LIMIT = 320
EMAIL_BODY_LIMIT = 2000
SUBJECT_LIMIT = 120
SCAN_LIMIT = 10_000  # above every length limit, so longer text is flagged by a length rule anyway

_URL = re.compile(r"https?://|www\.", re.IGNORECASE)
# The look-behind starts a match only where an address can start (linear, not quadratic, on long words).
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+\.[\w.-]+")
_PHONE = re.compile(r"\+?\d[\d\s().-]{7,}\d")
_PLACEHOLDER = re.compile(r"\[[A-Z _]+\]|\{\{[^\n]{0,80}?\}\}|<[A-Z _]+>|\bTODO\b|\bXXX\b|lorem ipsum", re.IGNORECASE)
_DISCOUNT = re.compile(r"\b\d{1,3}\s?%|\bdiscount\b|\bfree\b|\b% off\b", re.IGNORECASE)


def check_draft(draft: OutreachDraft, pack: EvidencePack, assessment: Assessment,
                allowed_addresses: frozenset[str] = frozenset()) -> list[str]:
    """Return every violation found, as sentences an owner can act on (empty when the draft is clean)."""
    violations = _unsendable_characters(draft)
    offers = {o.offer_id: o for o in pack.offers}
    text = "\n".join(part[:SCAN_LIMIT] for part in (draft.subject, draft.body, draft.follow_up_body))

    if draft.offer_id is not None:
        offer = offers.get(draft.offer_id)
        if offer is None:
            violations.append(f"Offer {draft.offer_id!r} is not one of this account's available offers.")
        elif offer.promotional and not assessment.promotional_allowed:
            why = ("an unresolved issue is open" if "unresolved_issue" in assessment.flags
                   else f"the path is {assessment.path.value}")
            violations.append(f"Promotional offer {draft.offer_id!r} is not allowed: {why}.")
    if assessment.path in (Path.account_led, Path.hold) and draft.offer_id and offers.get(draft.offer_id) \
            and offers[draft.offer_id].promotional:
        violations.append("A generic promotional offer must not go to a high-context account.")

    if _URL.search(text):
        violations.append("The draft contains a link; links are not allowed in outreach drafts.")
    for found in _EMAIL.findall(text):
        if found.lower() not in allowed_addresses:
            violations.append(f"The draft contains an email address ({found}) that is not allowed.")
    if _PHONE.search(text):
        violations.append("The draft contains a phone number; only the CRM's contact details may be used.")
    if _PLACEHOLDER.search(text):
        violations.append("The draft contains placeholder text.")
    discount_supported = draft.offer_id is not None and draft.offer_id in offers
    if _DISCOUNT.search(text) and not discount_supported:
        violations.append("The draft mentions a discount or free offer that no available offer supports.")

    if draft.channel == "sms":
        for label, body in (("body", draft.body), ("follow-up", draft.follow_up_body)):
            if len(body) > SMS_LIMIT:
                violations.append(f"The SMS {label} is {len(body)} characters; the limit is {SMS_LIMIT}.")
    else:
        for label, body in (("body", draft.body), ("follow-up", draft.follow_up_body)):
            if len(body) > EMAIL_BODY_LIMIT:
                violations.append(f"The {label} is {len(body)} characters; the limit is {EMAIL_BODY_LIMIT}.")
        if draft.channel == "email" and not draft.subject.strip():
            violations.append("An email needs a subject.")
        if len(draft.subject) > SUBJECT_LIMIT:
            violations.append(f"The subject is {len(draft.subject)} characters; the limit is {SUBJECT_LIMIT}.")
    if not draft.body.strip():
        violations.append("The body is empty.")
    else:
        violations += specificity_violations(draft, pack, assessment.path, text)
    return list(dict.fromkeys(violations))


def _unsendable_characters(draft: OutreachDraft) -> list[str]:
    """Characters no channel can carry: caught here, before review, not by a failed send after approval."""
    found = []
    if header_unsafe(draft.subject):
        found.append("The subject contains a line break or control character; a subject must be one line "
                     "of plain text.")
    for label, body in (("body", draft.body), ("follow-up", draft.follow_up_body)):
        if body_unsafe(body):
            found.append(f"The {label} contains a control character (such as NUL or a carriage return); "
                         "only plain text, line breaks and tabs can be sent.")
    return found
