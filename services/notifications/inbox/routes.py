import uuid
from datetime import datetime

from fastapi import APIRouter

from kernel.db import SessionDep
from kernel.identity import CurrentIdentity, Identity
from kernel.paging import Limit
from kernel.problems import NotFound, Problem
from services.notifications.access import reader_of
from services.notifications.inbox import service
from services.notifications.inbox.models import InboxMessage
from services.notifications.inbox.schemas import InboxMessagePublic, InboxPage, UnreadCount

router = APIRouter(prefix="/inbox", tags=["inbox"])


def _organisation(identity: Identity) -> uuid.UUID:
    if identity.organisation_id is None:
        raise Problem(403, "no-organisation", "No organisation",
                      "The portal inbox belongs to an organisation; this caller acts for none.")
    return uuid.UUID(identity.organisation_id)


def _public(message: InboxMessage, read_at: datetime | None) -> InboxMessagePublic:
    return InboxMessagePublic(id=message.id, event_id=message.event_id, event_type=message.event_type,
                              subject=message.subject, title=message.title, created_at=message.created_at,
                              read_at=read_at)


@router.get("", summary="The caller's organisation inbox, newest first, read and unread for the caller")
async def read_inbox(session: SessionDep, identity: CurrentIdentity, unread_only: bool = False,
                     limit: Limit = 50) -> InboxPage:
    rows, unread = await service.inbox_of(session, _organisation(identity), reader_of(identity),
                                          unread_only=unread_only, limit=limit)
    return InboxPage(items=[_public(m, r) for m, r in rows], unread=unread)


@router.get("/unread-count", summary="How many inbox messages the caller has not read (the portal header)")
async def unread_count(session: SessionDep, identity: CurrentIdentity) -> UnreadCount:
    return UnreadCount(unread=await service.unread_count(session, _organisation(identity), reader_of(identity)))


@router.post("/{message_id}/read", summary="Mark one inbox message read for the caller")
async def mark_read(message_id: uuid.UUID, session: SessionDep, identity: CurrentIdentity) -> InboxMessagePublic:
    marked = await service.mark_read(session, _organisation(identity), reader_of(identity), message_id)
    if marked is None:
        raise NotFound("inbox message")
    await session.commit()
    return _public(*marked)
