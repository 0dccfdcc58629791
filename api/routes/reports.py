"""Measurement reports: the funnel and quality measures as JSON, the funnel and lift as SVG, and the
ledger as streamed CSV. Owners see only events recorded under their email; admins see all.

`since` and `until` are ISO dates (UTC days); `until` is exclusive, so since=2024-03-01&until=2024-04-01
is March.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response, StreamingResponse

from api.deps import ERRORS, Caller, Pool
from api.report_csv import event_csv_chunks
from db.owners import Principal
from db.report_measures import holdout_lift
from db.report_scope import Scope, day_start
from db.reports import Dimension, Period, full_report, funnel
from reactivation.charts import funnel_svg, lift_svg

router = APIRouter(prefix="/v1/reports", tags=["reports"], responses=ERRORS)


class SvgResponse(Response):
    media_type = "image/svg+xml"


class CsvResponse(StreamingResponse):
    media_type = "text/csv"


def scope_for(caller: Principal, since: date | None, until: date | None) -> Scope:
    """The caller's scope: owners only ever get their own events. A backwards window is not refused (the
    schema cannot express it, and "nothing in that window" is a truthful answer): it reports zeros."""
    return Scope(since=day_start(since), until=day_start(until),
                 owner_email=None if caller.is_admin else caller.email.lower())


def _scope(caller: Caller,
           since: Annotated[date | None, Query(description="first day included (ISO date, UTC)")] = None,
           until: Annotated[date | None, Query(description="first day excluded (ISO date, UTC)")] = None) -> Scope:
    return scope_for(caller, since, until)


ReportScope = Annotated[Scope, Depends(_scope)]


@router.get("/funnel")
async def funnel_report(
        scope: ReportScope, pool: Pool,
        by: Annotated[Dimension | None, Query(description="group the funnel by one dimension")] = None,
        period: Annotated[Period, Query(description="period length when by=period")] = "month") -> dict:
    """Every report section; `accounts_by_event` and `drafting` keep their earlier shape."""
    async with pool.acquire() as conn:
        return await full_report(conn, scope, by, period)


@router.get("/funnel.svg", response_class=SvgResponse)
async def funnel_chart(scope: ReportScope, pool: Pool) -> SvgResponse:
    """The funnel steps as a bar chart, each bar with its share of dormant accounts."""
    async with pool.acquire() as conn:
        steps = (await funnel(conn, scope))["steps"]
    return SvgResponse(funnel_svg([(s["step"], s["accounts"]) for s in steps], title="Reactivation funnel"))


@router.get("/lift.svg", response_class=SvgResponse)
async def lift_chart(scope: ReportScope, pool: Pool) -> SvgResponse:
    """Treatment vs control reactivation rates, with the difference and its 95% CI."""
    async with pool.acquire() as conn:
        lift = await holdout_lift(conn, scope)
    return SvgResponse(lift_svg(lift))


@router.get("/events.csv", response_class=CsvResponse)
async def events_csv(scope: ReportScope, pool: Pool) -> CsvResponse:
    """The measurement events, streamed (a server-side cursor feeds the response in chunks)."""
    return CsvResponse(event_csv_chunks(pool, scope),
                       headers={"Content-Disposition": 'attachment; filename="measurement-events.csv"'})
