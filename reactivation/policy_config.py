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
    # High context includes high value and a recent note with substance: such accounts are account-led.
    # None is off, and it is the model's default on purpose: the policy travels in the workflow input, so an
    # execution started before these rules (its input has no such field) keeps judging as it began, on replay
    # too. New episodes get CURRENT_DEFAULTS from load_policy unless the policy file says otherwise.
    high_value_at: float | None = Field(None, gt=0)  # account value (its own currency) from which it is high
    substantive_note_days: int | None = Field(None, ge=1)  # how recent a note must be to make it owner-led


CURRENT_DEFAULTS = {"high_value_at": 100_000.0, "substantive_note_days": 180}  # the 2026-12 rules, for new episodes


class PolicyConfig(BaseModel):
    version: str = "2026-12-default"
    rules: PolicyRules = PolicyRules()
    segment_overrides: dict[str, dict] = Field(default_factory=dict)  # segment -> fields of PolicyRules

    def for_segment(self, segment: str) -> PolicyRules:
        override = self.segment_overrides.get(segment)
        return self.rules.model_copy(update=override) if override else self.rules

    @classmethod
    def current(cls) -> PolicyConfig:
        """The policy a new episode applies when nothing is configured."""
        return cls(rules=PolicyRules(**CURRENT_DEFAULTS))


def load_policy(path: Path | None, dormancy_days: int | None = None, **rule_defaults: int) -> PolicyConfig:
    """Read DORMANT_POLICY_FILE (JSON) if given; otherwise DORMANT_DORMANCY_DAYS and the other rule settings
    (`rule_defaults`, e.g. reentry_after_days) set the default rules."""
    raw = json.loads(path.read_text()) if path else {}
    config = PolicyConfig.model_validate(raw)
    unset = {k: v for k, v in CURRENT_DEFAULTS.items() if k not in (raw.get("rules") or {})}
    config.rules = config.rules.model_copy(update=unset)
    if not path:
        update = {k: v for k, v in {"dormancy_days": dormancy_days, **rule_defaults}.items() if v is not None}
        config.rules = config.rules.model_copy(update=update)
    for _segment, override in config.segment_overrides.items():
        PolicyRules.model_validate({**config.rules.model_dump(), **override})  # fail at start-up, naming the field
    return config
