"""Unsubscribe through the HTTP API, against the real PostgreSQL and Temporal dev server.

The footer link is a GET that mail scanners follow: it only shows a confirmation page with a button.
The button (and a mail client's RFC 8058 one-click) is a POST: it suppresses the address the token names
and records the account's opt-out. A token names one address: it cannot unsubscribe another, and a
tampered one is refused with nothing changed. Account-only tokens in mail already sent still work, on
the account's current contact address.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from reactivation.unsubscribe import make_token
from tests.support.api import api_client
from tests.support.crm_fixtures import add_account
from tests.support.lifecycle_helpers import running_worker, start_account, wait_for_stage

ONE_CLICK = {"content": b"List-Unsubscribe=One-Click",
             "headers": {"Content-Type": "application/x-www-form-urlencoded"}}


def secret_of(settings) -> str:
    return settings.unsubscribe_secret.get_secret_value()


async def state(pool, account_id: str) -> dict:
    """Everything an unsubscribe may change, for this account and its addresses."""
    return {
        "consent": await pool.fetchval("SELECT consent_status FROM accounts WHERE account_id = $1", account_id),
        "events": [tuple(r) for r in await pool.fetch(
            "SELECT type, detail FROM crm_events WHERE account_id = $1 ORDER BY id", account_id)],
        "suppressed": {r["address"]: r["reason"] for r in await pool.fetch(
            "SELECT address, reason FROM suppressed_addresses WHERE account_id = $1", account_id)},
    }


async def test_get_shows_a_button_and_changes_nothing(pool, settings, prefix):
    account_id, address = f"{prefix}-get", f"{prefix}-ana@example.com"
    await add_account(pool, account_id, contact_email=address)
    before = await state(pool, account_id)
    url = f"/v1/unsubscribe/{make_token(account_id, address, secret_of(settings))}"
    async with api_client(settings) as http:
        for _ in range(3):  # a scanner, a preview, the person: still nothing changes
            page = await http.get(url)
            assert page.status_code == 200, page.text
            assert page.headers["content-type"].startswith("text/html")
            assert '<form method="post">' in page.text and '<button type="submit">Unsubscribe</button>' in page.text
            assert address in page.text
            assert page.headers["cache-control"] == "no-store"
    assert await state(pool, account_id) == before
    assert before["consent"] == "granted" and before["suppressed"] == {} and before["events"] == []


async def test_post_suppresses_the_address_and_records_the_opt_out(pool, settings, prefix):
    account_id, address = f"{prefix}-post", f"{prefix}-Ana@Example.com"
    await add_account(pool, account_id, contact_email=address)
    url = f"/v1/unsubscribe/{make_token(account_id, address, secret_of(settings))}"
    async with api_client(settings) as http:
        one_click = await http.post(url, **ONE_CLICK)  # RFC 8058, from the mail client
        assert one_click.status_code == 200 and one_click.json() == {"unsubscribed": True}
        button = await http.post(url, content=ONE_CLICK["content"],
                                 headers={**ONE_CLICK["headers"], "Accept": "text/html"})
        assert button.status_code == 200 and "Unsubscribed" in button.text  # the page's button, again: harmless
    after = await state(pool, account_id)
    assert after["suppressed"] == {address.lower(): "unsubscribe"}
    assert after["consent"] == "opted_out"
    assert after["events"][0] == ("opt_out", "one-click unsubscribe")


async def test_a_token_for_one_address_cannot_unsubscribe_another(pool, settings, prefix):
    account_id = f"{prefix}-two"
    old, new = f"{prefix}-old@example.com", f"{prefix}-new@example.com"
    await add_account(pool, account_id, contact_email=new)  # the CRM moved on since the email to `old`
    account_part, _, sig = make_token(account_id, old, secret_of(settings)).split(".")
    swapped = base64.urlsafe_b64encode(new.encode()).rstrip(b"=").decode()
    async with api_client(settings) as http:
        forged = await http.post(f"/v1/unsubscribe/{account_part}.{swapped}.{sig}", **ONE_CLICK)
        assert forged.status_code == 404
        assert await state(pool, account_id) == {"consent": "granted", "events": [], "suppressed": {}}
        ok = await http.post(f"/v1/unsubscribe/{make_token(account_id, old, secret_of(settings))}", **ONE_CLICK)
        assert ok.status_code == 200
    assert (await state(pool, account_id))["suppressed"] == {old: "unsubscribe"}  # not the current address
    assert await pool.fetchval("SELECT 1 FROM suppressed_addresses WHERE address = $1", new) is None


async def test_a_tampered_or_foreign_token_is_refused_and_changes_nothing(pool, settings, prefix):
    account_id, address = f"{prefix}-tamper", f"{prefix}@example.com"
    await add_account(pool, account_id, contact_email=address)
    good = make_token(account_id, address, secret_of(settings))
    bad = [good[:-1] + ("B" if good[-1] != "B" else "C"),  # signature changed
           make_token(account_id, address, "another-deployment's-secret"),
           make_token(f"{prefix}-nobody", address, secret_of(settings)),  # authentic, but no such account
           "not-a-token"]
    before = await state(pool, account_id)
    async with api_client(settings) as http:
        for token in bad:
            for method in ("GET", "POST"):
                response = await http.request(method, f"/v1/unsubscribe/{token}", **ONE_CLICK)
                assert 400 <= response.status_code < 500, (method, token, response.status_code)
    assert await state(pool, account_id) == before


async def test_a_legacy_account_only_token_acts_on_the_current_address(pool, settings, prefix):
    account_id, address = f"{prefix}-legacy", f"{prefix}-current@example.com"
    await add_account(pool, account_id, contact_email=address)
    body = base64.urlsafe_b64encode(account_id.encode()).rstrip(b"=").decode()
    sig = base64.urlsafe_b64encode(
        hmac.new(secret_of(settings).encode(), body.encode(), hashlib.sha256).digest()[:18]).rstrip(b"=").decode()
    async with api_client(settings) as http:
        page = await http.get(f"/v1/unsubscribe/{body}.{sig}")
        assert page.status_code == 200 and address in page.text
        assert (await http.post(f"/v1/unsubscribe/{body}.{sig}", **ONE_CLICK)).status_code == 200
    after = await state(pool, account_id)
    assert after["suppressed"] == {address: "unsubscribe"} and after["consent"] == "opted_out"


async def test_post_signals_the_open_workflow(client, pool, settings, prefix):
    account_id, address = f"{prefix}-open", f"{prefix}@example.com"
    await add_account(pool, account_id, contact_email=address)
    async with running_worker(client, pool, settings), api_client(settings) as http:
        handle = await start_account(client, settings, account_id)
        await wait_for_stage(handle, "awaiting_review")
        url = f"/v1/unsubscribe/{make_token(account_id, address, secret_of(settings))}"
        assert (await http.post(url, **ONE_CLICK)).status_code == 200
        await handle.result()
    assert await pool.fetchval("SELECT delivered FROM crm_events WHERE account_id = $1", account_id) is True
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE account_id = $1", account_id) == 0
