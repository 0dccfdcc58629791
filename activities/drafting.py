"""Prepares the review brief and the outreach draft, with the LLM when configured.

The OpenAI SDK (any OpenAI-compatible server via OPENAI_BASE_URL) returns structured output parsed into
pydantic models. The model's claims (sentence + evidence source ids) are carried into the brief and the
draft after `check_claims` drops any that cite an id not in the pack. Every draft then passes the
deterministic guardrail check; a violation (an invented source included) triggers one redraft with the
violations as feedback, and what persists is shown to the owner, never passed silently.
Retries belong to Temporal (the SDK's own are off): a 429 asks Temporal to wait for Retry-After; after the
last attempt the workflow falls back to `prepare_template_draft`. Without a key, the template drafter is
used directly and the brief says "template".
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from openai import APIConnectionError, APIStatusError, AsyncOpenAI, OpenAIError
from pydantic import ValidationError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from config.settings import Settings
from reactivation.citations import check_citations, check_claims
from reactivation.guardrails import check_draft
from reactivation.prompts import DraftOutput, build_messages
from reactivation.review_model import DraftRequest, DraftResult
from reactivation.templates import draft_brief, draft_outreach


def template_result(request: DraftRequest) -> DraftResult:
    brief = draft_brief(request.pack, request.assessment)
    draft = draft_outreach(request.pack, request.assessment, version=request.version)
    draft.violations = check_draft(draft, request.pack, request.assessment)
    return DraftResult(brief=brief, draft=draft)


class DraftingActivities:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client: AsyncOpenAI | None = None
        if settings.llm_enabled and settings.openai_api_key is not None:
            self.client = AsyncOpenAI(api_key=settings.openai_api_key.get_secret_value(),
                                      base_url=settings.openai_base_url, max_retries=0,
                                      timeout=settings.llm_timeout.total_seconds())

    @activity.defn(name="prepare_template_draft")
    async def prepare_template_draft(self, request: DraftRequest) -> DraftResult:
        return template_result(request)

    @activity.defn(name="prepare_draft")
    async def prepare_draft(self, request: DraftRequest) -> DraftResult:
        if self.client is None:
            return template_result(request)
        output, usage = await self._ask(request, feedback=None)
        violations = self._checked(output, request)
        if violations:
            activity.logger.info("draft broke %d rule(s); asking once more", len(violations))
            output, more = await self._ask(request, feedback=violations)
            usage = [a + b for a, b in zip(usage, more)]
            violations = self._checked(output, request)
        output.draft.violations = violations
        prompt_tokens, completion_tokens = usage
        cost = (prompt_tokens * self.settings.llm_input_usd_per_1k
                + completion_tokens * self.settings.llm_output_usd_per_1k) / 1000
        output.brief.drafted_by = self.settings.openai_model
        output.draft.version = request.version
        return DraftResult(brief=output.brief, draft=output.draft, prompt_tokens=prompt_tokens,
                           completion_tokens=completion_tokens, estimated_cost_usd=round(cost, 6))

    def _checked(self, output: DraftOutput, request: DraftRequest) -> list[str]:
        """Keep only the claims and citations whose sources are in the pack (in place; the owner never sees
        an invented source), then return every violation: invented sources, the guardrails' findings and
        what the model itself flagged as unsupported."""
        output.brief.claims, brief_problems = check_claims(output.brief.claims, request.pack, "brief")
        output.draft.claims, draft_problems = check_claims(output.draft.claims, request.pack, "draft")
        output.brief.citations, cited_problems = check_citations(output.brief.citations, request.pack, "brief")
        found = check_draft(output.draft, request.pack, request.assessment)
        unsupported = [f"Claim not supported by the evidence: {c}" for c in output.unsupported_claims]
        return list(dict.fromkeys(brief_problems + cited_problems + draft_problems + found + unsupported))

    async def _ask(self, request: DraftRequest, feedback: list[str] | None) -> tuple[DraftOutput, list[int]]:
        messages: Any = build_messages(request.pack, request.assessment, request.version, request.guidance, feedback)
        assert self.client is not None, "the LLM path runs only with OPENAI_API_KEY set"
        try:
            completion = await self.client.chat.completions.parse(
                model=self.settings.openai_model, messages=messages, response_format=DraftOutput, temperature=0.3)
        except APIStatusError as err:
            raise _retryable_status(err) from err
        except APIConnectionError as err:
            raise ApplicationError(f"LLM unreachable: {err}", type="LLMUnavailable") from err
        except (OpenAIError, ValidationError, ValueError) as err:  # malformed or schema-violating output
            raise ApplicationError(f"LLM output unusable: {str(err)[:300]}", type="LLMBadOutput") from err
        message = completion.choices[0].message
        if message.parsed is None:
            raise ApplicationError(f"LLM refused or returned nothing: {message.refusal or ''}"[:300],
                                   type="LLMBadOutput")
        usage = completion.usage
        return message.parsed, [usage.prompt_tokens if usage else 0, usage.completion_tokens if usage else 0]


def _retryable_status(err: APIStatusError) -> ApplicationError:
    if err.status_code == 429:
        retry_after = err.response.headers.get("retry-after", "")
        delay = timedelta(seconds=float(retry_after)) if retry_after.replace(".", "", 1).isdigit() else None
        return ApplicationError("LLM rate limited", type="LLMRateLimited", next_retry_delay=delay)
    if err.status_code >= 500:
        return ApplicationError(f"LLM server error {err.status_code}", type="LLMUnavailable")
    # 4xx other than 429 (bad key, bad request) will not get better by retrying.
    return ApplicationError(f"LLM request rejected ({err.status_code})", type="LLMRejected", non_retryable=True)
