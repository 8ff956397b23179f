"""The portal's inbox: the events on the desks of the signed-in staff member's roles, newest first, unread marked.

The notifications service keeps the desks (its rule data says which event reaches which staff role) and the
read marks, per person; this page asks it as the signed-in staff member, like every portal page, and the
header's count (routes._inbox_unread) is the same service's. A role with no desk (analyst, administrator)
gets a page that says so instead of a refusal. Works without JavaScript: the filter is a GET form, marking
read a POST form with the session's CSRF token that comes back to the page it was on.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gateway.i18n import N_
from gateway.portal.admin import ROLE_LABELS
from gateway.portal.registry import _checked_form, _signed_in
from gateway.portal.routes import _local_path, csrf_refused, redirect, translate
from gateway.portal.section import Current, ServiceSection, answers
from gateway.portal.upstream import Refusal, ServiceUnavailable
from gateway.portal.upstream import call as call_service
from gateway.staff.service import STAFF_ROLES

router = APIRouter(include_in_schema=False)

SERVICE = "notifications"
SHOWN = 100  # the newest this many; the inbox is a worklist, not an archive
INBOX = "/notifications"

UNAVAILABLE_TITLE = N_("The notifications service is unavailable")
UNAVAILABLE_DETAIL = N_("The notifications service could not be reached or did not answer in time. Nothing was "
                        "changed. Try again in a minute; if it lasts, tell the platform's operators.")
UNEXPECTED_DETAIL = N_("The notifications service gave an answer this page cannot read.")
NOT_FOUND_DETAIL = N_("This message is not in your inbox (it may be on a desk of a role you do not hold).")

# Which portal page shows what an event is about, by the start of its type (the first that fits; None: no
# page). Each producer's contract names the record its events are about in the subject.
PAGES: tuple[tuple[str, str | None], ...] = (
    ("kz.ntc.registry.organisation.", "/registry/organisations/{subject}"),
    ("kz.ntc.registry.application.", "/registry/applications/{subject}"),
    ("kz.ntc.registry.", None),  # a deadline's subject may be an organisation or an application
    ("kz.ntc.disputes.complaint.", "/disputes/complaints/{subject}"),
    ("kz.ntc.disputes.individual.", "/disputes/individual/{subject}"),
    ("kz.ntc.disputes.deadline.", None),  # any of the disputes' records
    ("kz.ntc.disputes.", "/disputes/{subject}"),  # a collective dispute's events, its roster's too
    ("kz.ntc.bargaining.deadline.", None),
    ("kz.ntc.bargaining.commitment.", "/commitments/{subject}"),
    *((f"kz.ntc.bargaining.{aggregate}.", "/commissions/{subject}")
      for aggregate in ("sitting", "agenda_item", "decision", "minutes", "consultation", "position", "notice")),
    ("kz.ntc.bargaining.", "/bargaining/negotiations/{subject}"),  # a negotiation, its agreement, accession
)


def page_of(event_type: str, subject: str | None) -> str | None:
    """The portal page about the record an event is about, or None where there is none."""
    try:
        record = uuid.UUID(str(subject))
    except ValueError:
        return None
    for prefix, path in PAGES:
        if event_type.startswith(prefix):
            return path.format(subject=record) if path else None
    return None


SECTION = ServiceSection(
    slug="notifications", service=SERVICE, unavailable_title=UNAVAILABLE_TITLE,
    unavailable_detail=UNAVAILABLE_DETAIL, unreadable_detail=UNEXPECTED_DETAIL,
    labels={"role_labels": ROLE_LABELS})


def _inbox_page(request: Request, current: Current, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    return SECTION.page(request, current, "notifications_inbox.html",
                        {"items": [], "unread": 0, "unread_only": False, "trouble": None, "no_desk": False,
                         "back": INBOX, "shown_at_most": SHOWN, **context}, status=status)


def _trouble(request: Request, current: Current, title: str, detail: str | None, status: int) -> HTMLResponse:
    """The page with what went wrong in place of the list (same heading, so the section stays recognisable)."""
    return _inbox_page(request, current, {"trouble": {"title": translate(request, title),
                                                      "detail": translate(request, detail) if detail else None}},
                       status=status)


def _readable(body: Any) -> bool:
    return (isinstance(body, dict) and isinstance(body.get("items"), list) and isinstance(body.get("unread"), int)
            and all(isinstance(item, dict) and {"id", "event_type", "title", "created_at"} <= item.keys()
                    for item in body["items"]))


@router.get(INBOX, response_class=HTMLResponse)
@answers
async def inbox(request: Request) -> Response:
    current = await _signed_in(request, STAFF_ROLES)
    unread_only = request.query_params.get("unread_only") == "true"
    try:
        status, body = await SECTION.get(request, "/inbox", {"unread_only": unread_only, "limit": SHOWN})
    except ServiceUnavailable:
        return _trouble(request, current, UNAVAILABLE_TITLE, UNAVAILABLE_DETAIL, 503)
    if status == 403:  # no organisation and no role with a desk: nothing is routed to this person
        return _inbox_page(request, current, {"no_desk": True})
    if status != 200:
        refusal = Refusal.of(status, body)
        return _trouble(request, current, refusal.title, refusal.detail, status if 400 <= status < 600 else 502)
    if not _readable(body):
        return _trouble(request, current, UNAVAILABLE_TITLE, UNEXPECTED_DETAIL, 502)
    items = [{**item, "page": page_of(str(item["event_type"]), item.get("subject"))} for item in body["items"]]
    return _inbox_page(request, current, {"items": items, "unread": body["unread"], "unread_only": unread_only,
                                          "back": INBOX + ("?unread_only=true" if unread_only else "")})


@router.post(INBOX + "/{message_id}/read", response_class=HTMLResponse)
@answers
async def mark_read(request: Request, message_id: uuid.UUID) -> Response:
    current = await _signed_in(request, STAFF_ROLES)
    form = await _checked_form(request, current)
    if form is None:
        return csrf_refused(request)
    back = _local_path(str(form.get("next") or INBOX))
    if back != INBOX and not back.startswith(INBOX + "?"):  # back to the inbox, whatever the form was given
        back = INBOX
    try:
        status, body = await call_service(request, SERVICE, "POST", f"/inbox/{message_id}/read")
    except ServiceUnavailable:
        return _trouble(request, current, UNAVAILABLE_TITLE, UNAVAILABLE_DETAIL, 503)
    if status == 404:
        return _trouble(request, current, Refusal.of(status, body).title, NOT_FOUND_DETAIL, 404)
    if status != 200:
        refusal = Refusal.of(status, body)
        return _trouble(request, current, refusal.title, refusal.detail, status if 400 <= status < 600 else 502)
    return redirect(back)
