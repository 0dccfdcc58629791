"""The measurement report on the review page: the same numbers as GET /v1/reports/funnel, under the
review pages' cookie session (api/web/session.py), so an owner can read their report (and download their events) in the
browser without handling a bearer token.

Charts are inline SVG (the page's CSP allows no script, and inline markup needs no extra request).
They come from reactivation.charts, which XML-escapes every label, so marking them safe here cannot
let data inject markup; everything else on the page goes through Jinja's autoescaping.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from markupsafe import Markup

from api.deps import Pool
from api.report_csv import event_csv_chunks
from api.report_render import report_charts
from api.routes.reports import scope_for
from api.web.render import HEADERS, PageRoute, error_page, page
from api.web.session import SignedIn
from db.reports import DIMENSIONS, PERIODS, full_report

router = APIRouter(prefix="/review", tags=["review page"], include_in_schema=False, route_class=PageRoute)


class BadFilter(ValueError):
    """A filter the page cannot use; the message names the field."""


def _day(name: str, raw: str) -> date | None:
    if not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise BadFilter(f"{name}: expected a date like 2024-03-01, got {raw[:40]!r}") from None


def _filters(since: str, until: str, by: str, period: str) -> dict:
    """The form's filters, checked the way the JSON API checks them (unknown values are refused)."""
    if by and by not in DIMENSIONS:
        raise BadFilter(f"by: expected one of {', '.join(DIMENSIONS)}")
    if period not in PERIODS:
        raise BadFilter(f"period: expected one of {', '.join(PERIODS)}")
    return {"since": _day("since", since), "until": _day("until", until), "by": by or None, "period": period}


def _charts(report: dict) -> dict:
    funnel, lift = report_charts(report)
    return {"funnel_chart": Markup(funnel), "lift_chart": Markup(lift)}


@router.get("/report")
async def report_page(request: Request, session: SignedIn, pool: Pool, since: str = "", until: str = "",
                      by: str = "", period: str = "month") -> Response:
    """The report for the signed-in owner (an admin: everyone), filtered by the form's GET fields."""
    try:
        filters = _filters(since, until, by, period)
    except BadFilter as err:
        return error_page(request, 422, str(err), session)
    scope = scope_for(session.me, filters["since"], filters["until"])
    async with pool.acquire() as conn:
        report = await full_report(conn, scope, filters["by"], filters["period"])
    return page(request, "report.html", {**session.context(), "report": report, "filters": filters,
                                        **_charts(report), "dimensions": DIMENSIONS, "periods": PERIODS})


@router.get("/report/events.csv")
async def report_events_csv(request: Request, session: SignedIn, pool: Pool, since: str = "",
                            until: str = "") -> Response:
    """The signed-in owner's events as CSV (an admin's: everyone's), same window as the page."""
    try:
        filters = _filters(since, until, "", "month")
    except BadFilter as err:
        return error_page(request, 422, str(err), session)
    scope = scope_for(session.me, filters["since"], filters["until"])
    headers = {**HEADERS, "Content-Disposition": 'attachment; filename="measurement-events.csv"'}
    return StreamingResponse(event_csv_chunks(pool, scope), media_type="text/csv", headers=headers)
