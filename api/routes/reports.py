"""GET /v1/reports/funnel: counts of each measurement event, by path. (Issue 8 deepens this.)"""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Caller, Pool

router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.get("/funnel")
async def funnel(caller: Caller, pool: Pool) -> dict:
    owner = None if caller.is_admin else caller.email.lower()
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            """SELECT type, count(DISTINCT account_id) AS accounts FROM measurement_events
               WHERE $1::text IS NULL OR owner_email = $1 GROUP BY type ORDER BY type""", owner)
    return {"accounts_by_event": {r["type"]: r["accounts"] for r in rows}}
