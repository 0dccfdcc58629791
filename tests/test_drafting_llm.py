"""LLM drafting against a real OpenAI-compatible server: structured output, guardrail redraft,
429 with Retry-After, failure fallback to the template, cost recorded, untrusted text fenced."""

from __future__ import annotations

import uuid

from pydantic import SecretStr

from reactivation.prompts import END_FENCE, FENCE
from tests.conftest import fetch_events
from tests.crm_fixtures import add_account
from tests.fake_openai import FakeOpenAI, completion, draft_json
from tests.lifecycle_helpers import running_worker, start_account, wait_for_stage


def llm_settings(settings, fake: FakeOpenAI):
    return settings.model_copy(update={"openai_api_key": SecretStr("sk-test-not-a-real-key"),
                                       "openai_base_url": fake.base_url, "openai_model": "test-model",
                                       "llm_task_queue": f"llm-{uuid.uuid4().hex[:10]}"})


async def test_llm_draft_is_used_and_its_cost_recorded(client, pool, settings, prefix):
    account_id = f"{prefix}-llm"
    await add_account(pool, account_id)
    async with FakeOpenAI() as fake:
        fake.reply(completion(draft_json()))
        active = llm_settings(settings, fake)
        async with running_worker(client, pool, active):
            handle = await start_account(client, active, account_id)
            state = await wait_for_stage(handle, "awaiting_review")
            await handle.terminate("test done")
    assert state.brief.drafted_by == "test-model" and state.current_draft.subject == "Checking in on your bookings"
    assert state.current_draft.violations == []
    sent = fake.requests[0]
    assert sent["response_format"]["type"] == "json_schema"
    assert FENCE in sent["messages"][1]["content"] and END_FENCE in sent["messages"][1]["content"]
    assert "jordan@example.com" not in str(sent)  # contact details are not sent to the model
    event = await pool.fetchval("SELECT detail FROM measurement_events WHERE account_id = $1 AND type = "
                                "'draft_generated'", account_id)
    assert event["prompt_tokens"] == 900 and event["estimated_cost_usd"] > 0


async def test_guardrail_violation_gets_one_redraft_then_is_shown(client, pool, settings, prefix):
    account_id = f"{prefix}-guard"
    await add_account(pool, account_id)
    bad = draft_json(body="Hi Jordan, get 50% off at https://example.com/deal today!")
    async with FakeOpenAI() as fake:
        fake.reply(completion(bad))
        fake.reply(completion(bad))
        active = llm_settings(settings, fake)
        async with running_worker(client, pool, active):
            handle = await start_account(client, active, account_id)
            state = await wait_for_stage(handle, "awaiting_review")
            await handle.terminate("test done")
    assert len(fake.requests) == 2
    assert "broke these rules" in fake.requests[1]["messages"][1]["content"]
    violations = " ".join(state.current_draft.violations)
    assert "link" in violations and "discount" in violations


async def test_rate_limit_is_retried_after_the_servers_delay(client, pool, settings, prefix):
    account_id = f"{prefix}-429"
    await add_account(pool, account_id)
    async with FakeOpenAI() as fake:
        fake.reply({"error": {"message": "slow down"}}, status=429, headers={"Retry-After": "1"})
        fake.reply(completion(draft_json()))
        active = llm_settings(settings, fake)
        async with running_worker(client, pool, active):
            handle = await start_account(client, active, account_id)
            state = await wait_for_stage(handle, "awaiting_review")
            await handle.terminate("test done")
    assert len(fake.requests) == 2 and state.brief.drafted_by == "test-model"


async def test_persistent_failure_falls_back_to_a_labelled_template(client, pool, settings, prefix):
    account_id = f"{prefix}-down"
    await add_account(pool, account_id)
    async with FakeOpenAI() as fake:
        fake.reply(completion("this is not json"))  # malformed output, then 500s until attempts run out
        active = llm_settings(settings, fake)
        async with running_worker(client, pool, active):
            handle = await start_account(client, active, account_id)
            state = await wait_for_stage(handle, "awaiting_review", timeout=60)
            await handle.terminate("test done")
    assert len(fake.requests) == 4
    assert state.brief.drafted_by == "template draft (LLM failed)" and "Jordan" in state.current_draft.body
    assert "draft_generated" in await fetch_events(pool, account_id)


async def test_funnel_report_shows_drafting_cost(client, pool, settings, prefix):
    import contextlib

    import httpx

    from api.main import create_app
    from db.owners import add_owner

    account_id = f"{prefix}-cost"
    owner = f"{prefix}-owner@test.dormant"
    await add_account(pool, account_id, owner_email=owner)
    async with pool.acquire() as conn:
        token = await add_owner(conn, owner)
    async with FakeOpenAI() as fake:
        fake.reply(completion(draft_json(), prompt_tokens=1000, completion_tokens=500))
        active = llm_settings(settings, fake)
        async with running_worker(client, pool, active):
            handle = await start_account(client, active, account_id)
            await wait_for_stage(handle, "awaiting_review")
            await handle.terminate("test done")
    app = create_app(settings)
    async with app.router.lifespan_context(app), contextlib.AsyncExitStack() as stack:
        http = await stack.enter_async_context(httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                                 base_url="http://test"))
        report = (await http.get("/v1/reports/funnel", headers={"Authorization": f"Bearer {token}"})).json()
    assert report["drafting"]["prompt_tokens"] == 1000 and report["drafting"]["completion_tokens"] == 500
    assert abs(report["drafting"]["estimated_cost_usd"] - (0.15 + 0.3) / 1000) < 1e-9
    assert report["accounts_by_event"]["draft_generated"] == 1
