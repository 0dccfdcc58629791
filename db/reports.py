"""Report queries over the measurement ledger: the funnel, its groupings, and the whole report.

Every query starts from the same `scoped` CTE (events in [since, until) and, for an owner, only events
recorded under their email), so the API, the review page and `dormant report` can never disagree about
which events a number covers. The quality measures live in db/report_measures.py; rendering (text, SVG, CSV) is the API's
(api/report_render.py, api/report_csv.py).
"""

from __future__ import annotations

from typing import Literal, get_args

import asyncpg

from db.report_measures import holdout_lift, path_coverage, pilot_threshold, time_to_decision, unresolved_issues
from db.report_scope import SCOPED, Scope, as_scope
from reactivation.lift import lift_summary

FUNNEL_STEPS = ("reviewed", "approved", "sent", "follow_up_sent", "responded", "reactivated")
OTHER_EVENTS = ("suppressed", "not_ready", "held", "opted_out", "closed", "unresolved_issue_flagged",
                "reminder_sent")
Dimension = Literal["period", "owner", "segment", "path"]
Period = Literal["day", "week", "month"]
DIMENSIONS: tuple[str, ...] = get_args(Dimension)
PERIODS: tuple[str, ...] = get_args(Period)

# The account's latest non-blank value, so a reassigned account counts under its current owner.
_LATEST = ("coalesce((array_agg({col} ORDER BY at DESC, event_id DESC) "
           "FILTER (WHERE coalesce({col}, '') <> ''))[1], '(none)')")
_GROUP_KEYS = {
    None: "'all'",
    "period": "to_char(date_trunc($4, min(at) AT TIME ZONE 'UTC'), 'YYYY-MM-DD')",
    "owner": _LATEST.format(col="lower(owner_email)"),
    "segment": _LATEST.format(col="segment"),
    "path": _LATEST.format(col="path"),
}


async def funnel_counts(conn: asyncpg.Connection, scope: Scope | str | None = None) -> dict[str, int]:
    """Distinct accounts per event type, every type (kept as `accounts_by_event` for existing clients)."""
    rows = await conn.fetch(f"""WITH {SCOPED} SELECT type, count(DISTINCT account_id) AS accounts FROM scoped
                                GROUP BY type ORDER BY type""", *as_scope(scope).args())
    return {r["type"]: r["accounts"] for r in rows}


async def funnel_groups(conn: asyncpg.Connection, scope: Scope, by: Dimension | None = None,
                        period: Period = "month") -> list[dict]:
    """The funnel per group (one group, "all", without `by`): each account falls in exactly one group,
    keyed by its first event's period or its latest owner, segment or path, so groups add up to the total."""
    if by not in _GROUP_KEYS or period not in PERIODS:
        raise ValueError(f"unknown grouping {by!r}/{period!r}")
    args = (*scope.args(), period) if by == "period" else scope.args()
    rows = await conn.fetch(
        f"""WITH {SCOPED},
            keyed AS (SELECT account_id, {_GROUP_KEYS[by]} AS grp FROM scoped GROUP BY account_id)
            SELECT k.grp, s.type, count(DISTINCT s.account_id) AS accounts
            FROM scoped s JOIN keyed k USING (account_id)
            GROUP BY GROUPING SETS ((k.grp, s.type), (k.grp)) ORDER BY k.grp""", *args)
    counts: dict[str, dict[str | None, int]] = {}
    for r in rows:
        counts.setdefault(r["grp"], {})[r["type"]] = r["accounts"]
    return [{"group": group, **_funnel_shape(by_type)} for group, by_type in counts.items()]


def _funnel_shape(by_type: dict[str | None, int]) -> dict:
    """Ordered steps (dormant = any event, the None grouping-set row) plus the side exits and signals."""
    steps = [("dormant", by_type.get(None, 0))] + [(s, by_type.get(s, 0)) for s in FUNNEL_STEPS]
    return {"steps": [{"step": step, "accounts": n} for step, n in steps],
            "other": {kind: by_type.get(kind, 0) for kind in OTHER_EVENTS}}


async def funnel(conn: asyncpg.Connection, scope: Scope) -> dict:
    """The ungrouped funnel; an empty ledger still gives every step, at zero."""
    groups = await funnel_groups(conn, scope)
    return {k: v for k, v in groups[0].items() if k != "group"} if groups else _funnel_shape({})


async def closed_reasons(conn: asyncpg.Connection, scope: Scope) -> dict[str, int]:
    """Why episodes closed (no_response, holdout_window_ended, the owner's words), most frequent first."""
    rows = await conn.fetch(
        f"""WITH {SCOPED} SELECT coalesce(nullif(detail->>'reason', ''), '(none)') AS reason, count(*) AS n
            FROM scoped WHERE type = 'closed' GROUP BY 1 ORDER BY n DESC, reason""", *scope.args())
    return {r["reason"]: r["n"] for r in rows}


async def drafting_cost(conn: asyncpg.Connection, scope: Scope | str | None = None) -> dict:
    """What drafting cost: LLM tokens and estimated dollars, and how many drafts fell back to templates."""
    row = await conn.fetchrow(
        f"""WITH {SCOPED}
           SELECT count(*) AS drafts,
                  count(*) FILTER (WHERE detail->>'by' LIKE 'template%') AS template_drafts,
                  coalesce(sum((detail->>'prompt_tokens')::int), 0) AS prompt_tokens,
                  coalesce(sum((detail->>'completion_tokens')::int), 0) AS completion_tokens,
                  coalesce(sum((detail->>'estimated_cost_usd')::numeric), 0) AS estimated_cost_usd
           FROM scoped WHERE type = 'draft_generated'""", *as_scope(scope).args())
    return {**dict(row), "estimated_cost_usd": float(row["estimated_cost_usd"])}


async def replies(conn: asyncpg.Connection, scope: Scope) -> dict:
    """Inbound messages by class, and the reply rate: accounts with a human reply / accounts sent to."""
    rows = await conn.fetch(
        f"""WITH {SCOPED} SELECT detail->>'class' AS class, count(*) AS messages FROM scoped
            WHERE type = 'reply_received' GROUP BY 1 ORDER BY 1""", *scope.args())
    row = await conn.fetchrow(
        f"""WITH {SCOPED} SELECT count(DISTINCT account_id) FILTER (WHERE type = 'sent') AS sent,
                   count(DISTINCT account_id) FILTER (WHERE type = 'reply_received'
                                                      AND detail->>'class' = 'human_reply') AS replied
            FROM scoped""", *scope.args())
    rate = round(row["replied"] / row["sent"], 4) if row["sent"] else None
    return {"by_class": {r["class"]: r["messages"] for r in rows}, "accounts_sent": row["sent"],
            "accounts_replied": row["replied"], "reply_rate": rate}


async def full_report(conn: asyncpg.Connection, scope: Scope, by: Dimension | None = None,
                      period: Period = "month") -> dict:
    """Every section, assembled once, for the API, the review page and the CLI."""
    lift = await holdout_lift(conn, scope)
    return {
        "filters": {"since": scope.since, "until": scope.until, "owner_email": scope.owner_email,
                    "by": by, "period": period if by == "period" else None},
        "accounts_by_event": await funnel_counts(conn, scope),
        "drafting": await drafting_cost(conn, scope),
        "replies": await replies(conn, scope),
        "funnel": await funnel(conn, scope),
        "groups": await funnel_groups(conn, scope, by, period) if by else None,
        "closed_reasons": await closed_reasons(conn, scope),
        "unresolved_issues": await unresolved_issues(conn, scope),
        "time_to_decision": await time_to_decision(conn, scope),
        "path_coverage": await path_coverage(conn, scope),
        "pilot_threshold": await pilot_threshold(conn, scope),
        "holdout": {**lift.model_dump(), "summary": lift_summary(lift)},
    }
