"""Inbound mail: POST /v1/inbound/email (raw RFC 5322, Postmark inbound JSON, SendGrid Inbound Parse with
raw MIME), GET /v1/inbound/unmatched for admins, GET /v1/accounts/{id}/inbound for the account's owner.

Authenticated like the CRM webhooks (an HMAC signature or an admin token): a provider is pointed at the
URL with the signature secret or an admin token in its webhook settings. What the message says is
untrusted: it is parsed and classified, never executed, and shown to owners as text.
"""

from __future__ import annotations

import json
from email.errors import MessageError
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel

from api.deps import ERRORS, AccountIdPath, AppSettings, Caller, CrmCaller, Pool, Temporal, can_see
from api.inbound_service import receive_raw_email
from db.inbound import InboxRow, account_thread, unmatched
from db.reviews import account_owner
from reactivation.vocabulary import CrmEventType, InboundClass

router = APIRouter(tags=["inbound"], responses=ERRORS)

RAW_TYPES = ("message/rfc822", "text/plain", "application/octet-stream")
INBOUND_MAX_BYTES = 25_000_000  # a reply with attachments (the limit of most mail providers); api/main.py applies it


class InboundOut(BaseModel):
    inbound_id: int
    duplicate: bool  # the same message was received before: nothing was done again
    kind: InboundClass
    reason: str
    account_id: str | None  # None: unmatched, stored and listed at GET /v1/inbound/unmatched
    matched_by: str | None
    event: CrmEventType | None
    delivered_to_workflow: bool


class InboundMessageOut(InboxRow):
    """An inbound message in the JSON answers: the stored row as listed (db/inbound.py)."""


def _unprocessable(field: str, reason: str) -> HTTPException:
    return HTTPException(422, [{"field": field, "reason": reason}])


def postmark_to_raw(data: Any) -> bytes:
    """Postmark's inbound JSON as an RFC 5322 message: its RawEmail when included, else rebuilt from
    Headers, From, To, Subject and TextBody (HtmlBody when there is no text)."""
    if not isinstance(data, dict):
        raise _unprocessable("body", "expected a JSON object (Postmark inbound format)")
    if isinstance(data.get("RawEmail"), str) and data["RawEmail"].strip():
        return data["RawEmail"].encode("utf-8", "surrogateescape")
    if not any(isinstance(data.get(k), str) for k in ("From", "TextBody", "HtmlBody")):
        raise _unprocessable("From", "missing: not a Postmark inbound payload (From, TextBody or RawEmail)")
    message = EmailMessage()
    wanted = {"From": data.get("From"), "To": data.get("To"), "Cc": data.get("Cc"), "Subject": data.get("Subject"),
              "Date": data.get("Date")}
    headers = [(h.get("Name"), h.get("Value")) for h in data.get("Headers") or [] if isinstance(h, dict)]
    for name, value in [*wanted.items(), *headers]:
        if not isinstance(name, str) or not isinstance(value, str) or not value or name.lower() in (
                "content-type", "content-transfer-encoding", "mime-version") or name in message:
            continue
        try:
            message[name] = value
        except (ValueError, TypeError, IndexError, MessageError):  # a line break, or an address the email
            continue  # package's parser trips on (it raises IndexError on some): that header dropped, the rest kept
    text = data["TextBody"] if isinstance(data.get("TextBody"), str) else ""
    html = data["HtmlBody"] if isinstance(data.get("HtmlBody"), str) else ""
    try:
        if text or not html:
            message.set_content(text.replace("\x00", ""))
        else:
            message.set_content(html.replace("\x00", ""), subtype="html")
        return message.as_bytes(policy=SMTP_POLICY)
    except (ValueError, TypeError, UnicodeError, IndexError, MessageError) as err:
        raise _unprocessable("TextBody", f"cannot be read as a message: {err}"[:200]) from err


async def _raw_from(request: Request) -> tuple[bytes, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in RAW_TYPES:
        raw = await request.body()
        if not raw:
            raise _unprocessable("body", "is empty: post the raw RFC 5322 message")
        return raw, "rfc822"
    if content_type == "application/json":
        try:
            data = json.loads(await request.body())
        except ValueError as err:
            raise _unprocessable("body", f"is not JSON: {err}"[:200]) from err
        return postmark_to_raw(data), "postmark"
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = await request.form(max_part_size=INBOUND_MAX_BYTES)
        email = form.get("email")
        if email is None:
            raise _unprocessable("email", "missing: turn on \"POST the raw, full MIME message\" in SendGrid's "
                                          "Inbound Parse settings")
        raw = await email.read() if hasattr(email, "read") else str(email).encode("utf-8", "surrogateescape")
        return raw, "sendgrid"
    raise HTTPException(415, f"Content-Type {content_type or '(none)'!r} is not taken: send message/rfc822, "
                             "Postmark's JSON or SendGrid's multipart form")


# The body is read by hand (three formats), so the schema states it for clients and schemathesis.
_TEXT = {"type": "string"}
INBOUND_BODY = {"requestBody": {"required": True, "content": {
    "message/rfc822": {"schema": {"type": "string", "format": "binary", "minLength": 1}},
    "application/json": {"schema": {"type": "object", "required": ["From"], "description": "Postmark inbound",
                                    "properties": {"From": _TEXT, "To": _TEXT, "Subject": _TEXT, "TextBody": _TEXT,
                                                   "HtmlBody": _TEXT, "RawEmail": _TEXT}}},
    "multipart/form-data": {"schema": {"type": "object", "required": ["email"], "description": "SendGrid raw MIME",
                                       "properties": {"email": {"type": "string", "format": "binary"}}}},
}}}


@router.post("/v1/inbound/email", response_model=InboundOut, openapi_extra=INBOUND_BODY,
             responses={415: {"description": "a Content-Type other than the three taken"}})
async def inbound_email(request: Request, caller: CrmCaller, pool: Pool, temporal: Temporal,
                        settings: AppSettings) -> InboundOut:
    """Take one inbound message; the answer says what it was, which account it belongs to and what was done."""
    raw, source = await _raw_from(request)
    result = await receive_raw_email(pool, temporal, settings, raw, source)
    return InboundOut(inbound_id=result.inbound_id, duplicate=result.duplicate, kind=result.kind,
                      reason=result.reason, account_id=result.account_id, matched_by=result.matched_by,
                      event=result.event, delivered_to_workflow=result.delivered_to_workflow)


@router.get("/v1/inbound/unmatched", response_model=list[InboundMessageOut])
async def unmatched_messages(caller: Caller, pool: Pool) -> list[InboxRow]:
    """Messages no account could be found for, newest first (admins only: they may name any customer)."""
    if not caller.is_admin:
        raise HTTPException(403, "admins only: unmatched mail may belong to any owner's account")
    async with pool.acquire() as conn:
        return await unmatched(conn)


@router.get("/v1/accounts/{account_id}/inbound", response_model=list[InboundMessageOut])
async def account_inbound(account_id: AccountIdPath, caller: Caller, pool: Pool) -> list[InboxRow]:
    """What the customer sent us (replies, auto-replies, bounces), newest first; the owner's own accounts only."""
    async with pool.acquire() as conn:
        exists, owner = await account_owner(conn, account_id)
        if not exists or not can_see(caller, owner):
            raise HTTPException(404, f"account {account_id!r} not found")
        return await account_thread(conn, account_id)
