"""The parts the chaos scenario breaks: its own Temporal dev server and PostgreSQL (restartable, data
kept), an SMTP sink that can go down, and an OpenAI-compatible server that fails every k-th request."""

from __future__ import annotations

import email
from collections import defaultdict
from dataclasses import dataclass, field
from email import policy

from aiosmtpd.controller import Controller
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from dormant.processes import free_port
from tests.support.fake_openai import completion, draft_json
from tests.support.local_http import LocalHttpServer


class ThreadCountingSink:
    """Counts what each recipient received: first messages and replies in their thread."""

    def __init__(self) -> None:
        self.first: dict[str, list[str]] = defaultdict(list)  # recipient -> Message-IDs of first messages
        self.replies: dict[str, list[str]] = defaultdict(list)  # recipient -> In-Reply-To of follow-ups

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        for rcpt in envelope.rcpt_tos:
            if message["In-Reply-To"]:
                self.replies[rcpt].append(str(message["In-Reply-To"]))
            else:
                self.first[rcpt].append(str(message["Message-ID"]))
        return "250 OK"


@dataclass
class RestartableSmtp:
    sink: ThreadCountingSink = field(default_factory=ThreadCountingSink)
    port: int = field(default_factory=free_port)
    controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@dataclass
class FlakyLlm(LocalHttpServer):
    """Answers with a valid draft, except every `fail_every`-th request gets a 500."""

    fail_every: int = 3
    port: int = field(default_factory=free_port)
    requests: int = 0
    failures: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def chat():
            self.requests += 1
            if self.fail_every and self.requests % self.fail_every == 0:
                self.failures += 1
                return JSONResponse({"error": {"message": "chaos"}}, status_code=500)
            return JSONResponse(completion(draft_json()))

        return app
