"""Signed one-click unsubscribe tokens (RFC 8058), no database lookup needed to check them.

A token names the account AND the address the message went to: `<b64 account>.<b64 address>.<sig>`, the
signature being HMAC-SHA256(secret, "v2." + both encoded parts), cut to 18 bytes. So a token unsubscribes
exactly the address it was sent to, and changing either part breaks the signature.

Tokens made before addresses were included (`<b64 account>.<sig>`, HMAC over the encoded account) are in
mail already sent: they still verify, with `address=None` (the caller then acts on the account's current
contact address). The two forms cannot be confused: an encoded part never contains a ".", and the new
signature covers a "v2." prefix.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

_SIG_BYTES = 18


@dataclass(frozen=True)
class UnsubscribeToken:
    account_id: str
    address: str | None  # None: a legacy account-only token


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> str | None:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def _sig(secret: str, signed: str) -> str:
    return _b64(hmac.new(secret.encode(), signed.encode(), hashlib.sha256).digest()[:_SIG_BYTES])


def normalise_address(address: str) -> str:
    return address.strip().lower()


def make_token(account_id: str, address: str, secret: str) -> str:
    """A token that unsubscribes `address` (normalised) for `account_id`."""
    account_part = _b64(account_id.encode())
    address_part = _b64(normalise_address(address).encode())
    return f"{account_part}.{address_part}.{_sig(secret, f'v2.{account_part}.{address_part}')}"


def verify(token: str, secret: str) -> UnsubscribeToken | None:
    """The account and address a token names if it is authentic, else None (never an error)."""
    if not token.isascii():  # hmac.compare_digest refuses non-ASCII strings; such a token is never ours
        return None
    parts = token.split(".")
    if len(parts) == 3:
        account_part, address_part, sig = parts
        signed = f"v2.{account_part}.{address_part}"
    elif len(parts) == 2:  # legacy: account only
        account_part, sig = parts
        address_part, signed = None, account_part
    else:
        return None
    if not account_part or not sig or address_part == "":
        return None
    if not hmac.compare_digest(_sig(secret, signed), sig):
        return None
    account_id = _unb64(account_part)
    address = _unb64(address_part) if address_part is not None else None
    if not account_id or (address_part is not None and not address):
        return None
    return UnsubscribeToken(account_id=account_id, address=address)


def read_token(token: str, secret: str) -> str | None:
    """The account id if the token (either form) is authentic, else None."""
    found = verify(token, secret)
    return None if found is None else found.account_id
