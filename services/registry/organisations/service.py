"""Domain operations on organisations: validate, change state, write the outbox event. Never commits."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.registry import OrganisationKind
from kernel.outbox import record_event
from kernel.problems import Conflict, FieldError, Problem
from services.registry.organisations.events import organisation_registered
from services.registry.organisations.models import Organisation
from services.registry.organisations.schemas import OrganisationCreate

SOURCE = "/registry"


async def register_organisation(session: AsyncSession, *, application: OrganisationCreate) -> Organisation:
    if application.kind == OrganisationKind.employer and application.bin is None:
        raise Problem(422, "validation", "Invalid request", "An employer is identified by its BIN.",
                      errors=[FieldError(pointer="/bin", rule="required_for_employer",
                                         detail="an employer must give its 12-digit BIN")])
    if application.bin is not None:
        taken = await session.scalar(select(Organisation.id).where(Organisation.bin == application.bin))
        if taken is not None:
            raise Conflict(f"An organisation with BIN {application.bin} is already registered.",
                           organisation_id=str(taken))
    organisation = Organisation(**application.model_dump())
    session.add(organisation)
    record_event(session, organisation_registered(organisation), source=SOURCE)
    return organisation


async def get_organisation(session: AsyncSession, organisation_id: uuid.UUID) -> Organisation | None:
    return await session.get(Organisation, organisation_id)


async def list_organisations(session: AsyncSession, *, kind: OrganisationKind | None, limit: int,
                             offset: int) -> tuple[list[Organisation], int]:
    query = select(Organisation)
    count = select(func.count()).select_from(Organisation)
    if kind is not None:
        query = query.where(Organisation.kind == kind)
        count = count.where(Organisation.kind == kind)
    rows = (await session.execute(query.order_by(Organisation.name_ru).limit(limit).offset(offset))).scalars().all()
    return list(rows), int(await session.scalar(count) or 0)
