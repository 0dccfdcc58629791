"""GET /v1/me and PUT /v1/me/notifications: who the token belongs to, and what they choose to hear.

An owner sets their own notifications (all, only the daily digest, or none); escalations to admins are
never silenced by an owner's choice. Admins set anyone's with `dormant owners notify EMAIL CHOICE`.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import ERRORS, Caller, Pool
from db.owners import notify_setting, set_notify_setting
from reactivation.notifications import NotifySetting

router = APIRouter(prefix="/v1/me", tags=["owners"], responses=ERRORS)


class Me(BaseModel):
    email: str
    is_admin: bool
    notify: NotifySetting


class NotifyIn(BaseModel):
    notify: NotifySetting


@router.get("", response_model=Me)
async def me(caller: Caller, pool: Pool) -> Me:
    async with pool.acquire() as conn:
        notify = await notify_setting(conn, caller.email)
    return Me(email=caller.email, is_admin=caller.is_admin, notify=notify or NotifySetting.all)


@router.put("/notifications", response_model=Me)
async def set_notifications(body: NotifyIn, caller: Caller, pool: Pool) -> Me:
    async with pool.acquire() as conn:
        await set_notify_setting(conn, caller.email, body.notify)
    return Me(email=caller.email, is_admin=caller.is_admin, notify=body.notify)
