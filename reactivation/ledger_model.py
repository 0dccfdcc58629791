"""What a workflow step writes: one measurement event plus the projection row the review queue reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from reactivation.review_model import ReviewState

EVENT_TYPES = frozenset({
    "reviewed", "suppressed", "not_ready", "held", "approved", "sent", "follow_up_sent", "responded",
    "reactivated", "opted_out", "closed", "unresolved_issue_flagged", "draft_generated", "reminder_sent",
    "escalated", "monitoring", "send_stopped", "owner_task", "reassigned", "awaiting_review", "bounced",
    "holdout_assigned",
})


class ProjectionView(BaseModel):
    priority: float | None = None
    tier: str | None = None
    last_activity_at: datetime | None = None
    account_value: float | None = None
    risk_level: str | None = None
    recommended_next_step: str = ""
    draft_version: int = 0
    outcome: str | None = None
    stage: str | None = None  # the review's stage now (the event's own stage may be earlier in a batch)
    owner_email: str | None = None  # the review's owner now
    finished_at: datetime | None = None  # set once the episode has an outcome
    reopen_after: datetime | None = None  # with an outcome: when it may be reviewed again (None: never)
    state: ReviewState | None = None  # the full review: the episode's first write of it
    # Later writes send only the review's top-level fields that changed since the previous write (as JSON),
    # merged into the stored review: an approval changes `decisions`, `approved` and `stage`, not the 4 kB of
    # assessment, brief and drafts, and the approval's records travel in the delivery activity's input
    # (history size, issue 18). None: nothing changed.
    state_patch: dict[str, Any] | None = None


class StepRecord(BaseModel):
    event_id: str
    type: str
    at: datetime
    account_id: str
    workflow_id: str
    episode: str
    stage: str
    path: str | None = None
    owner_email: str | None = None
    segment: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)
    view: ProjectionView = Field(default_factory=ProjectionView)
