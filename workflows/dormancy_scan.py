"""DormancyScanWorkflow: the scheduled scan, page by page, with its progress in the workflow's details.

Run daily by the `dormant-scan` Temporal Schedule (or once by `dormant scan`). The cutoff is fixed when
the scan begins, pages are walked with a keyset cursor, and the workflow continues as new every
`pages_per_run` pages so its history stays bounded however many accounts there are. Accounts the re-entry
policy keeps out are counted per reason by the page activity; adding them changed no command, so histories
recorded before stay replayable.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from reactivation.scan_model import ScanInput, ScanPageRequest, ScanPageResult, ScanResult, add_counts

SCAN_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=1))


@workflow.defn
class DormancyScanWorkflow:
    def __init__(self) -> None:
        self._progress = "starting"

    @workflow.query
    def progress(self) -> str:
        return self._progress

    @workflow.run
    async def run(self, input: ScanInput) -> ScanResult:
        cutoff = input.cutoff or workflow.now() - timedelta(days=input.dormancy_days)
        cursor, seen, started, already = input.cursor, input.seen, input.started, input.already_open
        skipped = input.skipped
        for _ in range(input.pages_per_run):
            page = await workflow.execute_activity(
                "scan_dormant_page", ScanPageRequest(cutoff=cutoff, cursor=cursor, page_size=input.page_size),
                result_type=ScanPageResult, start_to_close_timeout=timedelta(minutes=5),
                heartbeat_timeout=timedelta(minutes=1), retry_policy=SCAN_RETRY, summary="scan a page",
            )
            seen, started, already = seen + page.seen, started + page.started, already + page.already_open
            skipped = add_counts(skipped, page.skipped)
            result = ScanResult(seen=seen, started=started, already_open=already, skipped=skipped)
            self._progress = result.summary()
            workflow.set_current_details(self._progress)
            cursor = page.next_cursor
            if cursor is None:
                return result
        workflow.continue_as_new(input.model_copy(update={"cutoff": cutoff, "cursor": cursor, "seen": seen,
                                                          "started": started, "already_open": already,
                                                          "skipped": skipped}))
