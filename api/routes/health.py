"""GET /healthz: is each real part reachable?"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest

from api.deps import ERRORS, Pool, Temporal

router = APIRouter(tags=["health"], responses=ERRORS)


@router.get("/healthz")
async def healthz(pool: Pool, temporal: Temporal) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        async with pool.acquire() as conn:
            await conn.fetchval("SELECT 1")
        checks["database"] = "ok"
    except Exception as err:
        checks["database"] = f"error: {type(err).__name__}"
    try:
        await temporal.workflow_service.get_system_info(GetSystemInfoRequest(), timeout=timedelta(seconds=3))
        checks["temporal"] = "ok"
    except Exception as err:
        checks["temporal"] = f"error: {type(err).__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if healthy else "degraded", **checks}, status_code=200 if healthy else 503)
