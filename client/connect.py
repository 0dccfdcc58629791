"""The one way every process (worker, API, CLI, tests) connects to Temporal: the pydantic data converter,
encrypting payloads with AES-GCM when DORMANT_PAYLOAD_KEYS is set (see client/codec.py)."""

from __future__ import annotations

from temporalio.client import Client

from client.codec import data_converter_for
from config.settings import Settings


async def connect_temporal(settings: Settings, address: str | None = None) -> Client:
    keys = settings.payload_keys.get_secret_value() if settings.payload_keys else None
    return await Client.connect(
        address or settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter_for(keys),
    )
