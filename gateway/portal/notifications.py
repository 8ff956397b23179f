"""The portal's inbox: the events on the desks of the signed-in staff member's roles, newest first, unread marked.

The notifications service keeps the desks (its rule data says which event reaches which staff role) and the
read marks, per person; this page asks it as the signed-in staff member, like every portal page, and the
header's count (routes._inbox_unread) is the same service's. A role with no desk (analyst, administrator)
gets a page that says so instead of a refusal. Works without JavaScript: the filter is a GET form, marking
read a POST form with the session's CSRF token that comes back to the page it was on.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import QueryParams

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


ITEM_KEYS = frozenset({"id", "event_type", "title", "created_at"})  # what each row of the inbox draws


@answers
async def _inbox_view(request: Request, current: Current, unread_only: bool, *, errors: list[str] | None = None,
                      status: int = 200) -> Response:
    """The inbox, or, with ``errors``, the inbox a refused mark-read form came back to (like a refused form of
    the other sections, drawn again with the service's reasons)."""
    # 403: no organisation and no role with a desk, so nothing is routed to this person; not a refusal to show.
    body = await SECTION.read(request, current, "/inbox", {"unread_only": unread_only, "limit": SHOWN},
                              keys=("unread",), lists=("items",), instead={403: None})
    no_desk = body is None
    body = {"items": [], "unread": 0} if no_desk else body
    if not isinstance(body["unread"], int) or not all(
            isinstance(item, dict) and ITEM_KEYS <= item.keys() for item in body["items"]):
        return SECTION.unreadable(request, current)
    items = [{**item, "page": page_of(str(item["event_type"]), item.get("subject"))} for item in body["items"]]
    return SECTION.page(request, current, "notifications_inbox.html", {
        "items": items, "unread": body["unread"], "unread_only": unread_only, "no_desk": no_desk,
        "errors": errors or [], "back": INBOX + ("?unread_only=true" if unread_only else ""),
        "shown_at_most": SHOWN}, status=status)


@router.get(INBOX, response_class=HTMLResponse)
@answers
async def inbox(request: Request) -> Response:
    current = await _signed_in(request, STAFF_ROLES)
    return await _inbox_view(request, current, request.query_params.get("unread_only") == "true")


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
        return SECTION.unavailable(request, current)
    if status != 200:
        refusal = Refusal.of(status, body)
        reason = translate(request, NOT_FOUND_DETAIL) if status == 404 else refusal.detail or refusal.title
        return await _inbox_view(request, current, QueryParams(urlsplit(back).query).get("unread_only") == "true",
                                 errors=[reason], status=status if 400 <= status < 600 else 502)
    return redirect(back)
