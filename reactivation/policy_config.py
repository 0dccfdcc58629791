"""Policy settings, with per-segment overrides and a version recorded with every decision.

The config travels in the workflow input (it is plain data, no secrets), so the rules a workflow applies
are fixed for its episode and deterministic on replay, and a later reader of the history or the ledger
knows exactly which policy version judged the account.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, Field


class PolicyRules(BaseModel):
    dormancy_days: int = Field(90, ge=1)
    recent_ticket_close_days: int = Field(7, ge=0)  # a ticket closed this recently: wait (poor timing)
    monitor_again_days: int = Field(30, ge=1)  # re-review date for the monitor path
    value_full_points_at: float = Field(1_000_000, gt=1)  # account value earning the full value score
    reentry_after_days: int = Field(180, ge=0)  # an owner-closed account (no date given) rests this long
    no_response_cooloff_days: int = Field(90, ge=0)  # an account that did not answer rests this long


class PolicyConfig(BaseModel):
    version: str = "2026-11-default"
    rules: PolicyRules = PolicyRules()
    segment_overrides: dict[str, dict] = Field(default_factory=dict)  # segment -> fields of PolicyRules

    def for_segment(self, segment: str) -> PolicyRules:
        override = self.segment_overrides.get(segment)
        return self.rules.model_copy(update=override) if override else self.rules


def load_policy(path: Path | None, dormancy_days: int | None = None, **rule_defaults: int) -> PolicyConfig:
    """Read DORMANT_POLICY_FILE (JSON) if given; otherwise DORMANT_DORMANCY_DAYS and the other rule settings
    (`rule_defaults`, e.g. reentry_after_days) set the default rules."""
    config = PolicyConfig.model_validate(json.loads(path.read_text())) if path else PolicyConfig()
    if not path:
        update = {k: v for k, v in {"dormancy_days": dormancy_days, **rule_defaults}.items() if v is not None}
        config.rules = config.rules.model_copy(update=update)
    for segment, override in config.segment_overrides.items():
        PolicyRules.model_validate({**config.rules.model_dump(), **override})  # fail at start-up, naming the field
    return config
