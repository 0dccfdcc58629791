"""The dormancy scan: only accounts quiet past the cutoff, idempotent, paged with a keyset cursor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reactivation.scan_model import ScanInput
from tests.support.crm_fixtures import add_account
from tests.support.lifecycle_helpers import running_worker
from workflows.dormancy_scan import DormancyScanWorkflow


async def test_scan_starts_each_dormant_account_once(client, pool, settings, prefix):
    # A cutoff far in the past isolates this test's accounts from every other test's data.
    base = datetime(1990, 1, 1, tzinfo=UTC)
    for i in range(5):
        await add_account(pool, f"{prefix}-d{i}", last_activity_at=base + timedelta(days=i))
    await add_account(pool, f"{prefix}-active", last_activity_at=base + timedelta(days=400))
    scan = ScanInput(cutoff=base + timedelta(days=200), page_size=2, pages_per_run=2)
    async with running_worker(client, pool, settings):
        first = await client.execute_workflow(DormancyScanWorkflow.run, scan, id=f"scan-{prefix}-1",
                                              task_queue=settings.task_queue)
        again = await client.execute_workflow(DormancyScanWorkflow.run, scan, id=f"scan-{prefix}-2",
                                              task_queue=settings.task_queue)
        for i in range(5):
            await client.get_workflow_handle(f"dormant-account-{prefix}-d{i}").terminate("test done")
    assert (first.seen, first.started) == (5, 5)  # across continue-as-new: 2 pages per run, 2 per page
    assert (again.started, again.already_open) == (0, 5)
    assert await pool.fetchval("SELECT count(*) FROM review_projection WHERE account_id = $1",
                               f"{prefix}-active") == 0
