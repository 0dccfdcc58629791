"""A message that can never be sent raises InvalidMessage (permanent), never a retryable error.

Unit tests of the SMTP sender's message building: no server is needed, because the message is built
before connecting (send_email points at a port nobody listens on: reaching the network would raise a
connection error instead).
"""

from __future__ import annotations

import email
from email import policy

import pytest

from activities.smtp_sender import send_email, to_bytes, to_email
from config.settings import load_settings
from dormant.processes import free_port
from reactivation.delivery_model import InvalidMessage, OutgoingMessage


def message(**overrides) -> OutgoingMessage:
    fields = dict(idempotency_key="wf/ep/first", message_id="<abc@test.dormant>", account_id="A", workflow_id="wf",
                  kind="first", channel="email", to_address="dana@example.com", from_address="team@test.dormant",
                  subject="Checking in", body="Hi Dana,\r\n\r\nIt has been a while.\n\nAlex",
                  headers={"Message-ID": "<abc@test.dormant>", "Reply-To": "alex@test.dormant"})
    return OutgoingMessage(**{**fields, **overrides})


# The first five the email library refuses itself (ValueError); the rest it would write to the wire.
BAD_HEADER_VALUES = ["Hi\r\nBcc: everyone@example.org", "Hi\nthere", "Hi\rthere", "Hi\u2028there", "Hi\x85there",
                     "Hi\x00there", "Hi\x07there", "Hi there\n"]


@pytest.mark.parametrize("value", BAD_HEADER_VALUES)
def test_a_subject_with_a_line_break_or_control_character_is_invalid(value):
    with pytest.raises(InvalidMessage, match="Subject header"):
        to_email(message(subject=value))


@pytest.mark.parametrize("overrides, header", [
    ({"to_address": "dana@example.com\r\nBcc: everyone@example.org"}, "To"),
    ({"to_address": "dana@example.com\n"}, "To"),
    ({"from_address": "team@test.dormant\x00"}, "From"),
    ({"headers": {"Reply-To": "alex@test.dormant\r\nBcc: everyone@example.org"}}, "Reply-To"),
])
def test_addresses_and_other_headers_are_checked_too(overrides, header):
    with pytest.raises(InvalidMessage, match=f"{header} header"):
        to_email(message(**overrides))


@pytest.mark.parametrize("body", ["Hi\x00Dana", "Hi \ud800 Dana"])
def test_a_body_that_cannot_be_sent_is_invalid(body):
    with pytest.raises(InvalidMessage):
        to_bytes(message(body=body))


def test_a_clean_message_in_any_script_is_built():
    data = to_bytes(message(subject="山田様: お久しぶりです — مرحبا", body="山田様\n\nご無沙汰しております。\tAlex"))
    parsed = email.message_from_bytes(data, policy=policy.default)
    assert parsed["Subject"] == "山田様: お久しぶりです — مرحبا" and parsed["Reply-To"] == "alex@test.dormant"
    assert "ご無沙汰しております。" in parsed.get_content()


async def test_send_email_raises_invalid_message_before_connecting():
    settings = load_settings(smtp_host="127.0.0.1", smtp_port=free_port())
    with pytest.raises(InvalidMessage):
        await send_email(settings, message(subject="Hi\r\nBcc: everyone@example.org"))
    with pytest.raises(OSError):  # the same call with a valid message does reach for the (absent) server
        await send_email(settings, message())
