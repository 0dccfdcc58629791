"""The FastAPI app. The pool, the Temporal client and settings are made in the lifespan (nothing connects
at import time) and reach routes as `Annotated` dependencies."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from api.deps import PATTERN_REASONS
from api.routes import (
    accounts,
    bulk,
    codec,
    events,
    health,
    inbound,
    me,
    queue,
    reports,
    triggers,
    unsubscribe,
)
from api.routes.inbound import INBOUND_MAX_BYTES
from api.web import pages, report_pages
from config.settings import Settings, load_settings

MAX_BODY_BYTES = 1_000_000
TOO_LARGE = f"request body is larger than {MAX_BODY_BYTES} bytes ({INBOUND_MAX_BYTES} for /v1/inbound/)"


class _BodyTooLarge(Exception):
    pass


class BodyLimit:
    """Refuses bodies over `max_bytes` with 413, whether or not they declare a Content-Length: a declared
    length is checked up front, and the bytes are counted as the app reads them (chunked bodies have no
    Content-Length). The 413 is sent the moment the count passes the limit, before any route or dependency
    (authentication included) sees the rest, and whatever the app answers after that is dropped."""

    def __init__(self, app, max_bytes: int = MAX_BODY_BYTES):
        self.app, self.max_bytes = app, max_bytes

    @staticmethod
    async def _refuse(scope, receive, send) -> None:
        await JSONResponse({"detail": TOO_LARGE}, status_code=413)(scope, receive, send)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        # Inbound mail carries attachments; every other route takes small JSON.
        limit = INBOUND_MAX_BYTES if scope.get("path", "").startswith("/v1/inbound/") else self.max_bytes
        for name, value in scope.get("headers", ()):
            # bytes.isdigit() is ASCII only (str.isdigit() passes "²", which int() refuses), and a length
            # too long to parse is certainly too large
            digits = value.strip().lstrip(b"0")
            if name == b"content-length" and value.strip().isdigit() and (
                    len(digits) > 15 or int(digits or b"0") > limit):
                return await self._refuse(scope, receive, send)
        received, refused, started = 0, False, False

        async def counted_receive():
            nonlocal received, refused
            if refused:
                raise _BodyTooLarge()
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    if not started:
                        await self._refuse(scope, receive, send)
                    raise _BodyTooLarge()
            return message

        async def guarded_send(message):
            nonlocal started
            if refused:
                return  # the 413 has been sent (or the response had already begun): drop the app's answer
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not refused:
                raise


def create_app(settings: Settings | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from client.connect import connect_temporal
        from db.pool import create_pool

        active = settings or load_settings()
        if not active.database_url:
            raise RuntimeError("DATABASE_URL is not set (`dormant dev` sets it for its embedded PostgreSQL)")
        app.state.settings = active
        app.state.pool = await create_pool(active.database_url, max_size=active.db_pool_size)
        app.state.temporal = await connect_temporal(active)
        try:
            yield
        finally:
            await app.state.pool.close()

    app = FastAPI(title="dormant-outreach", version="0.1.0", lifespan=lifespan,
                  description="Review dormant accounts and send only what their owners approve.")

    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        problems = [
            {"field": ".".join(str(p) for p in err["loc"] if p != "body") or "body", "reason": _reason(err)}
            for err in exc.errors()
        ]
        return JSONResponse({"detail": problems}, status_code=422)

    for module in (health, triggers, events, inbound, me, queue, accounts, bulk, reports, unsubscribe, pages,
                   report_pages, codec):
        app.include_router(module.router)
    return app


def _reason(err: dict) -> str:
    """Pydantic's words, except two: a text over its limit also says how long it is, and a pattern is
    explained (api.deps.PATTERN_REASONS) instead of quoted."""
    value, ctx = err.get("input"), err.get("ctx") or {}
    if err.get("type") == "string_too_long" and isinstance(value, str) and ctx.get("max_length"):
        return f"must be at most {ctx['max_length']} characters, not {len(value)}"
    if err.get("type") == "string_pattern_mismatch" and ctx.get("pattern") in PATTERN_REASONS:
        return PATTERN_REASONS[ctx["pattern"]]
    return err["msg"]


app = create_app()
