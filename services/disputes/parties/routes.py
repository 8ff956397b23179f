import uuid

from fastapi import APIRouter
from pydantic import BaseModel

from kernel.db import SessionDep
from kernel.identity import CurrentIdentity
from kernel.problems import NotFound
from services.disputes.parties.models import Party

router = APIRouter(prefix="/parties", tags=["parties"])


class PartyPublic(BaseModel):
    id: uuid.UUID
    kind: str
    name_ru: str
    name_kk: str
    registry_status: str


@router.get("/{party_id}", summary="One organisation as the disputes service knows it")
async def get_party(party_id: uuid.UUID, session: SessionDep, _: CurrentIdentity) -> PartyPublic:
    party = await session.get(Party, party_id)
    if party is None:
        raise NotFound("party")
    return PartyPublic.model_validate(party, from_attributes=True)
