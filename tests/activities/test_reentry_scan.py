"""The re-entry policy through the real PostgreSQL and Temporal: the scan skips, the trigger refuses, the
account view says until when.

Finished episodes are written straight into review_projection (as the workflow leaves them when an episode
ends), so these tests judge the policy and not the lifecycle that produces the rows.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.service import RPCError, RPCStatusCode

from db.owners import add_owner
from reactivation.scan_model import ScanCursor, ScanInput
from tests.support.api import api_client, bearer
from tests.support.crm_fixtures import add_account
from tests.support.lifecycle_helpers import running_worker
from workflows.dormancy_scan import DormancyScanWorkflow


def ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


async def finished(pool, account_id: str, outcome: str, finished_at: datetime, reopen_after: datetime | None) -> None:
    """The review projection as the workflow leaves it when an episode ends."""
    await pool.execute(
        """INSERT INTO review_projection (account_id, workflow_id, episode, stage, owner_email, outcome, finished_at,
                                          reopen_after)
           VALUES ($1, 'dormant-account-' || $1, $1 || '-e1', 'closed', 'owner@test.dormant', $2, $3, $4)""",
        account_id, outcome, finished_at, reopen_after)


async def terminate(client, account_ids) -> None:
    for account_id in account_ids:
        with contextlib.suppress(RPCError):  # already finished on its own
            await client.get_workflow_handle(f"dormant-account-{account_id}").terminate("test done")


async def workflow_exists(client, account_id: str) -> bool:
    try:
        await client.get_workflow_handle(f"dormant-account-{account_id}").describe()
    except RPCError as err:
        assert err.status == RPCStatusCode.NOT_FOUND
        return False
    return True


async def test_scan_skips_what_the_policy_keeps_out_and_says_why(client, pool, settings, prefix):
    # A window of its own in 1991 (the cursor starts it, the cutoff ends it), away from test_scan's 1990.
    base = datetime(1991, 1, 1, tzinfo=UTC)
    accounts = ["closed", "quiet", "optout", "back", "fresh", "rested"]
    for i, name in enumerate(accounts):
        await add_account(pool, f"{prefix}-{name}", last_activity_at=base + timedelta(days=i + 1),
                          consent_status="opted_out" if name == "optout" else "granted")
    await finished(pool, f"{prefix}-closed", "closed_by_owner", ago(10), ago(-30))
    await finished(pool, f"{prefix}-quiet", "no_response", ago(10), ago(-80))
    await finished(pool, f"{prefix}-optout", "opted_out", ago(100), None)
    await finished(pool, f"{prefix}-back", "opted_out", ago(100), None)
    await pool.execute("UPDATE accounts SET consent_changed_at = $2 WHERE account_id = $1", f"{prefix}-back", ago(1))
    await finished(pool, f"{prefix}-rested", "no_response", ago(200), ago(110))
    scan = ScanInput(cutoff=base + timedelta(days=200), cursor=ScanCursor(last_activity_at=base, account_id=""),
                     page_size=4, pages_per_run=1)  # two pages, across continue-as-new
    try:
        async with running_worker(client, pool, settings):
            result = await client.execute_workflow(DormancyScanWorkflow.run, scan, id=f"scan-{prefix}",
                                                   task_queue=settings.task_queue)
        started = {name for name in accounts if await workflow_exists(client, f"{prefix}-{name}")}
    finally:
        await terminate(client, [f"{prefix}-{name}" for name in accounts])
    assert (result.seen, result.started, result.already_open) == (6, 3, 0)
    assert result.skipped == {"closed_by_owner": 1, "cooling_off": 1, "opted_out": 1}
    assert started == {"back", "fresh", "rested"}
    assert "3 skipped (1 closed_by_owner, 1 cooling_off, 1 opted_out)" in result.summary()


@pytest.fixture
async def admin(pool, prefix) -> dict:
    async with pool.acquire() as conn:
        return bearer(await add_owner(conn, f"{prefix}-admin@test.dormant", admin=True))


async def test_trigger_refuses_with_the_reason_and_the_view_says_until_when(client, pool, settings, prefix, admin):
    closed, active = f"{prefix}-closed", f"{prefix}-active"
    await add_account(pool, closed)
    await finished(pool, closed, "closed_by_owner", ago(10), ago(-30))
    await add_account(pool, active, last_activity_at=ago(10))
    async with api_client(settings) as http:
        refused = await http.post("/v1/triggers/dormant", json={"account_id": closed}, headers=admin)
        view = (await http.get(f"/v1/accounts/{closed}", headers=admin)).json()["reentry"]
        not_dormant = await http.post("/v1/triggers/dormant", json={"account_id": active}, headers=admin)
    assert refused.status_code == 409
    assert refused.json()["reason"] == "closed_by_owner" and "closed by the owner" in refused.json()["detail"]
    assert view["may_review_again"] is False and view["reason"] == "closed_by_owner"
    assert datetime.fromisoformat(view["until"]) == (await pool.fetchval(
        "SELECT reopen_after FROM review_projection WHERE account_id = $1", closed))
    assert not_dormant.status_code == 409 and not_dormant.json()["reason"] == "not_dormant"
    assert not await workflow_exists(client, closed) and not await workflow_exists(client, active)


async def test_opted_out_is_reopened_only_after_consent_comes_back(client, pool, settings, prefix, admin):
    account_id = f"{prefix}-optout"
    await add_account(pool, account_id, consent_status="opted_out", consent_changed_at=ago(200))
    await finished(pool, account_id, "opted_out", ago(100), None)
    try:
        async with api_client(settings) as http:
            refused = await http.post("/v1/triggers/dormant", json={"account_id": account_id}, headers=admin)
            view = (await http.get(f"/v1/accounts/{account_id}", headers=admin)).json()["reentry"]
            await pool.execute("UPDATE accounts SET consent_status = 'granted', consent_changed_at = now() "
                               "WHERE account_id = $1", account_id)
            back = await http.post("/v1/triggers/dormant", json={"account_id": account_id}, headers=admin)
    finally:
        await terminate(client, [account_id])
    assert refused.status_code == 409 and refused.json()["reason"] == "opted_out"
    assert view == {"may_review_again": False, "reason": "opted_out", "until": None,
                    "detail": refused.json()["detail"]}
    assert back.status_code == 200 and back.json()["started"] is True


async def test_an_open_review_still_answers_already_open(client, pool, settings, prefix, admin):
    account_id = f"{prefix}-open"
    await add_account(pool, account_id)
    try:
        async with api_client(settings) as http:  # no worker: the workflow stays open, waiting for one
            first = await http.post("/v1/triggers/dormant", json={"account_id": account_id}, headers=admin)
            fresh = (await http.get(f"/v1/accounts/{account_id}", headers=admin)).json()["reentry"]
            await pool.execute("UPDATE accounts SET last_activity_at = $2 WHERE account_id = $1", account_id, ago(1))
            again = await http.post("/v1/triggers/dormant", json={"account_id": account_id}, headers=admin)
    finally:
        await terminate(client, [account_id])
    assert first.json()["started"] is True
    assert fresh == {"may_review_again": True, "reason": None, "until": None, "detail": None}
    assert again.status_code == 200 and again.json()["started"] is False and "already open" in again.json()["message"]
