"""The portal inbox: what routing put there for an organisation or for a staff desk, read and unread per user.
Never commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from kernel.db import utcnow
from services.notifications.inbox.models import InboxMessage, InboxRead


@dataclass(frozen=True)
class InboxOwner:
    """Whose messages a caller reads: one organisation's, or the desks of the staff roles the caller holds."""

    organisation_id: uuid.UUID | None = None
    staff_roles: tuple[str, ...] = ()

    def holds(self) -> ColumnElement[bool]:
        if self.organisation_id is not None:
            return InboxMessage.organisation_id == self.organisation_id  # type: ignore[return-value]
        return InboxMessage.staff_role.in_(self.staff_roles)  # type: ignore[union-attr]

    def owns(self, message: InboxMessage) -> bool:
        if self.organisation_id is not None:
            return message.organisation_id == self.organisation_id
        return message.staff_role is not None and message.staff_role in self.staff_roles


def _unread(owner: InboxOwner, reader: str):  # type: ignore[no-untyped-def]
    read = select(InboxRead.message_id).where(InboxRead.reader == reader,
                                              InboxRead.message_id == InboxMessage.id)
    return and_(owner.holds(), ~read.exists())


async def unread_count(session: AsyncSession, owner: InboxOwner, reader: str) -> int:
    count = await session.scalar(select(func.count()).select_from(InboxMessage).where(_unread(owner, reader)))
    return int(count or 0)


async def inbox_of(session: AsyncSession, owner: InboxOwner, reader: str, *, unread_only: bool,
                   limit: int) -> tuple[list[tuple[InboxMessage, datetime | None]], int]:
    """The newest messages with when ``reader`` read each (None: unread), and the unread count."""
    query = (select(InboxMessage, InboxRead.read_at)
             .outerjoin(InboxRead, and_(InboxRead.message_id == InboxMessage.id, InboxRead.reader == reader))
             .where(owner.holds()))
    if unread_only:
        query = query.where(InboxRead.read_at.is_(None))  # type: ignore[union-attr]
    rows = (await session.execute(query.order_by(InboxMessage.created_at.desc(), InboxMessage.id)  # type: ignore[attr-defined]
                                  .limit(limit))).all()
    return [(row[0], row[1]) for row in rows], await unread_count(session, owner, reader)


async def mark_read(session: AsyncSession, owner: InboxOwner, reader: str,
                    message_id: uuid.UUID) -> tuple[InboxMessage, datetime] | None:
    """Mark a message read by ``reader``; None when it is not in ``owner``'s inbox (the caller answers 404)."""
    message = await session.get(InboxMessage, message_id)
    if message is None or not owner.owns(message):
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
    if message.read_at is None:  # first read by anyone who shares the inbox
        message.read_at = mark.read_at
        session.add(message)
    return message, mark.read_at
