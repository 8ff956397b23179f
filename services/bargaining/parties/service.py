"""The parties read model: applied from registry events, read by bargaining. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.registry import OrganisationRegistered, OrganisationUpdated
from kernel.db import upsert_many
from kernel.problems import Problem
from services.bargaining.parties.models import Party
from services.bargaining.parties.rules import may_bargain


async def apply_organisation_registered(session: AsyncSession, event: OrganisationRegistered, *,
                                        at: datetime) -> None:
    """A new organisation in the register (or the same event again: nothing changes)."""
    await apply_organisations_registered(session, [(event, at)])


async def apply_organisations_registered(session: AsyncSession,
                                         registrations: Sequence[tuple[OrganisationRegistered, datetime]]) -> None:
    """Many registrations (event, time) in one statement, applied in order, as one by one."""
    await upsert_many(session, Party, [{
        "id": event.organisation_id, "kind": event.kind.value, "name_kk": event.name_kk, "name_ru": event.name_ru,
        "name_en": event.name_en, "bin": event.bin, "region_code": event.region_code,
        "registry_status": event.status, "updated_at": at,
    } for event, at in registrations], key=["id"], unless_newer="updated_at")


async def apply_status(session: AsyncSession, organisation_id: uuid.UUID, status: str, *, at: datetime) -> None:
    """The registry changed the organisation's status (confirmed, lapsed, liquidated) at ``at``."""
    await session.execute(update(Party).where(Party.id == organisation_id, Party.updated_at <= at)
                          .values(registry_status=status, updated_at=at))


async def apply_organisation_updated(session: AsyncSession, event: OrganisationUpdated, *, at: datetime) -> None:
    await session.execute(update(Party).where(Party.id == event.organisation_id, Party.updated_at <= at).values(
        name_kk=event.name_kk, name_ru=event.name_ru, name_en=event.name_en, region_code=event.region_code,
        registry_status=event.status, updated_at=at))


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
