"""An organisation's e-mail contacts: its own only. Never commits."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.identity import Identity
from kernel.problems import Conflict, NotFound
from services.notifications.access import own_organisation, reads_all, visible_to
from services.notifications.email.models import Contact, MailMessage
from services.notifications.email.schemas import ContactIn
from services.notifications.subscriptions.service import drop_for_contact


async def create(session: AsyncSession, *, body: ContactIn, identity: Identity) -> Contact:
    organisation_id = own_organisation(identity)
    exists = await session.scalar(select(func.count()).select_from(Contact).where(
        Contact.organisation_id == organisation_id, func.lower(Contact.email) == body.email.lower()))
    if exists:
        raise Conflict("This address is already a contact of your organisation.")
    contact = Contact(organisation_id=organisation_id, email=body.email, name=body.name, language=body.language.value,
                      created_by=identity.actor)
    session.add(contact)
    await session.flush()
    return contact


async def require(session: AsyncSession, contact_id: uuid.UUID, identity: Identity) -> Contact:
    contact = await session.get(Contact, contact_id)
    if contact is None or not visible_to(identity, contact.organisation_id):
        raise NotFound("contact")
    return contact


async def remove(session: AsyncSession, contact_id: uuid.UUID, identity: Identity) -> None:
    contact = await session.get(Contact, contact_id)
    if contact is None or not identity.acts_for(contact.organisation_id):
        raise NotFound("contact")
    await drop_for_contact(session, contact.id)
    # Mail not yet sent to a removed contact is not sent.
    await session.execute(update(MailMessage).where(MailMessage.contact_id == contact.id,  # type: ignore[arg-type]
                                                    MailMessage.status == "pending").values(status="cancelled"))
    await session.delete(contact)


async def listing(session: AsyncSession, *, identity: Identity, organisation_id: uuid.UUID | None, limit: int,
                  offset: int) -> tuple[list[Contact], int]:
    query = select(Contact)
    if reads_all(identity):
        if organisation_id is not None:
            query = query.where(Contact.organisation_id == organisation_id)
    else:
        query = query.where(Contact.organisation_id == own_organisation(identity))
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = (await session.execute(query.order_by(Contact.created_at, Contact.id)  # type: ignore[arg-type]
                                  .limit(limit).offset(offset))).scalars().all()
    return list(rows), int(total or 0)
