"""Signed unsubscribe tokens: round trip, tampering and junk are refused, never an error."""

from reactivation.unsubscribe import make_token, read_token


def test_round_trip_and_refusals():
    token = make_token("ACC-1001", "s3cret")
    assert read_token(token, "s3cret") == "ACC-1001"
    assert read_token(token, "other-secret") is None
    assert read_token(token.replace("A", "B", 1), "s3cret") is None
    for junk in ["", ".", "abc", "ñ.ü", "\U0001f600.x", "a.b.c", "%00.%00"]:
        assert read_token(junk, "s3cret") is None
