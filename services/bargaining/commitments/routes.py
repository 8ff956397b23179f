"""Commitments over HTTP: the board (per agreement, per party), reports, and the share fulfilled."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from contracts.bargaining import CommitmentStatus, Level, Side
from kernel.db import SessionDep
from kernel.paging import Limit, Offset
from kernel.problems import PROBLEM_JSON, ProblemBody
from services.bargaining.access import Caller
from services.bargaining.agreements.models import AgreementCoverage
from services.bargaining.commissions.schemas import DocumentIn
from services.bargaining.commitments import service
from services.bargaining.commitments.models import Commitment
from services.bargaining.commitments.rules import Outcome
from services.bargaining.commitments.schemas import (
    CommitmentIn,
    CommitmentPage,
    CommitmentPublic,
    CommitmentSummary,
    ReportIn,
    ReportPublic,
)
from services.bargaining.negotiations import service as negotiations
from services.bargaining.negotiations.models import Negotiation, NegotiationParty

router = APIRouter(tags=["commitments"])
RESPONSES: dict[int | str, dict[str, object]] = {
    404: {"model": ProblemBody, "content": {PROBLEM_JSON: {}}, "description": "No such agreement or commitment "
                                                                               "visible to the caller"},
    409: {"model": ProblemBody, "content": {PROBLEM_JSON: {}}, "description": "Not possible in the current state"},
}
Code = Annotated[str | None, Query(max_length=20)]


def commitment_view(commitment: Commitment, negotiation: Negotiation, coverage: AgreementCoverage | None,
                    parties: list[NegotiationParty], last_report_on: object = None,
                    reports: list[ReportPublic] | None = None) -> CommitmentPublic:
    return CommitmentPublic(
        id=commitment.id, negotiation_id=commitment.negotiation_id, agreement=negotiation.subject_matter,
        level=Level(negotiation.level), region_code=coverage.region_code if coverage else None,
        sector=coverage.sector if coverage else None, number=commitment.number,
        clause_number=commitment.clause_number, what=commitment.what,
        responsible_side=Side(commitment.responsible_side), responsible_id=commitment.responsible_id,
        responsible=[p.name_ru for p in service.responsible_parties(commitment, parties)], due_on=commitment.due_on,
        indicator=commitment.indicator, status=CommitmentStatus(commitment.status), late_since=commitment.late_since,
        closed_on=commitment.closed_on, last_report_on=last_report_on, reports=reports,
        created_at=commitment.created_at)


async def _single(session: SessionDep, commitment: Commitment) -> CommitmentPublic:
    negotiation = await session.get(Negotiation, commitment.negotiation_id)
    assert negotiation is not None
    reports = [ReportPublic(id=r.id, reported_on=r.reported_on, outcome=Outcome(r.outcome), progress=r.progress,
                            indicator_value=r.indicator_value,
                            evidence=[DocumentIn.model_validate(d) for d in r.evidence], reported_by=r.reported_by)
               for r in await service.reports_of(session, commitment.id)]
    return commitment_view(commitment, negotiation, await session.get(AgreementCoverage, negotiation.id),
                           await negotiations.parties_of(session, negotiation.id),
                           reports[-1].reported_on if reports else None, reports)


async def _page(session: SessionDep, identity: Caller, limit: int, offset: int, **filters: object) -> CommitmentPage:
    rows, total, by_status = await service.board(session, identity=identity, limit=limit, offset=offset, **filters)
    last = await service.last_reports(session, [c.id for c, _, _ in rows])
    parties: dict[uuid.UUID, list[NegotiationParty]] = {}
    items = []
    for commitment, negotiation, coverage in rows:
        if negotiation.id not in parties:
            parties[negotiation.id] = await negotiations.parties_of(session, negotiation.id)
        items.append(commitment_view(commitment, negotiation, coverage, parties[negotiation.id],
                                     last.get(commitment.id)))
    return CommitmentPage(items=items, total=total, by_status=by_status)


@router.post("/agreements/{agreement_id}/commitments", status_code=status.HTTP_201_CREATED, responses=RESPONSES,
             summary="Break a concluded agreement into a commitment: what, the responsible party, due date, "
                     "indicator")
async def record_commitment(agreement_id: uuid.UUID, body: CommitmentIn, session: SessionDep,
                            identity: Caller) -> CommitmentPublic:
    commitment = await service.record_commitment(session, agreement_id, body=body, identity=identity)
    await session.commit()
    return await _single(session, commitment)


@router.get("/agreements/{agreement_id}/commitments", responses=RESPONSES,
            summary="The commitments board of one agreement")
async def agreement_board(agreement_id: uuid.UUID, session: SessionDep, identity: Caller,
                          side: Side | None = None, organisation_id: uuid.UUID | None = None,
                          status: CommitmentStatus | None = None, limit: Limit = 200,
                          offset: Offset = 0) -> CommitmentPage:
    await negotiations.require_negotiation(session, agreement_id, identity)
    return await _page(session, identity, limit, offset, negotiation_id=agreement_id, side=side,
                       organisation_id=organisation_id, status=status, level=None, region_code=None, sector=None)


@router.get("/commitments", summary="The commitments board across agreements, filtered by agreement, responsible "
                                    "party (side or organisation), status, level, region or sector")
async def commitments_board(session: SessionDep, identity: Caller, agreement_id: uuid.UUID | None = None,
                            side: Side | None = None, organisation_id: uuid.UUID | None = None,
                            status: CommitmentStatus | None = None, level: Level | None = None,
                            region_code: Code = None, sector: Code = None, limit: Limit = 50,
                            offset: Offset = 0) -> CommitmentPage:
    return await _page(session, identity, limit, offset, negotiation_id=agreement_id, side=side,
                       organisation_id=organisation_id, status=status, level=level, region_code=region_code,
                       sector=sector)


@router.get("/commitments/summary", summary="The share of commitments fulfilled, overall and per agreement, sector "
                                            "and region (for the dashboard)")
async def commitments_summary(session: SessionDep, identity: Caller, level: Level | None = None) -> CommitmentSummary:
    overall, by_agreement, by_sector, by_region = await service.summary(session, identity=identity, level=level)
    return CommitmentSummary(overall=overall, by_agreement=by_agreement, by_sector=by_sector, by_region=by_region)


@router.get("/commitments/{commitment_id}", responses=RESPONSES, summary="A commitment with its progress reports")
async def get_commitment(commitment_id: uuid.UUID, session: SessionDep, identity: Caller) -> CommitmentPublic:
    commitment, _, _ = await service.require_commitment(session, commitment_id, identity)
    return await _single(session, commitment)


@router.post("/commitments/{commitment_id}/reports", status_code=status.HTTP_201_CREATED, responses=RESPONSES,
             summary="The responsible party reports progress with evidence (done or not done closes it)")
async def report(commitment_id: uuid.UUID, body: ReportIn, session: SessionDep, identity: Caller) -> CommitmentPublic:
    commitment = await service.report(session, commitment_id, body=body, identity=identity)
    await session.commit()
    return await _single(session, commitment)
