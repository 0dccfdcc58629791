"""Secrets never enter workflow inputs or histories (Temporal stores those, and ops read them in the UI).

One account goes through the whole lifecycle with every secret in use: the OpenAI key (a real
OpenAI-compatible server checks it), the SMTP password (a real SMTP server with AUTH checks it), the
webhook secret (a signed CRM event), the owner's API token (the approval) and the unsubscribe secret
(the List-Unsubscribe link). Then the raw history is searched for each of them. The saved histories
replayed in CI are searched for anything shaped like a key or a token too.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import re
import time
import uuid
from datetime import timedelta
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from pydantic import SecretStr

from db.owners import add_owner
from dormant.processes import free_port
from tests.activities.test_delivery_smtp import Sink
from tests.support.api import api_client, bearer
from tests.support.crm_fixtures import add_account
from tests.support.fake_openai import FakeOpenAI, completion, specific_json
from tests.support.lifecycle_helpers import running_worker, start_account, wait_for_stage


def readable(history_json: str) -> str:
    """The history as text with every payload decoded: payload data is base64 inside the JSON, so a plain
    substring search of the JSON would find nothing even if a secret were there."""
    decoded: list[str] = [history_json]

    def walk(node, in_metadata: bool = False) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if (in_metadata or key in ("data", "details")) and isinstance(value, str):
                    with contextlib.suppress(ValueError):
                        decoded.append(base64.b64decode(value, validate=True).decode("utf-8", "replace"))
                walk(value, key == "metadata")
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(json.loads(history_json))
    return "\n".join(decoded)


class AuthSink(Sink):
    """An SMTP sink that only accepts mail after LOGIN/PLAIN with the expected password."""

    def __init__(self, user: str, password: str) -> None:
        super().__init__()
        self.user, self.password, self.logins = user, password, 0

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = auth_data.login.decode() == self.user and auth_data.password.decode() == self.password
        self.logins += ok
        return AuthResult(success=ok)


async def test_no_secret_reaches_the_history(client, pool, settings, prefix):
    secrets = {"openai": f"sk-{uuid.uuid4().hex}", "smtp": f"smtp-{uuid.uuid4().hex}",
               "webhook": f"whsec-{uuid.uuid4().hex}", "unsubscribe": f"unsub-{uuid.uuid4().hex}"}
    account_id = f"{prefix}-secrets"
    owner = f"{prefix}-owner@test.dormant"
    await add_account(pool, account_id, owner_email=owner, contact_email=f"{prefix}@example.com")
    async with pool.acquire() as conn:
        secrets["owner_token"] = await add_owner(conn, owner)
    sink = AuthSink("mailer", secrets["smtp"])
    smtp = Controller(sink, hostname="127.0.0.1", port=free_port(), authenticator=sink.authenticate,
                      auth_require_tls=False)
    smtp.start()
    try:
        async with FakeOpenAI() as llm:
            llm.reply(completion(specific_json(account_id, subject="Checking in on your bookings")))
            active = settings.model_copy(update={
                "openai_api_key": SecretStr(secrets["openai"]), "openai_base_url": llm.base_url,
                "llm_task_queue": f"llm-{uuid.uuid4().hex[:10]}", "delivery": "smtp", "smtp_host": "127.0.0.1",
                "smtp_port": smtp.port, "smtp_username": "mailer", "smtp_password": SecretStr(secrets["smtp"]),
                "webhook_secret": SecretStr(secrets["webhook"]),
                "unsubscribe_secret": SecretStr(secrets["unsubscribe"]),
                "follow_up_after": timedelta(minutes=10)})
            async with running_worker(client, pool, active), api_client(active) as http:
                handle = await start_account(client, active, account_id)
                await wait_for_stage(handle, "awaiting_review")
                approved = await http.post(f"/v1/accounts/{account_id}/decision", headers=bearer(secrets["owner_token"]),
                                           json={"action": "approve", "draft_version": 1})
                assert approved.status_code == 200, approved.text
                await wait_for_stage(handle, "sent")
                body = json.dumps({"account_id": account_id, "type": "reply", "detail": "thanks!"}).encode()
                stamp = str(int(time.time()))
                signature = hmac.new(secrets["webhook"].encode(), stamp.encode() + b"." + body, hashlib.sha256)
                replied = await http.post("/v1/events", content=body, headers={
                    "Content-Type": "application/json", "X-Dormant-Timestamp": stamp,
                    "X-Dormant-Signature": f"sha256={signature.hexdigest()}"})
                assert replied.status_code == 200 and replied.json()["delivered_to_workflow"]
                await handle.result()
                history = (await handle.fetch_history()).to_json()
    finally:
        smtp.stop()
    # Every secret was really used ...
    assert llm.authorizations == [f"Bearer {secrets['openai']}"]
    assert sink.logins == 1 and len(sink.messages) == 1
    # ... and none of them is in the history, in any form we would write it.
    history = readable(history)
    assert account_id in history and "Checking in on your bookings" in history  # the search does see payloads
    for name, secret in secrets.items():
        assert secret not in history, f"the {name} secret is in the workflow history"
    assert "mailer" not in history  # not even the SMTP user name


def test_saved_histories_hold_nothing_shaped_like_a_secret():
    shapes = re.compile(r"sk-[A-Za-z0-9]{20,}|dmt_[A-Za-z0-9_-]{20,}|whsec-|smtp_password|Bearer ")
    for path in sorted((Path(__file__).parent / "histories").glob("*.json")):
        found = shapes.search(readable(path.read_text()))
        assert found is None, f"{path.name} holds {found.group(0)!r}"
