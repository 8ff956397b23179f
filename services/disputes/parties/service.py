"""The parties read model of the disputes service, applied from registry events. Never commits."""

from __future__ import annotations

import uuid

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.registry import OrganisationRegistered, OrganisationUpdated
from kernel.db import upsert, utcnow
from services.disputes.parties.models import Party


async def apply_organisation_registered(session: AsyncSession, event: OrganisationRegistered) -> None:
    await upsert(session, Party, {
        "id": event.organisation_id, "kind": event.kind.value, "name_ru": event.name_ru, "name_kk": event.name_kk,
        "bin": event.bin, "region_code": event.region_code, "registry_status": event.status, "updated_at": utcnow(),
    }, key=["id"])


async def apply_status(session: AsyncSession, organisation_id: uuid.UUID, status: str) -> None:
    """The registry changed the organisation's status (confirmed, lapsed, liquidated)."""
    await session.execute(update(Party).where(Party.id == organisation_id)
                          .values(registry_status=status, updated_at=utcnow()))


async def apply_organisation_updated(session: AsyncSession, event: OrganisationUpdated) -> None:
    await session.execute(update(Party).where(Party.id == event.organisation_id).values(
        name_kk=event.name_kk, name_ru=event.name_ru, region_code=event.region_code,
        registry_status=event.status, updated_at=utcnow()))
