"""Every endpoint against every kind of caller: no token, a bad token, another owner, the owner, an
admin, and for CRM endpoints a bad and a replayed webhook signature."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from pydantic import SecretStr

from client.codec import generate_key_spec
from db.owners import add_owner
from tests.support.api import api_client
from tests.support.crm_fixtures import add_account

SECRET = "whsec-matrix"
CALLERS = ["none", "bad", "other", "owner", "admin"]


def signed(body: bytes, stamp: int | None = None, secret: str = SECRET) -> dict:
    stamp = stamp or int(time.time())
    digest = hmac.new(secret.encode(), str(stamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-Dormant-Timestamp": str(stamp), "X-Dormant-Signature": f"sha256={digest}",
            "Content-Type": "application/json"}


async def test_access_matrix(client, pool, settings, prefix):
    owner_email = f"{prefix}-owner@test.dormant"
    account_id = f"{prefix}-matrix"
    await add_account(pool, account_id, owner_email=owner_email)
    async with pool.acquire() as conn:
        tokens = {"owner": await add_owner(conn, owner_email), "other": await add_owner(conn, f"{prefix}-o@test.dormant"),
                  "admin": await add_owner(conn, f"{prefix}-a@test.dormant", admin=True), "bad": "dmt_not-a-token"}
    headers = {name: ({"Authorization": f"Bearer {token}"}) for name, token in tokens.items()}
    headers["none"] = {}
    decision = {"action": "approve", "draft_version": 1}
    expected = {  # (method, path, json body): statuses for none, bad, other, owner, admin
        ("GET", "/v1/queue", None): [401, 401, 200, 200, 200],
        ("GET", f"/v1/accounts/{account_id}", None): [401, 401, 404, 200, 200],  # not yours = unknown
        ("POST", f"/v1/accounts/{account_id}/decision", json.dumps(decision)): [401, 401, 404, 409, 409],
        ("GET", "/v1/reports/funnel", None): [401, 401, 200, 200, 200],
        ("GET", "/v1/reports/funnel.svg", None): [401, 401, 200, 200, 200],
        ("GET", "/v1/reports/lift.svg", None): [401, 401, 200, 200, 200],
        ("GET", "/v1/reports/events.csv", None): [401, 401, 200, 200, 200],
        ("GET", "/v1/reports/funnel?since=not-a-date", None): [401, 401, 422, 422, 422],
        ("POST", "/codec/decode", json.dumps({"payloads": []})): [401, 401, 403, 403, 200],
        ("POST", "/codec/encode", json.dumps({"payloads": []})): [401, 401, 403, 403, 200],
        ("POST", "/v1/events", json.dumps({"account_id": account_id, "type": "activity"})): [401, 401, 401, 401, 200],
        ("POST", "/v1/accounts/bulk-approve", json.dumps({"items": [{"account_id": account_id, "draft_version": 1}]})):
            [401, 401, 200, 200, 200],
    }
    matrix_settings = settings.model_copy(update={"webhook_secret": SecretStr(SECRET),
                                                  "payload_keys": SecretStr(generate_key_spec("k1"))})
    async with api_client(matrix_settings) as http:
        for (method, path, body), statuses in expected.items():
            for caller, status in zip(CALLERS, statuses):
                extra = {"Content-Type": "application/json"} if body else {}
                response = await http.request(method, path, content=body, headers={**headers[caller], **extra})
                assert response.status_code == status, f"{method} {path} as {caller}: {response.status_code}"
        bulk = await http.post("/v1/accounts/bulk-approve", headers=headers["other"],
                               json={"items": [{"account_id": account_id, "draft_version": 1}]})
        assert bulk.json()[0]["status"] == 404  # never approved for someone else, and not told it exists

        event = json.dumps({"account_id": account_id, "type": "reply"}).encode()
        assert (await http.post("/v1/events", content=event, headers=signed(event))).status_code == 200
        forged = signed(event, secret="not-the-secret")
        assert (await http.post("/v1/events", content=event, headers=forged)).status_code == 401
        replayed = signed(event, stamp=int(time.time()) - 600)
        assert (await http.post("/v1/events", content=event, headers=replayed)).status_code == 401
        tampered = signed(event)
        assert (await http.post("/v1/events", content=event.replace(b"reply", b"opt_out"),
                                headers=tampered)).status_code == 401
        trigger = json.dumps({"account_id": account_id}).encode()
        assert (await http.post("/v1/triggers/dormant", content=trigger,
                                headers=signed(trigger, secret="nope"))).status_code == 401
        replied = await http.post("/v1/triggers/dormant", content=trigger, headers=signed(trigger))
        assert replied.status_code == 409 and replied.json()["reason"] == "not_dormant"  # it just replied
        await add_account(pool, f"{prefix}-quiet", owner_email=owner_email)
        trigger = json.dumps({"account_id": f"{prefix}-quiet"}).encode()
        started = await http.post("/v1/triggers/dormant", content=trigger, headers=signed(trigger))
        assert started.status_code == 200
    await client.get_workflow_handle(f"dormant-account-{prefix}-quiet").terminate("test done")
