"""The parties read model: applied from registry events, read by bargaining. Never commits."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.registry import OrganisationRegistered
from kernel.db import utcnow
from kernel.problems import Problem
from services.bargaining.parties.models import Party
from services.bargaining.parties.rules import may_bargain


async def apply_organisation_registered(session: AsyncSession, event: OrganisationRegistered) -> Party:
    party = await session.get(Party, event.organisation_id) or Party(id=event.organisation_id, kind=event.kind,
                                                                     name_kk=event.name_kk, name_ru=event.name_ru,
                                                                     registry_status=event.status)
    party.kind = event.kind
    party.name_kk, party.name_ru, party.name_en = event.name_kk, event.name_ru, event.name_en
    party.bin, party.region_code = event.bin, event.region_code
    party.registry_status = event.status
    party.updated_at = utcnow()
    session.add(party)
    return party


async def eligible_party(session: AsyncSession, organisation_id: uuid.UUID) -> Party:
    """The party, if the registry holds it in a status that allows bargaining; a clear problem otherwise."""
    party = await session.get(Party, organisation_id)
    if party is None:
        raise Problem(422, "unknown-party", "Unknown party",
                      f"Organisation {organisation_id} is not in the register known to bargaining.",
                      organisation_id=str(organisation_id))
    if not may_bargain(party.registry_status):
        raise Problem(422, "party-not-eligible", "Party may not bargain",
                      f"{party.name_ru} has registry status '{party.registry_status}'.",
                      organisation_id=str(organisation_id), registry_status=party.registry_status)
    return party


async def list_parties(session: AsyncSession, *, limit: int, offset: int) -> tuple[list[Party], int]:
    rows = (await session.execute(select(Party).order_by(Party.name_ru).limit(limit).offset(offset))).scalars().all()
    return list(rows), int(await session.scalar(select(func.count()).select_from(Party)) or 0)
