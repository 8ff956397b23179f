"""The parties read model of the disputes service, applied from registry events. Never commits."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.registry import OrganisationRegistered
from kernel.db import utcnow
from services.disputes.parties.models import Party


async def apply_organisation_registered(session: AsyncSession, event: OrganisationRegistered) -> None:
    party = await session.get(Party, event.organisation_id)
    if party is None:
        party = Party(id=event.organisation_id, kind=event.kind, name_ru=event.name_ru, name_kk=event.name_kk,
                      registry_status=event.status)
    party.kind, party.name_ru, party.name_kk = event.kind, event.name_ru, event.name_kk
    party.bin, party.region_code, party.registry_status = event.bin, event.region_code, event.status
    party.updated_at = utcnow()
    session.add(party)
