"""The portal's Commissions section: tripartite commissions (their parties and members, sittings, consultations
and notices), one sitting's agenda, quorum, decisions and minutes, one consultation's positions side by side, the
board of what agreements promised (commitments) and the dashboard's share of commitments fulfilled.

Like the Bargaining pages (`gateway.portal.bargaining`), every page asks the bargaining service over HTTP as the
signed-in staff member (`gateway.portal.upstream`), so the service's own rules decide what is shown; its refusals
appear as messages. The same staff read (bargaining officers, administrators, analysts). The pages only read: the
secretariat and the parties act through the API. Every page works without JavaScript (the filters are GET forms).
"""

from __future__ import annotations

import asyncio
import math
import uuid
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gateway.i18n import N_
from gateway.portal import charts, figures
from gateway.portal.bargaining import LEVEL_LABELS as AGREEMENT_LEVEL_LABELS
from gateway.portal.bargaining import (
    READERS,
    SERVICE,
    SIDE_LABELS,
    UNAVAILABLE_DETAIL,
    UNAVAILABLE_TITLE,
    UNEXPECTED_DETAIL,
)
from gateway.portal.registry import _int, _regions, _sectors, _signed_in
from gateway.portal.routes import language_of, translate
from gateway.portal.section import Read, ServiceSection, answers
from gateway.portal.upstream import ServiceUnavailable
from gateway.proxy.forwarder import API_PREFIX
from kernel.calendar import kazakhstan_today

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
BOARD_PAGE_SIZE = 50
# The organisations and agreements offered in the board's filters are read in one page of this size.
CHOICES_LIMIT = 200
SIDES = tuple(SIDE_LABELS)  # workers, employers, government: the order the parties are shown in

COMMISSION_LEVEL_LABELS = {"republican": N_("Republican"), "sectoral": N_("Sectoral"), "regional": N_("Regional")}
ROLE_LABELS = {"member": N_("member"), "alternate": N_("alternate")}
SITTING_STATUS_LABELS = {"scheduled": N_("scheduled"), "held": N_("held"),
                         "minutes_published": N_("minutes published"), "cancelled": N_("cancelled")}
DECISION_POSITION_LABELS = {"for": N_("for"), "against": N_("against"), "abstain": N_("abstains"),
                            "with_reservations": N_("for, with reservations")}
STANCE_LABELS = {"support": N_("supports"), "support_with_amendments": N_("supports with amendments"),
                 "oppose": N_("opposes")}
CONSULTATION_STATUS_LABELS = {"open": N_("open"), "closed": N_("closed")}
COMMITMENT_STATUS_LABELS = {"on_track": N_("on track"), "late": N_("late"), "done": N_("done"),
                            "not_done": N_("not done")}
OUTCOME_LABELS = {"in_progress": N_("in progress"), "done": N_("done"), "not_done": N_("not done")}
SHARE_CHART = (N_("Share of commitments fulfilled, per agreement"),
               N_("Commitments done as a share of those done, late or not done (those still on track are not owed "
                  "yet), per agreement."))


SECTION = ServiceSection(
    slug="commissions", service=SERVICE, unavailable_title=UNAVAILABLE_TITLE, unavailable_detail=UNAVAILABLE_DETAIL,
    unreadable_detail=UNEXPECTED_DETAIL,
    labels={"level_labels": COMMISSION_LEVEL_LABELS, "agreement_level_labels": AGREEMENT_LEVEL_LABELS,
            "side_labels": SIDE_LABELS, "role_labels": ROLE_LABELS, "sitting_status_labels": SITTING_STATUS_LABELS,
            "decision_labels": DECISION_POSITION_LABELS, "stance_labels": STANCE_LABELS,
            "consultation_status_labels": CONSULTATION_STATUS_LABELS,
            "commitment_status_labels": COMMITMENT_STATUS_LABELS, "outcome_labels": OUTCOME_LABELS,
            "api_base": f"{API_PREFIX}/{SERVICE}"})
_page, _get = SECTION.page, SECTION.get


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if isinstance(value, str) and value else None
    except ValueError:
        return None


def _uuid(value: str | None) -> str:
    """A well-formed id from a filter, else nothing (a stray value is dropped, not sent on)."""
    try:
        return str(uuid.UUID(value)) if value else ""
    except ValueError:
        return ""


def _side_order(side: Any) -> int:
    return SIDES.index(side) if side in SIDES else len(SIDES)


def parties_by_side(commission: dict[str, Any]) -> list[dict[str, Any]]:
    """Each party (workers, employers, government) with its organisations and, under each, the members then the
    alternates it appointed."""
    members: dict[str, list[dict[str, Any]]] = {}
    for member in commission.get("members") or []:
        members.setdefault(str(member.get("organisation_id")), []).append(member)
    sides: dict[str, list[dict[str, Any]]] = {}
    for party in commission.get("parties") or []:
        seated = sorted(members.get(str(party.get("organisation_id")), []),
                        key=lambda m: (m.get("role") != "member", m.get("name") or ""))
        sides.setdefault(party.get("side"), []).append({**party, "members": seated})
    return [{"side": side, "organisations": sides[side]} for side in sorted(sides, key=_side_order)]


def position_overdue(consultation: dict[str, Any], position: dict[str, Any], today: date) -> bool:
    """A party's position is overdue when the service flagged it missing at the deadline, or when the consultation
    is still open, the due day has passed and the party has filed nothing (the service's sweeper flags it shortly)."""
    if position.get("overdue"):
        return True
    due = _day(consultation.get("positions_due"))
    return (consultation.get("status") == "open" and position.get("position") is None and due is not None
            and due < today)


def commitment_late(commitment: dict[str, Any], today: date) -> bool:
    """Late: the service says so, or the commitment is still on track past its due day (the service's sweeper
    turns it late shortly)."""
    if commitment.get("status") == "late":
        return True
    due = _day(commitment.get("due_on"))
    return commitment.get("status") == "on_track" and due is not None and due < today


def _names(commission: dict[str, Any]) -> dict[str, str]:
    return {str(party["organisation_id"]): party.get("name_ru") or "" for party in commission.get("parties") or []}


# --------------------------------------------------------------------------- commissions


@router.get("/commissions", response_class=HTMLResponse)
@answers
async def commissions(request: Request) -> Response:
    current = await _signed_in(request, READERS)
    query = request.query_params
    filters = {"level": query.get("level", "") if query.get("level") in COMMISSION_LEVEL_LABELS else ""}
    page = _int(query.get("page"))
    params = {name: value for name, value in filters.items() if value}
    body = await SECTION.read(request, current, "/commissions",
                              {**params, "limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE}, lists=("items",))
    total = int(body.get("total") or 0)
    items = [{**item, "sides": parties_by_side(item)} for item in body["items"]]
    return _page(request, current, "commissions_list.html", {
        "items": items, "total": total, "page": page, "pages": max(1, math.ceil(total / PAGE_SIZE)),
        "filters": filters, "page_link": lambda number: "/commissions?" + urlencode({**params, "page": number}),
    })


@router.get("/commissions/{commission_id}", response_class=HTMLResponse)
@answers
async def commission_page(request: Request, commission_id: uuid.UUID) -> Response:
    current = await _signed_in(request, READERS)
    base = f"/commissions/{commission_id}"
    commission = await SECTION.read(request, current, base, keys=("parties",))
    sittings, consultations, notices = await SECTION.read_all(
        request, current, *(SECTION.optional(request, f"{base}/{part}", default=[])
                            for part in ("sittings", "consultations", "notices")))
    today = kazakhstan_today()
    upcoming = [s for s in sittings if s.get("status") == "scheduled" and (_day(s.get("held_on")) or today) >= today]
    past = [s for s in reversed(sittings) if s not in upcoming]
    for consultation in consultations:
        consultation["overdue_sides"] = [p["side"] for p in consultation.get("positions") or []
                                         if position_overdue(consultation, p, today)]
    return _page(request, current, "commissions_commission.html", {
        "commission": commission, "sides": parties_by_side(commission), "names": _names(commission),
        "upcoming": upcoming, "past": past, "consultations": consultations,
        "notices": notices, "today": today,
    })


@router.get("/commissions/{commission_id}/sittings/{sitting_id}", response_class=HTMLResponse)
@answers
async def sitting_page(request: Request, commission_id: uuid.UUID, sitting_id: uuid.UUID) -> Response:
    current = await _signed_in(request, READERS)
    base = f"/commissions/{commission_id}"
    commission, sitting = await SECTION.read_all(request, current, Read(base),
                                                 Read(f"{base}/sittings/{sitting_id}", keys=("agenda",)))
    attendance: dict[str, list[dict[str, Any]]] = {}
    for person in sitting.get("attendance") or []:
        attendance.setdefault(str(person.get("side")), []).append(person)
    agenda = {item.get("number"): item for item in sitting["agenda"]}
    decisions = [{**decision, "positions": sorted(decision.get("positions") or [],
                                                  key=lambda p: _side_order(p.get("side"))),
                  "item": agenda.get(decision.get("agenda_item_number"))}
                 for decision in sitting.get("decisions") or []]
    return _page(request, current, "commissions_sitting.html", {
        "commission": commission, "sitting": sitting, "decisions": decisions,
        "quorum": sorted(sitting.get("quorum") or [], key=lambda q: _side_order(q.get("side"))),
        "attendance": [(side, attendance[side]) for side in sorted(attendance, key=_side_order)],
    })


@router.get("/commissions/{commission_id}/consultations/{consultation_id}", response_class=HTMLResponse)
@answers
async def consultation_page(request: Request, commission_id: uuid.UUID, consultation_id: uuid.UUID) -> Response:
    current = await _signed_in(request, READERS)
    base = f"/commissions/{commission_id}"
    commission, consultation = await SECTION.read_all(
        request, current, Read(base), Read(f"{base}/consultations/{consultation_id}", keys=("positions",)))
    today = kazakhstan_today()
    positions = [{**position, "is_overdue": position_overdue(consultation, position, today)}
                 for position in sorted(consultation["positions"], key=lambda p: _side_order(p.get("side")))]
    return _page(request, current, "commissions_consultation.html", {
        "commission": commission, "consultation": consultation, "positions": positions, "today": today,
    })


# --------------------------------------------------------------------------- commitments


BOARD_FILTERS = ("agreement_id", "organisation_id", "status", "level", "region_code", "sector")


def _board_filters(query: Any) -> dict[str, str]:
    return {
        "agreement_id": _uuid(query.get("agreement_id")),
        "organisation_id": _uuid(query.get("organisation_id")),
        "status": query.get("status", "") if query.get("status") in COMMITMENT_STATUS_LABELS else "",
        "level": query.get("level", "") if query.get("level") in AGREEMENT_LEVEL_LABELS else "",
        "region_code": query.get("region_code", "").strip()[:20],
        "sector": query.get("sector", "").strip()[:20],
    }


async def _organisations(request: Request) -> dict[str, str]:
    """The parties to filter the board by: the organisations sitting in the commissions and those bound by the
    agreements in force today, by name."""
    found: dict[str, str] = {}
    for status, body in await asyncio.gather(_get(request, "/commissions", {"limit": CHOICES_LIMIT}),
                                             _get(request, "/agreements", {"limit": CHOICES_LIMIT})):
        if status != 200 or not isinstance(body, dict):
            continue
        for item in body.get("items") or []:
            for party in item.get("parties") or [] if isinstance(item, dict) else []:
                if isinstance(party, dict) and party.get("organisation_id"):
                    found[str(party["organisation_id"])] = party.get("name_ru") or str(party["organisation_id"])
    return dict(sorted(found.items(), key=lambda pair: pair[1]))


@router.get("/commitments", response_class=HTMLResponse)
@answers
async def commitments_board(request: Request) -> Response:
    current = await _signed_in(request, READERS)
    language = language_of(request)
    filters = _board_filters(request.query_params)
    page = _int(request.query_params.get("page"))
    params = {name: value for name, value in filters.items() if value}
    body, summary, organisations, regions, sectors = await SECTION.read_all(
        request, current,
        Read("/commitments", {**params, "limit": BOARD_PAGE_SIZE, "offset": (page - 1) * BOARD_PAGE_SIZE},
             lists=("items",)),
        SECTION.optional(request, "/commitments/summary", expect=dict, default={}), _organisations(request),
        _regions(request, language), _sectors(request, language))
    today = kazakhstan_today()
    agreements = {str(row["key"]): row.get("label") or str(row["key"])
                  for row in summary.get("by_agreement") or [] if row.get("key")}
    total = int(body.get("total") or 0)
    return _page(request, current, "commitments_board.html", {
        "items": body["items"], "total": total, "by_status": body.get("by_status") or {}, "page": page,
        "pages": max(1, math.ceil(total / BOARD_PAGE_SIZE)), "filters": filters, "agreements": agreements,
        "organisations": organisations, "regions": regions, "sectors": sectors,
        "region_codes": sorted({str(row["key"]) for row in summary.get("by_region") or [] if row.get("key")}
                               | ({filters["region_code"]} if filters["region_code"] else set())),
        "sector_codes": sorted({str(row["key"]) for row in summary.get("by_sector") or [] if row.get("key")}
                               | ({filters["sector"]} if filters["sector"] else set())),
        "late": {item["id"] for item in body["items"] if commitment_late(item, today)},
        "page_link": lambda number: "/commitments?" + urlencode({**params, "page": number}),
    })


@router.get("/commitments/{commitment_id}", response_class=HTMLResponse)
@answers
async def commitment_page(request: Request, commitment_id: uuid.UUID) -> Response:
    current = await _signed_in(request, READERS)
    commitment = await SECTION.read(request, current, f"/commitments/{commitment_id}", keys=("what",))
    return _page(request, current, "commitments_commitment.html", {
        "commitment": commitment, "reports": list(reversed(commitment.get("reports") or [])),
        "late": commitment_late(commitment, kazakhstan_today()),
    })


# --------------------------------------------------------------------------- the dashboard's headline


async def fulfilment(request: Request, language: str, *, timeout: float | None = None) -> dict[str, Any]:
    """The share of commitments fulfilled, overall and per agreement with a chart; ``{"available": False}`` when
    the bargaining service cannot give it (down, slow, refusing)."""
    if SERVICE not in request.app.state.gateway.settings.service_urls:
        return {"available": False}
    try:
        status, body = await _get(request, "/commitments/summary", timeout=timeout)
    except ServiceUnavailable:
        return {"available": False}
    if status != 200 or not isinstance(body, dict) or not isinstance(body.get("overall"), dict):
        return {"available": False}
    try:
        agreements = [{"key": str(row["key"]), "label": str(row.get("label") or row["key"]),
                       "total": int(row["total"]), "done": int(row["done"]), "late": int(row["late"]),
                       "not_done": int(row["not_done"]), "on_track": int(row["on_track"]),
                       "share_fulfilled": row.get("share_fulfilled")}
                      for row in body.get("by_agreement") or []]
        overall = body["overall"]
        headline = {"total": int(overall["total"]), "share_fulfilled": overall.get("share_fulfilled"),
                    "share_done_of_all": overall.get("share_done_of_all"), "late": int(overall["late"])}
    except (KeyError, TypeError, ValueError, AttributeError):
        return {"available": False}
    bars = [(row["label"], float(row["share_fulfilled"]) * 100) for row in agreements
            if row["share_fulfilled"] is not None]
    chart = charts.bar_chart("commitments-fulfilled", translate(request, SHARE_CHART[0]),
                             translate(request, SHARE_CHART[1]), bars,
                             fmt=lambda value: figures.format_share(value, language)) if bars else None
    return {"available": True, "overall": headline, "agreements": agreements, "chart": chart}
