"""Signed one-click unsubscribe tokens (RFC 8058): account id + HMAC-SHA256, no database lookup needed."""

from __future__ import annotations

import base64
import hashlib
import hmac


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_token(account_id: str, secret: str) -> str:
    body = _b64(account_id.encode())
    sig = _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()[:18])
    return f"{body}.{sig}"


def read_token(token: str, secret: str) -> str | None:
    """Return the account id if the token is authentic, else None."""
    if not token.isascii():  # hmac.compare_digest refuses non-ASCII strings; such a token is never ours
        return None
    body, _, sig = token.partition(".")
    if not body or not sig:
        return None
    expected = _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()[:18])
    if not hmac.compare_digest(expected, sig):
        return None
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
