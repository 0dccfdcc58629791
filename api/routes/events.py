"""POST /v1/events: CRM activity, replies, opt-outs, issues and bounces, turned into workflow signals.

Every event is stored first; an event for an account with no open workflow is kept (delivered=false),
not lost, and the CRM store is updated either way (an opt-out is an opt-out even between episodes, and
an owner change moves the account, with its queue entry and access, to the new owner at once). An
owner_changed event without a well-formed `new_owner_email` is refused with 422 naming that field.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from api.crm_signal import signal_event
from api.deps import ERRORS, AccountIdField, CrmCaller, EmailText, Pool, Temporal, Text
from db.crm_events import record_event
from db.reviews import account_owner
from reactivation.review_model import CrmEvent
from reactivation.vocabulary import CrmEventType

router = APIRouter(prefix="/v1", tags=["crm"], responses=ERRORS)


class EventIn(BaseModel):
    # The schema states the rule the validator enforces, so clients (and schemathesis) know it too.
    model_config = ConfigDict(json_schema_extra={
        "if": {"properties": {"type": {"const": CrmEventType.owner_changed.value}}, "required": ["type"]},
        "then": {"required": ["new_owner_email"], "properties": {"new_owner_email": {"type": "string"}}},
    })

    account_id: AccountIdField
    type: CrmEventType
    at: datetime | None = None
    detail: Text = Field("", max_length=10_000)
    new_owner_email: EmailText | None = Field(None, validate_default=True,
                                              description="required for owner_changed; stored in lower case")
    return_on: date | None = Field(None, description="auto_reply: the day the customer is back (the follow-up "
                                                      "waits until the day after)")

    @field_validator("new_owner_email")
    @classmethod
    def _needed_for_owner_changed(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and info.data.get("type") == CrmEventType.owner_changed:
            raise PydanticCustomError("missing", "is required for an owner_changed event")
        return value


class EventResult(BaseModel):
    event_id: int
    delivered_to_workflow: bool


@router.post("/events", response_model=EventResult)
async def post_event(body: EventIn, caller: CrmCaller, pool: Pool, temporal: Temporal) -> EventResult:
    at = body.at or datetime.now(UTC)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    async with pool.acquire() as conn:
        exists, _ = await account_owner(conn, body.account_id)
        if not exists:
            raise HTTPException(404, f"account {body.account_id!r} is not in the CRM store")
        event_id = await record_event(conn, body.account_id, body.type, at, body.detail,
                                      new_owner_email=body.new_owner_email)
    event = CrmEvent(type=body.type, at=at, detail=body.detail, new_owner_email=body.new_owner_email,
                     return_on=body.return_on)
    delivered = await signal_event(pool, temporal, body.account_id, event_id, event)
    return EventResult(event_id=event_id, delivered_to_workflow=delivered)
