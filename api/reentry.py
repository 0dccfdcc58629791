"""The re-entry verdict for one account, as the CRM trigger and the account view ask it.

Both routes must give the same answer the dormancy scan gives, so both read the same facts
(db/reentry_queries.py) and judge them with the policy in force at the same moment, here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg

from config.settings import Settings, policy_from
from db.reentry_queries import reentry_facts_for
from reactivation.reentry import Skip


async def reentry_verdict(conn: asyncpg.Connection, account_id: str, settings: Settings) -> tuple[bool, Skip | None]:
    """(the account is in the CRM store, why a new episode must not start now or None)."""
    facts = await reentry_facts_for(conn, account_id)
    if facts is None:
        return False, None
    return True, facts.skip(datetime.now(UTC), policy_from(settings))


def review_again(skip: Skip | None) -> dict[str, Any]:
    """The account view's answer to "may this account be reviewed again, and if not, why and until when"
    (`until` None with a reason: not automatically, e.g. until the CRM's consent changes)."""
    return {"may_review_again": skip is None, "reason": skip.reason.value if skip else None,
            "until": skip.until.isoformat() if skip and skip.until else None, "detail": skip.message if skip else None}
