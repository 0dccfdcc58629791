"""The delivery activity's own ledger writes, called as Temporal calls it (ActivityEnvironment), outbox mode:
the approval's events first (kept whatever the guard decides), then the message, then its `sent` event once the
message has committed. Whatever becomes of that last write, the message stands and the answer says whether the
event was written, so the workflow can write it itself under the same id."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio.testing import ActivityEnvironment

from activities.delivery import DeliveryActivities
from reactivation.delivery_model import DeliveryRequest, idempotency_key, message_domain, message_id_for
from reactivation.ledger_model import StepRecord
from reactivation.vocabulary import DeliveryStatus
from tests.support.crm_fixtures import add_account


def _request(settings, account_id: str, *, sent_detail: dict | None = None) -> DeliveryRequest:
    workflow_id, episode = f"dormant-account-{account_id}", "ep-1"
    message_id = message_id_for(idempotency_key(workflow_id, episode, "first", 1), message_domain(settings.mail_from))

    def step(n: int, type_: str, **detail) -> StepRecord:
        return StepRecord(event_id=f"{workflow_id}:{episode}:{n}:{type_}", type=type_, at=datetime.now(UTC),
                          account_id=account_id, workflow_id=workflow_id, episode=episode, stage=type_, segment="smb",
                          detail=detail)

    return DeliveryRequest(
        account_id=account_id, workflow_id=workflow_id, episode=episode, kind="first", channel="email",
        subject="Your quarterly booking", body="Hi,\n\nstill a fit?", path="marketing_led",
        approved_at=datetime.now(UTC), records=[step(1, "approved")],
        on_sent=step(2, "sent", **(sent_detail if sent_detail is not None else {"message_id": message_id})))


async def _events(pool, account_id: str) -> list[str]:
    return [r["type"] for r in await pool.fetch(
        "SELECT type FROM measurement_events WHERE account_id = $1 ORDER BY event_id", account_id)]


async def _deliver(pool, settings, request: DeliveryRequest):
    return await ActivityEnvironment().run(DeliveryActivities(pool, settings).deliver, request)


async def test_a_send_writes_the_approval_then_its_own_event_once_even_when_retried(pool, settings, prefix):
    account_id = f"{prefix}-sent"
    await add_account(pool, account_id)
    request = _request(settings, account_id)
    first = await _deliver(pool, settings, request)
    retried = await _deliver(pool, settings, request)
    assert (first.status, first.newly_sent, retried.newly_sent) == (DeliveryStatus.sent, True, False)
    assert first.recorded_at is not None and retried.recorded_at is not None
    assert first.message_id == retried.message_id == request.on_sent.detail["message_id"]
    assert await _events(pool, account_id) == ["approved", "sent"]
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE account_id = $1", account_id) == 1


async def test_an_event_the_database_refuses_leaves_the_message_sent_and_says_it_was_not_written(pool, settings,
                                                                                                  prefix):
    """A NUL in the event's detail: PostgreSQL's jsonb refuses it. The message is stored (committed before),
    the answer's `recorded_at` is None, so the workflow writes the event itself."""
    account_id = f"{prefix}-refused"
    await add_account(pool, account_id)
    request = _request(settings, account_id)
    assert request.on_sent is not None
    request.on_sent.detail["note"] = "a\x00b"
    result = await _deliver(pool, settings, request)
    assert (result.status, result.newly_sent, result.recorded_at) == (DeliveryStatus.sent, True, None)
    assert await _events(pool, account_id) == ["approved"]
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE account_id = $1", account_id) == 1


async def test_a_send_the_guard_stops_keeps_the_approval_and_records_no_send(pool, settings, prefix):
    account_id = f"{prefix}-stopped"
    await add_account(pool, account_id, consent_status="opted_out")
    result = await _deliver(pool, settings, _request(settings, account_id))
    assert (result.status, result.recorded_at) == (DeliveryStatus.blocked, None)
    assert await _events(pool, account_id) == ["approved"]
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE account_id = $1", account_id) == 0


async def test_a_retry_after_a_crash_between_the_commit_and_the_event_writes_the_event(pool, settings, prefix):
    """The first attempt stored the message and died before its event (here: it had none to write); the retry
    finds the message stored, sends nothing new, and writes the event."""
    account_id = f"{prefix}-crashed"
    await add_account(pool, account_id)
    request = _request(settings, account_id)
    died = await _deliver(pool, settings, request.model_copy(update={"on_sent": None}))
    assert (died.newly_sent, died.recorded_at) == (True, None)
    retried = await _deliver(pool, settings, request)
    assert (retried.newly_sent, retried.message_id) == (False, died.message_id)
    assert retried.recorded_at is not None
    assert await _events(pool, account_id) == ["approved", "sent"]
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE account_id = $1", account_id) == 1
