"""What the re-entry verdict reads about accounts: consent, activity and the last finished episode.

One query serves a whole scan page (`= ANY($1)`), so a page of 200 accounts costs one round trip, and the
trigger and the account view use the same query for one id. The review projection keeps one row per
account, the latest episode: only a row with an outcome is a finished episode; an open one (outcome NULL)
is Temporal's business (the workflow id allows one open reactivation at a time). Rows written before
migration 004 have no finished_at; their last update is when they finished.
"""

from __future__ import annotations

import asyncpg

from reactivation.reentry import LastEpisode, ReentryFacts
from reactivation.vocabulary import Outcome

FACTS = """SELECT a.account_id, a.segment, a.consent_status, a.consent_changed_at, a.last_activity_at,
                  p.outcome, coalesce(p.finished_at, p.updated_at) AS finished_at, p.reopen_after
           FROM accounts a LEFT JOIN review_projection p ON p.account_id = a.account_id AND p.outcome IS NOT NULL
           WHERE a.account_id = ANY($1::text[])"""


def _facts(row: asyncpg.Record) -> ReentryFacts:
    last = LastEpisode(Outcome(row["outcome"]), row["finished_at"], row["reopen_after"]) if row["outcome"] else None
    return ReentryFacts(account_id=row["account_id"], segment=row["segment"], consent_status=row["consent_status"],
                        consent_changed_at=row["consent_changed_at"], last_activity_at=row["last_activity_at"],
                        last=last)


async def reentry_facts(conn: asyncpg.Connection, account_ids: list[str]) -> dict[str, ReentryFacts]:
    """The facts of every account in `account_ids` that is in the CRM store, by account id."""
    rows = await conn.fetch(FACTS, account_ids)
    return {row["account_id"]: _facts(row) for row in rows}


async def reentry_facts_for(conn: asyncpg.Connection, account_id: str) -> ReentryFacts | None:
    """One account's facts; None when the account is not in the CRM store."""
    return (await reentry_facts(conn, [account_id])).get(account_id)
