"""The HTTP API against the real servers: auth, ownership, truthful decision answers, CRM endpoints."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time

from pydantic import SecretStr

from tests.support.api import api_client, bearer
from tests.support.crm_fixtures import add_account
from tests.support.lifecycle_helpers import running_worker, wait_for_stage
from workflows.dormant_account import DormantAccountWorkflow


async def test_decisions_answer_truthfully(client, pool, settings, prefix, tokens):
    account_id = f"{prefix}-acme"
    await add_account(pool, account_id, owner_email=f"{prefix}-owner@test.dormant")
    async with running_worker(client, pool, settings), api_client(settings) as http:
        settings_queue = settings.task_queue
        assert settings_queue
        response = await http.post("/v1/triggers/dormant", json={"account_id": account_id},
                                   headers=bearer(tokens["admin"]))
        assert response.status_code == 200 and response.json()["started"] is True
        again = await http.post("/v1/triggers/dormant", json={"account_id": account_id},
                                headers=bearer(tokens["admin"]))
        assert again.json()["started"] is False and "already open" in again.json()["message"]

        handle = client.get_workflow_handle_for(DormantAccountWorkflow.run, f"dormant-account-{account_id}")
        await wait_for_stage(handle, "awaiting_review")

        queue = (await http.get("/v1/queue", headers=bearer(tokens["owner"]))).json()
        assert [row["account_id"] for row in queue] == [account_id]
        assert (await http.get("/v1/queue", headers=bearer(tokens["other"]))).json() == []

        url = f"/v1/accounts/{account_id}/decision"
        forbidden = await http.post(url, json={"action": "approve", "draft_version": 1}, headers=bearer(tokens["other"]))
        assert forbidden.status_code == 404 and forbidden.json() == {"detail": f"account {account_id!r} not found"}
        stale = await http.post(url, json={"action": "approve", "draft_version": 7}, headers=bearer(tokens["owner"]))
        assert stale.status_code == 409 and "stale" in stale.json()["detail"]
        assert stale.json()["stage"] == "awaiting_review"
        bad = await http.post(url, json={"action": "launch", "draft_version": 1}, headers=bearer(tokens["owner"]))
        assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "action"

        ok = await http.post(url, json={"action": "approve", "draft_version": 1, "subject": "Edited subject"},
                             headers=bearer(tokens["owner"]))
        assert ok.status_code == 200, ok.text
        assert ok.json()["stage"] == "approved"
        twice = await http.post(url, json={"action": "approve", "draft_version": 1}, headers=bearer(tokens["owner"]))
        assert twice.status_code == 409
        await handle.result()
    sent = await pool.fetch("SELECT subject FROM outbox WHERE account_id = $1 AND kind = 'first'", account_id)
    assert [r["subject"] for r in sent] == ["Edited subject"]


async def test_auth_and_errors(pool, settings, prefix, tokens):
    account_id = f"{prefix}-solo"
    await add_account(pool, account_id, owner_email=f"{prefix}-owner@test.dormant")
    async with api_client(settings) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok", "database": "ok", "temporal": "ok"}
        assert (await http.get("/v1/queue")).status_code == 401
        assert (await http.get("/v1/queue", headers=bearer("dmt_wrong"))).status_code == 401
        assert (await http.get("/v1/accounts/nope-404", headers=bearer(tokens["admin"]))).status_code == 404
        view = await http.get(f"/v1/accounts/{account_id}", headers=bearer(tokens["other"]))
        assert view.status_code == 404 and view.json() == {"detail": f"account {account_id!r} not found"}
        view = await http.get(f"/v1/accounts/{account_id}", headers=bearer(tokens["owner"]))
        assert view.status_code == 200 and view.json()["evidence"]["account"]["account_id"] == account_id
        # an owner token cannot act as the CRM
        event = {"account_id": account_id, "type": "activity"}
        assert (await http.post("/v1/events", json=event, headers=bearer(tokens["owner"]))).status_code == 401
        big = await http.post("/v1/events", content=b"x" * 1_100_000,
                              headers={**bearer(tokens["admin"]), "Content-Type": "application/json"})
        assert big.status_code == 413


async def test_signed_webhook_event_without_open_workflow_is_kept(pool, settings, prefix):
    account_id = f"{prefix}-quiet"
    await add_account(pool, account_id)
    signed = settings.model_copy(update={"webhook_secret": SecretStr("whsec-test")})
    body = json.dumps({"account_id": account_id, "type": "opt_out", "detail": "asked by phone"}).encode()
    stamp = str(int(time.time()))
    signature = "sha256=" + hmac.new(b"whsec-test", stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Dormant-Timestamp": stamp}
    async with api_client(signed) as http:
        ok = await http.post("/v1/events", content=body, headers={**headers, "X-Dormant-Signature": signature})
        assert ok.status_code == 200 and ok.json()["delivered_to_workflow"] is False
        forged = await http.post("/v1/events", content=body, headers={**headers, "X-Dormant-Signature": "sha256=00"})
        assert forged.status_code == 401
        old = str(int(time.time()) - 3600)
        old_sig = "sha256=" + hmac.new(b"whsec-test", old.encode() + b"." + body, hashlib.sha256).hexdigest()
        replay = await http.post("/v1/events", content=body,
                                 headers={**headers, "X-Dormant-Timestamp": old, "X-Dormant-Signature": old_sig})
        assert replay.status_code == 401
    stored = await pool.fetchrow("SELECT type, delivered FROM crm_events WHERE account_id = $1", account_id)
    assert stored["type"] == "opt_out" and stored["delivered"] is False
    assert await pool.fetchval("SELECT consent_status FROM accounts WHERE account_id = $1", account_id) == "opted_out"


async def test_bulk_approval_of_marketing_led_drafts_records_each_decision(client, pool, settings, prefix, tokens):
    owner = f"{prefix}-owner@test.dormant"
    clean = [f"{prefix}-m{i}" for i in range(3)]
    for account_id in clean:
        await add_account(pool, account_id, owner_email=owner)
    strategic = f"{prefix}-vip"
    await add_account(pool, strategic, owner_email=owner, tier="strategic")
    async with running_worker(client, pool, settings), api_client(settings) as http:
        handles = []
        for account_id in clean + [strategic]:
            await http.post("/v1/triggers/dormant", json={"account_id": account_id}, headers=bearer(tokens["admin"]))
            handles.append(client.get_workflow_handle_for(DormantAccountWorkflow.run, f"dormant-account-{account_id}"))
        for handle in handles:
            await wait_for_stage(handle, "awaiting_review")
        items = [{"account_id": a, "draft_version": 1} for a in clean + [strategic]]
        refused = await http.post("/v1/accounts/bulk-approve", json={"items": items}, headers=bearer(tokens["other"]))
        assert {r["status"] for r in refused.json()} == {404}  # the same answer as for an unknown account
        unknown = await http.post("/v1/accounts/bulk-approve", headers=bearer(tokens["other"]),
                                  json={"items": [{"account_id": f"{prefix}-nope", "draft_version": 1}]})
        assert unknown.json()[0]["detail"] == f"account '{prefix}-nope' not found"
        assert {r["detail"] for r in refused.json()} == {f"account {a!r} not found" for a in clean + [strategic]}
        answer = await http.post("/v1/accounts/bulk-approve", json={"items": items}, headers=bearer(tokens["owner"]))
        by_id = {r["account_id"]: r for r in answer.json()}
        for _ in range(100):  # each decision is recorded once it is committed to its workflow's history
            approvals = await pool.fetchval("SELECT count(*) FROM measurement_events WHERE type = 'approved' "
                                            "AND account_id = ANY($1)", clean)
            if approvals >= 3:
                break
            await asyncio.sleep(0.1)
        for handle in handles:
            await handle.terminate("test done")
    assert all(by_id[a]["status"] == 200 and by_id[a]["stage"] == "approved" for a in clean)
    assert by_id[strategic]["status"] == 409 and "marketing-led" in by_id[strategic]["detail"]
    assert approvals == 3


async def test_an_admin_may_bulk_approve_an_owners_draft_as_with_a_single_decision(client, pool, settings, prefix,
                                                                                      tokens):
    account_id = f"{prefix}-m"
    await add_account(pool, account_id, owner_email=f"{prefix}-owner@test.dormant")
    async with running_worker(client, pool, settings), api_client(settings) as http:
        await http.post("/v1/triggers/dormant", json={"account_id": account_id}, headers=bearer(tokens["admin"]))
        handle = client.get_workflow_handle_for(DormantAccountWorkflow.run, f"dormant-account-{account_id}")
        await wait_for_stage(handle, "awaiting_review")
        items = [{"account_id": account_id, "draft_version": 1}] * 2  # the same item twice: approved once
        answer = await http.post("/v1/accounts/bulk-approve", json={"items": items}, headers=bearer(tokens["admin"]))
        state = await wait_for_stage(handle, "approved", "sent", "follow_up_sent")
        await handle.terminate("test done")
    assert sorted(r["status"] for r in answer.json()) == [200, 409]
    [decision] = state.decisions
    assert (decision.action, decision.by) == ("approve", f"{prefix}-admin@test.dormant")
