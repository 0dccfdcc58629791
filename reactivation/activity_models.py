"""Inputs and outputs of the evidence and drafting activities (one model in, one out)."""

from __future__ import annotations

from pydantic import BaseModel

from reactivation.models import Assessment, EvidencePack, OutreachDraft, ReviewBrief


class EvidenceRequest(BaseModel):
    account_id: str


class DraftRequest(BaseModel):
    pack: EvidencePack
    assessment: Assessment
    version: int
    guidance: str = ""  # the owner's redraft guidance


class DraftResult(BaseModel):
    brief: ReviewBrief
    draft: OutreachDraft
    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated_cost_usd: float = 0.0
