import uuid
from datetime import datetime

from fastapi import APIRouter

from kernel.db import SessionDep
from kernel.identity import CurrentIdentity
from kernel.paging import Limit
from kernel.problems import NotFound
from services.notifications.access import inbox_owner, reader_of
from services.notifications.inbox import service
from services.notifications.inbox.models import InboxMessage
from services.notifications.inbox.schemas import InboxMessagePublic, InboxPage, UnreadCount

router = APIRouter(prefix="/inbox", tags=["inbox"])

WHOSE = ("An organisation's caller reads its organisation's inbox; a ministry staff member (acting for no "
         "organisation) reads the desks of the staff roles they hold, shared with everyone holding the role. "
         "Read and unread are per person. 403 for a caller with neither an organisation nor a role with a desk.")


def _public(message: InboxMessage, read_at: datetime | None) -> InboxMessagePublic:
    return InboxMessagePublic(id=message.id, event_id=message.event_id, event_type=message.event_type,
                              subject=message.subject, title=message.title, created_at=message.created_at,
                              read_at=read_at, staff_role=message.staff_role)


@router.get("", summary="The caller's inbox (organisation or staff desks), newest first, read and unread for "
                        "the caller", description=WHOSE)
async def read_inbox(session: SessionDep, identity: CurrentIdentity, unread_only: bool = False,
                     limit: Limit = 50) -> InboxPage:
    rows, unread = await service.inbox_of(session, inbox_owner(identity), reader_of(identity),
                                          unread_only=unread_only, limit=limit)
    return InboxPage(items=[_public(m, r) for m, r in rows], unread=unread)


@router.get("/unread-count", summary="How many inbox messages the caller has not read (the portal header)",
            description=WHOSE)
async def unread_count(session: SessionDep, identity: CurrentIdentity) -> UnreadCount:
    return UnreadCount(unread=await service.unread_count(session, inbox_owner(identity), reader_of(identity)))


@router.post("/{message_id}/read", summary="Mark one inbox message read for the caller",
             description=WHOSE + " A message of another organisation, or of a desk the caller does not hold, "
                                 "answers 404 as a missing one does.")
async def mark_read(message_id: uuid.UUID, session: SessionDep, identity: CurrentIdentity) -> InboxMessagePublic:
    marked = await service.mark_read(session, inbox_owner(identity), reader_of(identity), message_id)
    if marked is None:
        raise NotFound("inbox message")
    await session.commit()
    return _public(*marked)
