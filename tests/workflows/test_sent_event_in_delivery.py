"""Each send's ledger event (`sent`, `follow_up_sent`) is written by the delivery activity in the
transaction that marks the message sent, from the event the workflow predicted with the pure lifecycle
(issue 18: one local activity and one history event fewer per send). What must hold whatever happens
while the message is with the provider: the event is recorded exactly once, under one id, and the review
the projection stores is still the workflow's own review.

The SMTP server holds each message until the test releases it, so messages can arrive mid-send.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aiosmtpd.controller import Controller
from temporalio.api.enums.v1 import EventType

from dormant.processes import free_port
from reactivation.review_model import Decision
from reactivation.vocabulary import Outcome
from tests.activities.test_delivery_crash import HoldingSmtpSink
from tests.activities.test_delivery_smtp import smtp_settings
from tests.support.crm_fixtures import add_account
from tests.support.lifecycle_helpers import (
    OWNER,
    approve,
    keep_history,
    running_worker,
    start_account,
    stored_review_matches,
    wait_for_stage,
)
from tests.workflows.test_lifecycle_regressions import crm
from workflows.dormant_account import DormantAccountWorkflow


def marker_summaries(history) -> list[str]:
    """The step summaries of the local-activity markers ("record sent", "gather evidence", ...)."""
    return [e.user_metadata.summary.data.decode().strip('"') for e in history.events
            if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED and e.user_metadata.HasField("summary")]


async def ledger(pool, account_id: str) -> list[dict]:
    rows = await pool.fetch("SELECT event_id, type, detail FROM measurement_events WHERE account_id = $1 "
                            "ORDER BY at, event_id", account_id)
    return [dict(r) for r in rows]


async def mid_send(client, pool, settings, account_id: str, during, *, worker_settings=None, follow_up_body=None):
    """Approve, wait until the SMTP server holds the first message, run `during(handle)`, release it; once
    the workflow has settled after the send: its review, the SMTP sink and the history."""
    # A long outcome window: nothing is written after the send, so the stored review is what the send left.
    settings = settings.model_copy(update={"outcome_window": timedelta(minutes=10)})
    worker_settings = (worker_settings or settings).model_copy(update={"outcome_window": timedelta(minutes=10)})
    sink = HoldingSmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    starter = smtp_settings(settings, controller.port)
    worker = smtp_settings(worker_settings, controller.port)
    try:
        async with running_worker(client, pool, worker):
            handle = await start_account(client, starter, account_id)
            await wait_for_stage(handle, "awaiting_review")
            edits = {} if follow_up_body is None else {"follow_up_body": follow_up_body}
            await approve(handle, **edits)
            assert await asyncio.to_thread(sink.received.wait, 30), "the SMTP server never got the message"
            await during(handle)
            sink.release.set()
            await wait_for_stage(handle, "sent", "closed", "follow_up_sent", timeout=30)
            assert await stored_review_matches(pool, handle)
            review = await handle.query(DormantAccountWorkflow.review_state)
            if review.outcome is None:
                await handle.terminate("test done")
            else:
                await handle.result()
            return review, sink, await handle.fetch_history()
    finally:
        sink.release.set()
        controller.stop()


async def _applied(handle, check, timeout: float = 10.0) -> None:
    """Wait until the workflow has handled the message (its query shows it)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check(await handle.query(DormantAccountWorkflow.review_state)):
        assert asyncio.get_running_loop().time() < deadline, "the workflow did not handle the message"
        await asyncio.sleep(0.05)


async def test_the_happy_path_send_writes_its_own_event(client, pool, settings, prefix):
    account_id = f"{prefix}-own"
    await add_account(pool, account_id, contact_email=f"{prefix}@example.com")

    async def nothing(handle):
        return None

    _, sink, history = await mid_send(client, pool, settings, account_id, nothing, follow_up_body="")
    events = await ledger(pool, account_id)
    sent = [e for e in events if e["type"] == "sent"]
    assert len(sent) == 1 and sent[0]["detail"]["message_id"] == sink.messages[0]["Message-ID"]
    assert not any("sent" in s for s in marker_summaries(history)), marker_summaries(history)


async def test_a_reply_while_the_message_is_with_smtp_is_recorded_once_after_it(client, pool, settings, prefix):
    """The reply is applied while the send runs (the lifecycle keeps it until the send's answer), so the
    workflow's records after the send are [sent, responded]: `sent` is the activity's, `responded` the
    workflow's, with the review patched on top of what the activity wrote."""
    account_id = f"{prefix}-reply"
    await add_account(pool, account_id, contact_email=f"{prefix}@example.com")

    async def reply(handle):
        await crm(pool, handle, account_id, "reply", "Yes, call me on Monday")
        await _applied(handle, lambda review: bool(review.events))

    review, sink, history = await mid_send(client, pool, settings, account_id, reply)
    assert review.outcome == Outcome.responded
    types = [e["type"] for e in await ledger(pool, account_id)]
    assert types.count("sent") == 1 and "responded" in types, types
    assert len(sink.messages) == 1
    summaries = marker_summaries(history)
    assert not any(s.startswith("record") and "sent" in s.split(", ") for s in summaries), summaries
    await keep_history(client.get_workflow_handle(history.workflow_id), "v2b_reply_while_sending")


async def test_a_change_no_event_records_is_still_carried_to_the_stored_review(client, pool, settings, prefix):
    """A v1-era decision signal during the send only sets the review's notice: no ledger event carries it,
    so the workflow writes the activity's event again under the same id (no second row) with the review."""
    account_id = f"{prefix}-notice"
    await add_account(pool, account_id, contact_email=f"{prefix}@example.com")

    async def old_signal(handle):
        await handle.signal(DormantAccountWorkflow.decide_signal,
                            Decision(action="approve", draft_version=1, decided_by=OWNER))
        await _applied(handle, lambda review: "ignored" in review.notice)

    review, _, history = await mid_send(client, pool, settings, account_id, old_signal, follow_up_body="")
    events = await ledger(pool, account_id)
    assert [e["type"] for e in events].count("sent") == 1
    assert len({e["event_id"] for e in events}) == len(events)
    assert "ignored" in review.notice and review.sent_message_ids
    await keep_history(client.get_workflow_handle(history.workflow_id), "v2b_signal_while_sending")


async def test_a_sender_domain_changed_since_the_start_leaves_the_event_to_the_workflow(client, pool, settings,
                                                                                        prefix):
    """The workflow named the message after the domain it was started with; the worker now sends from
    another, so the Message-ID differs: the activity writes nothing and the workflow records the real one."""
    account_id = f"{prefix}-domain"
    await add_account(pool, account_id, contact_email=f"{prefix}@example.com")
    moved = settings.model_copy(update={"mail_from": "accounts@moved.example"})

    async def nothing(handle):
        return None

    _, sink, history = await mid_send(client, pool, settings, account_id, nothing, worker_settings=moved,
                                      follow_up_body="")
    sent = [e for e in await ledger(pool, account_id) if e["type"] == "sent"]
    assert len(sent) == 1 and sent[0]["detail"]["message_id"] == sink.messages[0]["Message-ID"]
    assert sink.messages[0]["Message-ID"].endswith("@moved.example>")
    assert "record sent" in marker_summaries(history)
