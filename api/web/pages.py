"""The owner's review pages: the JSON API's review, server-rendered for a browser (Jinja2, no JavaScript).

Sign-in, the queue, the outbox, an account, and the decision form's post. The session, CSRF and flash rules
are in api/web/session.py; what each template is given, in api/web/views.py.

Decisions go through `api.decisions.submit_decision`, the JSON route's own path, so a form post gets the
same answer (accepted, 404 not yours or unknown, 409 stale draft or wrong stage, 422); the page shows it
after a 303, via the signed flash cookie.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from pydantic import ValidationError

from api.decisions import owned_stage, submit_decision
from api.deps import AppSettings, Pool, Temporal, decision_keys_of
from api.routes.queue import DEFAULT_STAGES
from api.web.render import SIGN_IN_URL, PageRoute, error_page, page, redirect
from api.web.session import (
    CSRF_REFUSED,
    MaybeSession,
    SignedIn,
    clear_flash,
    end_session,
    keep_sign_in_nonce,
    new_sign_in_nonce,
    principal_for,
    read_flash,
    set_flash,
    sign_in_form_ok,
    start_session,
)
from api.web.views import (
    PATHS,
    STAGES,
    account_context,
    decision_from_form,
    describe,
    describe_invalid,
    queue_filters,
)
from db.outbox import list_outbox
from db.reviews import review_queue

router = APIRouter(prefix="/review", tags=["review page"], include_in_schema=False, route_class=PageRoute)

QUEUE_URL = "/review/queue"
BAD_TOKEN = "That API token is not valid. Paste the whole token printed by `dormant owners add`."


def sign_in_page(request: Request, settings, error: str | None = None, status: int = 200) -> Response:
    nonce, csrf = new_sign_in_nonce(settings)
    response = page(request, "sign_in.html", {"error": error, "csrf": csrf}, status)
    keep_sign_in_nonce(response, request, nonce)
    return response


@router.get("")
async def sign_in_form(request: Request, session: MaybeSession, settings: AppSettings) -> Response:
    if session is not None:
        return redirect(QUEUE_URL)
    return sign_in_page(request, settings)


@router.post("/sign-in")
async def sign_in(request: Request, pool: Pool, settings: AppSettings) -> Response:
    form = await request.form()
    if not sign_in_form_ok(request, settings, form):
        return sign_in_page(request, settings, CSRF_REFUSED, 403)
    token = str(form.get("token", "")).strip()
    if await principal_for(pool, token) is None:
        return sign_in_page(request, settings, BAD_TOKEN, 401)
    response = redirect(QUEUE_URL)
    start_session(response, request, token)
    return response


@router.post("/sign-out")
async def sign_out(request: Request, session: MaybeSession) -> Response:
    if session is not None and not session.csrf_ok(await request.form()):
        return error_page(request, 403, CSRF_REFUSED, session)
    response = redirect(SIGN_IN_URL)
    end_session(response)
    return response


@router.get("/queue")
async def queue_page(request: Request, session: SignedIn, pool: Pool,
                     stage: str = "", path: str = "", segment: str = "") -> Response:
    stage, path, segment = queue_filters(stage, path, segment)
    me = session.me
    async with pool.acquire() as conn:
        rows = await review_queue(conn, owner_email=None if me.is_admin else me.email.lower(),
                                  stages=None if stage == "all" else ([stage] if stage else DEFAULT_STAGES),
                                  path=path or None, segment=segment or None, limit=200, offset=0)
    return page(request, "queue.html", {**session.context(), "rows": rows, "stage": stage, "path": path,
                                        "segment": segment, "stages": STAGES, "paths": PATHS})


@router.get("/outbox")
async def outbox_page(request: Request, session: SignedIn, pool: Pool, settings: AppSettings) -> Response:
    """What was sent (or, in outbox mode, stored instead of sent), newest first: the owner's accounts only."""
    me = session.me
    async with pool.acquire() as conn:
        messages = await list_outbox(conn, limit=200, owner_email=None if me.is_admin else me.email.lower())
    return page(request, "outbox.html", {**session.context(), "messages": messages, "delivery": settings.delivery})


@router.get("/accounts/{account_id}")
async def account_page(account_id: str, request: Request, session: SignedIn, pool: Pool, temporal: Temporal,
                       settings: AppSettings) -> Response:
    flash = read_flash(request, settings)
    try:
        projected_stage = await owned_stage(pool, session.me, account_id)
    except HTTPException as err:
        response = error_page(request, err.status_code, str(err.detail), session, flash=flash)
    else:
        context = await account_context(pool, temporal, account_id, projected_stage)
        response = page(request, "account.html", {**session.context(), **context, "flash": flash})
    if flash is not None:
        clear_flash(response)
    return response


@router.post("/accounts/{account_id}/decision")
async def decision_form(account_id: str, request: Request, session: SignedIn, pool: Pool, temporal: Temporal,
                        settings: AppSettings) -> Response:
    form = await request.form()
    if not session.csrf_ok(form):
        return error_page(request, 403, CSRF_REFUSED, session)
    try:
        body = decision_from_form(form)
    except ValidationError as err:
        ok, message = False, describe_invalid(err)
    else:
        try:
            answer = await submit_decision(pool, temporal, session.me, account_id, body,
                                           decision_keys_of(settings))
            ok, message = answer.result is not None, describe(answer)
        except HTTPException as err:
            ok, message = False, f"Refused ({err.status_code}): {str(err.detail).rstrip('.')}."
    response = redirect(f"/review/accounts/{quote(account_id, safe='')}")
    set_flash(response, request, settings, ok, message)
    return response
