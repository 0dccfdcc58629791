"""Signed unsubscribe tokens: they name the account and the address; tampering and junk are refused,
never an error; account-only tokens already in sent mail still verify."""

import base64
import hashlib
import hmac

from reactivation.unsubscribe import UnsubscribeToken, make_token, read_token, verify


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def legacy_token(account_id: str, secret: str) -> str:
    """The token format before addresses were included (account only), as in mail already sent."""
    body = _b64(account_id.encode())
    return f"{body}.{_b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()[:18])}"


def tampered(token: str) -> str:
    """The same token with the last character of its signature changed."""
    return token[:-1] + ("B" if token[-1] != "B" else "C")


def test_round_trip_and_refusals():
    token = make_token("ACC-1001", " Ana@Example.com ", "s3cret")
    assert verify(token, "s3cret") == UnsubscribeToken("ACC-1001", "ana@example.com")
    assert read_token(token, "s3cret") == "ACC-1001"
    assert verify(token, "other-secret") is None
    assert verify(tampered(token), "s3cret") is None
    for junk in ["", ".", "..", "abc", "ñ.ü", "\U0001f600.x", "a.b.c", "a..c", "a.b.c.d", "%00.%00"]:
        assert verify(junk, "s3cret") is None and read_token(junk, "s3cret") is None


def test_the_address_cannot_be_swapped():
    account, address, sig = make_token("ACC-1001", "ana@example.com", "s3cret").split(".")
    other = _b64(b"bob@example.com")
    assert verify(f"{account}.{other}.{sig}", "s3cret") is None
    assert verify(f"{_b64(b'ACC-2')}.{address}.{sig}", "s3cret") is None
    assert verify(f"{account}.{sig}", "s3cret") is None  # dropping the address does not make a legacy token


def test_legacy_account_only_tokens_still_verify():
    token = legacy_token("ACC-1001", "s3cret")
    assert verify(token, "s3cret") == UnsubscribeToken("ACC-1001", None)
    assert verify(token, "other-secret") is None
    assert verify(tampered(token), "s3cret") is None
