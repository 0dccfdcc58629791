"""The FastAPI app. The pool, the Temporal client and settings are made in the lifespan (nothing connects
at import time) and reach routes as `Annotated` dependencies."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from api.routes import (accounts, bulk, codec, events, health, queue, report_page, reports, review_page, triggers,
                        unsubscribe)
from reactivation.settings import Settings, load_settings

MAX_BODY_BYTES = 1_000_000


def create_app(settings: Settings | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from db.pool import create_pool
        from workflows.client import connect_temporal

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

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
            return JSONResponse({"detail": f"request body is larger than {MAX_BODY_BYTES} bytes"}, status_code=413)
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        problems = [
            {"field": ".".join(str(p) for p in err["loc"] if p != "body") or "body", "reason": err["msg"]}
            for err in exc.errors()
        ]
        return JSONResponse({"detail": problems}, status_code=422)

    for module in (health, triggers, events, queue, accounts, bulk, reports, unsubscribe, review_page, report_page,
                   codec):
        app.include_router(module.router)
    return app


app = create_app()
