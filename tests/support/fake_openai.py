"""A real OpenAI-compatible HTTP server for tests: POST /v1/chat/completions, scripted per test.

It speaks the wire protocol the openai SDK speaks (JSON over HTTP on a real port), so the product's
drafting code runs unpatched. Each queued reply is a status, optional headers and a body; the server
records every request so tests can check what was sent (e.g. that customer text was fenced).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from dormant.processes import free_port
from tests.support.local_http import LocalHttpServer


def completion(content: str, prompt_tokens: int = 900, completion_tokens: int = 250) -> dict:
    return {"id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": "test-model",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content, "refusal": None}}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens}}


def draft_json(subject: str = "Checking in on your bookings", body: str = "Hi Jordan, it has been a while.",
               offer_id: str | None = None, channel: str = "email", brief_claims: list[dict] | None = None,
               draft_claims: list[dict] | None = None, citations: list[str] | None = None) -> str:
    """The model's structured answer. Without claims or citations nothing is cited, so any account's pack
    accepts it; `claims_for` gives claims that cite what tests/crm_fixtures.add_account creates."""
    return json.dumps({
        "brief": {"why_quiet": "Paused bookings after a staffing change.",
                  "relationship_summary": "Neutral relationship, 1 order.", "risk_flags": [],
                  "recommended_next_step": "Approve the tailored message.", "why_this_step": "Consent granted.",
                  "citations": citations or [], "drafted_by": "model", "claims": brief_claims or []},
        "draft": {"version": 1, "channel": channel, "subject": subject, "body": body,
                  "follow_up_body": "Hi Jordan, a quick follow-up.", "offer_id": offer_id, "violations": [],
                  "claims": draft_claims or []},
        "unsupported_claims": [],
    })


def claims_for(account_id: str, invented: str | None = None) -> dict:
    """draft_json's keyword arguments citing the fixture account's reason and its one order; `invented`
    adds a draft claim resting on a source id that is in no pack."""
    reason, order = f"accounts:{account_id}#inactivity_reason", f"orders:{account_id}-o1"
    draft_claims = [{"sentence": "Your quarterly booking was the last one on the calendar.", "sources": [order]}]
    if invented:
        draft_claims.append({"sentence": "You asked for 90% off last week.", "sources": [invented]})
    return {"brief_claims": [{"sentence": "Paused bookings after a staffing change.", "sources": [reason]},
                             {"sentence": "Last order was a quarterly booking.", "sources": [order, reason]}],
            "draft_claims": draft_claims, "citations": [reason, order]}


SPECIFIC_BODY = ("Hi Jordan,\n\nI hope the staffing change has settled. Your quarterly booking in the spring was the "
                 "last one on our calendar; if it helps, I can hold a slot for the next one.\n\nYour account team")


def specific_json(account_id: str, invented: str | None = None, **overrides) -> str:
    """A draft that passes the specificity guardrail for an account made by tests/crm_fixtures.add_account
    (default owner and contact): it refers to the reason and the order, cites them, and is signed."""
    return draft_json(**{"subject": "Your next quarterly booking", "body": SPECIFIC_BODY,
                         **claims_for(account_id, invented), **overrides})


@dataclass
class FakeOpenAI(LocalHttpServer):
    replies: list[tuple[int, dict, dict]] = field(default_factory=list)  # (status, headers, body)
    requests: list[dict] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)  # the Authorization header of each request
    port: int = field(default_factory=free_port)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def reply(self, body: dict, status: int = 200, headers: dict | None = None) -> None:
        self.replies.append((status, headers or {}, body))

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def chat(request: Request):
            self.requests.append(await request.json())
            self.authorizations.append(request.headers.get("authorization", ""))
            status, headers, body = self.replies.pop(0) if self.replies else (500, {}, {"error": {"message": "no reply"}})
            return JSONResponse(body, status_code=status, headers=headers)

        return app
