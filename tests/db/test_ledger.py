"""A ledger batch: its new events and the review projection are written by one statement, all or nothing, and
a retried batch writes nothing twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from db.ledger import record_steps
from reactivation.ledger_model import ProjectionView, StepRecord

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _step(account: str, n: int, type_: str, *, at: datetime | None = None, **view) -> StepRecord:
    return StepRecord(event_id=f"{account}:ep-1:{n}:{type_}", type=type_, at=at or AT + timedelta(minutes=n),
                      account_id=account, workflow_id=f"wf-{account}", episode="ep-1", stage=view.get("stage", "x"),
                      segment="smb", view=ProjectionView(**view))


async def _events(pool, account: str) -> list[str]:
    return [r["type"] for r in await pool.fetch(
        "SELECT type FROM measurement_events WHERE account_id = $1 ORDER BY at", account)]


async def _projection(pool, account: str):
    return await pool.fetchrow("SELECT stage, priority, tier, recommended_next_step, state, updated_at "
                               "FROM review_projection WHERE account_id = $1", account)


async def test_a_batch_writes_its_events_and_the_last_view_keeping_what_a_later_step_did_not_know(pool, prefix):
    account = f"{prefix}-batch"
    steps = [_step(account, 1, "reviewed", stage="awaiting_review", priority=71.5, tier="strategic",
                   recommended_next_step="call"),
             _step(account, 2, "approved", stage="approved", recommended_next_step="send")]
    async with pool.acquire() as conn:
        assert await record_steps(conn, steps) == 2
        assert await record_steps(conn, steps) == 0  # a retried activity
    assert await _events(pool, account) == ["reviewed", "approved"]
    row = await _projection(pool, account)
    assert (row["stage"], row["priority"], row["tier"], row["recommended_next_step"]) == \
        ("approved", 71.5, "strategic", "send")
    assert row["updated_at"] == steps[-1].at


async def test_an_older_batch_does_not_overwrite_a_newer_view_but_its_events_are_kept(pool, prefix):
    account = f"{prefix}-order"
    async with pool.acquire() as conn:
        await record_steps(conn, [_step(account, 5, "sent", stage="sent")])
        assert await record_steps(conn, [_step(account, 3, "approved", stage="approved")]) == 1
    assert (await _projection(pool, account))["stage"] == "sent"
    assert sorted(await _events(pool, account)) == ["approved", "sent"]


async def test_a_patch_merges_into_the_stored_review_of_the_same_episode(pool, prefix):
    account = f"{prefix}-patch"
    async with pool.acquire() as conn:
        await pool.execute("INSERT INTO review_projection (account_id, workflow_id, episode, stage, state, updated_at) "
                           """VALUES ($1, $2, 'ep-1', 'awaiting_review', '{"notice": "old", "brief": "kept"}', $3)""",
                           account, f"wf-{account}", AT)
        await record_steps(conn, [_step(account, 1, "approved", stage="approved", state_patch={"notice": "new"})])
    assert (await _projection(pool, account))["state"] == {"notice": "new", "brief": "kept"}


async def test_a_batch_the_database_refuses_leaves_neither_events_nor_projection(pool, prefix):
    """The events alone would be accepted; the projection's text with a NUL byte is not, so nothing is."""
    account = f"{prefix}-atomic"
    async with pool.acquire() as conn:
        with pytest.raises(asyncpg.PostgresError):
            await record_steps(conn, [_step(account, 1, "reviewed", stage="awaiting_review"),
                                      _step(account, 2, "approved", stage="approved",
                                            recommended_next_step="call\x00now")])
    assert await _events(pool, account) == []
    assert await _projection(pool, account) is None
