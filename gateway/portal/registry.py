"""The portal's Registry section: the public register, organisations, applications and statistics.

Every page asks the registry service over HTTP as the signed-in staff member
(`gateway.portal.upstream`), so the registry's own rules decide what is shown and allowed;
its refusals appear on the page as messages, field by field. Staff with the role registrar,
administrator or analyst read; registrars and administrators act. Every page works without
JavaScript (the register's filters are a plain GET form).
"""

from __future__ import annotations

import math
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gateway.i18n import N_
from gateway.portal import charts, figures
from gateway.portal.routes import (
    CSRF_FIELD,
    _current,
    _forbidden,
    _to_sign_in,
    csrf_refused,
    language_of,
    redirect,
    translate,
)
from gateway.portal.section import PageAnswer, Read, ServiceSection, answers
from gateway.portal.upstream import IDENTITY_STATE, Refusal, ServiceUnavailable, call
from gateway.proxy.forwarder import API_PREFIX
from gateway.staff import service as staff
from gateway.staff.service import SignedIn

router = APIRouter(include_in_schema=False)

SERVICE = "registry"
READERS = ("registrar", "administrator", "analyst")
DECIDERS = ("registrar", "administrator")
PAGE_SIZE = 25
PARENT_CHAIN_MAX = 6  # republican association > sectoral > territorial > local > primary: never deeper
AFFILIATES_SHOWN = 30
REFERENCE_SECONDS = 600.0
OPEN_APPLICATION = ("submitted", "under_review", "returned")

KIND_LABELS = {
    "republican_union_association": N_("Republican trade union association"),
    "sectoral_union": N_("Sectoral trade union"),
    "territorial_union_association": N_("Territorial trade union association"),
    "local_union": N_("Local trade union"),
    "primary_union_organisation": N_("Primary trade union organisation"),
    "republican_employer_association": N_("Republican employers' association"),
    "sectoral_employer_association": N_("Sectoral employers' association"),
    "regional_employer_association": N_("Regional employers' association"),
    "employer": N_("Employer"),
    "government_body": N_("Government body"),
}
STATUS_LABELS = {
    "applicant": N_("applicant"), "registered": N_("registered"), "confirmed": N_("status confirmed"),
    "lapsed": N_("lapsed"), "refused": N_("refused"), "liquidated": N_("liquidated"),
}
PUBLIC_STATUSES = ("registered", "confirmed", "lapsed", "liquidated")
APPLICATION_STATUS_LABELS = {
    "submitted": N_("submitted"), "under_review": N_("under review"), "returned": N_("returned for correction"),
    "registered": N_("registered"), "refused": N_("refused"), "withdrawn": N_("withdrawn"),
}
OUTCOME_LABELS = {"register": N_("Register"), "refuse": N_("Refuse"), "return": N_("Return for correction")}
OFFICER_LABELS = {"chair": N_("Chair"), "deputy_chair": N_("Deputy chair"), "secretary": N_("Secretary"),
                  "treasurer": N_("Treasurer"), "director": N_("Director"), "other": N_("Officer")}
HISTORY_LABELS = {
    "entered": N_("Entered in the register"), "application_submitted": N_("Application filed"),
    "application_resubmitted": N_("Application re-filed after correction"),
    "review_started": N_("Review started"), "registered": N_("Registered"), "refused": N_("Refused"),
    "returned": N_("Returned for correction"), "status_confirmation_filed": N_("Status confirmation filed"),
    "status_confirmed": N_("Status confirmed"), "status_confirmation_refused": N_("Status confirmation refused"),
    "status_confirmation_returned": N_("Status confirmation returned"), "status_lapsed": N_("Status lapsed"),
    "affiliation_changed": N_("Affiliation changed"), "membership_reported": N_("Membership reported"),
    "updated": N_("Particulars changed"), "liquidated": N_("Liquidated"),
}
UNAVAILABLE_TITLE = N_("The registry service is unavailable")
UNAVAILABLE_DETAIL = N_("The registry service could not be reached or did not answer in time. Nothing was "
                        "changed. Try again in a minute; if it lasts, tell the platform's operators.")
UNEXPECTED_DETAIL = N_("The registry service gave an answer this page cannot read.")
CHECKS_FAILING = N_("The application fails the law's checks, so it cannot be registered: refuse or return it.")
DETAIL_NEEDED = N_("Write what exactly is wrong for each ground you add (at least 3 characters).")
GROUND_FIELD = N_("Ground %(ground)s")

# Names of regions and sectors by service URL: reference data changes with a migration, not by the minute.
_reference: dict[tuple[str, str], tuple[float, Any]] = {}


class _Unreadable(Exception):
    """The service answered with something that is not what its API promises."""


# --------------------------------------------------------------------------- helpers


async def _staff(request: Request, roles: tuple[str, ...] = READERS) -> tuple[SignedIn, str] | Response:
    """The signed-in staff member if they hold one of ``roles``; the service calls then carry their identity."""
    current = await _current(request)
    if current is None:
        return _to_sign_in(request)
    if not set(roles) & set(current[0].account.roles):
        return _forbidden(request, current, " / ".join(roles))
    setattr(request.state, IDENTITY_STATE, current[0].identity)
    return current


async def _signed_in(request: Request, roles: tuple[str, ...] = READERS) -> tuple[SignedIn, str]:
    """`_staff` for a page under `answers`: the sign-in or forbidden page comes as its `PageAnswer`."""
    current = await _staff(request, roles)
    if isinstance(current, Response):
        raise PageAnswer(current)
    return current


def _may_decide(current: tuple[SignedIn, str]) -> bool:
    return bool(set(DECIDERS) & set(current[0].account.roles))


SECTION = ServiceSection(
    slug="registry", service=SERVICE, unavailable_title=UNAVAILABLE_TITLE, unavailable_detail=UNAVAILABLE_DETAIL,
    unreadable_detail=UNEXPECTED_DETAIL,
    labels={"kind_labels": KIND_LABELS, "status_labels": STATUS_LABELS,
            "application_status_labels": APPLICATION_STATUS_LABELS, "outcome_labels": OUTCOME_LABELS,
            "officer_labels": OFFICER_LABELS, "history_labels": HISTORY_LABELS},
    extra=lambda current: {"may_decide": _may_decide(current)})
_page, _unavailable, _unreadable, _get = SECTION.page, SECTION.unavailable, SECTION.unreadable, SECTION.get


def _name(organisation: dict[str, Any], language: str) -> str:
    if language == "kk":
        return str(organisation.get("name_kk") or organisation.get("name_ru") or "")
    if language == "en" and organisation.get("name_en"):
        return str(organisation["name_en"])
    return str(organisation.get("name_ru") or organisation.get("name_kk") or "")


def _local_name(row: dict[str, Any], language: str) -> str:
    return str(row.get(f"name_{language}") or row.get("name_ru") or row.get("code") or "")


async def _reference_names(request: Request, path: str) -> Any:
    """GET ``path`` of the registry's reference data, kept for a few minutes; None when unavailable."""
    base = request.app.state.gateway.settings.service_urls.get(SERVICE, "")
    key = (base, path)
    kept = _reference.get(key)
    if kept is not None and kept[0] > time.monotonic():
        return kept[1]
    try:
        status, body = await call(request, SERVICE, "GET", path)
    except ServiceUnavailable:
        return None
    if status != 200 or not isinstance(body, list):
        return None
    _reference[key] = (time.monotonic() + REFERENCE_SECONDS, body)
    return body


async def _regions(request: Request, language: str) -> dict[str, str]:
    rows = await _reference_names(request, "/regions") or []
    return {str(row["code"]): _local_name(row, language) for row in rows if isinstance(row, dict) and "code" in row}


async def _sectors(request: Request, language: str) -> dict[str, str]:
    sections = await _reference_names(request, "/sectors") or []
    return {str(division["code"]): _local_name(division, language)
            for section in sections if isinstance(section, dict)
            for division in section.get("divisions") or [] if isinstance(division, dict) and "code" in division}


def _number(request: Request, value: float) -> str:
    return figures.format_number(value, language_of(request))


def _int(value: str | None, default: int = 1) -> int:
    try:
        return max(int(value or default), 1)
    except ValueError:
        return default


# --------------------------------------------------------------------------- the register


@router.get("/registry", response_class=HTMLResponse)
@answers
async def register(request: Request) -> Response:
    current = await _signed_in(request)
    language = language_of(request)
    query = request.query_params
    filters = {name: query.get(name, "").strip()[:200] for name in ("q", "kind", "region_code", "sector", "status")}
    page = _int(query.get("page"))
    params = {name: value for name, value in filters.items() if value}
    (status, body), regions, sectors = await SECTION.read_all(
        request, current,
        _get(request, "/organisations", {**params, "limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE}),
        _regions(request, language), _sectors(request, language))
    refusal = None
    items: list[dict[str, Any]] = []
    total = 0
    if status == 200 and isinstance(body, dict) and isinstance(body.get("items"), list):
        items, total = body["items"], int(body.get("total") or 0)
    elif status == 200:
        return _unreadable(request, current)
    else:
        refusal = Refusal.of(status, body)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    filter_query = urlencode(params)
    return _page(request, current, "registry_search.html", {
        "filters": filters, "items": items, "total": total, "page": page, "pages": pages, "refusal": refusal,
        "regions": regions, "sectors": sectors, "public_statuses": PUBLIC_STATUSES, "language": language,
        "names": {item["id"]: _name(item, language) for item in items},
        "page_link": lambda number: "/registry?" + urlencode({**params, "page": number}),
        "export_csv": f"{API_PREFIX}/{SERVICE}/organisations/export.csv" + (f"?{filter_query}" if params else ""),
        "export_json": f"{API_PREFIX}/{SERVICE}/organisations/export.json" + (f"?{filter_query}" if params else ""),
    }, status=200 if refusal is None else refusal.status)


async def _organisation_or_none(request: Request, organisation_id: str) -> dict[str, Any] | None:
    return await SECTION.optional(request, f"/organisations/{organisation_id}", expect=dict)


async def _parent_chain(request: Request, organisation: dict[str, Any]) -> list[dict[str, Any]]:
    """The organisations above this one, the nearest first."""
    chain: list[dict[str, Any]] = []
    seen = {organisation["id"]}
    parent_id = organisation.get("parent_id")
    while parent_id and parent_id not in seen and len(chain) < PARENT_CHAIN_MAX:
        parent = await _organisation_or_none(request, parent_id)
        if parent is None:
            break
        chain.append(parent)
        seen.add(parent_id)
        parent_id = parent.get("parent_id")
    return chain


async def _affiliates(request: Request, organisation_id: str) -> list[dict[str, Any]]:
    return await SECTION.optional(request, f"/organisations/{organisation_id}/affiliates", default=[])


@router.get("/registry/organisations/{organisation_id}", response_class=HTMLResponse)
@answers
async def organisation_page(request: Request, organisation_id: uuid.UUID) -> Response:
    current = await _signed_in(request)
    language = language_of(request)
    base = f"/organisations/{organisation_id}"
    organisation = await SECTION.read(request, current, base, keys=("id",))
    try:
        history, (_, affiliations), affiliates, membership, chain, regions, sectors = await SECTION.read_all(
            request, current, SECTION.optional(request, f"{base}/history"), _get(request, f"{base}/affiliations"),
            _affiliates(request, str(organisation_id)), SECTION.optional(request, f"{base}/membership"),
            _parent_chain(request, organisation), _regions(request, language), _sectors(request, language))
        affiliates = affiliates[:AFFILIATES_SHOWN]
        below = await SECTION.read_all(request, current, *(_affiliates(request, child["id"]) for child in affiliates))
        affiliations = affiliations if isinstance(affiliations, list) else []
        known = {item["id"]: item for item in [*chain, *affiliates]}
        missing = sorted({row["parent_id"] for row in affiliations} - set(known))
        for found in await SECTION.read_all(request, current,
                                            *(_organisation_or_none(request, parent) for parent in missing)):
            if found is not None:
                known[found["id"]] = found
    except (KeyError, TypeError):
        return _unreadable(request, current)
    tree = [{"organisation": child, "affiliates": grandchildren[:AFFILIATES_SHOWN]}
            for child, grandchildren in zip(affiliates, below, strict=True)]
    names = {key: _name(value, language) for key, value in known.items()}
    names.update({item["id"]: _name(item, language)
                  for entry in tree for item in [entry["organisation"], *entry["affiliates"]]})
    return _page(request, current, "registry_organisation.html", {
        "organisation": organisation, "name": _name(organisation, language), "chain": list(reversed(chain)),
        "tree": tree, "affiliations": affiliations, "names": names,
        "history": history, "membership": membership,
        "region": regions.get(organisation.get("region_code") or ""), "regions": regions,
        "sector_names": [(code, sectors.get(code)) for code in organisation.get("sectors") or []],
    })


# --------------------------------------------------------------------------- applications


@router.get("/registry/applications", response_class=HTMLResponse)
@answers
async def applications(request: Request) -> Response:
    current = await _signed_in(request)
    language = language_of(request)
    wanted = request.query_params.get("status", "")
    wanted = wanted if wanted in APPLICATION_STATUS_LABELS else ""
    page = _int(request.query_params.get("page"))
    params: dict[str, Any] = {"limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE}
    if wanted:
        params["status"] = wanted
    body = await SECTION.read(request, current, "/registrations", params, lists=("items",))
    total = int(body.get("total") or 0)
    return _page(request, current, "registry_applications.html", {
        "items": body["items"], "total": total, "page": page, "pages": max(1, math.ceil(total / PAGE_SIZE)),
        "wanted": wanted, "names": {item["id"]: _name(item, language) for item in body["items"]},
        "page_link": lambda number: "/registry/applications?" + urlencode(
            {**({"status": wanted} if wanted else {}), "page": number}),
    })


def _entered_grounds(form: Any) -> tuple[list[str], dict[str, str]]:
    ticked = [str(code)[:60] for code in form.getlist("ground")]
    details = {code: str(form.get(f"detail_{code}") or "")[:1000] for code in ticked}
    return ticked, details


@answers
async def _review_page(request: Request, current: tuple[SignedIn, str], application_id: uuid.UUID, *,
                       errors: list[str] | None = None, entered: dict[str, Any] | None = None,
                       status: int = 200) -> Response:
    language = language_of(request)
    application = await SECTION.read(request, current, f"/registrations/{application_id}", keys=("filed_on",))
    check, catalogue = None, []
    if application["status"] in OPEN_APPLICATION:
        (check_status, check), rule_set = await SECTION.read_all(
            request, current, call(request, SERVICE, "POST", "/registrations/pre-check", json={
                "kind": application["kind"], "founders": application["founders"],
                "documents": application["documents"], "on": application["filed_on"]}),
            SECTION.optional(request, "/rule-sets/in-force", {"on": application["filed_on"]}, expect=dict))
        check = check if check_status == 200 and isinstance(check, dict) else None
        if rule_set is not None:
            catalogue = rule_set.get("body", {}).get("refusal_grounds") or []
    entered = entered or {"outcome": "", "ground": [], "details": {}}
    return _page(request, current, "registry_application.html", {
        "application": application, "name": _name(application, language), "check": check,
        "catalogue": catalogue, "errors": errors or [], "entered": entered,
        "actions": set(application.get("allowed_actions") or []),
    }, status=status)


@router.get("/registry/applications/{application_id}", response_class=HTMLResponse)
async def application_page(request: Request, application_id: uuid.UUID) -> Response:
    current = await _staff(request)
    if isinstance(current, Response):
        return current
    return await _review_page(request, current, application_id)


async def _checked_form(request: Request, current: tuple[SignedIn, str]) -> Any:
    form = await request.form()
    return form if staff.csrf_matches(current[1], str(form.get(CSRF_FIELD) or "")) else None


def _messages(request: Request, refusal: Refusal, ground_codes: list[str]) -> list[str]:
    """A refusal of the registry as lines a registrar can act on: one per failing field."""
    if refusal.status == 409 and refusal.body.get("type", "").endswith("/checks-failing"):
        return [translate(request, CHECKS_FAILING)]
    lines = []
    for error in refusal.errors:
        where = error.field
        parts = [part for part in error.pointer.split("/") if part]
        if len(parts) >= 2 and parts[0] == "grounds" and parts[1].isdigit() and int(parts[1]) < len(ground_codes):
            where = translate(request, GROUND_FIELD, ground=ground_codes[int(parts[1])]) + (
                f" ({parts[2]})" if len(parts) > 2 else "")
        lines.append(f"{where}: {error.detail}" if where else error.detail)
    return lines or [refusal.detail or refusal.title]


@router.post("/registry/applications/{application_id}/review", response_class=HTMLResponse)
async def start_review(request: Request, application_id: uuid.UUID) -> Response:
    current = await _staff(request, DECIDERS)
    if isinstance(current, Response):
        return current
    if await _checked_form(request, current) is None:
        return csrf_refused(request)
    try:
        status, body = await call(request, SERVICE, "POST", f"/registrations/{application_id}/review")
    except ServiceUnavailable:
        return _unavailable(request, current)
    if status != 200:
        return await _review_page(request, current, application_id, errors=_messages(request, Refusal.of(
            status, body), []), status=status)
    return redirect(f"/registry/applications/{application_id}")


@router.post("/registry/applications/{application_id}/decision", response_class=HTMLResponse)
async def decide(request: Request, application_id: uuid.UUID) -> Response:
    current = await _staff(request, DECIDERS)
    if isinstance(current, Response):
        return current
    form = await _checked_form(request, current)
    if form is None:
        return csrf_refused(request)
    outcome = str(form.get("outcome") or "")
    ticked, details = _entered_grounds(form)
    entered = {"outcome": outcome, "ground": ticked, "details": details}
    if any(len(details[code].strip()) < 3 for code in ticked):  # said here, before the registry is asked
        return await _review_page(request, current, application_id, errors=[translate(request, DETAIL_NEEDED)],
                                  entered=entered, status=422)
    decision = {"outcome": outcome, "grounds": [{"rule": code, "detail": details[code]} for code in ticked]}
    try:
        status, body = await call(request, SERVICE, "POST", f"/registrations/{application_id}/decision",
                                  json=decision)
    except ServiceUnavailable:
        return _unavailable(request, current)
    if status != 200:
        return await _review_page(request, current, application_id,
                                  errors=_messages(request, Refusal.of(status, body), ticked), entered=entered,
                                  status=status)
    return redirect(f"/registry/applications/{application_id}")


# --------------------------------------------------------------------------- statistics

STATISTICS_CHARTS = {
    "shares": (N_("Women and members under 35, per cent of members"),
               N_("The share of women and of members under 35 among all reported members, per year.")),
    "kinds": (N_("Organisations in the register by tier and kind"),
              N_("Organisations in the public register, counted by tier or kind.")),
    "regions": (N_("Organisations in the register by region"),
                N_("Organisations in the public register, counted by region.")),
    "density": (N_("Union density by region, per cent of employees"),
                N_("Union members as a share of employees (ILO definition), by region, for the latest year with "
                   "labour-force figures.")),
}
WOMEN = N_("Women")
UNDER_35 = N_("Under 35")


@router.get("/registry/statistics", response_class=HTMLResponse)
@answers
async def statistics_page(request: Request) -> Response:
    current = await _signed_in(request)
    language = language_of(request)
    body, regions = await SECTION.read_all(request, current, Read("/statistics", expect=object),
                                           _regions(request, language))
    try:
        context = _statistics_context(request, body, regions, language)
    except (KeyError, TypeError, ValueError, AttributeError):
        return _unreadable(request, current)
    return _page(request, current, "registry_statistics.html", context)


def _statistics_context(request: Request, body: dict[str, Any], regions: dict[str, str],
                        language: str) -> dict[str, Any]:
    def say(message: str) -> str:
        return translate(request, message)

    def number(value: float) -> str:
        return figures.format_number(value, language)

    def share(value: float) -> str:
        return figures.format_share(value, language)

    membership = sorted(body["membership"], key=lambda year: year["year"])
    counts = body["organisations"]
    density = body["density"]
    years = [str(year["year"]) for year in membership]
    rendered: dict[str, Any] = {"members": figures.members_chart(membership, language, say, "statistics-members")}
    if membership:
        rendered["shares"] = charts.line_chart(
            "statistics-shares", say(STATISTICS_CHARTS["shares"][0]), say(STATISTICS_CHARTS["shares"][1]), years,
            [charts.Series(say(WOMEN), [year["women_share"] for year in membership]),
             charts.Series(say(UNDER_35), [year["under_35_share"] for year in membership])],
            fmt=share, ceiling=100)
    by_kind = sorted(counts["by_kind"], key=lambda tally: -tally["organisations"])
    if by_kind:
        rendered["kinds"] = charts.bar_chart(
            "statistics-kinds", say(STATISTICS_CHARTS["kinds"][0]), say(STATISTICS_CHARTS["kinds"][1]),
            [(say(KIND_LABELS[t["code"]]) if t["code"] in KIND_LABELS else t["code"], t["organisations"])
             for t in by_kind], fmt=number)
    by_region = sorted(counts["by_region"], key=lambda tally: -tally["organisations"])
    if by_region:
        rendered["regions"] = charts.bar_chart(
            "statistics-regions", say(STATISTICS_CHARTS["regions"][0]), say(STATISTICS_CHARTS["regions"][1]),
            [(regions.get(t["code"], t["code"]), t["organisations"]) for t in by_region], fmt=number)
    regional = [row for row in density if row.get("region_code") and row.get("density") is not None]
    latest_density_year = max((row["year"] for row in regional), default=None)
    if latest_density_year is not None:
        rows = sorted((row for row in regional if row["year"] == latest_density_year), key=lambda r: -r["density"])
        rendered["density"] = charts.bar_chart(
            "statistics-density", say(STATISTICS_CHARTS["density"][0]) + f" — {latest_density_year}",
            say(STATISTICS_CHARTS["density"][1]),
            [(regions.get(row["region_code"], row["region_code"]), row["density"]) for row in rows], fmt=share)
    return {
        "statistics": body, "membership": membership, "charts": rendered, "regions": regions,
        "national_density": [row for row in density if not row.get("region_code")],
        "kind_names": {t["code"]: say(KIND_LABELS[t["code"]]) if t["code"] in KIND_LABELS else t["code"]
                       for t in counts["by_kind"]},
        "status_names": {t["code"]: say(STATUS_LABELS[t["code"]]) if t["code"] in STATUS_LABELS else t["code"]
                         for t in counts["by_status"]},
        "share": share,
    }
