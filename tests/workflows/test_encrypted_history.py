"""With DORMANT_PAYLOAD_KEYS set, the product's own processes encrypt: the worker, the starter and the API
all connect through connect_temporal, and Temporal stores only ciphertext for customer data."""

from __future__ import annotations

from pydantic import SecretStr

from client.codec import generate_key_spec
from client.connect import connect_temporal
from db.owners import add_owner
from tests.support.api import api_client, bearer
from tests.support.crm_fixtures import add_account
from tests.support.lifecycle_helpers import running_worker, start_account, wait_for_stage
from tests.workflows.test_no_secrets_in_history import readable


async def test_customer_data_in_the_history_is_ciphertext(client, pool, settings, prefix):
    account_id = f"{prefix}-enc"
    reason = f"Paused after the {prefix} warehouse flood"
    owner = f"{prefix}-owner@test.dormant"
    await add_account(pool, account_id, inactivity_reason=reason, owner_email=owner)
    async with pool.acquire() as conn:
        token = await add_owner(conn, owner)
    keyed = settings.model_copy(update={"payload_keys": SecretStr(generate_key_spec("k1"))})
    encrypting = await connect_temporal(keyed)
    async with running_worker(encrypting, pool, keyed), api_client(keyed) as http:
        handle = await start_account(encrypting, keyed, account_id)
        state = await wait_for_stage(handle, "awaiting_review")
        answer = await http.post(f"/v1/accounts/{account_id}/decision", headers=bearer(token),
                                 json={"action": "close", "draft_version": 1, "reason": f"{prefix} says not now"})
        assert answer.status_code == 200, answer.text
        await handle.result()
    assert state.assessment.verdicts  # the keyed client reads everything
    plain = readable((await client.get_workflow_handle(handle.id).fetch_history()).to_json())
    assert "binary/encrypted" in plain and "encryption-key-id" in plain
    for secret in (reason, f"{prefix} says not now", "Jordan Reyes", "Harbor Dental Group"):
        assert secret not in plain, f"{secret!r} is readable in the history"
