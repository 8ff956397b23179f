"""The portal's Bargaining section: negotiations and their deadlines, one negotiation's clause board, the register
of agreements in force with the coverage rate.

Like the Registry pages (`gateway.portal.registry`), every page asks the bargaining service over HTTP as the
signed-in staff member (`gateway.portal.upstream`), so the service's own rules decide what is shown; its refusals
appear as messages. Staff with the role bargaining_officer, administrator or analyst read. The pages only read:
the parties act through the API. Every page works without JavaScript (the filters are plain GET forms).
"""

from __future__ import annotations

import math
import uuid
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gateway.i18n import N_
from gateway.portal import charts, figures
from gateway.portal.registry import _int, _regions, _sectors, _signed_in
from gateway.portal.routes import language_of, translate
from gateway.portal.section import Read, ServiceSection, answers
from gateway.portal.upstream import Refusal
from gateway.proxy.forwarder import API_PREFIX
from kernel.calendar import kazakhstan_today

router = APIRouter(include_in_schema=False)

SERVICE = "bargaining"
READERS = ("bargaining_officer", "administrator", "analyst")
PAGE_SIZE = 25
# An agreement whose term ends within this many days is flagged on the register, so that the parties can be
# reminded to start bargaining its successor in time (a portal convention, not a statutory period).
EXPIRING_WITHIN_DAYS = 90

LEVEL_LABELS = {"general": N_("General"), "sectoral": N_("Sectoral"), "regional": N_("Regional"),
                "enterprise": N_("Enterprise")}
STATUS_LABELS = {
    "proposed": N_("proposed"), "entered": N_("entered"), "negotiating": N_("negotiating"), "signed": N_("signed"),
    "filed": N_("filed"), "in_force": N_("in force"), "expired": N_("expired"), "terminated": N_("terminated"),
    "declined": N_("declined"), "evaded": N_("evaded"),
}
SIDE_LABELS = {"workers": N_("Workers"), "employers": N_("Employers"), "government": N_("Government")}
ROLE_LABELS = {"initiator": N_("initiator"), "co_initiator": N_("co-initiator"), "addressee": N_("addressee"),
               "acceded": N_("acceded")}
CATEGORY_LABELS = {
    "pay": N_("Pay"), "working_time": N_("Working time"), "occupational_safety": N_("Occupational safety"),
    "social_benefits": N_("Social benefits"), "union_conditions": N_("Conditions for the union's work"),
    "dispute_procedures": N_("Dispute procedures"), "amendment_procedure": N_("Amendment procedure"),
    "other": N_("Other"),
}
ACCESSION_LABELS = {"pending": N_("awaiting the employer's answer"), "overdue": N_("answer overdue"),
                    "accepted": N_("accepted"), "refused": N_("refused")}
# The clause board's columns, in the order a negotiation moves them.
BOARD_COLUMNS = (("open", N_("Open")), ("agreed", N_("Agreed")),
                 ("protocol", N_("In the protocol of disagreements")))
UNAVAILABLE_TITLE = N_("The bargaining service is unavailable")
UNAVAILABLE_DETAIL = N_("The bargaining service could not be reached or did not answer in time. Try again in a "
                        "minute; if it lasts, tell the platform's operators.")
UNEXPECTED_DETAIL = N_("The bargaining service gave an answer this page cannot read.")
SECTION = ServiceSection(
    slug="bargaining", service=SERVICE, unavailable_title=UNAVAILABLE_TITLE, unavailable_detail=UNAVAILABLE_DETAIL,
    unreadable_detail=UNEXPECTED_DETAIL,
    labels={"level_labels": LEVEL_LABELS, "status_labels": STATUS_LABELS, "side_labels": SIDE_LABELS,
            "role_labels": ROLE_LABELS, "category_labels": CATEGORY_LABELS, "api_base": f"{API_PREFIX}/{SERVICE}"})
_page, _get = SECTION.page, SECTION.get
COVERAGE_CHART = (N_("Collective bargaining coverage by region, per cent of employees"),
                  N_("Employees covered by one or more agreements in force as a share of employees (ILO "
                     "definition), by region."))


def _day(value: Any) -> date | None:
    return date.fromisoformat(value[:10]) if isinstance(value, str) and value else None


def entry_overdue(negotiation: dict[str, Any], today: date) -> bool:
    """The addressees let the entry period run out (art. 156 p. 2): still only proposed after the due day, or
    recorded as evaded by the service's deadline sweeper."""
    if negotiation.get("status") == "evaded":
        return True
    due = _day(negotiation.get("entry_due"))
    return negotiation.get("status") == "proposed" and due is not None and due < today


def clause_column(clause: dict[str, Any]) -> str:
    if clause.get("status") == "agreed":
        return "agreed"
    return "protocol" if clause.get("in_protocol") else "open"


def latest_by_side(clause: dict[str, Any]) -> list[dict[str, Any]]:
    """Each side's latest proposal of the clause, in the order the sides first proposed."""
    latest: dict[str, dict[str, Any]] = {}
    for version in sorted(clause.get("versions") or [], key=lambda v: v["number"]):
        latest[version["side"]] = version
    return list(latest.values())


def by_side(parties: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Parties in the order the sides are named: workers, employers, government."""
    order = list(SIDE_LABELS)
    return sorted(parties, key=lambda party: order.index(party["side"]) if party.get("side") in order else len(order))


def expiring(agreement: dict[str, Any]) -> bool:
    days = agreement.get("days_to_expiry")
    return isinstance(days, int) and 0 <= days <= EXPIRING_WITHIN_DAYS


# --------------------------------------------------------------------------- negotiations


@router.get("/bargaining", response_class=HTMLResponse)
@answers
async def negotiations(request: Request) -> Response:
    current = await _signed_in(request, READERS)
    query = request.query_params
    filters = {"level": query.get("level", ""), "status": query.get("status", "")}
    filters = {name: value if value in (LEVEL_LABELS if name == "level" else STATUS_LABELS) else ""
               for name, value in filters.items()}
    page = _int(query.get("page"))
    params = {name: value for name, value in filters.items() if value}
    body = await SECTION.read(request, current, "/negotiations",
                              {**params, "limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE}, lists=("items",))
    today = kazakhstan_today()
    total = int(body.get("total") or 0)
    items = [{**item, "parties": by_side(item.get("parties") or [])} for item in body["items"]]
    return _page(request, current, "bargaining_negotiations.html", {
        "items": items, "total": total, "page": page, "pages": max(1, math.ceil(total / PAGE_SIZE)),
        "filters": filters, "today": today, "overdue": {item["id"] for item in items if entry_overdue(item, today)},
        "page_link": lambda number: "/bargaining?" + urlencode({**params, "page": number}),
    })


@router.get("/bargaining/negotiations/{negotiation_id}", response_class=HTMLResponse)
@answers
async def negotiation_page(request: Request, negotiation_id: uuid.UUID) -> Response:
    current = await _signed_in(request, READERS)
    base = f"/negotiations/{negotiation_id}"
    negotiation = await SECTION.read(request, current, base, keys=("parties",))
    (clauses_status, clauses), meetings, accession = await SECTION.read_all(
        request, current, _get(request, f"{base}/clauses"), SECTION.optional(request, f"{base}/meetings", default=[]),
        SECTION.optional(request, f"/agreements/{negotiation_id}/accession-requests", default=[])
        if negotiation.get("filed_on") is not None else _nothing())
    if not isinstance(clauses, list):  # even a refusal of the clauses must come as a list
        return SECTION.unreadable(request, current)
    today = kazakhstan_today()
    negotiation["parties"] = by_side(negotiation["parties"])
    names = {str(party["organisation_id"]): party.get("name_ru") or "" for party in negotiation["parties"]}
    board: dict[str, list[dict[str, Any]]] = {column: [] for column, _ in BOARD_COLUMNS}
    for clause in sorted(clauses if clauses_status == 200 else [], key=lambda c: c["number"]):
        board[clause_column(clause)].append({**clause, "latest": latest_by_side(clause)})
    commission: dict[str, list[dict[str, Any]]] = {}
    for member in by_side(negotiation.get("commission") or []):
        commission.setdefault(member["side"], []).append(member)
    protocols = [{**protocol, "overdue": (_day(protocol["negotiate_until"]) or today) < today and bool(
        board["protocol"])} for protocol in negotiation.get("disagreement_protocols") or []]
    return _page(request, current, "bargaining_negotiation.html", {
        "negotiation": negotiation, "names": names, "board": board, "board_columns": BOARD_COLUMNS,
        "commission": commission, "protocols": protocols, "today": today,
        "overdue": entry_overdue(negotiation, today),
        "meetings": meetings, "accession": accession,
        "accession_labels": ACCESSION_LABELS,
    })


async def _nothing() -> list[Any]:
    return []


# --------------------------------------------------------------------------- agreements


@router.get("/bargaining/agreements", response_class=HTMLResponse)
@answers
async def agreements(request: Request) -> Response:
    current = await _signed_in(request, READERS)
    language = language_of(request)
    query = request.query_params
    today = kazakhstan_today()
    day = _valid_day(query.get("in_force_on")) or today
    filters = {"in_force_on": day.isoformat(), "level": query.get("level", "") if query.get("level") in LEVEL_LABELS
               else "", "region_code": query.get("region_code", "").strip()[:20]}
    page = _int(query.get("page"))
    params = {name: value for name, value in filters.items() if value}
    body, (coverage_status, coverage), regions, sectors = await SECTION.read_all(
        request, current, Read("/agreements", {**params, "limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE},
                               lists=("items",)),
        _get(request, "/coverage", {"on": day.isoformat()}), _regions(request, language), _sectors(request, language))
    total = int(body.get("total") or 0)
    coverage_ok = coverage_status == 200 and isinstance(coverage, dict) and "national" in coverage
    return _page(request, current, "bargaining_agreements.html", {
        "items": body["items"], "total": total, "page": page, "pages": max(1, math.ceil(total / PAGE_SIZE)),
        "filters": filters, "regions": regions, "sectors": sectors, "expiring_within": EXPIRING_WITHIN_DAYS,
        "expiring": {item["id"] for item in body["items"] if expiring(item)},
        "coverage": coverage if coverage_ok else None,
        "coverage_refusal": None if coverage_ok else Refusal.of(coverage_status, coverage),
        "coverage_chart": _coverage_chart(request, coverage, regions, language) if coverage_ok else None,
        "share": lambda value: figures.format_share(value, language),
        "page_link": lambda number: "/bargaining/agreements?" + urlencode({**params, "page": number}),
    })


def _valid_day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value.strip()) if value else None
    except ValueError:
        return None


def _coverage_chart(request: Request, coverage: dict[str, Any], regions: dict[str, str], language: str) -> Any:
    rows = sorted((cell for cell in coverage.get("by_region") or [] if cell.get("rate") is not None),
                  key=lambda cell: -cell["rate"])
    if not rows:
        return None
    return charts.bar_chart("coverage-regions", translate(request, COVERAGE_CHART[0]),
                            translate(request, COVERAGE_CHART[1]),
                            [(regions.get(str(cell["key"]), str(cell["key"])), cell["rate"]) for cell in rows],
                            fmt=lambda value: figures.format_share(value, language))
