"""Hand a stored CRM event to the account's workflow, and mark it delivered when the workflow took it.

Every door that records a CRM event (the CRM webhook, the unsubscribe link, inbound mail) stores it
first and then signals; an account with no open workflow keeps the event (delivered=false), not lost.
"""

from __future__ import annotations

import asyncpg
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from db.crm_events import mark_delivered
from reactivation.review_model import CrmEvent
from reactivation.vocabulary import CrmEventType
from workflows.dormant_account import DormantAccountWorkflow
from workflows.dormant_account_models import workflow_id_for

# Event types the frozen v1 workflow (type DormantAccountWorkflow, draining) does not know: its owner task
# would end on any event, so they are kept for it (delivered=false), not signalled.
NEWER_THAN_V1 = frozenset({CrmEventType.auto_reply})
WORKFLOW_TYPE = "DormantAccount"  # workflows/dormant_account.py


async def signal_event(pool: asyncpg.Pool, temporal: Client, account_id: str, event_id: int, event: CrmEvent) -> bool:
    """True when the account's workflow received the event."""
    handle = temporal.get_workflow_handle(workflow_id_for(account_id))
    try:
        if event.type in NEWER_THAN_V1 and (await handle.describe()).workflow_type != WORKFLOW_TYPE:
            return False
        await handle.signal(DormantAccountWorkflow.crm_event, event)
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        return False
    async with pool.acquire() as conn:
        await mark_delivered(conn, event_id)
    return True
