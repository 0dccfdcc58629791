"""What ops filter on in Temporal UI: each account's search attributes follow its review (stage, owner, path,
priority), although each upsert carries only the attributes that changed (issue 18)."""

from __future__ import annotations

import asyncio

from temporalio.client import WorkflowHandle

from reactivation.vocabulary import CrmEventType
from tests.support.crm_fixtures import add_account
from tests.support.lifecycle_helpers import OWNER, running_worker, start_account, wait_for_stage
from tests.workflows.test_lifecycle_regressions import crm, decide
from workflows.lifecycle_io import ACCOUNT_ID, ACCOUNT_OWNER, PATH, PRIORITY, STAGE


async def attributes(handle: WorkflowHandle) -> dict:
    found = (await handle.describe()).typed_search_attributes
    return {key.name: found.get(key) for key in (ACCOUNT_ID, STAGE, ACCOUNT_OWNER, PATH, PRIORITY)}


async def listed(client, query: str, timeout: float = 15.0) -> list[str]:
    """Workflow ids the visibility query finds, once it finds any (visibility trails the history)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        ids = [w.id async for w in client.list_workflows(query)]
        if ids or asyncio.get_running_loop().time() > deadline:
            return ids
        await asyncio.sleep(0.2)


async def test_search_attributes_follow_the_review_through_an_owner_change_to_the_close(client, pool, settings, prefix):
    account_id = f"{prefix}-sa"
    new_owner = f"{prefix}-new@test.dormant"
    await add_account(pool, account_id, owner_email=OWNER)
    async with running_worker(client, pool, settings):
        handle = await start_account(client, settings, account_id)
        review = await wait_for_stage(handle, "awaiting_review")
        assert await attributes(handle) == {
            "AccountId": account_id, "ReactivationStage": "awaiting_review", "AccountOwner": OWNER,
            "ReactivationPath": review.path.value, "ReactivationPriority": review.priority}

        await crm(pool, handle, account_id, CrmEventType.owner_changed.value, new_owner_email=new_owner)
        deadline = asyncio.get_running_loop().time() + 15
        while (await attributes(handle))["AccountOwner"] != new_owner:
            assert asyncio.get_running_loop().time() < deadline, await attributes(handle)
            await asyncio.sleep(0.2)

        await decide(handle, "approve", by=new_owner)  # the new owner decides now
        await wait_for_stage(handle, "closed", timeout=60)
        await handle.result()  # the closing upsert follows the ledger write: the run's end is after both
        assert await attributes(handle) == {
            "AccountId": account_id, "ReactivationStage": "closed", "AccountOwner": new_owner,
            "ReactivationPath": review.path.value, "ReactivationPriority": review.priority}
        assert await listed(client, f'AccountId = "{account_id}" AND ReactivationStage = "closed" '
                                    f'AND AccountOwner = "{new_owner}"') == [handle.id]
