"""owner_changed events and owner emails, through the HTTP API and the real PostgreSQL.

No workflow runs here: the event is stored (delivered_to_workflow false) and the CRM store itself must
move the account to the new owner, because the next episode and the access checks read it from there.
"""

from __future__ import annotations

import asyncpg
import pytest
import pytest_asyncio

from db.crm_events import record_event
from db.owners import add_owner
from reactivation.vocabulary import CrmEventType, Stage
from tests.support.api import api_client, bearer
from tests.support.crm_fixtures import add_account


@pytest_asyncio.fixture
async def people(pool, prefix) -> dict[str, tuple[str, str]]:
    """name -> (email, token); the CRM may spell the same emails in any case."""
    async with pool.acquire() as conn:
        return {name: (email, await add_owner(conn, email, admin=name == "admin"))
                for name, email in (("old", f"{prefix}-old@test.dormant"), ("new", f"{prefix}-new@test.dormant"),
                                    ("admin", f"{prefix}-admin@test.dormant"))}


async def add_projection(pool, account_id: str, owner_email: str, stage: Stage, outcome: str | None = None) -> None:
    """A review projection row as a workflow leaves it (only the columns the queue and access checks read)."""
    await pool.execute(
        """INSERT INTO review_projection (account_id, workflow_id, episode, stage, owner_email, outcome, priority)
           VALUES ($1, $2, 'e1', $3, $4, $5, 0.5)""",
        account_id, f"dormant-account-{account_id}", stage.value, owner_email, outcome)


def owner_changed(account_id: str, new_owner_email: str | None) -> dict:
    event = {"account_id": account_id, "type": CrmEventType.owner_changed.value, "detail": "territory reshuffle"}
    return event if new_owner_email is None else {**event, "new_owner_email": new_owner_email}


async def test_owner_changed_moves_the_account_to_the_new_owner(pool, settings, prefix, people):
    account_id = f"{prefix}-moved"
    await add_account(pool, account_id, owner_email=people["old"][0])
    async with api_client(settings) as http:
        view = f"/v1/accounts/{account_id}"
        assert (await http.get(view, headers=bearer(people["old"][1]))).status_code == 200
        sent = await http.post("/v1/events", json=owner_changed(account_id, people["new"][0].upper()),
                               headers=bearer(people["admin"][1]))
        assert sent.status_code == 200, sent.text
        assert sent.json()["delivered_to_workflow"] is False
        assert await pool.fetchval("SELECT owner_email FROM accounts WHERE account_id = $1", account_id) \
            == people["new"][0]
        assert (await http.get(view, headers=bearer(people["new"][1]))).status_code == 200
        assert (await http.get(view, headers=bearer(people["old"][1]))).status_code == 404
    stored = await pool.fetch("SELECT type, delivered FROM crm_events WHERE account_id = $1", account_id)
    assert [(r["type"], r["delivered"]) for r in stored] == [(CrmEventType.owner_changed.value, False)]


async def test_an_owner_change_between_episodes_moves_the_finished_review_too(pool, settings, prefix, people):
    """The account view prefers the projection's owner; a finished episode has no workflow to rewrite it."""
    account_id = f"{prefix}-between"
    await add_account(pool, account_id, owner_email=people["old"][0])
    await add_projection(pool, account_id, people["old"][0], Stage.closed, outcome="no_response")
    async with api_client(settings) as http:
        sent = await http.post("/v1/events", json=owner_changed(account_id, people["new"][0]),
                               headers=bearer(people["admin"][1]))
        assert sent.status_code == 200, sent.text
        view = f"/v1/accounts/{account_id}"
        assert (await http.get(view, headers=bearer(people["new"][1]))).status_code == 200
        assert (await http.get(view, headers=bearer(people["old"][1]))).status_code == 404


@pytest.mark.parametrize("new_owner_email, reason", [
    (None, "is required for an owner_changed event"),
    ("not-an-email", "must be an email address"),
    ("alex@localhost", "must be an email address"),
    ("alex@example.com\r\nBcc: x@example.com", "must be an email address"),
])
async def test_owner_changed_needs_a_well_formed_new_owner_email(pool, settings, prefix, people, new_owner_email,
                                                                 reason):
    account_id = f"{prefix}-nobody"
    await add_account(pool, account_id, owner_email=people["old"][0])
    async with api_client(settings) as http:
        refused = await http.post("/v1/events", json=owner_changed(account_id, new_owner_email),
                                  headers=bearer(people["admin"][1]))
    assert refused.status_code == 422
    [problem] = refused.json()["detail"]
    assert problem["field"] == "new_owner_email" and reason in problem["reason"]
    assert await pool.fetchval("SELECT owner_email FROM accounts WHERE account_id = $1", account_id) \
        == people["old"][0]
    assert await pool.fetchval("SELECT count(*) FROM crm_events WHERE account_id = $1", account_id) == 0


async def test_a_mixed_case_owner_in_the_crm_matches_the_owners_token(pool, settings, prefix, people):
    account_id = f"{prefix}-mixed"
    spelled = f"{prefix.upper()}-Old@Test.Dormant"
    await add_account(pool, account_id, owner_email=spelled)
    await add_projection(pool, account_id, spelled, Stage.awaiting_review)
    async with api_client(settings) as http:
        queue = (await http.get("/v1/queue", headers=bearer(people["old"][1]))).json()
        assert [row["account_id"] for row in queue] == [account_id]
        assert (await http.get("/v1/queue", headers=bearer(people["new"][1]))).json() == []
        assert (await http.get(f"/v1/accounts/{account_id}", headers=bearer(people["old"][1]))).status_code == 200
        assert (await http.get(f"/v1/accounts/{account_id}", headers=bearer(people["new"][1]))).status_code == 404


@pytest.mark.parametrize("type_", list(CrmEventType))
async def test_every_event_locks_the_account_row_for_update(pool, prefix, type_):
    """The send guard claims a message under the account row's FOR UPDATE lock; every event must take the
    same lock, so the two are serialised. FOR KEY SHARE conflicts only with FOR UPDATE (not with the
    weaker lock an ordinary UPDATE takes), so NOWAIT failing shows exactly that lock is held."""
    account_id = f"{prefix}-lock"
    await add_account(pool, account_id)
    async with pool.acquire() as recording, pool.acquire() as other:
        transaction = recording.transaction()
        await transaction.start()
        try:
            owner = {"new_owner_email": f"{prefix}-new@test.dormant"} if type_ == CrmEventType.owner_changed else {}
            await record_event(recording, account_id, type_.value, await recording.fetchval("SELECT now()"), "x",
                               **owner)
            with pytest.raises(asyncpg.LockNotAvailableError):
                await other.execute("SELECT 1 FROM accounts WHERE account_id = $1 FOR KEY SHARE NOWAIT", account_id)
        finally:
            await transaction.rollback()
        await other.execute("SELECT 1 FROM accounts WHERE account_id = $1 FOR KEY SHARE NOWAIT", account_id)


async def test_record_event_refuses_an_owner_change_without_an_owner(pool, prefix):
    account_id = f"{prefix}-noowner"
    await add_account(pool, account_id)
    async with pool.acquire() as conn:
        with pytest.raises(ValueError, match="new_owner_email"):
            await record_event(conn, account_id, CrmEventType.owner_changed.value,
                               await conn.fetchval("SELECT now()"), "")
