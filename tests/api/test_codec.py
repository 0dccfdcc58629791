"""Payload encryption: the codec itself (round trip, rotation, tampering, passthrough, key errors), a real
Temporal server that stores only ciphertext, and the codec endpoint the Temporal UI calls."""

from __future__ import annotations

import base64
import uuid

import pytest
from pydantic import SecretStr
from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from api.web.session import TOKEN_COOKIE
from client.codec import EncryptionCodec, data_converter_for, generate_key_spec, parse_keys
from db.owners import add_owner
from tests.support.api import api_client, bearer

K1 = base64.b64encode(bytes(range(32))).decode()
K2 = base64.b64encode(bytes(range(32, 64))).decode()
UI = "http://localhost:8233"


def plain(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=f'"{text}"'.encode())


async def test_round_trip_hides_plaintext_and_names_the_key():
    codec = EncryptionCodec.from_spec(f"k1:{K1}")
    originals = [plain("Jordan's secret note"), plain(""), Payload(metadata={"encoding": b"binary/null"})]
    encoded = await codec.encode(originals)
    for payload in encoded:
        assert payload.metadata["encoding"] == b"binary/encrypted"
        assert payload.metadata["encryption-key-id"] == b"k1"
        assert b"secret" not in payload.SerializeToString()
    assert encoded[0].data != (await codec.encode(originals[:1]))[0].data  # fresh nonce every time
    assert await codec.decode(encoded) == originals


async def test_rotation_old_payloads_still_read_new_ones_use_the_new_key():
    old = await EncryptionCodec.from_spec(f"old:{K1}").encode([plain("before rotation")])
    rotated = EncryptionCodec.from_spec(f"new:{K2},old:{K1}")
    assert await rotated.decode(old) == [plain("before rotation")]
    assert (await rotated.encode([plain("after")]))[0].metadata["encryption-key-id"] == b"new"
    with pytest.raises(ValueError, match="key id 'old', which is not in DORMANT_PAYLOAD_KEYS"):
        await EncryptionCodec.from_spec(f"new:{K2}").decode(old)


async def test_tampering_fails_authentication_and_plain_payloads_pass_through():
    codec = EncryptionCodec.from_spec(f"k1:{K1}")
    [encoded] = await codec.encode([plain("amount: 100")])
    tampered = Payload()
    tampered.CopyFrom(encoded)
    tampered.data = encoded.data[:-1] + bytes([encoded.data[-1] ^ 1])
    with pytest.raises(ValueError, match="payload failed authentication"):
        await codec.decode([tampered])
    relabelled = Payload()
    relabelled.CopyFrom(encoded)
    relabelled.metadata["encryption-key-id"] = b"k2"  # the key id is authenticated too
    with pytest.raises(ValueError, match="payload failed authentication"):
        await EncryptionCodec.from_spec(f"k1:{K1},k2:{K1}").decode([relabelled])
    assert await codec.decode([plain("written before encryption")]) == [plain("written before encryption")]


@pytest.mark.parametrize("spec, problem", [
    ("", "no keys"),
    ("k1", "no ':'"),
    (f"k1:{base64.b64encode(b'sixteen byte key').decode()}", "'k1' is 16 bytes; AES-256-GCM needs 32"),
    (f"k1:{K1},k1:{K2}", "'k1' appears more than once"),
    ("k1:not*base64!", "'k1' is not valid base64"),
    (f"bad id:{K1}", "invalid key id"),
])
def test_bad_key_specs_name_the_setting_and_hide_the_key(spec, problem):
    with pytest.raises(ValueError) as err:
        parse_keys(spec)
    assert str(err.value).startswith("DORMANT_PAYLOAD_KEYS: ") and problem in str(err.value)
    for secret in (K1, K2, "not*base64!", base64.b64encode(b"sixteen byte key").decode()):
        assert secret not in str(err.value)


def test_generated_spec_parses_and_converter_is_plain_without_keys():
    kid, keys = parse_keys(generate_key_spec("k9"))
    assert kid == "k9" and len(keys["k9"]) == 32
    assert data_converter_for(None).payload_codec is None
    assert isinstance(data_converter_for(f"k1:{K1}").payload_codec, EncryptionCodec)


@workflow.defn(sandboxed=False)
class EchoWorkflow:
    @workflow.run
    async def run(self, text: str) -> str:
        return f"echo: {text}"


async def test_temporal_history_holds_only_ciphertext(client, temporal_address, prefix):
    """The encrypting client's workflow: no plaintext anywhere in the raw history. A workflow started by a
    client without the codec (as before encryption was on) still runs on the encrypting worker, and its
    history does show the marker: proof the check would catch plaintext."""
    encrypting = await Client.connect(temporal_address, namespace=client.namespace,
                                      data_converter=data_converter_for(f"k1:{K1}"))
    marker = f"{prefix} Jordan's secret note"
    queue = f"codec-{uuid.uuid4().hex[:12]}"
    async with Worker(encrypting, task_queue=queue, workflows=[EchoWorkflow],
                      workflow_runner=UnsandboxedWorkflowRunner()):
        secret = await encrypting.start_workflow(EchoWorkflow.run, marker, id=f"{prefix}-enc", task_queue=queue)
        assert await secret.result() == f"echo: {marker}"
        legacy = await client.start_workflow(EchoWorkflow.run, marker, id=f"{prefix}-legacy", task_queue=queue)
        assert await encrypting.get_workflow_handle(legacy.id).result() == f"echo: {marker}"

    history = await client.get_workflow_handle(secret.id).fetch_history()
    raw = b"".join(event.SerializeToString() for event in history.events)
    assert marker.encode() not in raw and marker not in history.to_json()
    assert b"binary/encrypted" in raw
    with pytest.raises(Exception, match="binary/encrypted"):
        await client.get_workflow_handle(secret.id).result()
    legacy_history = await client.get_workflow_handle(legacy.id).fetch_history()
    assert marker.encode() in b"".join(event.SerializeToString() for event in legacy_history.events)


def wire(payload: Payload) -> dict:
    """Protobuf JSON form, as the Temporal UI sends it."""
    return {"metadata": {k: base64.b64encode(v).decode() for k, v in payload.metadata.items()},
            "data": base64.b64encode(payload.data).decode()}


async def test_codec_endpoint(pool, settings, prefix):
    async with pool.acquire() as conn:
        admin = await add_owner(conn, f"{prefix}-admin@test.dormant", admin=True)
        owner = await add_owner(conn, f"{prefix}-owner@test.dormant")
    body = {"payloads": [wire(plain(f"{prefix} secret")), wire(Payload(metadata={"encoding": b"binary/null"}))]}
    ui = {"Origin": UI, "X-Namespace": "default"}
    keyed = settings.model_copy(update={"payload_keys": SecretStr(f"k1:{K1}")})
    async with api_client(keyed) as http:
        encoded = await http.post("/codec/encode", json=body, headers={**bearer(admin), **ui})
        assert encoded.status_code == 200, encoded.text
        assert encoded.headers["access-control-allow-origin"] == UI
        assert encoded.headers["access-control-allow-credentials"] == "true"
        assert prefix not in encoded.text
        assert all(p["metadata"]["encryption-key-id"] == base64.b64encode(b"k1").decode()
                   for p in encoded.json()["payloads"])
        decoded = await http.post("/codec/decode", json=encoded.json(), headers={**bearer(admin), **ui})
        assert decoded.status_code == 200 and decoded.json() == body

        assert (await http.post("/codec/decode", json=body, headers=bearer(owner))).status_code == 403
        refused = await http.post("/codec/decode", json=body, headers=ui)
        assert refused.status_code == 401 and refused.json()["detail"]
        assert refused.headers["access-control-allow-origin"] == UI  # the UI can read why

        stranger = await http.post("/codec/decode", json=body,
                                   headers={**bearer(admin), "Origin": "https://evil.example"})
        assert stranger.status_code == 200 and "access-control-allow-origin" not in stranger.headers

        preflight = await http.options("/codec/decode", headers={
            "Origin": UI, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, x-namespace"})
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == UI
        assert "POST" in preflight.headers["access-control-allow-methods"]
        assert "X-Namespace" in preflight.headers["access-control-allow-headers"]
        other = await http.options("/codec/encode", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers

        tampered = encoded.json()
        tampered["payloads"][1]["data"] = base64.b64encode(b"\0" * 40).decode()
        failed = await http.post("/codec/decode", json=tampered, headers=bearer(admin))
        assert failed.status_code == 422
        assert failed.json()["detail"] == [{"field": "payloads.1", "reason": failed.json()["detail"][0]["reason"]}]
        assert "failed authentication" in failed.json()["detail"][0]["reason"]
        garbage = await http.post("/codec/decode", json={"payloads": [{"data": "not base64!"}]}, headers=bearer(admin))
        assert garbage.status_code == 422 and "payloads.0.data" in garbage.text
        missing = await http.post("/codec/decode", json={"nothing": []}, headers=bearer(admin))
        assert missing.status_code == 422 and "payloads" in missing.text

        http.cookies.set(TOKEN_COOKIE, admin)
        by_cookie = await http.post("/codec/decode", json=encoded.json(), headers=ui)
        assert by_cookie.status_code == 200 and by_cookie.json() == decoded.json()
        http.cookies.set(TOKEN_COOKIE, owner)
        assert (await http.post("/codec/decode", json=encoded.json())).status_code == 403

    async with api_client(settings) as http:
        off = await http.post("/codec/decode", json=body, headers=bearer(admin))
        assert off.status_code == 404
        assert off.json()["detail"] == "payload encryption is off (DORMANT_PAYLOAD_KEYS is not set)"
