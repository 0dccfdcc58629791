"""Shared dependencies: the pool, the Temporal client, settings and who is calling.

Owners and admins authenticate with `Authorization: Bearer <token>`. CRM webhooks may instead sign the
raw body: `X-Dormant-Timestamp: <unix seconds>` and `X-Dormant-Signature: sha256=<hex>` where the hex is
HMAC-SHA256(DORMANT_WEBHOOK_SECRET, "<timestamp>." + body); a signature older than five minutes is refused,
so a captured request cannot be replayed later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import datetime
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, HTTPException, Request
from fastapi import Path as PathParam
from pydantic import AfterValidator, BaseModel, Field
from pydantic_core import PydanticCustomError
from temporalio.client import Client

from config.settings import Settings
from db.owners import Principal, principal_for_token
from reactivation.decision_proof import keys_from

REPLAY_WINDOW_S = 300
CRM_PRINCIPAL = Principal(email="crm-webhook", is_admin=True)


def _pool(request: Request) -> asyncpg.Pool:
    return request.app.state.pool


def _temporal(request: Request) -> Client:
    return request.app.state.temporal


def _settings(request: Request) -> Settings:
    return request.app.state.settings


Pool = Annotated[asyncpg.Pool, Depends(_pool)]
Temporal = Annotated[Client, Depends(_temporal)]
AppSettings = Annotated[Settings, Depends(_settings)]

UNAUTHORIZED = "missing or invalid bearer token"


async def bearer_principal(request: Request, pool: asyncpg.Pool) -> Principal | None:
    """The principal of an `Authorization: Bearer` token, or None (absent or unknown: the caller decides)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    async with pool.acquire() as conn:
        return await principal_for_token(conn, token.strip())


async def _basic_principal(request: Request, pool: asyncpg.Pool) -> Principal | None:
    """HTTP Basic with an admin token as the password: what inbound-mail providers (Postmark, SendGrid)
    can send, since their webhook settings take only a URL (https://dormant:<token>@host/v1/inbound/email)."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        _, _, token = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):  # binascii.Error is a ValueError
        return None
    if not token.strip():
        return None
    async with pool.acquire() as conn:
        return await principal_for_token(conn, token.strip())


async def current_principal(request: Request, pool: Pool) -> Principal:
    principal = await bearer_principal(request, pool)
    if principal is None:
        raise HTTPException(401, UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})
    return principal


def same_secret(given: str, expected: str) -> bool:
    """A constant-time comparison that any header or form value can reach: compared as UTF-8 bytes, since
    `hmac.compare_digest` raises TypeError for a str that is not ASCII."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))


def verify_signature(secret: str, timestamp: str, body: bytes, signature: str, now: float | None = None) -> bool:
    # ASCII decimal digits only: "²" passes str.isdigit() and int() refuses it; 20 digits is plenty for a time
    if not (timestamp.isascii() and timestamp.isdecimal() and len(timestamp) <= 20) \
            or abs((now or time.time()) - int(timestamp)) > REPLAY_WINDOW_S:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return same_secret(signature.strip(), f"sha256={expected}")


async def crm_caller(request: Request, pool: Pool, settings: AppSettings) -> Principal:
    """A CRM webhook: a valid signature, or an admin bearer token."""
    signature = request.headers.get("x-dormant-signature")
    if signature is not None:
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
        timestamp = request.headers.get("x-dormant-timestamp", "")
        if secret and verify_signature(secret, timestamp, await request.body(), signature):
            return CRM_PRINCIPAL
        raise HTTPException(401, "invalid or expired webhook signature")
    principal = await bearer_principal(request, pool) or await _basic_principal(request, pool)
    if principal is None or not principal.is_admin:
        raise HTTPException(401, "CRM calls need a valid webhook signature or an admin token (Bearer, or Basic "
                                 "with the token as the password)")
    return principal


def decision_keys_of(settings: Settings) -> tuple[bytes, ...]:
    """The keys that sign owners' decisions (the first signs; see reactivation/decision_proof.py)."""
    return keys_from(settings.decision_key.get_secret_value() if settings.decision_key else "")


Caller = Annotated[Principal, Depends(current_principal)]
CrmCaller = Annotated[Principal, Depends(crm_caller)]


def can_see(principal: Principal, owner_email: str | None) -> bool:
    return principal.is_admin or (owner_email or "").lower() == principal.email.lower()


class ErrorBody(BaseModel):
    """Every error answer: `detail` names the problem (for 422, a list of {field, reason})."""

    detail: Any
    stage: str | None = None


ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorBody, "description": text} for code, text in {
    401: "missing or invalid credentials", 403: "not allowed (admin only)",
    404: "unknown account, or another owner's (the same answer)",
    409: "wrong stage or stale draft (the body names the current stage)", 413: "request body too large",
    422: "bad payload: each problem names the field and the reason", 503: "a dependency is down",
}.items()}


# Every pattern the API checks, and the words its 422 answer gives instead of quoting it (api.main `_reason`,
# for body, path and query alike): the schema keeps the pattern, so clients (and schemathesis) know it.
NO_NUL_PATTERN = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL
ACCOUNT_ID_PATTERN = r"^[^\x00-\x1f\x7f]+$"
ACCOUNT_ID_PATH_PATTERN = r"^[^\x00-\x1f\x7f/]+$"
ONE_LINE_PATTERN = r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$"  # reactivation.plain_text.header_unsafe's set
_ADDRESS_PART = r"[^@\s.\x00-\x1f\x7f-\x9f]+"  # no spaces, line breaks or control characters
EMAIL_PATTERN = rf"^[^@\s\x00-\x1f\x7f-\x9f]+@{_ADDRESS_PART}(\.{_ADDRESS_PART})+$"  # local@domain.tld
PATTERN_REASONS = {
    NO_NUL_PATTERN: "must not contain NUL characters (U+0000)",
    ACCOUNT_ID_PATTERN: "must not contain line breaks or control characters",
    ACCOUNT_ID_PATH_PATTERN: "must not contain line breaks, control characters or a slash",
    ONE_LINE_PATTERN: "must be one line: no line breaks (CR, LF, U+2028) or control characters",
    EMAIL_PATTERN: "must be an email address like name@example.com",
}

Text = Annotated[str, Field(pattern=NO_NUL_PATTERN)]
AccountIdField = Annotated[str, Field(min_length=1, max_length=200, pattern=ACCOUNT_ID_PATTERN)]
AccountIdPath = Annotated[str, PathParam(min_length=1, max_length=200, pattern=ACCOUNT_ID_PATH_PATTERN)]
# A header-bound line (an email subject).
OneLineText = Annotated[str, Field(pattern=ONE_LINE_PATTERN)]


def _with_timezone(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise PydanticCustomError("timezone_missing", "needs a timezone, e.g. 2026-12-03T09:00:00+01:00")
    return value


# A moment someone chose: without an offset "09:00" would mean the server's zone, not the owner's.
ZonedDatetime = Annotated[datetime, AfterValidator(_with_timezone)]
# Owners are stored and compared in lower case, so an address is lower-cased where it enters.
EmailText = Annotated[str, Field(max_length=320, pattern=EMAIL_PATTERN), AfterValidator(str.lower)]
