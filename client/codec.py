"""Encrypt every Temporal payload (AES-256-GCM) before it leaves this process.

Why: workflow inputs, results, signals and activity arguments carry customer data (notes, tickets, drafts,
emails). Temporal stores them in its histories and shows them in its UI; with this codec it stores only
ciphertext, and plaintext exists only in our processes and, for authorised ops, the codec endpoint
(api/routes/codec.py).

Keys come from DORMANT_PAYLOAD_KEYS = "kid:base64key[,kid2:base64key2...]". The first key encrypts; every
key decrypts. Each payload names its key id in metadata, so rotation is: put a new key first, keep the old
ones until no open workflow's history still needs them. The key id is also the AES-GCM associated data, so
a payload cannot be relabelled to another key. Payloads that are not encrypted pass through on decode, so
histories written before encryption was turned on still read.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
import re
import time
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, PayloadCodec

ENV = "DORMANT_PAYLOAD_KEYS"
ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12
KEY_BYTES = 32
_KID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def parse_keys(spec: str) -> tuple[str, dict[str, bytes]]:
    """"kid:base64key,..." -> (the key id that encrypts, {kid: key}). Errors name the setting and the key id,
    never the key material."""
    entries = [e.strip() for e in (spec or "").split(",") if e.strip()]
    if not entries:
        raise ValueError(f"{ENV}: no keys given; expected 'kid:base64key[,kid2:base64key2...]'")
    keys: dict[str, bytes] = {}
    for n, entry in enumerate(entries, 1):
        kid, sep, encoded = (part.strip() for part in entry.partition(":"))
        if not sep:
            raise ValueError(f"{ENV}: entry {n} has no ':'; expected 'kid:base64key'")
        if not _KID.match(kid):
            raise ValueError(f"{ENV}: entry {n} has an invalid key id (1-64 of A-Z a-z 0-9 . _ -)")
        if kid in keys:
            raise ValueError(f"{ENV}: key id {kid!r} appears more than once")
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"{ENV}: key {kid!r} is not valid base64") from None
        if len(key) != KEY_BYTES:
            raise ValueError(f"{ENV}: key {kid!r} is {len(key)} bytes; AES-256-GCM needs {KEY_BYTES}")
        keys[kid] = key
    return next(iter(keys)), keys


def generate_key_spec(kid: str | None = None) -> str:
    """A fresh "kid:base64key" entry (kid defaults to today's date, e.g. "k20250131")."""
    kid = kid or time.strftime("k%Y%m%d")
    if not _KID.match(kid):
        raise ValueError(f"{ENV}: invalid key id {kid!r} (1-64 of A-Z a-z 0-9 . _ -)")
    return f"{kid}:{base64.b64encode(os.urandom(KEY_BYTES)).decode()}"


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM over each serialized Payload; 12-byte random nonce + ciphertext (with tag) as data."""

    def __init__(self, current_kid: str, keys: dict[str, bytes]) -> None:
        if current_kid not in keys:
            raise ValueError(f"{ENV}: the encrypting key id {current_kid!r} has no key")
        self.current_kid = current_kid
        self._ciphers = {kid: AESGCM(key) for kid, key in keys.items()}

    @classmethod
    def from_spec(cls, spec: str) -> EncryptionCodec:
        return cls(*parse_keys(spec))

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        kid = self.current_kid.encode()
        out = []
        for payload in payloads:
            nonce = os.urandom(NONCE_BYTES)
            data = nonce + self._ciphers[self.current_kid].encrypt(nonce, payload.SerializeToString(), kid)
            out.append(Payload(metadata={"encoding": ENCODING, KEY_ID: kid}, data=data))
        return out

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._decode_one(p) if p.metadata.get("encoding") == ENCODING else p for p in payloads]

    def _decode_one(self, payload: Payload) -> Payload:
        kid = payload.metadata.get(KEY_ID, b"").decode("utf-8", "replace")
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise ValueError(f"payload encrypted with key id {kid!r}, which is not in {ENV}")
        data = payload.data
        try:
            plain = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], kid.encode())
            return Payload.FromString(plain)
        except (InvalidTag, ValueError, DecodeError):
            raise ValueError("payload failed authentication (tampered, truncated or wrong key)") from None


def data_converter_for(spec: str | None) -> DataConverter:
    """The project's pydantic converter, encrypting when a key spec is given."""
    if not spec:
        return pydantic_data_converter
    # Failure messages and stack traces can quote customer data too: encode them like payloads.
    return dataclasses.replace(pydantic_data_converter, payload_codec=EncryptionCodec.from_spec(spec),
                               failure_converter_class=DefaultFailureConverterWithEncodedAttributes)
