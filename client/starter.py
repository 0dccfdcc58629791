"""Starting a reactivation: shared by the CRM trigger endpoint, `dormant scan` and the demo.

At most one open workflow per account: the id is `dormant-account-<id>` with a FAIL conflict policy, so
a repeated trigger while a review is open is a no-op that says so; a closed episode may be followed by a
new one (ALLOW_DUPLICATE reuse policy).
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from config.settings import Settings, policy_from
from reactivation.delivery_model import message_domain
from reactivation.send_window import parse_window
from workflows.dormant_account import ACCOUNT_ID, STAGE, DormantAccountWorkflow
from workflows.dormant_account_models import DormantAccountInput, LifecycleTimings, workflow_id_for

ALREADY_OPEN = "a reactivation is already open for this account"


@dataclass(frozen=True)
class StartResult:
    account_id: str
    workflow_id: str
    started: bool
    message: str


def timings_from(settings: Settings) -> LifecycleTimings:
    return LifecycleTimings(
        follow_up_after=settings.follow_up_after,
        outcome_window=settings.outcome_window,
        review_reminder_after=settings.review_reminder_after,
        review_escalate_after=settings.review_escalate_after,
        delivery_timeout=settings.delivery_timeout,
        delivery_give_up_after=settings.delivery_give_up_after,
    )


async def start_reactivation(client: Client, settings: Settings, account_id: str, *, reason: str = "",
                             source: str = "trigger", task_queue: str | None = None) -> StartResult:
    workflow_id = workflow_id_for(account_id)
    try:
        await client.start_workflow(
            DormantAccountWorkflow.run,
            DormantAccountInput(account_id=account_id, reason=reason, source=source, timings=timings_from(settings),
                                policy=policy_from(settings),
                                standing_approval=settings.standing_approval,
                                send_window="" if parse_window(settings.send_window) is None else settings.send_window,
                                default_timezone=settings.default_timezone,
                                holdout_share=settings.holdout_share, holdout_salt=settings.holdout_salt,
                                llm_task_queue=settings.llm_task_queue if settings.llm_enabled else None,
                                message_domain=message_domain(settings.mail_from)),
            id=workflow_id,
            task_queue=task_queue or settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            search_attributes=TypedSearchAttributes([SearchAttributePair(ACCOUNT_ID, account_id),
                                                     SearchAttributePair(STAGE, "gathering_evidence")]),
            static_summary=f"Dormant account {account_id} ({source}{': ' + reason if reason else ''})",
        )
    except WorkflowAlreadyStartedError:
        return StartResult(account_id, workflow_id, False, ALREADY_OPEN)
    return StartResult(account_id, workflow_id, True, "reactivation started")
