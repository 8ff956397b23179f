"""The portal inbox: what routing put there for an organisation, read and unread per user. Never commits."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.db import utcnow
from services.notifications.inbox.models import InboxMessage, InboxRead


def _unread(organisation_id: uuid.UUID, reader: str):  # type: ignore[no-untyped-def]
    read = select(InboxRead.message_id).where(InboxRead.reader == reader,
                                              InboxRead.message_id == InboxMessage.id)
    return and_(InboxMessage.organisation_id == organisation_id, ~read.exists())


async def unread_count(session: AsyncSession, organisation_id: uuid.UUID, reader: str) -> int:
    count = await session.scalar(select(func.count()).select_from(InboxMessage)
                                 .where(_unread(organisation_id, reader)))
    return int(count or 0)


async def inbox_of(session: AsyncSession, organisation_id: uuid.UUID, reader: str, *, unread_only: bool,
                   limit: int) -> tuple[list[tuple[InboxMessage, datetime | None]], int]:
    """The newest messages with when ``reader`` read each (None: unread), and the unread count."""
    query = (select(InboxMessage, InboxRead.read_at)
             .outerjoin(InboxRead, and_(InboxRead.message_id == InboxMessage.id, InboxRead.reader == reader))
             .where(InboxMessage.organisation_id == organisation_id))
    if unread_only:
        query = query.where(InboxRead.read_at.is_(None))  # type: ignore[union-attr]
    rows = (await session.execute(query.order_by(InboxMessage.created_at.desc(), InboxMessage.id)  # type: ignore[attr-defined]
                                  .limit(limit))).all()
    return [(row[0], row[1]) for row in rows], await unread_count(session, organisation_id, reader)


async def mark_read(session: AsyncSession, organisation_id: uuid.UUID, reader: str,
                    message_id: uuid.UUID) -> tuple[InboxMessage, datetime] | None:
    """Mark a message read by ``reader``; None when it is not this organisation's (the caller answers 404)."""
    message = await session.get(InboxMessage, message_id)
    if message is None or message.organisation_id != organisation_id:
        return None
    mark = await session.get(InboxRead, (message_id, reader))
    if mark is None:
        mark = InboxRead(message_id=message_id, reader=reader, read_at=utcnow())
        session.add(mark)
        try:
            await session.flush()
        except IntegrityError:  # the same user in two tabs: the first mark stands
            await session.rollback()
            mark = await session.get(InboxRead, (message_id, reader))
            message = await session.get(InboxMessage, message_id)
            assert mark is not None and message is not None
    if message.read_at is None:  # first read by anyone of the organisation
        message.read_at = mark.read_at
        session.add(message)
    return message, mark.read_at
