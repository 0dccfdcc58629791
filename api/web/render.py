"""Rendering for the review pages: the Jinja2 templates (api/templates, autoescaped), the security headers
every page carries, the error page, the 303 redirect, and the route class that turns a missing session into
the redirect to the sign-in form.

Customer text (notes, tickets, the draft) is untrusted: autoescaping is on and nothing is marked safe here.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path as FsPath
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader

from api.web.session import Session, SignInRequired

SIGN_IN_URL = "/review"
HEADERS = {
    "Cache-Control": "no-store", "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}

_env = Environment(loader=FileSystemLoader(FsPath(__file__).resolve().parent.parent / "templates"), autoescape=True)
_env.filters.update(
    when=lambda v: "—" if v is None else v.strftime("%Y-%m-%d %H:%M UTC") if isinstance(v, datetime) else str(v),
    money=lambda v, currency="": "—" if v is None else f"{float(v):,.0f} {currency}".strip(),
    path_quote=lambda v: quote(str(v), safe=""),
)
templates = Jinja2Templates(env=_env)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def page(request: Request, name: str, context: dict, status: int = 200) -> Response:
    return templates.TemplateResponse(request, name, context, status_code=status, headers=HEADERS)


def error_page(request: Request, status: int, message: str, session: Session | None = None,
               **extra) -> Response:
    """The error page (with the header's session, if any): `extra` adds to the template context."""
    context = {**(session.context() if session else {}), **extra, "status": status, "message": message}
    return page(request, "error.html", context, status)


class PageRoute(APIRoute):
    """The pages' route class: a request without a valid session (`SignedIn` raised SignInRequired) is
    answered with a 303 to the sign-in form, before the page's own code runs."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handle(request)
            except SignInRequired:
                return redirect(SIGN_IN_URL)

        return guarded
