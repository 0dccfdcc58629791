"""The report's quality measures: were stop rules honoured, how fast owners decide, how complete the
data behind each path was, whether the pilot threshold is met, and what the holdout says about lift.

Each function is one query over the `scoped` ledger events (see db/report_scope.py). Where a measure
asks "did X happen before/after", the other event is looked up in the whole ledger for the same
account episode, so a date window cannot hide a send that happened just outside it.
"""

from __future__ import annotations

import asyncpg

from db.report_scope import SCOPED, Scope
from reactivation.lift import LiftResult, compute_lift

PILOT_THRESHOLD = 0.9
COVERAGE_METRIC = "dormant_account_outreach_path_coverage"
COVERAGE_CRITERIA = ("inactivity_reason", "account_value", "owner_email", "risk_level", "permission_check",
                     "approved_path")
OWNER_REVIEW = "type = 'reviewed' AND coalesce(detail->>'by', '') NOT LIKE 'rule:%'"


def _share(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


async def unresolved_issues(conn: asyncpg.Connection, scope: Scope) -> dict:
    """Accounts flagged with an unresolved issue, and how many of those episodes still got promotional
    (marketing_led) outreach: the guardrail promises zero, so anything else is a bug to chase."""
    row = await conn.fetchrow(
        f"""WITH {SCOPED},
            flagged AS (SELECT DISTINCT account_id, episode FROM scoped WHERE type = 'unresolved_issue_flagged')
            SELECT count(DISTINCT f.account_id) AS flagged_accounts,
                   count(DISTINCT f.account_id) FILTER (WHERE EXISTS (
                       SELECT 1 FROM measurement_events m WHERE m.account_id = f.account_id
                       AND m.episode = f.episode AND m.type IN ('sent', 'follow_up_sent')
                       AND m.path = 'marketing_led')) AS sent_promotional
            FROM flagged f""", *scope.args())
    return dict(row)


async def time_to_decision(conn: asyncpg.Connection, scope: Scope) -> dict:
    """Hours from an episode's first awaiting_review to its first human review (standing-approval rules
    decide instantly and would flatter the number, so they are left out)."""
    row = await conn.fetchrow(
        f"""WITH {SCOPED},
            asked AS (SELECT account_id, episode, min(at) AS at FROM scoped WHERE type = 'awaiting_review'
                      GROUP BY 1, 2),
            decided AS (SELECT account_id, episode, min(at) AS at FROM scoped WHERE {OWNER_REVIEW} GROUP BY 1, 2),
            hours AS (SELECT (extract(epoch FROM d.at - a.at) / 3600)::float8 AS h
                      FROM asked a JOIN decided d USING (account_id, episode) WHERE d.at >= a.at)
            SELECT count(*) AS decisions,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY h) AS median_hours,
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY h) AS p90_hours
            FROM hours""", *scope.args())
    return dict(row)


async def path_coverage(conn: asyncpg.Connection, scope: Scope) -> dict:
    """The seed's baseline metric: the share of dormant accounts whose path rests on complete data
    (inactivity reason, value, owner, risk, a known permission status, and a path other than not_ready).
    Per-criterion misses say which CRM field to fix first."""
    checks = ",\n".join(f"count(*) FILTER (WHERE NOT {c}) AS {c}" for c in COVERAGE_CRITERIA)
    row = await conn.fetchrow(
        f"""WITH {SCOPED},
            dormant AS (SELECT account_id, bool_or(coalesce(path, '') NOT IN ('', 'not_ready')) AS approved_path
                        FROM scoped GROUP BY account_id),
            checked AS (
                SELECT coalesce(btrim(a.inactivity_reason), '') <> '' AS inactivity_reason,
                       a.account_value IS NOT NULL AS account_value,
                       coalesce(btrim(a.owner_email), '') <> '' AS owner_email,
                       coalesce(btrim(a.risk_level), '') <> '' AS risk_level,
                       coalesce(a.consent_status IN ('granted', 'opted_out'), false) AS permission_check,
                       d.approved_path
                FROM dormant d LEFT JOIN accounts a USING (account_id))
            SELECT count(*) AS denominator,
                   count(*) FILTER (WHERE {' AND '.join(COVERAGE_CRITERIA)}) AS numerator,
                   {checks}
            FROM checked""", *scope.args())
    return {"metric": COVERAGE_METRIC, "numerator": row["numerator"], "denominator": row["denominator"],
            "share": _share(row["numerator"], row["denominator"]),
            "missing": {c: row[c] for c in COVERAGE_CRITERIA}}


async def pilot_threshold(conn: asyncpg.Connection, scope: Scope) -> dict:
    """The pilot passes when at least 90% of dormant accounts were either reviewed by a person or
    suppressed (suppressed/not_ready event, or a suppressed path) before any outreach in that episode:
    the product's promise is judgement first, and this is its measurable form. Holdout control accounts
    are left out of both counts: they are withheld from review and outreach on purpose, and counting
    them would cap the share at one minus the control share."""
    row = await conn.fetchrow(
        f"""WITH {SCOPED},
            control AS (SELECT DISTINCT account_id FROM scoped
                        WHERE type = 'holdout_assigned' AND detail->>'arm' = 'control'),
            judged AS (
                SELECT DISTINCT s.account_id FROM scoped s
                WHERE (({OWNER_REVIEW}) OR s.type IN ('suppressed', 'not_ready') OR s.path = 'suppressed')
                  AND s.account_id NOT IN (SELECT account_id FROM control)
                  AND NOT EXISTS (SELECT 1 FROM measurement_events m WHERE m.account_id = s.account_id
                                  AND m.episode = s.episode AND m.type = 'sent' AND m.at < s.at))
            SELECT (SELECT count(*) FROM judged) AS numerator,
                   (SELECT count(DISTINCT account_id) FROM scoped
                    WHERE account_id NOT IN (SELECT account_id FROM control)) AS denominator,
                   (SELECT count(*) FROM control) AS holdout_control_excluded""", *scope.args())
    share = _share(row["numerator"], row["denominator"])
    return {"numerator": row["numerator"], "denominator": row["denominator"], "share": share,
            "threshold": PILOT_THRESHOLD, "passed": share is not None and share >= PILOT_THRESHOLD,
            "holdout_control_excluded": row["holdout_control_excluded"]}


async def holdout_lift(conn: asyncpg.Connection, scope: Scope) -> LiftResult:
    """Reactivation rate per holdout arm and the difference with its 95% CI. The cohort is the episodes
    assigned within the scope; their reactivation counts whenever it happened, since a control account
    coming back after the window's end is still the baseline we need."""
    rows = await conn.fetch(
        f"""WITH {SCOPED},
            assigned AS (SELECT DISTINCT ON (account_id, episode) account_id, episode, detail->>'arm' AS arm
                         FROM scoped WHERE type = 'holdout_assigned' ORDER BY account_id, episode, at)
            SELECT arm, count(*) AS n,
                   count(*) FILTER (WHERE EXISTS (
                       SELECT 1 FROM measurement_events m WHERE m.account_id = a.account_id
                       AND m.episode = a.episode AND m.type = 'reactivated')) AS reactivated
            FROM assigned a WHERE arm IN ('treatment', 'control') GROUP BY arm""", *scope.args())
    arms = {r["arm"]: (r["reactivated"], r["n"]) for r in rows}
    return compute_lift(*arms.get("treatment", (0, 0)), *arms.get("control", (0, 0)))
