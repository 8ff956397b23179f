import uuid

from fastapi import APIRouter

from kernel.db import SessionDep
from kernel.identity import CurrentIdentity
from kernel.paging import Limit, Offset
from kernel.problems import NotFound
from services.bargaining.parties import service
from services.bargaining.parties.models import Party
from services.bargaining.parties.rules import may_bargain
from services.bargaining.parties.schemas import PartyPage, PartyPublic

router = APIRouter(prefix="/parties", tags=["parties"])


def _public(party: Party) -> PartyPublic:
    return PartyPublic.model_validate({**party.model_dump(), "may_bargain": may_bargain(party.registry_status)})


@router.get("", summary="Organisations known to bargaining, from the registry's events")
async def list_parties(
    session: SessionDep, _: CurrentIdentity,
    limit: Limit = 50, offset: Offset = 0,
) -> PartyPage:
    rows, total = await service.list_parties(session, limit=limit, offset=offset)
    return PartyPage(items=[_public(p) for p in rows], total=total)


@router.get("/{party_id}", summary="One party")
async def get_party(party_id: uuid.UUID, session: SessionDep, _: CurrentIdentity) -> PartyPublic:
    party = await session.get(Party, party_id)
    if party is None:
        raise NotFound("party")
    return _public(party)
