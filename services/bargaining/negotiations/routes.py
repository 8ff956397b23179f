"""Negotiations over HTTP: thin routes; the service decides; each write commits once."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Response, status
from fastapi.responses import PlainTextResponse
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.bargaining import Level, OpenClause, Side
from kernel.db import SessionDep
from kernel.paging import Limit, Offset
from kernel.problems import PROBLEM_JSON, ProblemBody
from services.bargaining.access import Caller
from services.bargaining.agreements import service as agreements
from services.bargaining.negotiations import rules, service
from services.bargaining.negotiations.models import Clause, Negotiation, NegotiationParty
from services.bargaining.negotiations.schemas import (
    Acceptance,
    ClauseCreate,
    ClauseProposal,
    ClausePublic,
    ClauseVersionPublic,
    CommissionSide,
    Declining,
    Entry,
    Expiry,
    FilingIn,
    InForce,
    MeetingCreate,
    MeetingPublic,
    MemberPublic,
    NegotiationCreate,
    NegotiationPage,
    NegotiationPublic,
    PartyPublic,
    ProtocolPublic,
    SignatureIn,
    SignaturePublic,
    Termination,
)

router = APIRouter(prefix="/negotiations", tags=["negotiations"])
IfMatch = Annotated[str | None, Header(description="The clause's ETag as read")]
PRECONDITIONS: dict[int | str, dict[str, object]] = {
    412: {"model": ProblemBody, "content": {PROBLEM_JSON: {}}, "description": "The clause changed since it was read"},
    428: {"model": ProblemBody, "content": {PROBLEM_JSON: {}}, "description": "If-Match is required"},
}


async def negotiation_view(session: AsyncSession, negotiation: Negotiation,
                           parties: list[NegotiationParty] | None = None) -> NegotiationPublic:
    parties = parties if parties is not None else await service.parties_of(session, negotiation.id)
    members = await service.members_of(session, negotiation.id)
    signatures = await service._signatures(session, negotiation.id)
    protocols = await service.protocols_of(session, negotiation.id)
    law = rules.rules_on(negotiation.proposed_on)
    return NegotiationPublic(
        **negotiation.model_dump(include={
            "id", "level", "status", "subject_matter", "initiator_id", "proposed_on", "entry_due", "entered_on",
            "signed_on", "with_disagreements", "authority", "registration_number", "filed_on", "term_from",
            "term_to", "ended_on", "unilateral", "terminated_by", "end_reason", "declined_reason", "updated_at",
            "version"}),
        entry_article=law.entry_period_days.article,
        parties=[PartyPublic.model_validate(p, from_attributes=True) for p in parties],
        commission=[MemberPublic.model_validate(m, from_attributes=True) for m in members],
        parity=service.parity(negotiation, members),
        signatures=[SignaturePublic.model_validate(s, from_attributes=True) for s in signatures],
        disagreement_protocols=[ProtocolPublic(id=p.id, signed_on=p.signed_on, negotiate_until=p.negotiate_until,
                                               clauses=[OpenClause.model_validate(c) for c in p.clauses])
                                for p in protocols],
        allowed_actions=[a.value for a in rules.allowed_actions(negotiation.status)],
    )


async def clause_view(session: AsyncSession, clause: Clause) -> ClausePublic:
    versions = (await service.versions_of(session, [clause.id]))[clause.id]
    return ClausePublic(
        **clause.model_dump(include={"id", "negotiation_id", "number", "category", "title", "status",
                                     "current_version", "agreed_version", "in_protocol", "version"}),
        accepted={Side(s): n for s, n in clause.accepted.items()},
        versions=[ClauseVersionPublic.model_validate(v, from_attributes=True) for v in versions])


def _etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'


@router.post("", status_code=status.HTTP_201_CREATED,
             summary="Propose collective bargaining in writing (a party for itself, or staff recording it)")
async def propose(body: NegotiationCreate, session: SessionDep, identity: Caller) -> NegotiationPublic:
    negotiation = await service.propose(session, proposal=body, identity=identity)
    await session.commit()
    return await negotiation_view(session, negotiation)


@router.get("", summary="Negotiations: all for staff, those it is a party to for an organisation")
async def list_negotiations(session: SessionDep, identity: Caller, status: rules.NegotiationStatus | None = None,
                            level: Level | None = None, limit: Limit = 50, offset: Offset = 0) -> NegotiationPage:
    rows, total = await service.list_negotiations(session, identity=identity, status=status, level=level,
                                                  limit=limit, offset=offset)
    return NegotiationPage(items=[await negotiation_view(session, n) for n in rows], total=total)


@router.get("/{negotiation_id}", summary="One negotiation with its parties, commission, signatures and protocols")
async def get_negotiation(negotiation_id: uuid.UUID, session: SessionDep, identity: Caller) -> NegotiationPublic:
    negotiation, parties = await service.require_negotiation(session, negotiation_id, identity)
    return await negotiation_view(session, negotiation, parties)


@router.post("/{negotiation_id}/entry", summary="An addressee enters negotiations (art. 156: within 10 days)")
async def enter(negotiation_id: uuid.UUID, body: Entry, session: SessionDep, identity: Caller) -> NegotiationPublic:
    negotiation = await service.enter(session, negotiation_id, entry=body, identity=identity)
    await session.commit()
    return await negotiation_view(session, negotiation)


@router.post("/{negotiation_id}/refusal", summary="An addressee declines the proposal in writing")
async def decline(negotiation_id: uuid.UUID, body: Declining, session: SessionDep,
                  identity: Caller) -> NegotiationPublic:
    negotiation = await service.decline(session, negotiation_id, declining=body, identity=identity)
    await session.commit()
    return await negotiation_view(session, negotiation)


@router.put("/{negotiation_id}/commission/{side}", summary="Name one side's commission members (names and "
                                                           "positions of the parties' officers only)")
async def set_commission_side(negotiation_id: uuid.UUID, side: Side, body: CommissionSide, session: SessionDep,
                              identity: Caller) -> NegotiationPublic:
    negotiation = await service.set_commission_side(session, negotiation_id, side, commission=body,
                                                    identity=identity)
    await session.commit()
    return await negotiation_view(session, negotiation)


@router.post("/{negotiation_id}/commission/constitution",
             summary="Constitute the commission: refused (422, rule parity) unless equal numbers per side")
async def constitute(negotiation_id: uuid.UUID, session: SessionDep, identity: Caller) -> NegotiationPublic:
    negotiation = await service.constitute_commission(session, negotiation_id, identity=identity)
    await session.commit()
    return await negotiation_view(session, negotiation)


@router.get("/{negotiation_id}/clauses", summary="The agenda: every clause with every version")
async def list_clauses(negotiation_id: uuid.UUID, session: SessionDep, identity: Caller) -> list[ClausePublic]:
    negotiation, _ = await service.require_negotiation(session, negotiation_id, identity)
    return [await clause_view(session, c) for c in await service.clauses_of(session, negotiation.id)]


@router.post("/{negotiation_id}/clauses", status_code=status.HTTP_201_CREATED,
             summary="Put a clause on the agenda with the proposing side's text (version 1)")
async def add_clause(negotiation_id: uuid.UUID, body: ClauseCreate, session: SessionDep, identity: Caller,
                     response: Response) -> ClausePublic:
    clause = await service.add_clause(session, negotiation_id, body=body, identity=identity)
    await session.commit()
    _etag(response, clause.version)
    return await clause_view(session, clause)


@router.get("/{negotiation_id}/clauses/{clause_id}", summary="One clause with every version; its ETag")
async def get_clause(negotiation_id: uuid.UUID, clause_id: uuid.UUID, session: SessionDep, identity: Caller,
                     response: Response) -> ClausePublic:
    negotiation, _ = await service.require_negotiation(session, negotiation_id, identity)
    clause = await service.require_clause(session, negotiation, clause_id)
    _etag(response, clause.version)
    return await clause_view(session, clause)


@router.post("/{negotiation_id}/clauses/{clause_id}/versions", status_code=status.HTTP_201_CREATED,
             responses=PRECONDITIONS,
             summary="Propose or counter-propose a text: a new version (needs If-Match: 428 without, 412 if stale)")
async def propose_version(negotiation_id: uuid.UUID, clause_id: uuid.UUID, body: ClauseProposal,
                          session: SessionDep, identity: Caller, response: Response,
                          if_match: IfMatch = None) -> ClausePublic:
    clause = await service.propose_version(session, negotiation_id, clause_id, body=body, if_match=if_match,
                                           identity=identity)
    await session.commit()
    _etag(response, clause.version)
    return await clause_view(session, clause)


@router.post("/{negotiation_id}/clauses/{clause_id}/acceptance", responses=PRECONDITIONS,
             summary="A side accepts the current version; agreed when every side accepted the same version")
async def accept(negotiation_id: uuid.UUID, clause_id: uuid.UUID, body: Acceptance, session: SessionDep,
                 identity: Caller, response: Response, if_match: IfMatch = None) -> ClausePublic:
    clause = await service.accept(session, negotiation_id, clause_id, body=body, if_match=if_match,
                                  identity=identity)
    await session.commit()
    _etag(response, clause.version)
    return await clause_view(session, clause)


@router.get("/{negotiation_id}/meetings", summary="The commission's meetings and minutes")
async def list_meetings(negotiation_id: uuid.UUID, session: SessionDep, identity: Caller) -> list[MeetingPublic]:
    negotiation, _ = await service.require_negotiation(session, negotiation_id, identity)
    return [MeetingPublic.model_validate(m, from_attributes=True)
            for m in await service.meetings_of(session, negotiation.id)]


@router.post("/{negotiation_id}/meetings", status_code=status.HTTP_201_CREATED,
             summary="Record a meeting: date, minutes, attendees by side")
async def add_meeting(negotiation_id: uuid.UUID, body: MeetingCreate, session: SessionDep,
                      identity: Caller) -> MeetingPublic:
    meeting = await service.add_meeting(session, negotiation_id, body=body, identity=identity)
    await session.commit()
    return MeetingPublic.model_validate(meeting, from_attributes=True)


@router.post("/{negotiation_id}/signatures", status_code=status.HTTP_201_CREATED,
             summary="A side signs; when the last side signs, open clauses go into a protocol of disagreements")
async def sign(negotiation_id: uuid.UUID, body: SignatureIn, session: SessionDep,
               identity: Caller) -> NegotiationPublic:
    negotiation = await service.sign(session, negotiation_id, body=body, identity=identity)
    await session.commit()
    return await negotiation_view(session, negotiation)


@router.delete("/{negotiation_id}/signatures/{side}", summary="Withdraw a side's signature before every side signed")
async def withdraw_signature(negotiation_id: uuid.UUID, side: Side, session: SessionDep,
                             identity: Caller) -> NegotiationPublic:
    negotiation = await service.withdraw_signature(session, negotiation_id, side, identity=identity)
    await session.commit()
    return await negotiation_view(session, negotiation)


@router.get("/{negotiation_id}/agreement.md", response_class=PlainTextResponse,
            summary="The agreement's text from the agreed clauses (Markdown, downloadable)")
async def agreement_markdown(negotiation_id: uuid.UUID, session: SessionDep, identity: Caller) -> PlainTextResponse:
    return await _agreement(negotiation_id, session, identity, markdown=True)


@router.get("/{negotiation_id}/agreement.txt", response_class=PlainTextResponse,
            summary="The agreement's text from the agreed clauses (plain text, downloadable)")
async def agreement_text(negotiation_id: uuid.UUID, session: SessionDep, identity: Caller) -> PlainTextResponse:
    return await _agreement(negotiation_id, session, identity, markdown=False)


async def _agreement(negotiation_id: uuid.UUID, session: AsyncSession, identity: Caller, *,
                     markdown: bool) -> PlainTextResponse:
    negotiation, parties = await service.require_negotiation(session, negotiation_id, identity)
    text = await service.agreement_text(session, negotiation, parties, markdown=markdown)
    extension, media = ("md", "text/markdown") if markdown else ("txt", "text/plain")
    return PlainTextResponse(text, media_type=f"{media}; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="agreement-{negotiation.id}.{extension}"'})


@router.post("/{negotiation_id}/filing", summary="Record the filing with the labour authority (number, date, term)")
async def file(negotiation_id: uuid.UUID, body: FilingIn, session: SessionDep, identity: Caller) -> NegotiationPublic:
    negotiation = await service.file(session, negotiation_id, body=body, identity=identity)
    if body.workers_covered is not None:
        await agreements.record_coverage_at_filing(session, negotiation, workers_covered=body.workers_covered,
                                                   region_code=body.region_code, sector=body.sector,
                                                   identity=identity)
    await session.commit()
    return await negotiation_view(session, negotiation)


@router.post("/{negotiation_id}/entry-into-force", summary="The filed agreement comes into force")
async def enter_into_force(negotiation_id: uuid.UUID, body: InForce, session: SessionDep,
                           identity: Caller) -> NegotiationPublic:
    negotiation = await service.enter_into_force(session, negotiation_id, body=body, identity=identity)
    await session.commit()
    return await negotiation_view(session, negotiation)


@router.post("/{negotiation_id}/expiry", summary="The agreement's term is over")
async def expire(negotiation_id: uuid.UUID, body: Expiry, session: SessionDep, identity: Caller) -> NegotiationPublic:
    negotiation = await service.expire(session, negotiation_id, body=body, identity=identity)
    await session.commit()
    return await negotiation_view(session, negotiation)


@router.post("/{negotiation_id}/termination", summary="The agreement ends early: unilateral (by a named party) "
                                                      "or by agreement")
async def terminate(negotiation_id: uuid.UUID, body: Termination, session: SessionDep,
                    identity: Caller) -> NegotiationPublic:
    negotiation = await service.terminate(session, negotiation_id, body=body, identity=identity)
    await session.commit()
    return await negotiation_view(session, negotiation)
