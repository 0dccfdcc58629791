"""Unsubscribe from a mail client: no login, a signed token naming the account and the address.

`GET /v1/unsubscribe/{token}` (the footer link) only shows a confirmation page with a button: it changes
nothing, because mail scanners and link previewers follow links. `POST /v1/unsubscribe/{token}` (that
button, or a mail client's RFC 8058 one-click `List-Unsubscribe-Post: List-Unsubscribe=One-Click`)
suppresses the address the token names (`suppressed_addresses`, reason 'unsubscribe'), records the
account's opt-out and signals its workflow. A token made before tokens named the address acts on the
account's current contact email.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any

import asyncpg
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse

from api.crm_signal import signal_event
from api.deps import ERRORS, AppSettings, Pool, Temporal
from db.crm_events import record_event
from db.suppression import suppress_address
from reactivation.review_model import CrmEvent
from reactivation.unsubscribe import verify

router = APIRouter(prefix="/v1/unsubscribe", tags=["unsubscribe"], responses=ERRORS)

DETAIL = "one-click unsubscribe"
_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5}}
button{{font-size:1rem;padding:.6rem 1.2rem;cursor:pointer}}</style></head>
<body><h1>{title}</h1>{content}</body></html>
"""


def _page(title: str, content: str) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=escape(title), content=content), headers=_HEADERS)


async def _resolve(conn: asyncpg.Connection, token: str, secret: str) -> tuple[str, str | None]:
    """(account id, address to suppress) for an authentic token of a known account, else 404."""
    found = verify(token, secret)
    if found is None:
        raise HTTPException(404, "unknown unsubscribe link")
    row = await conn.fetchrow("SELECT contact_email FROM accounts WHERE account_id = $1", found.account_id)
    if row is None:
        raise HTTPException(404, "unknown unsubscribe link")
    return found.account_id, found.address if found.address is not None else row["contact_email"]


_HTML_OK: dict[int | str, dict[str, Any]] = {200: {"description": "An HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}}


@router.get("/{token}", responses=_HTML_OK)  # errors stay JSON, as ERRORS documents them
async def confirm_page(token: str, pool: Pool, settings: AppSettings) -> HTMLResponse:
    """The footer link: a confirmation page with a button. Reading it changes nothing."""
    async with pool.acquire() as conn:
        _, address = await _resolve(conn, token, settings.unsubscribe_secret.get_secret_value())
    who = f" for <strong>{escape(address)}</strong>" if address else ""
    # No `action`: the form posts to this same URL.
    return _page("Unsubscribe", f"<p>Stop these emails{who}?</p>"
                                '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
                                '<button type="submit">Unsubscribe</button></form>')


@router.post("/{token}", responses=_HTML_OK)  # JSON for mail clients, the page for a browser
async def unsubscribe(token: str, request: Request, pool: Pool, temporal: Temporal, settings: AppSettings):
    """RFC 8058 one-click (or the confirmation page's button): suppress the address, record the opt-out."""
    now = datetime.now(UTC)
    async with pool.acquire() as conn:
        account_id, address = await _resolve(conn, token, settings.unsubscribe_secret.get_secret_value())
        async with conn.transaction():
            if address:
                await suppress_address(conn, address, "email", "unsubscribe", account_id, DETAIL)
            event_id = await record_event(conn, account_id, "opt_out", now, DETAIL)
    await signal_event(pool, temporal, account_id, event_id, CrmEvent(type="opt_out", at=now, detail=DETAIL))
    if "text/html" in request.headers.get("accept", ""):
        who = f" <strong>{escape(address)}</strong>" if address else ""
        return _page("Unsubscribed", f"<p>Done: we will not email{who} again.</p>")
    return JSONResponse({"unsubscribed": True}, headers=_HEADERS)
