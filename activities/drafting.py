"""Prepares the review brief and the outreach draft.

Without an OpenAI key the deterministic template drafter is used and the brief says so ("template").
"""

from __future__ import annotations

from temporalio import activity

from reactivation.activity_models import DraftRequest, DraftResult
from reactivation.guardrails import check_draft
from reactivation.settings import Settings
from reactivation.templates import draft_brief, draft_outreach


class DraftingActivities:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @activity.defn(name="prepare_draft")
    async def prepare_draft(self, request: DraftRequest) -> DraftResult:
        brief = draft_brief(request.pack, request.assessment)
        draft = draft_outreach(request.pack, request.assessment, version=request.version)
        draft.violations = check_draft(draft, request.pack, request.assessment)
        return DraftResult(brief=brief, draft=draft)
