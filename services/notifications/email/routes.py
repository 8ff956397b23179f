"""E-mail contacts over HTTP: thin routes; each write commits once."""

import uuid

from fastapi import APIRouter, Response, status

from kernel.db import SessionDep
from kernel.identity import CurrentIdentity
from kernel.paging import Limit, Offset
from services.notifications.email import contacts
from services.notifications.email.schemas import ContactIn, ContactPage, ContactPublic

router = APIRouter(prefix="/contacts", tags=["contacts"])


def _public(row: object) -> ContactPublic:
    return ContactPublic.model_validate(row, from_attributes=True)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Add an e-mail contact to the caller's organisation")
async def create_contact(body: ContactIn, session: SessionDep, identity: CurrentIdentity) -> ContactPublic:
    contact = await contacts.create(session, body=body, identity=identity)
    await session.commit()
    return _public(contact)


@router.get("", summary="The caller's organisation's contacts (staff: every organisation's, or one's)")
async def list_contacts(session: SessionDep, identity: CurrentIdentity, organisation_id: uuid.UUID | None = None,
                        limit: Limit = 50, offset: Offset = 0) -> ContactPage:
    rows, total = await contacts.listing(session, identity=identity, organisation_id=organisation_id, limit=limit,
                                         offset=offset)
    return ContactPage(items=[_public(r) for r in rows], total=total)


@router.get("/{contact_id}", summary="One contact")
async def get_contact(contact_id: uuid.UUID, session: SessionDep, identity: CurrentIdentity) -> ContactPublic:
    return _public(await contacts.require(session, contact_id, identity))


@router.delete("/{contact_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Remove a contact (its subscriptions and unsent mail go with it)")
async def delete_contact(contact_id: uuid.UUID, session: SessionDep, identity: CurrentIdentity) -> Response:
    await contacts.remove(session, contact_id, identity)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
