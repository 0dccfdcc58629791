"""A real Twilio-style SMS provider for tests: POST /2010-04-01/Accounts/{sid}/Messages.json on a real port.

It checks basic auth, honours `Idempotency-Key` (a repeated key returns the first message, as the product
relies on), can fail the next requests, refuse numbers (HTTP 400, like an invalid or unsubscribed
number), and hold a request after accepting it (to crash the sender between the provider and the record).
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from dormant.processes import free_port
from tests.support.local_http import LocalHttpServer

SID, TOKEN, FROM = "ACtest0001", "sms-token-test", "+15550001111"


@dataclass
class FakeSmsProvider(LocalHttpServer):
    port: int = field(default_factory=free_port)
    messages: list[dict] = field(default_factory=list)  # messages created (what customers receive)
    requests: list[dict] = field(default_factory=list)  # every request, including retries and refusals
    fail_next: list[int] = field(default_factory=list)  # statuses to answer the next requests with
    refuse: set[str] = field(default_factory=set)  # numbers answered with HTTP 400
    hold: bool = False  # hold each accepted request open until released
    received: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def settings_update(self) -> dict:
        from pydantic import SecretStr

        return {"delivery": "sms", "sms_base_url": self.base_url, "sms_account_sid": SID,
                "sms_auth_token": SecretStr(TOKEN), "sms_from": FROM}

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/2010-04-01/Accounts/{sid}/Messages.json")
        async def create(sid: str, request: Request):
            form = dict(await request.form())
            key = request.headers.get("Idempotency-Key", "")
            self.requests.append({**form, "key": key})
            expected = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
            if sid != SID or request.headers.get("Authorization") != expected:
                return JSONResponse({"code": 20003, "message": "Authenticate"}, status_code=401)
            if self.fail_next:
                return JSONResponse({"code": 20500, "message": "Internal error"}, status_code=self.fail_next.pop(0))
            if form.get("To") in self.refuse:
                return JSONResponse({"code": 21211, "message": "The 'To' number is not a valid phone number."},
                                    status_code=400)
            existing = next((m for m in self.messages if key and m["key"] == key), None)
            if existing is None:
                existing = {"sid": f"SM{len(self.messages) + 1:032d}", "key": key, "to": form.get("To"),
                            "from": form.get("From"), "body": form.get("Body"), "status": "queued"}
                self.messages.append(existing)
            self.received.set()
            if self.hold:
                await self.release.wait()
            return JSONResponse(existing, status_code=201)

        return app

    async def __aexit__(self, *exc) -> None:
        self.release.set()  # a held request must not keep the server from stopping
        await super().__aexit__(*exc)
