"""The parties read model of the disputes service, applied from registry events. Never commits."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.registry import OrganisationRegistered
from kernel.db import upsert, utcnow
from services.disputes.parties.models import Party


async def apply_organisation_registered(session: AsyncSession, event: OrganisationRegistered) -> None:
    await upsert(session, Party, {
        "id": event.organisation_id, "kind": event.kind.value, "name_ru": event.name_ru, "name_kk": event.name_kk,
        "bin": event.bin, "region_code": event.region_code, "registry_status": event.status, "updated_at": utcnow(),
    }, key=["id"])
