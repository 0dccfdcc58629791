"""A transparent priority score: each factor's points are kept so an owner sees why A ranks above B.

Value dominates (log scale, so one giant account does not flatten the queue), then fit and relationship
status (the seed's "prioritize by value, fit, and relationship status"), then recency and history.
The score is in 0..100.
"""

from __future__ import annotations

import math
from datetime import datetime

from reactivation.assessment_model import Priority, PriorityFactor
from reactivation.evidence_model import EvidencePack
from reactivation.policy_config import PolicyRules

_FIT = {"high": 20.0, "medium": 12.0, "low": 3.0, "unknown": 8.0}
_RELATIONSHIP = {"strong": 20.0, "neutral": 12.0, "strained": 5.0, "unknown": 8.0}


DEFAULT_RULES = PolicyRules()


def score_priority(pack: EvidencePack, now: datetime, rules: PolicyRules = DEFAULT_RULES) -> Priority:
    account = pack.account
    factors: list[PriorityFactor] = []

    value = account.account_value or 0.0
    value_points = min(35.0, 35.0 * math.log10(1 + value) / math.log10(rules.value_full_points_at))
    factors.append(PriorityFactor(factor="value", points=round(value_points, 2),
                                  why=f"account value {value:,.0f} {account.currency}"))
    factors.append(PriorityFactor(factor="fit", points=_FIT[account.fit], why=f"fit is {account.fit}"))
    factors.append(PriorityFactor(factor="relationship", points=_RELATIONSHIP[account.relationship],
                                  why=f"relationship is {account.relationship}"))

    if account.last_activity_at is None:
        recency_points, why = 0.0, "no recorded activity"
    else:
        days = max(0, (now - account.last_activity_at).days)
        # Recently dormant accounts are the easiest to win back; after two years the chance is small.
        recency_points = round(15.0 * max(0.0, 1 - max(0, days - rules.dormancy_days) / 640), 2)
        why = f"quiet for {days} days"
    factors.append(PriorityFactor(factor="recency", points=recency_points, why=why))

    orders = pack.order_summary.total
    history_points = round(min(10.0, 10.0 * math.log10(1 + orders) / 2), 2)
    factors.append(PriorityFactor(factor="history", points=history_points, why=f"{orders} past orders"))

    return Priority(score=round(sum(f.points for f in factors), 2), factors=factors)
