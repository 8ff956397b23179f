"""The portal's administration pages (role administrator): staff accounts, API keys, API clients.

They call the same service functions as the command line (``python -m gateway ...``), with
the signed-in administrator as the audit log's actor. Every form carries the session's CSRF
token. A new API key, client secret or generated password is shown once, on the page that
answers the form (never behind a redirect, and never cached: ``Cache-Control: no-store``);
only its hash is kept.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from gateway.api_clients import service as clients
from gateway.api_keys import service as keys
from gateway.i18n import N_
from gateway.portal.routes import (
    ADMINISTRATOR,
    CSRF_FIELD,
    SECTION_BY_SLUG,
    _address,
    _current,
    _forbidden,
    _state,
    _to_sign_in,
    csrf_refused,
    redirect,
    render,
    translate,
)
from gateway.staff import service as staff
from gateway.staff.passwords import MIN_PASSWORD_LENGTH
from gateway.staff.service import SignedIn
from kernel.db import utcnow
from kernel.problems import Problem

router = APIRouter(include_in_schema=False)

ROLE_LABELS = {"registrar": N_("Registrar"), "bargaining_officer": N_("Bargaining officer"),
               "dispute_officer": N_("Dispute officer"), "labour_inspector": N_("Labour inspector"),
               "analyst": N_("Analyst"),
               "administrator": N_("Administrator")}
# What a refused form tells the administrator, by the field and rule the service named.
FIELD_MESSAGES = {
    ("/email", "email"): N_("Enter an e-mail address, such as name@example.kz."),
    ("/display_name", "required"): N_("Enter the person's name."),
    ("/roles", "required"): N_("Choose at least one role."),
    ("/roles", "staff_role"): N_("Choose the roles from the list."),
    ("/roles", "role_name"): N_("Roles are lower-case words separated by commas."),
    ("/password", "min_length"): N_("A password has at least %(count)s characters."),
    ("/password", "max_length"): N_("The password is too long."),
    ("/name", "required"): N_("Enter a label: the system the credential is for."),
    ("/organisation_id", "uuid"): N_("Enter the organisation's identifier (a UUID)."),
}
ACCOUNT_EXISTS = N_("A staff account with this e-mail already exists.")
NAME_MAX = 200


class _Refused(Exception):
    """A form's input was refused: the messages to show, already translated."""

    def __init__(self, messages: list[str], status: int) -> None:
        self.messages = messages
        self.status = status


def _messages_of(request: Request, problem: Problem) -> _Refused:
    if problem.status == 409 and problem.slug == "conflict" and "e-mail" in (problem.detail or ""):
        return _Refused([translate(request, ACCOUNT_EXISTS)], 409)
    messages = []
    for error in problem.errors or []:
        message = FIELD_MESSAGES.get((error.pointer, error.rule))
        messages.append(translate(request, message, count=MIN_PASSWORD_LENGTH) if message else error.detail)
    return _Refused(messages or [problem.detail or problem.title], problem.status)


async def _administrator(request: Request) -> tuple[SignedIn, str] | Response:
    current = await _current(request)
    if current is None:
        return _to_sign_in(request)
    if ADMINISTRATOR not in current[0].account.roles:
        return _forbidden(request, current, ADMINISTRATOR)
    return current


async def _checked_form(request: Request, current: tuple[SignedIn, str]) -> FormData | None:
    form = await request.form()
    return form if staff.csrf_matches(current[1], str(form.get(CSRF_FIELD) or "")) else None


def _page(request: Request, current: tuple[SignedIn, str], template: str, context: dict[str, Any],
          status: int = 200) -> HTMLResponse:
    return render(request, template, {"current": SECTION_BY_SLUG["admin"], "now": utcnow(), **context},
                  status=status, signed_in=current[0], token=current[1])


def _organisation(request: Request, value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        raise _Refused([translate(request, FIELD_MESSAGES[("/organisation_id", "uuid")])], 422) from None


def _role_list(value: str) -> list[str]:
    return [role for role in value.replace(";", ",").split(",") if role.strip()]


def _actor(current: tuple[SignedIn, str]) -> str:
    return staff.actor_of(current[0].account)


# --------------------------------------------------------------------------- staff accounts


async def _staff_page(request: Request, current: tuple[SignedIn, str], *, form: dict[str, Any] | None = None,
                      errors: list[str] | None = None, status: int = 200) -> HTMLResponse:
    async with _state(request).sessionmaker() as session:
        accounts = await staff.list_staff(session)
    return _page(request, current, "admin_staff.html",
                 {"accounts": accounts, "role_labels": ROLE_LABELS, "form": form or {"roles": []},
                  "errors": errors or [], "min_password": MIN_PASSWORD_LENGTH}, status)


@router.get("/admin/staff", response_class=HTMLResponse)
async def staff_list(request: Request) -> Response:
    current = await _administrator(request)
    if isinstance(current, Response):
        return current
    return await _staff_page(request, current)


@router.post("/admin/staff", response_class=HTMLResponse)
async def create_staff(request: Request) -> Response:
    current = await _administrator(request)
    if isinstance(current, Response):
        return current
    form = await _checked_form(request, current)
    if form is None:
        return csrf_refused(request)
    entered = {"email": str(form.get("email") or "")[:254],
               "display_name": str(form.get("display_name") or "")[:NAME_MAX],
               "roles": [str(role) for role in form.getlist("roles")]}
    password = str(form.get("password") or "")
    generated = not password
    if generated:
        password = staff.generate_password()
    # A refused form is answered after its session is closed: the page reads with a session of its own.
    refused: _Refused | None = None
    async with _state(request).sessionmaker() as session:
        try:
            account = await staff.create_staff_account(session, email=entered["email"],
                                                       display_name=entered["display_name"], roles=entered["roles"],
                                                       password=password, actor=_actor(current),
                                                       address=_address(request))
            await session.commit()
        except Problem as problem:
            refused = _messages_of(request, problem)
    if refused is not None:
        return await _staff_page(request, current, form=entered, errors=refused.messages, status=refused.status)
    return _page(request, current, "admin_staff_created.html",
                 {"account": account, "password": password if generated else None})


async def _change_staff(request: Request, account_id: uuid.UUID, *, disable: bool) -> Response:
    current = await _administrator(request)
    if isinstance(current, Response):
        return current
    if await _checked_form(request, current) is None:
        return csrf_refused(request)
    change = staff.disable_staff_account if disable else staff.enable_staff_account
    failed: Problem | None = None
    async with _state(request).sessionmaker() as session:
        try:
            await change(session, account_id=account_id, actor=_actor(current), address=_address(request))
            await session.commit()
        except Problem as problem:
            failed = problem
    if failed is not None:
        return await _staff_page(request, current, errors=[failed.detail or failed.title], status=failed.status)
    return redirect("/admin/staff")


@router.post("/admin/staff/{account_id}/disable", response_class=HTMLResponse)
async def disable_staff(request: Request, account_id: uuid.UUID) -> Response:
    return await _change_staff(request, account_id, disable=True)


@router.post("/admin/staff/{account_id}/enable", response_class=HTMLResponse)
async def enable_staff(request: Request, account_id: uuid.UUID) -> Response:
    return await _change_staff(request, account_id, disable=False)


# --------------------------------------------------------------------------- API keys and clients


async def _credentials_page(request: Request, current: tuple[SignedIn, str], kind: str, *,
                            form: dict[str, Any] | None = None, errors: list[str] | None = None,
                            status: int = 200) -> HTMLResponse:
    async with _state(request).sessionmaker() as session:
        rows: list[Any] = (await keys.list_api_keys(session) if kind == "keys"
                           else await clients.list_api_clients(session))
    rows.sort(key=lambda row: (row.revoked_at is not None, -row.created_at.timestamp()))
    return _page(request, current, "admin_api_keys.html" if kind == "keys" else "admin_api_clients.html",
                 {"rows": rows, "form": form or {}, "errors": errors or []}, status)


async def _issue(request: Request, kind: str) -> Response:
    current = await _administrator(request)
    if isinstance(current, Response):
        return current
    form = await _checked_form(request, current)
    if form is None:
        return csrf_refused(request)
    entered = {"organisation_id": str(form.get("organisation_id") or "")[:100],
               "name": str(form.get("name") or "")[:NAME_MAX], "roles": str(form.get("roles") or "")[:500]}
    refused: _Refused | None = None
    async with _state(request).sessionmaker() as session:
        try:
            organisation_id = _organisation(request, entered["organisation_id"])
            if kind == "keys":
                api_key, key = await keys.issue_api_key(session, name=entered["name"],
                                                        roles=_role_list(entered["roles"]),
                                                        organisation_id=organisation_id, actor=_actor(current),
                                                        address=_address(request))
                shown = {"kind": "key", "row": api_key, "secret": key}
            else:
                client, secret = await clients.register_api_client(session, name=entered["name"],
                                                                   roles=_role_list(entered["roles"]),
                                                                   organisation_id=organisation_id,
                                                                   actor=_actor(current), address=_address(request))
                shown = {"kind": "client", "row": client, "secret": secret}
            await session.commit()
        except Problem as problem:
            refused = _messages_of(request, problem)
        except _Refused as refusal:
            refused = refusal
    if refused is not None:
        return await _credentials_page(request, current, kind, form=entered, errors=refused.messages,
                                       status=refused.status)
    return _page(request, current, "admin_secret_issued.html", shown)


async def _revoke(request: Request, kind: str, row_id: uuid.UUID) -> Response:
    current = await _administrator(request)
    if isinstance(current, Response):
        return current
    if await _checked_form(request, current) is None:
        return csrf_refused(request)
    failed: Problem | None = None
    async with _state(request).sessionmaker() as session:
        try:
            await _revoke_in(session, kind, row_id, actor=_actor(current), address=_address(request))
            await session.commit()
        except Problem as problem:
            failed = problem
    if failed is not None:
        return await _credentials_page(request, current, kind, errors=[failed.detail or failed.title],
                                       status=failed.status)
    if kind == "keys":
        # This replica forgets the key now; others within GATEWAY_API_KEY_CACHE_SECONDS.
        _state(request).api_keys.forget()
    elif (client_tokens := _state(request).client_tokens) is not None:
        # This replica refuses the client's tokens now; others once they expire (GATEWAY_API_CLIENT_TOKEN_MINUTES).
        client_tokens.revoke(row_id)
    return redirect("/admin/api-keys" if kind == "keys" else "/admin/api-clients")


async def _revoke_in(session: AsyncSession, kind: str, row_id: uuid.UUID, *, actor: str,
                     address: str | None) -> None:
    if kind == "keys":
        await keys.revoke_api_key(session, key_id=row_id, actor=actor, address=address)
    else:
        await clients.revoke_api_client(session, row_id, actor=actor, address=address)


@router.get("/admin/api-keys", response_class=HTMLResponse)
async def api_key_list(request: Request) -> Response:
    current = await _administrator(request)
    if isinstance(current, Response):
        return current
    return await _credentials_page(request, current, "keys")


@router.post("/admin/api-keys", response_class=HTMLResponse)
async def issue_api_key(request: Request) -> Response:
    return await _issue(request, "keys")


@router.post("/admin/api-keys/{key_id}/revoke", response_class=HTMLResponse)
async def revoke_api_key(request: Request, key_id: uuid.UUID) -> Response:
    return await _revoke(request, "keys", key_id)


@router.get("/admin/api-clients", response_class=HTMLResponse)
async def api_client_list(request: Request) -> Response:
    current = await _administrator(request)
    if isinstance(current, Response):
        return current
    return await _credentials_page(request, current, "clients")


@router.post("/admin/api-clients", response_class=HTMLResponse)
async def register_api_client(request: Request) -> Response:
    return await _issue(request, "clients")


@router.post("/admin/api-clients/{client_id}/revoke", response_class=HTMLResponse)
async def revoke_api_client(request: Request, client_id: uuid.UUID) -> Response:
    return await _revoke(request, "clients", client_id)

