"""The owner's review page: the JSON API's review, server-rendered for a browser (Jinja2, no JavaScript).

- Sign-in is the owner's API token, kept in an HttpOnly, SameSite=Strict cookie scoped to /review: no second
  credential system, and no script can read the token (the CSP allows none).
- Every POST carries a CSRF token (HMAC of the session's API token under the unsubscribe secret, purpose-
  separated); the sign-in form is tied to a pre-session nonce cookie, so another site can neither act as the
  owner nor sign the owner in as someone else. SameSite=Strict is the second lock.
- Decisions go through `submit_decision`, the JSON route's own path, so a form post gets the same answer
  (accepted, 404 not yours or unknown, 409 stale draft or wrong stage, 422); the page shows it after a 303,
  via a short-lived signed cookie, so nobody can craft a link that displays fake text on this page.
- The account page asks the workflow for its live state (short query timeout), falling back to the
  projection, so a decision's effect shows on the redirect before the projection catches up.
- Customer text (notes, tickets, the draft) is untrusted: autoescaping is on and nothing is marked safe.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path as FsPath
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from pydantic import ValidationError
from temporalio.client import WorkflowQueryFailedError, WorkflowQueryRejectedError
from temporalio.service import RPCError

from api.deps import AppSettings, Pool, Temporal, decision_keys_of, same_secret
from api.routes.accounts import DecisionAnswer, DecisionIn, owned_stage, submit_decision
from api.routes.queue import DEFAULT_STAGES
from db.inbound import account_thread
from db.outbox import list_outbox
from db.owners import principal_for_token
from db.reviews import account_view, review_queue
from reactivation.lifecycle_rules import allowed_actions
from reactivation.models import EvidencePack, Path, ReviewState, Stage
from workflows.dormant_account import DormantAccountWorkflow
from workflows.dormant_account_models import workflow_id_for

router = APIRouter(prefix="/review", tags=["review page"], include_in_schema=False)

TOKEN_COOKIE = "dormant_token"
SIGN_IN_COOKIE = "dormant_sign_in"
FLASH_COOKIE = "dormant_flash"
SESSION_S = 12 * 3600
QUERY_TIMEOUT = timedelta(seconds=3)
CSRF_REFUSED = "This form has expired or did not come from this site. Reload the page and try again."
BAD_TOKEN = "That API token is not valid. Paste the whole token printed by `dormant owners add`."
TERMINAL = {Stage.closed.value, Stage.not_ready.value, Stage.suppressed.value}
RED_VERDICTS = {"suppress", "not_ready", "hold"}
STAGES = [s.value for s in Stage]
PATHS = [p.value for p in Path]
ACTION_ORDER = ("approve", "hold", "redraft", "monitor", "close")
FORM_FIELDS = {  # per action: Decision field <- form field
    "approve": {"subject": "subject", "body": "body", "follow_up_body": "follow_up_body", "channel": "channel"},
    "hold": {"reason": "reason"}, "close": {"reason": "reason"}, "redraft": {"note": "guidance"},
    "monitor": {"until": "until", "reason": "reason"},
}
DRAFT_TEXT = {"subject", "body", "follow_up_body"}
HEADERS = {
    "Cache-Control": "no-store", "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}


_env = Environment(loader=FileSystemLoader(FsPath(__file__).resolve().parent.parent / "templates"), autoescape=True)
_env.filters.update(
    when=lambda v: "—" if v is None else v.strftime("%Y-%m-%d %H:%M UTC") if isinstance(v, datetime) else str(v),
    money=lambda v, currency="": "—" if v is None else f"{float(v):,.0f} {currency}".strip(),
    path_quote=lambda v: quote(str(v), safe=""),
)
templates = Jinja2Templates(env=_env)


def _mac(settings, purpose: str, value: str) -> str:
    key = settings.unsubscribe_secret.get_secret_value().encode()
    return hmac.new(key, f"review-page:{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def _set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    https = request.url.scheme == "https" or request.app.state.settings.public_url.startswith("https://")
    # Path "/": the codec endpoint (/codec) also accepts an admin's review session, so Temporal UI can decode.
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="strict", secure=https)


def _forget(response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="strict")


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def _page(request: Request, name: str, context: dict, status: int = 200) -> Response:
    return templates.TemplateResponse(request, name, context, status_code=status, headers=HEADERS)


def _error(request: Request, status: int, message: str, session: dict | None = None) -> Response:
    return _page(request, "error.html", {**(session or {}), "status": status, "message": message}, status)


async def _principal(pool, token: str):
    if not token or len(token) > 200:
        return None
    async with pool.acquire() as conn:
        return await principal_for_token(conn, token)


async def _session(request: Request, pool, settings) -> dict | None:
    """The signed-in principal, the token and the form token, or None (the caller redirects to sign-in)."""
    token = request.cookies.get(TOKEN_COOKIE, "")
    principal = await _principal(pool, token)
    return None if principal is None else {"me": principal, "token": token, "csrf": _mac(settings, "csrf", token)}


def _csrf_ok(session: dict, form) -> bool:
    return same_secret(str(form.get("csrf", "")), session["csrf"])


def _set_flash(response: Response, request: Request, settings, ok: bool, text: str) -> None:
    payload = base64.urlsafe_b64encode(json.dumps({"ok": ok, "text": text[:600]}).encode()).decode().rstrip("=")
    _set_cookie(response, request, FLASH_COOKIE, f"{payload}.{_mac(settings, 'flash', payload)}", 120)


def _read_flash(request: Request, settings) -> dict | None:
    payload, _, sig = request.cookies.get(FLASH_COOKIE, "").rpartition(".")
    if not payload or not same_secret(sig, _mac(settings, "flash", payload)):
        return None
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _sign_in_page(request: Request, settings, error: str | None = None, status: int = 200) -> Response:
    nonce = secrets.token_urlsafe(18)
    response = _page(request, "sign_in.html", {"error": error, "csrf": _mac(settings, "sign-in", nonce)}, status)
    _set_cookie(response, request, SIGN_IN_COOKIE, nonce, 3600)
    return response


@router.get("")
async def sign_in_form(request: Request, pool: Pool, settings: AppSettings) -> Response:
    if await _session(request, pool, settings):
        return _redirect("/review/queue")
    return _sign_in_page(request, settings)


@router.post("/sign-in")
async def sign_in(request: Request, pool: Pool, settings: AppSettings) -> Response:
    form = await request.form()
    nonce = request.cookies.get(SIGN_IN_COOKIE, "")
    if not nonce or not same_secret(str(form.get("csrf", "")), _mac(settings, "sign-in", nonce)):
        return _sign_in_page(request, settings, CSRF_REFUSED, 403)
    token = str(form.get("token", "")).strip()
    if await _principal(pool, token) is None:
        return _sign_in_page(request, settings, BAD_TOKEN, 401)
    response = _redirect("/review/queue")
    _set_cookie(response, request, TOKEN_COOKIE, token, SESSION_S)
    _forget(response, SIGN_IN_COOKIE)
    return response


@router.post("/sign-out")
async def sign_out(request: Request, pool: Pool, settings: AppSettings) -> Response:
    session = await _session(request, pool, settings)
    if session is not None and not _csrf_ok(session, await request.form()):
        return _error(request, 403, CSRF_REFUSED, session)
    response = _redirect("/review")
    _forget(response, TOKEN_COOKIE)
    return response


@router.get("/queue")
async def queue_page(request: Request, pool: Pool, settings: AppSettings,
                     stage: str = "", path: str = "", segment: str = "") -> Response:
    session = await _session(request, pool, settings)
    if session is None:
        return _redirect("/review")
    stage = stage if stage == "all" or stage in STAGES else ""
    path = path if path in PATHS else ""
    segment = segment.strip()[:200]
    me = session["me"]
    async with pool.acquire() as conn:
        rows = await review_queue(conn, owner_email=None if me.is_admin else me.email.lower(),
                                  stages=None if stage == "all" else ([stage] if stage else DEFAULT_STAGES),
                                  path=path or None, segment=segment or None, limit=200, offset=0)
    return _page(request, "queue.html", {**session, "rows": rows, "stage": stage, "path": path, "segment": segment,
                                         "stages": STAGES, "paths": PATHS})


@router.get("/outbox")
async def outbox_page(request: Request, pool: Pool, settings: AppSettings) -> Response:
    """What was sent (or, in outbox mode, stored instead of sent), newest first: the owner's accounts only."""
    session = await _session(request, pool, settings)
    if session is None:
        return _redirect("/review")
    me = session["me"]
    async with pool.acquire() as conn:
        messages = await list_outbox(conn, limit=200, owner_email=None if me.is_admin else me.email.lower())
    return _page(request, "outbox.html", {**session, "messages": messages, "delivery": settings.delivery})


@router.get("/accounts/{account_id}")
async def account_page(account_id: str, request: Request, pool: Pool, temporal: Temporal,
                       settings: AppSettings) -> Response:
    session = await _session(request, pool, settings)
    if session is None:
        return _redirect("/review")
    flash = _read_flash(request, settings)
    try:
        projected_stage = await owned_stage(pool, session["me"], account_id)
    except HTTPException as err:
        response = _error(request, err.status_code, str(err.detail), {**session, "flash": flash})
    else:
        response = await _account(request, pool, temporal, session, account_id, projected_stage, flash)
    if flash is not None:
        _forget(response, FLASH_COOKIE)
    return response


async def _account(request, pool, temporal, session: dict, account_id: str, projected_stage: str | None,
                   flash: dict | None) -> Response:
    async with pool.acquire() as conn:
        projection, evidence = await account_view(conn, account_id)
        sent = await list_outbox(conn, limit=10, account_id=account_id)
        replies = [dict(r) for r in await account_thread(conn, account_id)]
    state = await _review_state(temporal, account_id, projection)
    stage = state.stage.value if state else projected_stage
    allowed = allowed_actions(state, stage)
    return _page(request, "account.html", {
        **session, "account_id": account_id, "state": state, "evidence": evidence, "stage": stage,
        "flags": _flags(state, evidence), "actions": [a for a in ACTION_ORDER if a in allowed], "flash": flash,
        "draft": state.current_draft if state else None, "today": date.today().isoformat(), "sent": sent,
        "replies": replies,
    })


async def _review_state(temporal, account_id: str, projection: dict | None) -> ReviewState | None:
    """The workflow's live state; the projection's copy (with its newer stage) if the workflow can't answer."""
    try:
        stored = ReviewState.model_validate({**projection["state"], "stage": projection["stage"]}) \
            if projection and projection.get("state") else None
    except ValidationError:
        stored = None
    if projection is None or projection["stage"] in TERMINAL:
        return stored
    try:
        return await temporal.get_workflow_handle(workflow_id_for(account_id)).query(
            DormantAccountWorkflow.review_state, rpc_timeout=QUERY_TIMEOUT)
    except (RPCError, WorkflowQueryFailedError, WorkflowQueryRejectedError):
        return stored


def _flags(state: ReviewState | None, evidence: EvidencePack | None) -> list[dict]:
    """Everything that should stop or slow the owner, red (stop) before amber (take care)."""
    flags: list[dict] = []

    def add(level: str, title: str, text: str, sources: Sequence[str] = ()) -> None:
        flags.append({"level": level, "title": title, "text": text, "sources": list(sources)})

    if state and state.notice:
        add("red", "Notice from the workflow", state.notice)
    if evidence and evidence.opted_out_event:
        add("red", "Opt-out or bounce", "An opt-out or bounce arrived after the last CRM import.")
    assessment = state.assessment if state else None
    if assessment:
        for missing in assessment.missing:
            add("red", "Missing CRM data", missing)
        for v in assessment.verdicts:
            if v.verdict != "pass":
                add("red" if v.verdict in RED_VERDICTS else "amber", f"{v.rule}: {v.verdict}", v.reason, v.sources)
        ruled = {v.rule for v in assessment.verdicts}
        for flag in assessment.flags:
            if flag not in ruled:
                add("amber", "Flag", flag)
    if state and state.current_draft:
        for violation in state.current_draft.violations:
            add("red", "Draft guardrail", violation)
    return sorted(flags, key=lambda f: f["level"] != "red")


def _decision_from_form(form) -> DecisionIn:
    """Only the fields that belong to the chosen action, so one form can't smuggle edits into another.
    The draft's own text goes as typed (an emptied body is refused, not silently replaced by the draft);
    other blank fields mean "not given"."""
    def value(name: str) -> str | None:
        raw = form.get(name)
        return None if raw is None else str(raw).replace("\r\n", "\n")

    action = value("action")
    data: dict = {"action": action, "draft_version": value("draft_version")}
    for field, name in FORM_FIELDS.get(action or "", {}).items():
        typed = value(name)
        data[field] = typed if field in DRAFT_TEXT or (typed and typed.strip()) else None
    return DecisionIn.model_validate(data)


def _describe(answer: DecisionAnswer) -> str:
    if answer.result is not None:
        return f"Accepted: {answer.result.message}. The account is now {answer.result.stage.value}."
    kind, _, rest = answer.detail.partition(": ")
    detail = rest if kind in ("forbidden", "conflict", "invalid") and rest else answer.detail
    stage = f" Current stage: {answer.stage}." if answer.stage else ""
    return f"Refused ({answer.status}): {detail.rstrip('.')}.{stage}"


@router.post("/accounts/{account_id}/decision")
async def decision_form(account_id: str, request: Request, pool: Pool, temporal: Temporal,
                        settings: AppSettings) -> Response:
    session = await _session(request, pool, settings)
    if session is None:
        return _redirect("/review")
    form = await request.form()
    if not _csrf_ok(session, form):
        return _error(request, 403, CSRF_REFUSED, session)
    try:
        body = _decision_from_form(form)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'form'}: {e['msg']}" for e in err.errors())
        ok, message = False, f"Refused (422): {problems}"
    else:
        try:
            answer = await submit_decision(pool, temporal, session["me"], account_id, body,
                                           decision_keys_of(settings))
            ok, message = answer.result is not None, _describe(answer)
        except HTTPException as err:
            ok, message = False, f"Refused ({err.status_code}): {str(err.detail).rstrip('.')}."
    response = _redirect(f"/review/accounts/{quote(account_id, safe='')}")
    _set_flash(response, request, settings, ok, message)
    return response
