"""Report queries over the measurement ledger (issue 8 deepens these into the full funnel and lift)."""

from __future__ import annotations

import asyncpg


async def funnel_counts(conn: asyncpg.Connection, owner_email: str | None = None) -> dict[str, int]:
    rows = await conn.fetch(
        """SELECT type, count(DISTINCT account_id) AS accounts FROM measurement_events
           WHERE $1::text IS NULL OR owner_email = $1 GROUP BY type ORDER BY type""", owner_email)
    return {r["type"]: r["accounts"] for r in rows}


async def drafting_cost(conn: asyncpg.Connection, owner_email: str | None = None) -> dict:
    row = await conn.fetchrow(
        """SELECT count(*) AS drafts,
                  count(*) FILTER (WHERE detail->>'by' LIKE 'template%') AS template_drafts,
                  coalesce(sum((detail->>'prompt_tokens')::int), 0) AS prompt_tokens,
                  coalesce(sum((detail->>'completion_tokens')::int), 0) AS completion_tokens,
                  coalesce(sum((detail->>'estimated_cost_usd')::numeric), 0) AS estimated_cost_usd
           FROM measurement_events WHERE type = 'draft_generated' AND ($1::text IS NULL OR owner_email = $1)""",
        owner_email)
    return {**dict(row), "estimated_cost_usd": float(row["estimated_cost_usd"])}
