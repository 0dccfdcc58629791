"""Assessment: the pure policy's verdicts on an evidence pack (reactivation/policy.py, scoring.py).

Which rules passed or stopped the account, the path it takes, its priority and what must not change
between approval and send. Workflow payloads (saved histories): names, fields and defaults are part of
the contract.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from reactivation.vocabulary import Path


class RuleVerdict(BaseModel):
    rule: str
    verdict: Literal["pass", "suppress", "not_ready", "hold", "monitor", "account_led", "no_promotion"]
    reason: str
    sources: list[str] = Field(default_factory=list)


class PriorityFactor(BaseModel):
    factor: str
    points: float
    why: str


class Priority(BaseModel):
    score: float
    factors: list[PriorityFactor]


class Assessment(BaseModel):
    path: Path
    verdicts: list[RuleVerdict]
    missing: list[str] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list)
    priority: Priority
    recommended_next_step: str
    review_again_on: date | None = None
    promotional_allowed: bool = True
    policy_version: str = ""

    def fingerprint(self) -> tuple:
        """What must not change between approval and send for the approval to still hold."""
        return (self.path, tuple(sorted(self.flags)), tuple(v.verdict for v in self.verdicts if v.verdict != "pass"))
