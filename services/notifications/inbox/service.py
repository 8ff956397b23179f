"""The portal inbox: every event reaches the inbox of each organisation in its audience. Never commits."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.db import utcnow
from kernel.events import CloudEvent
from services.notifications.inbox.models import InboxMessage


def title_for(event: CloudEvent) -> str:
    """A short line for the inbox; the full record stays behind the gateway."""
    what = event.type.removeprefix("kz.ntc.").rsplit(".", 1)[0].replace(".", " ").replace("_", " ")
    name = event.data.get("name_ru") or event.data.get("title") or event.subject or ""
    return f"{what}: {name}".strip(": ")[:400]


async def deliver_to_inbox(session: AsyncSession, event: CloudEvent) -> int:
    audience = [uuid.UUID(str(org)) for org in event.data.get("audience", [])]
    for organisation_id in audience:
        session.add(InboxMessage(organisation_id=organisation_id, event_id=event.id, event_type=event.type,
                                 subject=event.subject, title=title_for(event)))
    return len(audience)


async def inbox_of(session: AsyncSession, organisation_id: uuid.UUID, *, unread_only: bool,
                   limit: int) -> tuple[list[InboxMessage], int]:
    query = select(InboxMessage).where(InboxMessage.organisation_id == organisation_id)
    if unread_only:
        query = query.where(InboxMessage.read_at.is_(None))  # type: ignore[union-attr]
    rows = (await session.execute(query.order_by(InboxMessage.created_at.desc()).limit(limit))).scalars().all()  # type: ignore[attr-defined]
    unread = await session.scalar(
        select(func.count()).select_from(InboxMessage)
        .where(InboxMessage.organisation_id == organisation_id, InboxMessage.read_at.is_(None))  # type: ignore[union-attr]
    )
    return list(rows), int(unread or 0)


async def mark_read(session: AsyncSession, organisation_id: uuid.UUID, message_id: uuid.UUID) -> InboxMessage | None:
    """Mark a message read; None when it is not this organisation's (the caller answers 404)."""
    message = await session.get(InboxMessage, message_id)
    if message is None or message.organisation_id != organisation_id:
        return None
    if message.read_at is None:
        message.read_at = utcnow()
        session.add(message)
    return message
