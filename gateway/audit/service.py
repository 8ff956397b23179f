"""Writing and reading the audit log. Nothing commits here: a row joins the caller's transaction,
so it is written exactly when the change it records is."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.models import AuditEvent

ANONYMOUS_ACTOR = "anonymous"
CLI_ACTOR = "cli"


def record(session: AsyncSession, *, action: str, actor: str, subject: str | None = None,
           address: str | None = None, detail: dict[str, Any] | None = None) -> AuditEvent:
    event = AuditEvent(action=action, actor=actor, subject=subject, address=address, detail=detail or {})
    session.add(event)
    return event


async def list_events(session: AsyncSession, *, limit: int, offset: int) -> tuple[list[AuditEvent], int]:
    """A page of events, newest first, and how many there are in all."""
    total = await session.scalar(select(func.count()).select_from(AuditEvent))
    page = await session.execute(
        select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())  # type: ignore[attr-defined]
        .limit(limit).offset(offset)
    )
    return list(page.scalars().all()), int(total or 0)


async def events_of(session: AsyncSession, action: str) -> list[AuditEvent]:
    result = await session.execute(select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.at))  # type: ignore[arg-type]
    return list(result.scalars().all())
