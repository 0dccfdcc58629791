"""Talking to the API in tests: an in-process client with the app's lifespan, and bearer headers."""

from __future__ import annotations

import contextlib

import httpx

from api.main import create_app


@contextlib.asynccontextmanager
async def api_client(settings):
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
