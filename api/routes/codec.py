"""POST /codec/decode and /codec/encode: the Temporal codec server protocol, so the Temporal UI (codec
endpoint setting, `--ui-codec-endpoint`) and `temporal ... --codec-endpoint` show plaintext to authorised ops
while Temporal itself stores only ciphertext (client/codec.py).

- Admin only: decoded payloads are customer data. An admin bearer token, or an admin's review page session
  cookie (what a browser running the Temporal UI can carry, with "include credentials" on). No side effects,
  so a forged cross-site POST gains nothing: the browser only lets listed origins read the answer.
- CORS is handled here rather than app-wide: only DORMANT_CODEC_CORS_ORIGINS get CORS headers (with
  credentials), every answer (errors too) carries them, and the preflight needs no credentials (browsers
  send none with it).
- Bodies are the protobuf JSON mapping of temporal.api.common.v1.Payloads (bytes as base64).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from google.protobuf import json_format
from pydantic import BaseModel, Field
from temporalio.api.common.v1 import Payload

from api.deps import ERRORS, AppSettings, Pool, bearer_principal
from api.web.session import cookie_principal
from client.codec import ENV, EncryptionCodec
from db.owners import Principal

ENCRYPTION_OFF = f"payload encryption is off ({ENV} is not set)"
ALLOW_METHODS = "POST, OPTIONS"
ALLOW_HEADERS = "Authorization, Content-Type, X-Namespace"
Base64 = Annotated[str, Field(pattern=r"^(?:[A-Za-z0-9+/_-]{4})*(?:[A-Za-z0-9+/_-]{2}(?:==)?|[A-Za-z0-9+/_-]{3}=?)?$",
                              description="bytes, base64 (standard or URL-safe alphabet)")]


def cors_headers(request: Request) -> dict[str, str]:
    """CORS headers for a listed Origin; for any other origin only `Vary: Origin` (the answer depends on it)."""
    origin = request.headers.get("origin", "")
    listed = {o.strip() for o in request.app.state.settings.codec_cors_origins.split(",") if o.strip()}
    if origin and origin in listed:
        return {"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true", "Vary": "Origin"}
    return {"Vary": "Origin"}


class CorsRoute(APIRoute):
    """Adds the CORS headers to every answer of these routes, including 401/403/422, so the UI can show why."""

    def get_route_handler(self):
        handle = super().get_route_handler()

        async def with_cors(request: Request) -> Response:
            try:
                response = await handle(request)
            except (HTTPException, RequestValidationError) as exc:
                handler = next(request.app.exception_handlers[cls] for cls in type(exc).__mro__
                               if cls in request.app.exception_handlers)
                response = await handler(request, exc)
            response.headers.update({**cors_headers(request), "Cache-Control": "no-store"})
            return response

        return with_cors


router = APIRouter(prefix="/codec", tags=["codec"], responses=ERRORS, route_class=CorsRoute)


async def codec_admin(request: Request, pool: Pool) -> Principal:
    """An admin, by bearer token or by review page session cookie."""
    principal = await bearer_principal(request, pool)
    if principal is None:
        principal = await cookie_principal(request, pool)
    if principal is None:
        raise HTTPException(401, "missing or invalid bearer token or review session",
                            headers={"WWW-Authenticate": "Bearer"})
    if not principal.is_admin:
        raise HTTPException(403, "decoding payloads is for admins only")
    return principal


CodecAdmin = Annotated[Principal, Depends(codec_admin)]


class PayloadJson(BaseModel):
    """One temporal.api.common.v1.Payload in protobuf JSON form."""

    metadata: dict[str, Base64] = Field(default_factory=dict, description="e.g. {\"encoding\": \"<base64>\"}")
    data: Base64 = ""


class PayloadsJson(BaseModel):
    """temporal.api.common.v1.Payloads in protobuf JSON form."""

    payloads: list[PayloadJson]


def _codec(settings) -> EncryptionCodec:
    if settings.payload_keys is None or not settings.payload_keys.get_secret_value().strip():
        raise HTTPException(404, ENCRYPTION_OFF)
    try:
        return EncryptionCodec.from_spec(settings.payload_keys.get_secret_value())
    except ValueError as err:  # the message names the problem, never the key
        raise HTTPException(503, str(err)) from None


def _problem(index: int, reason: str) -> HTTPException:
    return HTTPException(422, [{"field": f"payloads.{index}", "reason": reason}])


def _to_proto(body: PayloadsJson) -> list[Payload]:
    payloads = []
    for index, item in enumerate(body.payloads):
        try:
            payloads.append(json_format.ParseDict(item.model_dump(), Payload()))
        except json_format.ParseError as err:
            raise _problem(index, f"not a valid Payload: {err}") from None
    return payloads


def _to_json(payloads: list[Payload]) -> dict:
    return {"payloads": [json_format.MessageToDict(p) for p in payloads]}


DOC = ("Body and answer: `{\"payloads\": [{\"metadata\": {\"encoding\": \"<base64>\"}, \"data\": \"<base64>\"}]}`. "
       "Admin only (bearer token or review session cookie); the `X-Namespace` header the Temporal UI sends is "
       f"ignored. 404 when {ENV} is not set.")


@router.post("/decode", response_model=PayloadsJson, summary="Decrypt Temporal payloads (codec server)",
             description="Decrypts payloads encrypted by this deployment's keys; other payloads come back "
                         "unchanged. A payload that fails to decrypt is a 422 naming its index. " + DOC)
async def decode(body: PayloadsJson, admin: CodecAdmin, settings: AppSettings) -> dict:
    codec = _codec(settings)
    decoded = []
    for index, payload in enumerate(_to_proto(body)):
        try:
            decoded.extend(await codec.decode([payload]))
        except ValueError as err:
            raise _problem(index, str(err)) from None
    return _to_json(decoded)


@router.post("/encode", response_model=PayloadsJson, summary="Encrypt Temporal payloads (codec server)",
             description="Encrypts payloads with the current key (the first in " + ENV + "). " + DOC)
async def encode(body: PayloadsJson, admin: CodecAdmin, settings: AppSettings) -> dict:
    codec = _codec(settings)
    return _to_json(await codec.encode(_to_proto(body)))


@router.options("/decode", include_in_schema=False)
@router.options("/encode", include_in_schema=False)
async def preflight(request: Request) -> Response:
    """CORS preflight: no credentials needed (browsers send none); listed origins only get the allow headers."""
    headers = {}
    if "Access-Control-Allow-Origin" in cors_headers(request):
        headers = {"Access-Control-Allow-Methods": ALLOW_METHODS, "Access-Control-Allow-Headers": ALLOW_HEADERS,
                   "Access-Control-Max-Age": "600"}
    return Response(status_code=204, headers=headers)
