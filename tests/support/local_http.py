"""A real HTTP server on a free local port, in the test's event loop: the base of the fake providers
(OpenAI-compatible, SMS) that the product talks to over the wire, unpatched."""

from __future__ import annotations

import asyncio

import uvicorn
from fastapi import FastAPI


class LocalHttpServer:
    """Subclasses define `port` and `app()`; `async with` serves it until the block ends."""

    port: int

    def app(self) -> FastAPI:
        raise NotImplementedError

    async def __aenter__(self):
        self.server = uvicorn.Server(uvicorn.Config(self.app(), host="127.0.0.1", port=self.port, log_level="error"))
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            await asyncio.sleep(0.05)
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.should_exit = True
        await self.task
