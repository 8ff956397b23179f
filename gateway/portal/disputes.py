"""The portal's Disputes section: collective disputes with their deadlines, one dispute's timeline, the statistics,
and the dashboard's panel of social tension by region.

Like the Registry pages (`gateway.portal.registry`), every page asks the disputes service over HTTP as the
signed-in staff member (`gateway.portal.upstream`), so the service's own rules decide what is shown; its refusals
appear as messages. Staff with the role dispute_officer, administrator or analyst read; the pages only read.

The ILO's principle behind the timeline: conciliation and mediation must not be so slow that a lawful strike
becomes impossible, so each stage shows its elapsed days, each statutory period whether it was met, and a stage
that drags on is flagged (the service decides what "stalled" means, from its rule data).
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from gateway.i18n import N_
from gateway.portal import charts, figures
from gateway.portal.bargaining import SIDE_LABELS
from gateway.portal.registry import (
    _checked_form,
    _int,
    _local_name,
    _messages,
    _reference_names,
    _sectors,
    _signed_in,
    _staff,
)
from gateway.portal.routes import csrf_refused, language_of, redirect, translate
from gateway.portal.section import Read, ServiceSection, answers
from gateway.portal.upstream import Refusal, ServiceUnavailable, call
from gateway.staff.service import SignedIn
from kernel.calendar import kazakhstan_today

router = APIRouter(include_in_schema=False)

SERVICE = "disputes"
READERS = ("dispute_officer", "administrator", "analyst")
PAGE_SIZE = 25
TENSION_PATH = "/statistics/social-tension"

STATUS_LABELS = {
    "draft": N_("draft"), "demands_submitted": N_("demands submitted"), "accepted": N_("demands accepted"),
    "partly_accepted": N_("demands partly accepted"), "rejected": N_("demands rejected"),
    "answer_overdue": N_("answer overdue"), "conciliation": N_("conciliation commission"),
    "mediation": N_("mediation"), "labour_arbitration": N_("labour arbitration"),
    "strike_decided": N_("strike decided"), "strike": N_("strike"), "suspended": N_("strike suspended"),
    "ruled_legal": N_("strike ruled legal"), "ruled_illegal": N_("strike ruled illegal"),
    "settled": N_("settled"), "withdrawn": N_("withdrawn"), "closed": N_("closed"),
}
CAUSE_LABELS = {
    "wages": N_("wages"), "wage_arrears": N_("wage arrears"), "working_conditions": N_("working conditions"),
    "safety": N_("occupational safety"), "dismissals": N_("dismissals"),
    "collective_agreement": N_("collective agreement"), "other": N_("other"),
}
ANSWER_LABELS = {"accepted": N_("accepted"), "partly_accepted": N_("partly accepted"), "rejected": N_("rejected")}
DEADLINE_LABELS = {"answer": N_("The employer's written answer"),
                   "conciliation": N_("The conciliation commission's consideration")}
DEADLINE_STATES = {"met": N_("met"), "missed": N_("missed"), "pending": N_("pending"), "overdue": N_("overdue")}
UNAVAILABLE_TITLE = N_("The disputes service is unavailable")
UNAVAILABLE_DETAIL = N_("The disputes service could not be reached or did not answer in time. Try again in a "
                        "minute; if it lasts, tell the platform's operators.")
UNEXPECTED_DETAIL = N_("The disputes service gave an answer this page cannot read.")
TENSION_CHART = (N_("Social tension by region"),
                 N_("The disputes service's index of social tension for each region with open disputes."))
STATISTICS_CHARTS = {
    "by_region": N_("Collective disputes by region"), "by_cause": N_("Collective disputes by cause"),
    "by_stage": N_("Collective disputes by stage"), "by_outcome": N_("Collective disputes by outcome"),
    "by_sector": N_("Collective disputes by sector"),
}
STATISTICS_DESCRIPTION = N_("Collective disputes counted by the disputes service.")
# The statistics' key for disputes whose region (or sector) is not recorded.
UNKNOWN = "unknown"
NOT_RECORDED = N_("not recorded")
# Stages in which a dispute is still open: an open dispute past a statutory due day is overdue.
ENDED = frozenset({"settled", "withdrawn", "closed"})


SECTION = ServiceSection(
    slug="disputes", service=SERVICE, unavailable_title=UNAVAILABLE_TITLE, unavailable_detail=UNAVAILABLE_DETAIL,
    unreadable_detail=UNEXPECTED_DETAIL,
    labels={"status_labels": STATUS_LABELS, "cause_labels": CAUSE_LABELS, "answer_labels": ANSWER_LABELS,
            "deadline_labels": DEADLINE_LABELS, "deadline_states": DEADLINE_STATES})
_page, _unavailable, _refused, _get = SECTION.page, SECTION.unavailable, SECTION.refused, SECTION.get


async def region_names(request: Request, language: str) -> dict[str, str]:
    """Region names from the registry's reference data, by the 9-digit KATO code and by its first two digits
    (the short code), since a service may give either."""
    rows = await _reference_names(request, "/regions") or []
    names: dict[str, str] = {UNKNOWN: translate(request, NOT_RECORDED)}
    for row in rows:
        if isinstance(row, dict) and "code" in row:
            name = _local_name(row, language)
            names[str(row["code"])] = name
            if row.get("short_code"):
                names[str(row["short_code"])] = name
    return names


def _day(value: Any) -> date | None:
    return date.fromisoformat(value[:10]) if isinstance(value, str) and value else None


def deadlines(dispute: dict[str, Any], today: date) -> list[dict[str, Any]]:
    """The dispute's statutory periods: when each was due and whether it was met, missed, still running or
    overdue (past its due day with the obligation not met)."""
    rows: list[dict[str, Any]] = []
    answer_due = _day(dispute.get("answer_due"))
    if answer_due is not None and dispute.get("status") != "draft":
        answered = _day(dispute.get("answered_on"))
        if answered is not None:
            state = "met" if answered <= answer_due else "missed"
        elif dispute.get("status") == "answer_overdue":
            state = "missed"
        elif dispute.get("status") in ENDED:
            state = "pending" if answer_due >= today else "missed"
        else:
            state = "overdue" if answer_due < today else "pending"
        rows.append({"kind": "answer", "due": answer_due, "done_on": answered, "state": state,
                     "article": dispute.get("answer_article")})
    conciliation_due = _day(dispute.get("conciliation_due"))
    if conciliation_due is not None:
        stage = next((s for s in reversed(dispute.get("stages") or []) if s.get("stage") == "conciliation"), None)
        ended = _day(stage.get("ended_on")) if stage else None
        if ended is not None:
            state = "met" if ended <= conciliation_due else "missed"
        else:
            state = "overdue" if conciliation_due < today else "pending"
        rows.append({"kind": "conciliation", "due": conciliation_due, "done_on": ended, "state": state,
                     "article": dispute.get("conciliation_article")})
    return rows


def overdue(dispute: dict[str, Any], today: date) -> bool:
    """An open period past its due day, or an answer the employer let run out (art. 163 p. 2, art. 165)."""
    return any(row["state"] in ("overdue", "missed") and dispute.get("status") not in ENDED
               for row in deadlines(dispute, today))


def stalled(dispute: dict[str, Any]) -> bool:
    """The service's own flag: the current stage has lasted longer than its limit (its rule data)."""
    flag = dispute.get("stalled")
    return bool(flag.get("stalled") if isinstance(flag, dict) else flag)


# --------------------------------------------------------------------------- the list


@router.get("/disputes", response_class=HTMLResponse)
@answers
async def disputes_list(request: Request) -> Response:
    current = await _signed_in(request, READERS)
    language = language_of(request)
    query = request.query_params
    filters = {"status": query.get("status", "") if query.get("status") in STATUS_LABELS else "",
               "region_code": query.get("region_code", "").strip()[:20],
               "stalled": "true" if query.get("stalled") == "true" else ""}
    page = _int(query.get("page"))
    params = {name: value for name, value in filters.items() if value}
    body, regions = await SECTION.read_all(
        request, current, Read("/collective-disputes", {**params, "limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE},
                               lists=("items",)), region_names(request, language))
    today = kazakhstan_today()
    items = body["items"]
    total = int(body.get("total") or 0)
    return _page(request, current, "disputes_list.html", {
        "items": items, "total": total, "page": page, "pages": max(1, math.ceil(total / PAGE_SIZE)),
        "filters": filters, "regions": regions, "today": today,
        "region_options": {code: name for code, name in regions.items() if code.isdigit() and len(code) > 2},
        "overdue": {item["id"] for item in items if overdue(item, today)},
        "stalled": {item["id"] for item in items if stalled(item)},
        "current_stage": {item["id"]: _current_stage(item) for item in items},
        "page_link": lambda number: "/disputes?" + urlencode({**params, "page": number}),
    })


def _current_stage(dispute: dict[str, Any]) -> dict[str, Any] | None:
    stages = dispute.get("stages") or []
    return stages[-1] if stages else None


# --------------------------------------------------------------------------- statistics


@router.get("/disputes/statistics", response_class=HTMLResponse)
@answers
async def statistics_page(request: Request) -> Response:
    current = await _signed_in(request, READERS)
    language = language_of(request)
    (status, body), tension, regions, sectors = await SECTION.read_all(
        request, current, _get(request, "/statistics"), social_tension(request, language),
        region_names(request, language), _sectors(request, language))
    statistics = body if status == 200 and isinstance(body, dict) else None
    rendered = _statistics_charts(request, statistics, regions, sectors, language) if statistics else []
    return _page(request, current, "disputes_statistics.html", {
        "statistics": statistics, "refusal": None if statistics or status == 404 else Refusal.of(status, body),
        "charts": rendered, "tension": tension, "regions": regions,
        "number": lambda value: figures.format_number(value, language),
    })


# --------------------------------------------------------------------------- statistics and social tension


def _tallies(value: Any) -> list[tuple[str, float]]:
    """A breakdown as the service gives it — a mapping of code to count, or rows naming a code and a count —
    as (code, count) pairs, largest first; [] for anything else."""
    pairs: list[tuple[str, float]] = []
    if isinstance(value, dict):
        pairs = [(str(key), count) for key, count in value.items() if isinstance(count, int | float)]
    elif isinstance(value, list):
        for row in value:
            if not isinstance(row, dict):
                continue
            key = next((row[name] for name in ("code", "key", "region_code", "sector", "cause", "stage", "outcome",
                                               "status") if row.get(name) is not None), None)
            count = next((row[name] for name in ("disputes", "count", "total") if isinstance(row.get(name),
                                                                                             int | float)), None)
            if key is not None and count is not None:
                pairs.append((str(key), count))
    return sorted(pairs, key=lambda pair: -pair[1])


def _statistics_charts(request: Request, statistics: dict[str, Any], regions: dict[str, str],
                       sectors: dict[str, str], language: str) -> list[Markup]:
    def label(breakdown: str, code: str) -> str:
        if breakdown == "by_region":
            return regions.get(code, code)
        if code == UNKNOWN:
            return translate(request, NOT_RECORDED)
        if breakdown == "by_sector":
            return f"{code} — {sectors[code]}" if code in sectors else code
        if breakdown == "by_cause" and code in CAUSE_LABELS:
            return translate(request, CAUSE_LABELS[code])
        if code in STATUS_LABELS:
            return translate(request, STATUS_LABELS[code])
        return code.replace("_", " ")

    drawn = []
    for breakdown, title in STATISTICS_CHARTS.items():
        pairs = _tallies(statistics.get(breakdown))
        if pairs:
            drawn.append(charts.bar_chart(f"disputes-{breakdown.replace('_', '-')}", translate(request, title),
                                          translate(request, STATISTICS_DESCRIPTION),
                                          [(label(breakdown, code), count) for code, count in pairs],
                                          fmt=lambda value: figures.format_number(value, language)))
    return drawn


async def social_tension(request: Request, language: str, *, timeout: float | None = None,
                         translate_with: Callable[[str], str] | None = None) -> dict[str, Any]:
    """The social-tension view of the disputes service, with region names, most tense first;
    ``{"available": False}`` when the service cannot give it (down, slow, refusing, or not built yet)."""
    say = translate_with or (lambda message: translate(request, message))
    if SERVICE not in request.app.state.gateway.settings.service_urls:
        return {"available": False}
    try:
        (status, body), regions = await asyncio.gather(_get(request, TENSION_PATH, timeout=timeout),
                                                       region_names(request, language))
    except ServiceUnavailable:
        return {"available": False}
    if status != 200 or not isinstance(body, dict) or not isinstance(body.get("regions"), list):
        return {"available": False}
    try:
        rows = sorted(({
            "region_code": str(row["region_code"]),
            "region": regions.get(str(row["region_code"]), str(row["region_code"])),
            "open_disputes": int(row["open_disputes"]), "workers_involved": int(row["workers_involved"]),
            "index": float(row["index"]),
            "by_stage": {str(stage): int(count) for stage, count in (row.get("by_stage") or {}).items()},
        } for row in body["regions"]), key=lambda row: -row["index"])
        total_open = int(body.get("total_open") or 0)
    except (KeyError, TypeError, ValueError, AttributeError):
        return {"available": False}
    chart = charts.bar_chart("social-tension", say(TENSION_CHART[0]), say(TENSION_CHART[1]),
                             [(row["region"], row["index"]) for row in rows],
                             fmt=lambda value: figures.format_number(round(value, 1), language)) if rows else None
    return {"available": True, "as_of": body.get("as_of"), "method": str(body.get("method") or ""),
            "regions": rows, "total_open": total_open, "chart": chart, "stage_labels": STATUS_LABELS}


# --------------------------------------------------------------------------- the roster


ROSTER_KIND_LABELS = {"mediator": N_("mediator"), "arbitrator": N_("labour arbitrator")}


@router.get("/disputes/roster", response_class=HTMLResponse)
@answers
async def roster_page(request: Request) -> Response:
    current = await _signed_in(request, READERS)
    language = language_of(request)
    query = request.query_params
    filters = {"kind": query.get("kind", "") if query.get("kind") in ROSTER_KIND_LABELS else "",
               "available": "true" if query.get("available") == "true" else ""}
    page = _int(query.get("page"))
    params = {name: value for name, value in filters.items() if value}
    body, regions = await SECTION.read_all(
        request, current, Read("/roster", {**params, "limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE},
                               lists=("items",)), region_names(request, language))
    total = int(body.get("total") or 0)
    return _page(request, current, "disputes_roster.html", {
        "items": body["items"], "total": total, "page": page, "pages": max(1, math.ceil(total / PAGE_SIZE)),
        "filters": filters, "regions": regions, "kind_labels": ROSTER_KIND_LABELS,
        "page_link": lambda number: "/disputes/roster?" + urlencode({**params, "page": number}),
    })


# --------------------------------------------------------------------------- freedom-of-association complaints
#
# The complainant is shielded from the employer (ILO C87, C98): the disputes service decides who sees the full
# record — the labour inspectorate and the complainant's union — and audits every full read; other staff get the
# shielded view, which these pages show as it comes. Staff take complaints in (dispute officers, inspectors,
# administrators); only the inspectorate handles them.

COMPLAINT_STATUS_LABELS = {"received": N_("received"), "under_inspection": N_("under inspection"),
                           "findings": N_("findings recorded"), "closed": N_("closed")}
COMPLAINT_CATEGORY_LABELS = {
    "threat_of_dismissal": N_("Threats of dismissal for union membership"),
    "dismissal_of_union_leader": N_("Dismissal of a union leader or activist"),
    "non_renewal_of_union_leader": N_("Non-renewal of a union leader's contract"),
    "pressure_to_change_union": N_("Pressure to leave the union or move to another (management-led) union"),
    "refusal_to_bargain": N_("Refusal to bargain"),
    "surveillance": N_("Surveillance or questioning of members"),
    "other_interference": N_("Other interference with freedom of association"),
}
OUTCOME_LABELS = {"upheld": N_("upheld"), "not_upheld": N_("not upheld")}
INTAKE = ("dispute_officer", "labour_inspector", "administrator")
INSPECTORS = ("labour_inspector", "administrator")
COMPLAINT_READERS = ("dispute_officer", "labour_inspector", "administrator", "analyst")
INTAKE_FIELDS = ("category", "employer_id", "union_id", "name", "contact", "position", "description", "received_on")
HANDLING = {"inspection": "start_inspection", "findings": "record_findings", "closure": "close"}


def _complaint_page(request: Request, current: tuple[SignedIn, str], template: str, context: dict[str, Any],
                    status: int = 200) -> HTMLResponse:
    roles = set(current[0].account.roles)
    return _page(request, current, template, {
        "complaint_status_labels": COMPLAINT_STATUS_LABELS, "category_labels": COMPLAINT_CATEGORY_LABELS,
        "outcome_labels": OUTCOME_LABELS, "may_take_in": bool(roles & set(INTAKE)),
        "may_handle": bool(roles & set(INSPECTORS)), **context}, status=status)


@router.get("/disputes/complaints", response_class=HTMLResponse)
@answers
async def complaints_page(request: Request) -> Response:
    current = await _signed_in(request, COMPLAINT_READERS)
    wanted = request.query_params.get("status", "")
    wanted = wanted if wanted in COMPLAINT_STATUS_LABELS else ""
    page = _int(request.query_params.get("page"))
    params = {"status": wanted} if wanted else {}
    body = await SECTION.read(request, current, "/complaints",
                              {**params, "limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE}, lists=("items",))
    total = int(body.get("total") or 0)
    today = kazakhstan_today()
    return _complaint_page(request, current, "disputes_complaints.html", {
        "items": body["items"], "total": total, "page": page, "pages": max(1, math.ceil(total / PAGE_SIZE)),
        "wanted": wanted, "overdue": {item["id"] for item in body["items"] if _complaint_overdue(item, today)},
        "page_link": lambda number: "/disputes/complaints?" + urlencode({**params, "page": number}),
    })


def _complaint_overdue(complaint: dict[str, Any], today: date) -> bool:
    """The inspectorate's consideration period ran out before its findings (the full view only carries it)."""
    if complaint.get("overdue_since"):
        return complaint.get("status") in ("received", "under_inspection")
    due = _day(complaint.get("consideration_due"))
    return due is not None and due < today and complaint.get("status") in ("received", "under_inspection")


def _intake_form(request: Request, current: tuple[SignedIn, str], *, entered: dict[str, str] | None = None,
                 errors: list[str] | None = None, status: int = 200) -> HTMLResponse:
    return _complaint_page(request, current, "disputes_complaint_new.html", {
        "entered": entered or {name: "" for name in INTAKE_FIELDS}, "errors": errors or []}, status=status)


@router.get("/disputes/complaints/new", response_class=HTMLResponse)
async def new_complaint(request: Request) -> Response:
    current = await _staff(request, INTAKE)
    if isinstance(current, Response):
        return current
    return _intake_form(request, current)


@router.post("/disputes/complaints/new", response_class=HTMLResponse)
async def take_in_complaint(request: Request) -> Response:
    current = await _staff(request, INTAKE)
    if isinstance(current, Response):
        return current
    form = await _checked_form(request, current)
    if form is None:
        return csrf_refused(request)
    entered = {name: str(form.get(name) or "").strip()[:20000] for name in INTAKE_FIELDS}
    complainant = {"name": entered["name"], "contact": entered["contact"] or None,
                   "position": entered["position"] or None}
    body = {"category": entered["category"], "employer_id": entered["employer_id"],
            "union_id": entered["union_id"] or None, "complainant": complainant, "description": entered["description"],
            "received_on": entered["received_on"] or None}
    try:
        status, answer = await call(request, SERVICE, "POST", "/complaints", json=body)
    except ServiceUnavailable:
        return _unavailable(request, current)
    if status != 201 or not isinstance(answer, dict) or "id" not in answer:
        # Nothing was taken in: the form comes back as it was filled, with the service's reasons by field.
        return _intake_form(request, current, entered=entered, errors=_messages(request, Refusal.of(status, answer),
                                                                               []), status=status)
    return redirect(f"/disputes/complaints/{answer['id']}")


@answers
async def _complaint_view(request: Request, current: tuple[SignedIn, str], complaint_id: uuid.UUID, *,
                          errors: list[str] | None = None, status: int = 200) -> Response:
    complaint = await SECTION.read(request, current, f"/complaints/{complaint_id}", keys=("status",))
    log = None  # the audit of full reads, shown to the inspectorate
    if set(current[0].account.roles) & set(INSPECTORS):
        log = await SECTION.reach(request, current, SECTION.optional(
            request, f"/complaints/{complaint_id}/access-log", expect=dict))
    return _complaint_page(request, current, "disputes_complaint.html", {
        "complaint": complaint, "full": complaint.get("view") == "full", "errors": errors or [],
        "overdue": _complaint_overdue(complaint, kazakhstan_today()),
        "actions": set(complaint.get("allowed_actions") or []),
        "access_log": log.get("items") if log is not None else None,
    }, status=status)


@router.get("/disputes/complaints/{complaint_id}", response_class=HTMLResponse)
async def complaint_page(request: Request, complaint_id: uuid.UUID) -> Response:
    current = await _staff(request, COMPLAINT_READERS)
    if isinstance(current, Response):
        return current
    return await _complaint_view(request, current, complaint_id)


@router.post("/disputes/complaints/{complaint_id}/{step}", response_class=HTMLResponse)
async def handle_complaint(request: Request, complaint_id: uuid.UUID, step: str) -> Response:
    """The inspectorate's steps: inspection begun, findings recorded, complaint closed."""
    if step not in HANDLING:
        current = await _staff(request, INSPECTORS)
        return current if isinstance(current, Response) else _refused(request, current, Refusal.of(404, {
            "title": "Not found", "detail": step}))
    current = await _staff(request, INSPECTORS)
    if isinstance(current, Response):
        return current
    form = await _checked_form(request, current)
    if form is None:
        return csrf_refused(request)

    def given(name: str) -> str | None:
        return str(form.get(name) or "").strip()[:20000] or None

    body: dict[str, Any] = {"on": given("on")}
    if step == "inspection":
        body["inspector"] = given("inspector") or ""
    elif step == "findings":
        body.update(outcome=given("outcome") or "", findings=given("findings") or "")
    else:
        body["reason"] = given("reason")
    try:
        status, answer = await call(request, SERVICE, "POST", f"/complaints/{complaint_id}/{step}", json=body)
    except ServiceUnavailable:
        return _unavailable(request, current)
    if status != 200:
        return await _complaint_view(request, current, complaint_id,
                                     errors=_messages(request, Refusal.of(status, answer), []), status=status)
    return redirect(f"/disputes/complaints/{complaint_id}")


# --------------------------------------------------------------------------- individual labour disputes
#
# Before the employer's conciliation commission (art. 159-160): decided within 15 working days, copies within 3
# days, carried out within the time the decision sets (at most a month). The employee's name is personal data: the
# service shows it only to the employer, the named union and staff.

INDIVIDUAL_STATUS_LABELS = {
    "registered": N_("registered"), "decision_overdue": N_("decision overdue"), "decided": N_("decided"),
    "executed": N_("carried out"), "referred_to_court": N_("referred to court"), "withdrawn": N_("withdrawn"),
}
INDIVIDUAL_SUBJECT_LABELS = {
    "reinstatement": N_("Reinstatement after dismissal"), "pay": N_("Pay, wage arrears and other payments"),
    "disciplinary": N_("Disciplinary penalty"), "working_time": N_("Working time and rest"),
    "transfer": N_("Transfer to other work"), "other": N_("Other individual labour dispute"),
}
INDIVIDUAL_OUTCOME_LABELS = {"upheld": N_("claim upheld"), "partly_upheld": N_("claim partly upheld"),
                             "rejected": N_("claim rejected")}
INDIVIDUAL_PERIODS = {"decision": N_("The commission's decision"),
                      "copies": N_("Copies of the decision to the parties"),
                      "execution": N_("Carrying the decision out")}


def individual_periods(dispute: dict[str, Any], today: date) -> list[dict[str, Any]]:
    """The application's periods in order: when each is due, when it was met, and whether it is late."""
    rows = []
    for kind, due_key, done_key, late_key, article_key in (
            ("decision", "decision_due", "decided_on", "decision_overdue_since", "decision_article"),
            ("copies", "copies_due", "copies_sent_on", "copies_overdue_since", "copies_article"),
            ("execution", "execution_due", "executed_on", "execution_overdue_since", None)):
        due = _day(dispute.get(due_key))
        if due is None:
            continue
        done = _day(dispute.get(done_key))
        ended = dispute.get("status") in ("referred_to_court", "withdrawn")
        if done is not None:
            state = "met" if done <= due else "missed"
        elif dispute.get(late_key) or due < today:
            state = "missed" if ended else "overdue"
        else:
            state = "pending"
        rows.append({"kind": kind, "due": due, "done_on": done, "state": state,
                     "article": dispute.get(article_key) if article_key else None})
    return rows


def _individual_page(request: Request, current: tuple[SignedIn, str], template: str,
                     context: dict[str, Any]) -> HTMLResponse:
    return _page(request, current, template, {
        "individual_status_labels": INDIVIDUAL_STATUS_LABELS, "subject_labels": INDIVIDUAL_SUBJECT_LABELS,
        "individual_outcome_labels": INDIVIDUAL_OUTCOME_LABELS, "period_labels": INDIVIDUAL_PERIODS, **context})


@router.get("/disputes/individual", response_class=HTMLResponse)
@answers
async def individual_list(request: Request) -> Response:
    current = await _signed_in(request, READERS)
    wanted = request.query_params.get("status", "")
    wanted = wanted if wanted in INDIVIDUAL_STATUS_LABELS else ""
    page = _int(request.query_params.get("page"))
    params = {"status": wanted} if wanted else {}
    body = await SECTION.read(request, current, "/individual-disputes",
                              {**params, "limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE}, lists=("items",))
    today = kazakhstan_today()
    total = int(body.get("total") or 0)
    return _individual_page(request, current, "disputes_individual_list.html", {
        "items": body["items"], "total": total, "page": page, "pages": max(1, math.ceil(total / PAGE_SIZE)),
        "wanted": wanted, "overdue": {item["id"] for item in body["items"] if any(
            row["state"] == "overdue" for row in individual_periods(item, today))},
        "page_link": lambda number: "/disputes/individual?" + urlencode({**params, "page": number}),
    })


@router.get("/disputes/individual/{individual_id}", response_class=HTMLResponse)
@answers
async def individual_page(request: Request, individual_id: uuid.UUID) -> Response:
    current = await _signed_in(request, READERS)
    dispute = await SECTION.read(request, current, f"/individual-disputes/{individual_id}", keys=("decision_due",))
    return _individual_page(request, current, "disputes_individual.html", {
        "dispute": dispute, "periods": individual_periods(dispute, kazakhstan_today())})


# --------------------------------------------------------------------------- one dispute
# Last: its path would otherwise take /disputes/statistics, /disputes/roster and /disputes/complaints.


@router.get("/disputes/{dispute_id}", response_class=HTMLResponse)
@answers
async def dispute_page(request: Request, dispute_id: uuid.UUID) -> Response:
    current = await _signed_in(request, READERS)
    language = language_of(request)
    dispute, assigned, regions = await SECTION.read_all(
        request, current, Read(f"/collective-disputes/{dispute_id}", lists=("stages",)),
        SECTION.optional(request, f"/collective-disputes/{dispute_id}/assignments", default=[]),
        region_names(request, language))
    today = kazakhstan_today()
    decision = dispute.get("strike_decision") if isinstance(dispute.get("strike_decision"), dict) else None
    return _page(request, current, "disputes_dispute.html", {
        "dispute": dispute, "today": today, "deadlines": deadlines(dispute, today), "decision": decision,
        "warnings": (decision or {}).get("warnings") or [], "is_overdue": overdue(dispute, today),
        "is_stalled": stalled(dispute), "regions": regions, "kind_labels": ROSTER_KIND_LABELS,
        "side_labels": SIDE_LABELS,
        "assignments": assigned,
    })
