"""GET /v1/reports/funnel: accounts reaching each measurement event, and what drafting cost."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ERRORS, Caller, Pool
from db.reports import drafting_cost, funnel_counts

router = APIRouter(prefix="/v1/reports", tags=["reports"], responses=ERRORS)


@router.get("/funnel")
async def funnel(caller: Caller, pool: Pool) -> dict:
    """Owners see their own accounts; admins see all."""
    owner = None if caller.is_admin else caller.email.lower()
    async with pool.acquire() as conn:
        return {"accounts_by_event": await funnel_counts(conn, owner), "drafting": await drafting_cost(conn, owner)}
