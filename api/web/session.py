"""The review pages' cookie session: sign-in, the CSRF token, the flash message, and the session guard.

- The session is the owner's API token, kept in an HttpOnly, SameSite=Strict cookie: no second credential
  system, and no script can read the token (the pages' CSP allows none).
- Every POST carries a CSRF token (HMAC of the session's API token under the unsubscribe secret, purpose-
  separated); the sign-in form is tied to a pre-session nonce cookie, so another site can neither act as the
  owner nor sign the owner in as someone else. SameSite=Strict is the second lock.
- A flash message (a decision's answer, shown after the 303) travels in a short-lived signed cookie, so
  nobody can craft a link that displays fake text on the page.
- `SignedIn` is the guard as a dependency: without a valid session it raises `SignInRequired`, which the
  pages' route class (api.web.render.PageRoute) answers with the 303 to the sign-in page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import Response

from api.deps import AppSettings, Pool, same_secret
from db.owners import Principal, principal_for_token

TOKEN_COOKIE = "dormant_token"
SIGN_IN_COOKIE = "dormant_sign_in"
FLASH_COOKIE = "dormant_flash"
SESSION_S = 12 * 3600
SIGN_IN_FORM_S = 3600
FLASH_S = 120
CSRF_REFUSED = "This form has expired or did not come from this site. Reload the page and try again."


def mac(settings, purpose: str, value: str) -> str:
    """HMAC of `value` under the unsubscribe secret, separated by `purpose` (csrf, sign-in, flash)."""
    key = settings.unsubscribe_secret.get_secret_value().encode()
    return hmac.new(key, f"review-page:{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    https = request.url.scheme == "https" or request.app.state.settings.public_url.startswith("https://")
    # Path "/": the codec endpoint (/codec) also accepts an admin's review session, so Temporal UI can decode.
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="strict", secure=https)


def forget(response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="strict")


async def principal_for(pool, token: str) -> Principal | None:
    """The owner (or admin) whose API token this is, or None; absurdly long tokens are not looked up."""
    if not token or len(token) > 200:
        return None
    async with pool.acquire() as conn:
        return await principal_for_token(conn, token)


async def cookie_principal(request: Request, pool) -> Principal | None:
    """The principal of the request's session cookie, or None (also used by the codec endpoint)."""
    return await principal_for(pool, request.cookies.get(TOKEN_COOKIE, ""))


@dataclass(frozen=True)
class Session:
    """A signed-in principal, its token and the token its forms must carry."""

    me: Principal
    token: str
    csrf: str

    def context(self) -> dict[str, Any]:
        """What every page's template needs from the session (the header's name, the forms' CSRF token)."""
        return {"me": self.me, "csrf": self.csrf}

    def csrf_ok(self, form) -> bool:
        return same_secret(str(form.get("csrf", "")), self.csrf)


class SignInRequired(Exception):
    """No valid session: the page answers with a redirect to the sign-in form."""


async def optional_session(request: Request, pool: Pool, settings: AppSettings) -> Session | None:
    """The request's session, or None."""
    token = request.cookies.get(TOKEN_COOKIE, "")
    principal = await principal_for(pool, token)
    return None if principal is None else Session(principal, token, mac(settings, "csrf", token))


async def signed_in(session: Annotated[Session | None, Depends(optional_session)]) -> Session:
    """The session guard: the request's session, or SignInRequired."""
    if session is None:
        raise SignInRequired()
    return session


MaybeSession = Annotated[Session | None, Depends(optional_session)]
SignedIn = Annotated[Session, Depends(signed_in)]


def new_sign_in_nonce(settings) -> tuple[str, str]:
    """A fresh pre-session nonce and the sign-in form's CSRF token tied to it."""
    nonce = secrets.token_urlsafe(18)
    return nonce, mac(settings, "sign-in", nonce)


def keep_sign_in_nonce(response: Response, request: Request, nonce: str) -> None:
    set_cookie(response, request, SIGN_IN_COOKIE, nonce, SIGN_IN_FORM_S)


def sign_in_form_ok(request: Request, settings, form) -> bool:
    """Whether the sign-in form came from this site: its CSRF token matches the nonce cookie."""
    nonce = request.cookies.get(SIGN_IN_COOKIE, "")
    return bool(nonce) and same_secret(str(form.get("csrf", "")), mac(settings, "sign-in", nonce))


def start_session(response: Response, request: Request, token: str) -> None:
    set_cookie(response, request, TOKEN_COOKIE, token, SESSION_S)
    forget(response, SIGN_IN_COOKIE)


def end_session(response: Response) -> None:
    forget(response, TOKEN_COOKIE)


def set_flash(response: Response, request: Request, settings, ok: bool, text: str) -> None:
    payload = base64.urlsafe_b64encode(json.dumps({"ok": ok, "text": text[:600]}).encode()).decode().rstrip("=")
    set_cookie(response, request, FLASH_COOKIE, f"{payload}.{mac(settings, 'flash', payload)}", FLASH_S)


def read_flash(request: Request, settings) -> dict | None:
    payload, _, sig = request.cookies.get(FLASH_COOKIE, "").rpartition(".")
    if not payload or not same_secret(sig, mac(settings, "flash", payload)):
        return None
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def clear_flash(response: Response) -> None:
    forget(response, FLASH_COOKIE)
