"""The parties read model of the disputes service, applied from registry events. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.registry import OrganisationRegistered, OrganisationUpdated
from kernel.db import upsert_many
from kernel.problems import FieldError, Problem
from services.disputes.collective.rules import may_be_party
from services.disputes.parties.models import Party


async def apply_organisation_registered(session: AsyncSession, event: OrganisationRegistered, *,
                                        at: datetime) -> None:
    """A new organisation in the register (or the same event again: nothing changes)."""
    await apply_organisations_registered(session, [(event, at)])


async def apply_organisations_registered(session: AsyncSession,
                                         registrations: Sequence[tuple[OrganisationRegistered, datetime]]) -> None:
    """Many registrations (event, time) in one statement, applied in order, as one by one."""
    await upsert_many(session, Party, [{
        "id": event.organisation_id, "kind": event.kind.value, "name_ru": event.name_ru, "name_kk": event.name_kk,
        "bin": event.bin, "region_code": event.region_code, "registry_status": event.status, "updated_at": at,
    } for event, at in registrations], key=["id"], unless_newer="updated_at")


async def apply_status(session: AsyncSession, organisation_id: uuid.UUID, status: str, *, at: datetime) -> None:
    """The registry changed the organisation's status (confirmed, lapsed, liquidated) at ``at``."""
    await session.execute(update(Party).where(Party.id == organisation_id, Party.updated_at <= at)
                          .values(registry_status=status, updated_at=at))


async def apply_organisation_updated(session: AsyncSession, event: OrganisationUpdated, *, at: datetime) -> None:
    await session.execute(update(Party).where(Party.id == event.organisation_id, Party.updated_at <= at).values(
        name_kk=event.name_kk, name_ru=event.name_ru, region_code=event.region_code,
        registry_status=event.status, updated_at=at))


async def eligible_party(session: AsyncSession, organisation_id: uuid.UUID, *, pointer: str,
                         kinds: frozenset[str], role: str) -> Party:
    """The party, if the registry holds it as a ``role`` in a status that allows it; a clear problem otherwise."""
    party = await session.get(Party, organisation_id)
    if party is None:
        raise Problem(422, "unknown-party", "Unknown party",
                      f"Organisation {organisation_id} is not in the register known to disputes.",
                      errors=[FieldError(pointer=pointer, rule="registered", detail="not in the register")])
    if party.kind not in kinds:
        raise Problem(422, "validation", "Invalid request", f"{party.name_ru} ({party.kind}) cannot act as {role}.",
                      errors=[FieldError(pointer=pointer, rule="party_kind",
                                         detail=f"{party.kind} cannot act as {role}")])
    if not may_be_party(party.registry_status):
        raise Problem(422, "party-not-eligible", "Party may not be a party to a dispute",
                      f"{party.name_ru} has registry status '{party.registry_status}'.",
                      errors=[FieldError(pointer=pointer, rule="registry_status",
                                         detail=f"registry status '{party.registry_status}'")])
    return party
