"""Hardening against the real PostgreSQL and Temporal dev server: CSV injection in the events export, the body
limit for chunked bodies, hostile header and form values that must never cause a 500, and one answer (404)
for another owner's account and an unknown one, so account ids cannot be probed."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import csv
import hashlib
import hmac
import io
import json
import re
import time
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import SecretStr
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.main import MAX_BODY_BYTES, TOO_LARGE, create_app
from api.report_csv import csv_line
from db.owners import add_owner
from tests.api.test_review_page import csrf_of, live_server, sign_in
from tests.support.api import bearer
from tests.support.crm_fixtures import add_account

SECRET = "whsec-hardening"


@contextlib.asynccontextmanager
async def app_client(settings, temporal=None):
    """Like test_api.api_client, but app exceptions come back as 500s (so a list of inputs can be checked in
    one go) and the Temporal client can be replaced."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        if temporal is not None:
            app.state.temporal = temporal
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


def signed(body: bytes, stamp: str | None = None) -> dict:
    stamp = stamp or str(int(time.time()))
    digest = hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-Dormant-Timestamp": stamp, "X-Dormant-Signature": f"sha256={digest}",
            "Content-Type": "application/json"}


# --- 1. CSV injection ------------------------------------------------------------------------------------

def test_csv_line_neutralises_text_cells_only():
    line = csv_line([-3, 2.5, "-3", "=1+1", "+1", "@SUM(A1)", "\tx", "\rx", "a=b", "", None])
    assert next(csv.reader(io.StringIO(line))) == ["-3", "2.5", "'-3", "'=1+1", "'+1", "'@SUM(A1)", "'\tx", "'\rx",
                                                   "a=b", "", ""]


async def test_events_csv_neutralises_formulas_from_the_crm(pool, settings, prefix, tmp_path):
    """A segment and owner emails from the CRM land in the ledger as typed; the export (HTTP and CLI) must
    not hand a spreadsheet a formula."""
    at_owner, plus_owner = f"@{prefix}-at@test.dormant", f"+{prefix}-plus@test.dormant"
    hyperlink = '=HYPERLINK("http://x","y")'
    at = datetime(2011, 5, 2, 9, tzinfo=UTC)
    rows = [(f"{prefix}-e1", at, "awaiting_review", f"{prefix}-a1", f"w-{prefix}-a1", "e1", "-awaiting", "\tpath",
             at_owner, hyperlink, json.dumps({"note": "=1+1"})),
            (f"{prefix}-e2", at, "sent", f"{prefix}-a2", f"w-{prefix}-a2", "e1", "sent", "account_led",
             plus_owner, "-42", json.dumps({})),
            (f"{prefix}-e3", at, "sent", f"{prefix}-a3", f"w-{prefix}-a3", "e1", "sent", "account_led",
             plus_owner, "\r=cmd|' /C calc'!A0", json.dumps({}))]
    async with pool.acquire() as conn:
        await conn.executemany(
            """INSERT INTO measurement_events (event_id, at, type, account_id, workflow_id, episode, stage, path,
               owner_email, segment, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb)""", rows)
        at_token = await add_owner(conn, at_owner)
    async with app_client(settings) as http:
        exported = await http.get("/v1/reports/events.csv", headers=bearer(at_token))
    assert exported.status_code == 200
    [row] = list(csv.DictReader(io.StringIO(exported.text)))
    assert row["segment"] == "'" + hyperlink and row["owner_email"] == "'" + at_owner
    assert row["stage"] == "'-awaiting" and row["path"] == "'\tpath"
    assert row["detail"] == '{"note":"=1+1"}'  # a JSON object starts with "{": nothing to run
    assert row["event_id"] == f"{prefix}-e1" and row["at"].startswith("2011-05-02")

    from dormant.cli import build_parser

    target = tmp_path / "events.csv"
    args = build_parser().parse_args(["report", "--owner", plus_owner, "--csv", str(target)])
    assert await asyncio.to_thread(args.func, args, settings) == 0
    cli_rows = list(csv.DictReader(io.StringIO(target.read_bytes().decode("utf-8"), newline="")))
    assert [r["owner_email"] for r in cli_rows] == ["'" + plus_owner] * 2
    assert [r["segment"] for r in cli_rows] == ["'-42", "'\r=cmd|' /C calc'!A0"]


# --- 2. The body limit holds for chunked bodies -----------------------------------------------------------

async def chunks(total: int, size: int = 64 * 1024):
    sent = 0
    while sent < total:
        piece = min(size, total - sent)
        sent += piece
        yield b" " * piece


async def test_a_chunked_body_over_the_limit_is_refused(pool, settings, prefix):
    account_id = f"{prefix}-chunked"
    await add_account(pool, account_id)
    async with pool.acquire() as conn:
        admin = await add_owner(conn, f"{prefix}-admin@test.dormant", admin=True)
    big = MAX_BODY_BYTES + 100_000
    async with app_client(settings) as http:
        for path, headers in (("/v1/events", {"Content-Type": "application/json"}),
                              ("/v1/events", {**bearer(admin), "Content-Type": "application/json"}),
                              ("/v1/triggers/dormant", {"Content-Type": "application/json"}),
                              ("/review/sign-in", {"Content-Type": "application/x-www-form-urlencoded"})):
            answer = await http.post(path, content=chunks(big), headers=headers)
            assert "content-length" not in answer.request.headers  # really chunked
            assert answer.status_code == 413, f"{path}: {answer.status_code}"
            assert answer.json() == {"detail": TOO_LARGE}

        async def event_in_pieces():
            body = json.dumps({"account_id": account_id, "type": "activity"}).encode() + b" " * 900_000
            for start in range(0, len(body), 10_000):
                yield body[start:start + 10_000]

        small = await http.post("/v1/events", content=event_in_pieces(),
                                headers={**bearer(admin), "Content-Type": "application/json"})
        assert small.status_code == 200, small.text  # under the limit, chunked still works
        assert (await http.post("/v1/events", content=b"{}", headers={
            **bearer(admin), "Content-Type": "application/json", "Content-Length": "9" * 40})).status_code == 413
    # Over a real socket (uvicorn, Transfer-Encoding: chunked on the wire) too.
    async with live_server(settings) as base, httpx.AsyncClient(base_url=base) as http:
        answer = await http.post("/v1/events", content=chunks(big), headers={"Content-Type": "application/json"})
        assert answer.request.headers["transfer-encoding"] == "chunked"
        assert answer.status_code == 413
    assert await pool.fetchval("SELECT count(*) FROM crm_events WHERE account_id = $1", account_id) == 1


# --- 3. Hostile header and form values never cause a 500 --------------------------------------------------

HOSTILE = ["²", "١٢٣", "١٧٠٠٠٠٠٠٠٠", "é", "Bearer é", "sha256=" + "é" * 64, "sha256=²", "x" * 8000, "9" * 5000,
           "", " ", "\t", "\x01", "\x1f\x7f", "ÿ" * 100, "\u2028", "Bearer \x01"]


def header_variants(value: str) -> list[bytes]:
    """As a server would see it: Latin-1 bytes (Starlette decodes headers as Latin-1, so "²" arrives as
    "²") and, for characters beyond Latin-1, UTF-8."""
    variants = [value.encode("utf-8")]
    with contextlib.suppress(UnicodeEncodeError):
        variants.insert(0, value.encode("latin-1"))
    return list(dict.fromkeys(variants))


async def test_hostile_header_and_form_values_never_cause_a_500(pool, settings, prefix):
    owner_email = f"{prefix}-owner@test.dormant"
    account_id = f"{prefix}-fuzz"
    await add_account(pool, account_id, owner_email=owner_email)
    async with pool.acquire() as conn:
        owner = await add_owner(conn, owner_email)
    hardened = settings.model_copy(update={"webhook_secret": SecretStr(SECRET)})
    event = json.dumps({"account_id": account_id, "type": "activity"}).encode()
    trigger = json.dumps({"account_id": account_id}).encode()
    failures: list[str] = []

    async def check(http, label: str, method: str, path: str, **kwargs) -> httpx.Response:
        answer = await http.request(method, path, **kwargs)
        if answer.status_code >= 500:
            failures.append(f"{label}: {method} {path} -> {answer.status_code}")
        return answer

    async with app_client(hardened) as http:
        # the reported cases, named: a correct signature over a "²" timestamp, and a non-ASCII signature
        body_sig = signed(event, stamp="²")
        superscript = await http.post("/v1/events", content=event, headers={
            **body_sig, "X-Dormant-Timestamp": "²".encode("latin-1")})
        assert superscript.status_code == 401
        non_ascii = await http.post("/v1/events", content=event, headers={**signed(event), "X-Dormant-Signature": "é".encode("latin-1")})
        assert non_ascii.status_code == 401

        for value in HOSTILE:
            for raw in header_variants(value):
                label = repr(raw[:40])
                for path, body in (("/v1/events", event), ("/v1/triggers/dormant", trigger)):
                    await check(http, f"timestamp {label}", "POST", path, content=body,
                                headers={**signed(body), "X-Dormant-Timestamp": raw})
                    await check(http, f"signature {label}", "POST", path, content=body,
                                headers={**signed(body), "X-Dormant-Signature": raw})
                    await check(http, f"authorization {label}", "POST", path, content=body,
                                headers={"Content-Type": "application/json", "Authorization": raw})
                    await check(http, f"content-length {label}", "POST", path, content=body,  # forged: no start
                                headers={**signed(body), "X-Dormant-Signature": "sha256=00", "Content-Length": raw})
                for method, path in (("GET", "/v1/queue"), ("GET", f"/v1/accounts/{account_id}"),
                                     ("GET", "/v1/reports/funnel"), ("GET", "/v1/reports/events.csv"),
                                     ("POST", f"/v1/accounts/{account_id}/decision"), ("POST", "/codec/decode")):
                    for auth in (raw, b"Bearer " + raw):
                        await check(http, f"bearer {auth[:40]!r}", method, path, headers={"Authorization": auth},
                                    json={"action": "hold", "draft_version": 1} if method == "POST" else None)
                await check(http, f"cookie {label}", "GET", f"/review/accounts/{account_id}",
                            headers={"Cookie": b"dormant_token=" + raw + b"; dormant_flash=" + raw})

        # the review page's forms: sign-in (pre-session nonce) and a signed-in decision post
        for value in HOSTILE:
            form = await http.get("/review")
            await check(http, f"sign-in csrf {value[:20]!r}", "POST", "/review/sign-in",
                        data={"token": owner, "csrf": value})
            await check(http, f"sign-in token {value[:20]!r}", "POST", "/review/sign-in",
                        data={"token": value, "csrf": csrf_of(form.text)})
        csrf = await sign_in(http, owner)
        for value in HOSTILE:
            refused = await check(http, f"decision csrf {value[:20]!r}", "POST",
                                  f"/review/accounts/{account_id}/decision",
                                  data={"csrf": value, "action": "hold", "draft_version": "1", "reason": "x"})
            assert refused.status_code in (403, 422) or failures
            await check(http, f"decision fields {value[:20]!r}", "POST", f"/review/accounts/{account_id}/decision",
                        data={"csrf": csrf, "action": value, "draft_version": value, "reason": value})
            await check(http, f"sign-out csrf {value[:20]!r}", "POST", "/review/sign-out", data={"csrf": value})
    assert failures == []


# --- 4. Another owner's account answers exactly like an unknown one ---------------------------------------

def same_modulo_id(a: str, a_id: str, b: str, b_id: str) -> bool:
    return a.replace(a_id, "ID") == b.replace(b_id, "ID")


async def test_another_owners_account_answers_like_an_unknown_one(pool, settings, prefix):
    theirs, unknown = f"{prefix}-theirs", f"{prefix}-nobody"
    await add_account(pool, theirs, owner_email=f"{prefix}-them@test.dormant")
    async with pool.acquire() as conn:
        me = await add_owner(conn, f"{prefix}-me@test.dormant")
    decision = {"action": "hold", "draft_version": 1, "reason": "probe"}
    async with app_client(settings) as http:
        for method, suffix, body in (("GET", "", None), ("POST", "/decision", decision)):
            answers = {}
            for account_id in (theirs, unknown):
                answer = await http.request(method, f"/v1/accounts/{account_id}{suffix}", json=body,
                                            headers=bearer(me))
                answers[account_id] = answer
                assert answer.status_code == 404, f"{method} {account_id}: {answer.status_code}"
                assert answer.json() == {"detail": f"account {account_id!r} not found"}
            assert same_modulo_id(answers[theirs].text, theirs, answers[unknown].text, unknown)

        csrf = await sign_in(http, me)
        pages = {a: await http.get(f"/review/accounts/{a}") for a in (theirs, unknown)}
        assert {p.status_code for p in pages.values()} == {404}
        assert same_modulo_id(pages[theirs].text, theirs, pages[unknown].text, unknown)
        flashes = {}
        for account_id in (theirs, unknown):
            posted = await http.post(f"/review/accounts/{account_id}/decision",
                                     data={"csrf": csrf, "action": "hold", "draft_version": "1", "reason": "x"})
            page = await http.get(posted.headers["location"])
            flashes[account_id] = re.search(r'id="flash">([^<]*)<', page.text).group(1)
        assert flashes[theirs] == f"Refused (404): account {theirs!r} not found.".replace("'", "&#39;")
        assert same_modulo_id(flashes[theirs], theirs, flashes[unknown], unknown)


class RefusingHandle:
    """A workflow handle whose decide Update is refused the way the workflow refuses a non-owner."""

    def __init__(self, cause: BaseException):
        self.cause = cause

    async def execute_update(self, *args, **kwargs):
        raise WorkflowUpdateFailedError(self.cause)

    async def query(self, *args, **kwargs):
        raise RPCError("workflow not found", RPCStatusCode.NOT_FOUND, b"")


class RefusingTemporal:
    def __init__(self, cause: BaseException):
        self.cause = cause

    def get_workflow_handle(self, workflow_id: str) -> RefusingHandle:
        return RefusingHandle(self.cause)


@pytest.mark.parametrize("cause", [
    ApplicationError("someone@test.dormant is not the owner of this account", type="forbidden", non_retryable=True),
    ApplicationError("forbidden: someone@test.dormant is not the owner of this account"),  # the v1 workflow's form
], ids=["refusal", "v1-message"])
async def test_the_workflows_forbidden_refusal_answers_like_an_unknown_account(pool, settings, prefix, cause):
    """The owner changed between the access check and the Update: the workflow refuses the caller, and the
    answer is the same 404 as for an unknown account (JSON route and review page alike)."""
    account_id = f"{prefix}-moved"
    owner_email = f"{prefix}-owner@test.dormant"
    await add_account(pool, account_id, owner_email=owner_email)
    async with pool.acquire() as conn:
        token = await add_owner(conn, owner_email)
    async with app_client(settings, temporal=RefusingTemporal(cause)) as http:
        answer = await http.post(f"/v1/accounts/{account_id}/decision", headers=bearer(token),
                                 json={"action": "hold", "draft_version": 1, "reason": "x"})
        assert answer.status_code == 404 and answer.json() == {"detail": f"account {account_id!r} not found"}
        csrf = await sign_in(http, token)
        posted = await http.post(f"/review/accounts/{account_id}/decision",
                                 data={"csrf": csrf, "action": "hold", "draft_version": "1", "reason": "x"})
        assert posted.status_code == 303
    flash_cookie = posted.cookies.get("dormant_flash")
    payload = flash_cookie.rpartition(".")[0]
    text = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["text"]
    assert text == f"Refused (404): account {account_id!r} not found."
