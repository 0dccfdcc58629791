"""The owner's decision payload is checked before any workflow is touched: 422 naming the field and why.

The account has no workflow on purpose: a payload that passes validation gets the truthful 409 "no open
review", so a 422 here can only come from the payload itself.
"""

from __future__ import annotations

import pytest

from db.owners import add_owner
from tests.support.api import api_client, bearer
from tests.support.crm_fixtures import add_account

TIMEZONE_REASON = "needs a timezone, e.g. 2026-12-03T09:00:00+01:00"


async def decide(pool, settings, prefix, **fields):
    account_id = f"{prefix}-payload"
    owner = f"{prefix}-owner@test.dormant"
    await add_account(pool, account_id, owner_email=owner)
    async with pool.acquire() as conn:
        token = await add_owner(conn, owner)
    async with api_client(settings) as http:
        return await http.post(f"/v1/accounts/{account_id}/decision",
                               json={"action": "approve", "draft_version": 1, **fields}, headers=bearer(token))


@pytest.mark.parametrize("send_at", ["2026-12-03T09:00:00", "2026-12-03 09:00"])
async def test_a_send_at_without_a_timezone_is_refused(pool, settings, prefix, send_at):
    answer = await decide(pool, settings, prefix, send_at=send_at)
    assert answer.status_code == 422
    assert answer.json()["detail"] == [{"field": "send_at", "reason": TIMEZONE_REASON}]


@pytest.mark.parametrize("subject", ["Checking in\r\nBcc: everyone@example.org", "Checking\nin", "Checking\rin",
                                     "Checking in\x00", "Checking\u2028in", "Checking\x85in", "Checking in\x1b[0m"])
async def test_a_subject_with_a_line_break_or_control_character_is_refused(pool, settings, prefix, subject):
    answer = await decide(pool, settings, prefix, subject=subject)
    assert answer.status_code == 422
    [problem] = answer.json()["detail"]
    assert problem["field"] == "subject" and "must be one line" in problem["reason"]


@pytest.mark.parametrize("fields", [
    {"send_at": "2026-12-03T09:00:00+01:00"},
    {"send_at": "2026-12-03T08:00:00Z", "subject": "山田様: お久しぶりです"},
    {"subject": "مرحبا — checking in again"},
])
async def test_a_well_formed_payload_reaches_the_workflow_step(pool, settings, prefix, fields):
    answer = await decide(pool, settings, prefix, **fields)
    # Past validation: today the truthful 409 "no open review" (no workflow runs for this account).
    assert answer.status_code != 422 and answer.status_code < 500, answer.text


@pytest.mark.parametrize(("fields", "field", "reason"), [
    ({"body": "Hello\x00there"}, "body", "must not contain NUL characters (U+0000)"),
    ({"note": "\x00"}, "note", "must not contain NUL characters (U+0000)"),
    ({"subject": "é" * 201}, "subject", "must be at most 200 characters, not 201"),
    ({"reason": "r" * 2001}, "reason", "must be at most 2000 characters, not 2001"),
])
async def test_a_nul_or_an_overlong_text_is_refused_in_words(pool, settings, prefix, fields, field, reason):
    """Not pydantic's regex quoted back, nor "200 items" for a text that is too long."""
    answer = await decide(pool, settings, prefix, **fields)
    assert answer.status_code == 422
    assert answer.json()["detail"] == [{"field": field, "reason": reason}]


async def test_an_account_id_with_a_control_character_is_refused_in_words(pool, settings, tokens):
    """In the path (the review API) and in a body (a CRM trigger): no regex quoted back."""
    async with api_client(settings) as http:
        in_path = await http.get("/v1/accounts/ACC-1%0D%0AX", headers=bearer(tokens["owner"]))
        in_body = await http.post("/v1/triggers/dormant", json={"account_id": "ACC-1\n"},
                                  headers=bearer(tokens["admin"]))
        in_query = await http.get("/v1/queue", params={"segment": "a\x00b"}, headers=bearer(tokens["owner"]))
    assert in_path.status_code == in_body.status_code == in_query.status_code == 422
    assert in_path.json()["detail"] == [{"field": "path.account_id",
                                         "reason": "must not contain line breaks, control characters or a slash"}]
    assert in_body.json()["detail"] == [{"field": "account_id",
                                         "reason": "must not contain line breaks or control characters"}]
    assert in_query.json()["detail"] == [{"field": "query.segment", "reason": "must not contain NUL characters (U+0000)"}]
