"""SMS delivery through a real local Twilio-style provider: recipients and auth, provider down then up
(delivered once), a refused number (suppressed, episode ends, the next episode is suppressed too)."""

from __future__ import annotations

from tests.support.crm_fixtures import add_account
from tests.support.fake_sms import FROM, FakeSmsProvider
from tests.support.lifecycle_helpers import review_then_approve, running_worker, start_account, wait_for_stage

PHONE = "+15557654321"


async def test_sms_first_message_and_follow_up(client, pool, settings, prefix):
    account_id = f"{prefix}-sms"
    await add_account(pool, account_id, preferred_channel="sms", contact_phone=PHONE)
    async with FakeSmsProvider() as provider:
        active = settings.model_copy(update=provider.settings_update())
        async with running_worker(client, pool, active):
            handle = await review_then_approve(client, active, account_id)
            result = await handle.result()
    assert [(m["to"], m["from"]) for m in provider.messages] == [(PHONE, FROM)] * 2
    assert len({m["key"] for m in provider.messages}) == 2  # first and follow-up are different steps
    rows = await pool.fetch("SELECT kind, status, provider_id FROM outbox WHERE account_id = $1 ORDER BY kind",
                            account_id)
    assert [(r["kind"], r["status"]) for r in rows] == [("first", "sent"), ("follow_up", "sent")]
    assert {r["provider_id"] for r in rows} == {m["sid"] for m in provider.messages}
    assert result.sent_message_ids and len(result.sent_message_ids) == 2


async def test_sms_provider_down_then_up_is_delivered_once(client, pool, settings, prefix):
    account_id = f"{prefix}-smsdown"
    await add_account(pool, account_id, preferred_channel="sms", contact_phone=PHONE)
    async with FakeSmsProvider(fail_next=[503, 503]) as provider:
        active = settings.model_copy(update={**provider.settings_update(),
                                             "follow_up_after": settings.outcome_window * 10})
        async with running_worker(client, pool, active):
            handle = await review_then_approve(client, active, account_id)
            await wait_for_stage(handle, "sent", timeout=40)
            await handle.terminate("test done")
    assert len(provider.requests) == 3 and len({r["key"] for r in provider.requests}) == 1
    assert len(provider.messages) == 1


async def test_refused_number_is_suppressed_and_ends_the_episode(client, pool, settings, prefix):
    account_id = f"{prefix}-smsbad"
    await add_account(pool, account_id, preferred_channel="sms", contact_phone=PHONE + "9")
    async with FakeSmsProvider(refuse={PHONE + "9"}) as provider:
        active = settings.model_copy(update=provider.settings_update())
        async with running_worker(client, pool, active):
            handle = await review_then_approve(client, active, account_id)
            result = await handle.result()
            assert (result.stage.value, result.outcome.value) == ("suppressed", "suppressed")
            assert result.sent_message_ids == []
            reason = await pool.fetchval("SELECT reason FROM suppressed_addresses WHERE address = $1", PHONE + "9")
            assert reason == "bounce"
            # The next episode for the same account stops before any draft: the address is suppressed.
            again = await start_account(client, active, account_id)
            final = await again.result()
            assert final.outcome.value == "suppressed"
            state = await again.query("review_state")
    assert provider.messages == []
    assert "suppressed" in " ".join(v["reason"] for v in state["assessment"]["verdicts"] if v["rule"] == "consent")
