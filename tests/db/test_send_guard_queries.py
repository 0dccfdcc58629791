"""The facts the send guard judges, read in one statement inside the claiming transaction: the address's
suppression, the stop events since the approval, and whether the episode is still the account's current one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from db.send_guard_queries import guard_facts, lock_account
from db.suppression import suppress_address
from tests.support.crm_fixtures import add_account

APPROVED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


async def _facts(pool, account_id: str, *, address: str, episode: str = "ep-1", approved_at=APPROVED):
    async with pool.acquire() as conn, conn.transaction():
        account = await lock_account(conn, account_id)
        return await guard_facts(conn, account, address=address, episode=episode, approved_at=approved_at,
                                 window_open=True, approved_fingerprint=None, fingerprint_of=None)


async def test_a_clean_account_has_nothing_that_stops_the_send(pool, prefix):
    account = f"{prefix}-clean"
    await add_account(pool, account)
    facts = await _facts(pool, account, address=f"{account}@example.com")
    assert (facts.address_suppressed, facts.stop_events, facts.episode_current) == ("", [], True)


async def test_suppression_is_found_whatever_the_case_of_the_address_and_says_why(pool, prefix):
    account = f"{prefix}-supp"
    await add_account(pool, account)
    async with pool.acquire() as conn:
        await suppress_address(conn, f"{account}@Example.com", "email", "bounce", account, "550 no such user")
        await suppress_address(conn, f"{account}-2@example.com", "email", "unsubscribe", account)
    assert (await _facts(pool, account, address=f" {account}@EXAMPLE.com")).address_suppressed == \
        "bounce: 550 no such user"
    assert (await _facts(pool, account, address=f"{account}-2@example.com")).address_suppressed == "unsubscribe"


async def test_only_stop_events_received_after_the_approval_count(pool, prefix):
    account = f"{prefix}-stops"
    await add_account(pool, account)
    await pool.executemany(
        "INSERT INTO crm_events (account_id, type, at, received_at) VALUES ($1, $2, $3, $3)",
        [(account, "opt_out", APPROVED - timedelta(hours=1)), (account, "issue_opened", APPROVED + timedelta(hours=1)),
         (account, "issue_opened", APPROVED + timedelta(hours=2)), (account, "note_added", APPROVED + timedelta(hours=3))])
    assert (await _facts(pool, account, address="a@example.com")).stop_events == ["issue_opened"]
    assert (await _facts(pool, account, address="a@example.com", approved_at=None)).stop_events == []


async def test_an_episode_is_current_until_the_projection_names_another(pool, prefix):
    account = f"{prefix}-episode"
    await add_account(pool, account)
    assert (await _facts(pool, account, address="a@example.com", episode="ep-1")).episode_current
    await pool.execute("INSERT INTO review_projection (account_id, workflow_id, episode, stage) "
                       "VALUES ($1, $1, 'ep-1', 'approved')", account)
    assert (await _facts(pool, account, address="a@example.com", episode="ep-1")).episode_current
    assert not (await _facts(pool, account, address="a@example.com", episode="ep-0")).episode_current
