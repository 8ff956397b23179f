"""Accession, the register of agreements in force and the coverage rate over HTTP: thin routes, one commit."""

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Header, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.bargaining import Level
from kernel.calendar import kazakhstan_today
from kernel.db import SessionDep
from kernel.paging import Limit, Offset
from services.bargaining.access import Caller
from services.bargaining.agreements import rules, service
from services.bargaining.agreements.models import AccessionRequest, AgreementCoverage, EmployeesFigures
from services.bargaining.agreements.schemas import (
    AccessionAnswerIn,
    AccessionPublic,
    AccessionRequestIn,
    AgreementPage,
    AgreementPublic,
    CoverageCell,
    CoverageIn,
    CoverageReport,
    EmployeesIn,
    EmployeesPublic,
)
from services.bargaining.negotiations import service as negotiations
from services.bargaining.negotiations.models import Negotiation
from services.bargaining.negotiations.routes import PRECONDITIONS
from services.bargaining.negotiations.rules import rules_on
from services.bargaining.negotiations.schemas import PartyPublic

router = APIRouter(prefix="/agreements", tags=["agreements"])
coverage_router = APIRouter(prefix="/coverage", tags=["coverage"])
IfMatch = Annotated[str | None, Header(description="The coverage ETag as read (\"0\" while none is recorded)")]

DEFINITION = ("ILO collective bargaining coverage rate: employees covered by one or more collective agreements "
              "÷ employees × 100, for the agreements in force on the day.")
ASSUMPTION = ("Agreements report a count of workers, not who they are. Agreements sharing an employer-side party "
              "(e.g. an enterprise agreement and a sectoral agreement that employer signed itself) are taken to "
              "cover the same workers: such a group counts its largest agreement once (the maximum per employer). "
              "Agreements with no employer-side party in common are taken to cover different workers, which may "
              "overcount where the employer side is an association; every rate is capped at 100. An agreement "
              "without a region counts nationally and in its sector only; one without a sector, in no sector.")


def accession_view(request: AccessionRequest) -> AccessionPublic:
    until = request.answered_on or kazakhstan_today()
    return AccessionPublic(
        **request.model_dump(include={"id", "negotiation_id", "union_id", "union_name_ru", "employer_id", "status",
                                      "requested_on", "answer_due", "overdue_since", "answered_on", "reasons",
                                      "note"}),
        answer_article=rules_on(request.requested_on).accession_answer_days.article,
        days_waiting=(until - request.requested_on).days)


async def agreement_view(session: AsyncSession, negotiation: Negotiation, coverage: AgreementCoverage | None,
                         day: date) -> AgreementPublic:
    parties = await negotiations.parties_of(session, negotiation.id)
    return AgreementPublic(
        **negotiation.model_dump(include={"id", "level", "status", "subject_matter", "authority",
                                          "registration_number", "filed_on", "term_from", "term_to", "ended_on"}),
        days_to_expiry=(negotiation.term_to - day).days if negotiation.term_to else None,
        parties=[PartyPublic.model_validate(p, from_attributes=True) for p in parties],
        workers_covered=coverage.workers_covered if coverage else None,
        region_code=coverage.region_code if coverage else None, sector=coverage.sector if coverage else None,
        coverage_version=coverage.version if coverage else 0)


@router.get("", summary="The register of agreements in force on a day, with their term and expiry")
async def list_agreements(session: SessionDep, identity: Caller, in_force_on: date | None = None,
                          level: Level | None = None, region_code: str | None = None, sector: str | None = None,
                          limit: Limit = 50, offset: Offset = 0) -> AgreementPage:
    day = in_force_on or kazakhstan_today()
    rows, total = await service.agreements_in_force(session, identity=identity, day=day, level=level,
                                                    region_code=region_code, sector=sector, limit=limit,
                                                    offset=offset)
    return AgreementPage(items=[await agreement_view(session, n, c, day) for n, c in rows], total=total)


@router.get("/{negotiation_id}", summary="One agreement with the workers it covers; the coverage ETag")
async def get_agreement(negotiation_id: uuid.UUID, session: SessionDep, identity: Caller,
                        response: Response) -> AgreementPublic:
    negotiation, _ = await negotiations.require_negotiation(session, negotiation_id, identity)
    coverage = await session.get(AgreementCoverage, negotiation.id)
    response.headers["ETag"] = f'"{coverage.version if coverage else 0}"'
    return await agreement_view(session, negotiation, coverage, kazakhstan_today())


@router.put("/{negotiation_id}/coverage", responses=PRECONDITIONS,
            summary="Record the workers covered, region and sector (If-Match: 428 without, 412 if stale)")
async def set_coverage(negotiation_id: uuid.UUID, body: CoverageIn, session: SessionDep, identity: Caller,
                       response: Response, if_match: IfMatch = None) -> AgreementPublic:
    coverage = await service.set_coverage(session, negotiation_id, body=body, if_match=if_match, identity=identity)
    await session.commit()
    response.headers["ETag"] = f'"{coverage.version}"'
    negotiation = await session.get(Negotiation, negotiation_id)
    assert negotiation is not None
    return await agreement_view(session, negotiation, coverage, kazakhstan_today())


@router.post("/{negotiation_id}/accession-requests", status_code=status.HTTP_201_CREATED,
             summary="A union asks to join an enterprise agreement in force; the employer's answer is due in a "
                     "period (rule data)")
async def request_accession(negotiation_id: uuid.UUID, body: AccessionRequestIn, session: SessionDep,
                            identity: Caller) -> AccessionPublic:
    request = await service.request_accession(session, negotiation_id, body=body, identity=identity)
    await session.commit()
    return accession_view(request)


@router.get("/{negotiation_id}/accession-requests",
            summary="Requests to join, with answers and delays (an organisation sees those where it is the union "
                    "or the employer)")
async def list_accession_requests(negotiation_id: uuid.UUID, session: SessionDep,
                                  identity: Caller) -> list[AccessionPublic]:
    return [accession_view(r) for r in await service.accession_requests(session, negotiation_id, identity=identity)]


@router.post("/{negotiation_id}/accession-requests/{request_id}/answer",
             summary="The employer answers: accepted (the union becomes a party) or refused with reasons")
async def answer_accession(negotiation_id: uuid.UUID, request_id: uuid.UUID, body: AccessionAnswerIn,
                           session: SessionDep, identity: Caller) -> AccessionPublic:
    request = await service.answer_accession(session, negotiation_id, request_id, body=body, identity=identity)
    await session.commit()
    return accession_view(request)


@coverage_router.put("/employees/{year}", summary="Load the employees figures of a year (staff)")
async def put_employees(year: int, body: EmployeesIn, session: SessionDep, identity: Caller) -> EmployeesPublic:
    figures = await service.put_employees(session, year, body=body, identity=identity)
    await session.commit()
    return employees_view(figures)


def employees_view(figures: EmployeesFigures) -> EmployeesPublic:
    return EmployeesPublic.model_validate(figures, from_attributes=True)


@coverage_router.get("", summary="The collective bargaining coverage rate (ILO) on a day, by region and sector")
async def coverage(session: SessionDep, identity: Caller, on: date | None = None) -> CoverageReport:
    day = on or kazakhstan_today()
    figures, counted, without = await service.coverage_on(session, day, identity=identity)
    national, by_region, by_sector = rules.coverage(counted, national=figures.national, by_region=figures.by_region,
                                                    by_sector=figures.by_sector)

    def cell(c: rules.Cell) -> CoverageCell:
        return CoverageCell(key=c.key, covered=c.covered, employees=c.employees, rate=c.rate)

    return CoverageReport(on=day, employees_year=figures.year, agreements=len(counted), without_count=without,
                          national=cell(national), by_region=[cell(c) for c in by_region],
                          by_sector=[cell(c) for c in by_sector], definition=DEFINITION, assumption=ASSUMPTION)
