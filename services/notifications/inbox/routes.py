import uuid

from fastapi import APIRouter

from kernel.db import SessionDep
from kernel.identity import CurrentIdentity, Identity
from kernel.paging import Limit
from kernel.problems import NotFound, Problem
from services.notifications.inbox import service
from services.notifications.inbox.schemas import InboxMessagePublic, InboxPage

router = APIRouter(prefix="/inbox", tags=["inbox"])


def _organisation(identity: Identity) -> uuid.UUID:
    if identity.organisation_id is None:
        raise Problem(403, "no-organisation", "No organisation",
                      "The portal inbox belongs to an organisation; this caller acts for none.")
    return uuid.UUID(identity.organisation_id)


@router.get("", summary="The caller's organisation inbox, newest first")
async def read_inbox(session: SessionDep, identity: CurrentIdentity, unread_only: bool = False,
                     limit: Limit = 50) -> InboxPage:
    rows, unread = await service.inbox_of(session, _organisation(identity), unread_only=unread_only, limit=limit)
    return InboxPage(items=[InboxMessagePublic.model_validate(r, from_attributes=True) for r in rows], unread=unread)


@router.post("/{message_id}/read", summary="Mark one inbox message read")
async def mark_read(message_id: uuid.UUID, session: SessionDep, identity: CurrentIdentity) -> InboxMessagePublic:
    message = await service.mark_read(session, _organisation(identity), message_id)
    if message is None:
        raise NotFound("inbox message")
    await session.commit()
    return InboxMessagePublic.model_validate(message, from_attributes=True)
