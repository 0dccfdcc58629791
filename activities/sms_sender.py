"""SMS through a Twilio-style HTTP API: a form POST to {base}/2010-04-01/Accounts/{sid}/Messages.json with
basic auth (account sid, auth token), all from settings, never from inputs.

Every request carries `Idempotency-Key: <workflow/episode/kind>`: a retried request after a crash is the
same request, and a provider that honours the key (as our test provider does) returns the first message
instead of sending a second.
"""

from __future__ import annotations

import httpx

from config.settings import Settings
from reactivation.delivery_model import AddressRefused, OutgoingMessage


class SmsUnavailable(Exception):
    """Worth retrying: the provider is down, rate-limiting, or our credentials are being fixed."""


def messages_url(settings: Settings) -> str:
    return f"{settings.sms_base_url.rstrip('/')}/2010-04-01/Accounts/{settings.sms_account_sid}/Messages.json"


def _error(response: httpx.Response) -> str:
    try:
        body = response.json()
        return f"{body.get('code', response.status_code)}: {body.get('message', '')}"[:300]
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:200]}"


async def send_sms(settings: Settings, message: OutgoingMessage) -> str:
    """Send one SMS; return the provider's message sid. Raises AddressRefused for a 400 (the number is
    invalid or unsubscribed at the carrier), SmsUnavailable for anything a retry could fix."""
    missing = [name for name, value in (("DORMANT_SMS_ACCOUNT_SID", settings.sms_account_sid),
                                        ("DORMANT_SMS_AUTH_TOKEN", settings.sms_auth_token),
                                        ("DORMANT_SMS_FROM", settings.sms_from)) if not value]
    if missing or settings.sms_account_sid is None or settings.sms_auth_token is None:
        raise SmsUnavailable(f"SMS delivery is on but {', '.join(missing)} is not set")
    try:
        async with httpx.AsyncClient(timeout=20) as http:
            response = await http.post(
                messages_url(settings),
                data={"To": message.to_address, "From": settings.sms_from, "Body": message.body},
                auth=(settings.sms_account_sid, settings.sms_auth_token.get_secret_value()),
                headers={"Idempotency-Key": message.idempotency_key},
            )
    except httpx.HTTPError as err:
        raise SmsUnavailable(f"SMS provider unreachable: {type(err).__name__}: {err}") from err
    if response.status_code in (200, 201):
        return str(response.json().get("sid", ""))
    if response.status_code == 400:
        raise AddressRefused(_error(response))
    raise SmsUnavailable(f"SMS provider answered {_error(response)}")
