"""Amendments over HTTP: thin routes, one commit each."""

import uuid

from fastapi import APIRouter, status

from contracts.bargaining import AmendedClause, Side
from kernel.db import SessionDep
from kernel.problems import PROBLEM_JSON, ProblemBody
from services.bargaining.access import Caller
from services.bargaining.amendments import rules, service
from services.bargaining.amendments.models import Amendment
from services.bargaining.amendments.schemas import (
    AmendmentCreate,
    AmendmentPublic,
    AmendmentSignatureIn,
    ClauseChange,
)
from services.bargaining.negotiations import service as negotiations

router = APIRouter(prefix="/negotiations/{negotiation_id}/amendments", tags=["amendments"])
CONFLICT_RESPONSES: dict[int | str, dict[str, object]] = {
    409: {"model": ProblemBody, "content": {PROBLEM_JSON: {}},
          "description": "Not possible in the agreement's or the amendment's current state"},
}


def amendment_view(amendment: Amendment, sides: list[Side]) -> AmendmentPublic:
    return AmendmentPublic(
        id=amendment.id, negotiation_id=amendment.negotiation_id, number=amendment.number, status=amendment.status,
        proposed_by_side=Side(amendment.proposed_by_side), proposed_on=amendment.proposed_on,
        summary=amendment.summary, changes=[ClauseChange.model_validate(c) for c in amendment.changes],
        term_to=amendment.term_to,
        signatures={side: {k: v for k, v in signed.items() if k != "recorded_by"}
                    for side, signed in amendment.signatures.items()},
        awaiting=rules.unsigned_sides(sides, amendment.signatures) if amendment.status == "proposed" else [],
        adopted_on=amendment.adopted_on, agreement_version=amendment.agreement_version,
        applied=[AmendedClause.model_validate(a) for a in amendment.applied], created_at=amendment.created_at)


async def _sides(session: SessionDep, negotiation_id: uuid.UUID) -> list[Side]:
    return negotiations._sides(await negotiations.parties_of(session, negotiation_id))


@router.post("", status_code=status.HTTP_201_CREATED, responses=CONFLICT_RESPONSES,
             summary="Propose an amendment to a concluded agreement: new texts of agreed clauses, new clauses, "
                     "a new end of term")
async def propose(negotiation_id: uuid.UUID, body: AmendmentCreate, session: SessionDep,
                  identity: Caller) -> AmendmentPublic:
    amendment = await service.propose(session, negotiation_id, body=body, identity=identity)
    await session.commit()
    return amendment_view(amendment, await _sides(session, negotiation_id))


@router.get("", summary="Every amendment of an agreement, proposed, adopted or withdrawn, oldest first")
async def list_amendments(negotiation_id: uuid.UUID, session: SessionDep, identity: Caller) -> list[AmendmentPublic]:
    _, parties = await negotiations.require_negotiation(session, negotiation_id, identity)
    sides = negotiations._sides(parties)
    return [amendment_view(a, sides) for a in await service.amendments_of(session, negotiation_id)]


@router.post("/{number}/signatures", responses=CONFLICT_RESPONSES,
             summary="A side signs the amendment; the last signature adopts it as the agreement's next version")
async def sign(negotiation_id: uuid.UUID, number: int, body: AmendmentSignatureIn, session: SessionDep,
               identity: Caller) -> AmendmentPublic:
    amendment = await service.sign(session, negotiation_id, number, body=body, identity=identity)
    await session.commit()
    return amendment_view(amendment, await _sides(session, negotiation_id))


@router.post("/{number}/withdrawal", responses=CONFLICT_RESPONSES,
             summary="The proposing side withdraws an amendment not yet adopted")
async def withdraw(negotiation_id: uuid.UUID, number: int, session: SessionDep, identity: Caller) -> AmendmentPublic:
    amendment = await service.withdraw(session, negotiation_id, number, identity=identity)
    await session.commit()
    return amendment_view(amendment, await _sides(session, negotiation_id))
