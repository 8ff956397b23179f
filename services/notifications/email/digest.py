"""The daily digest: low-priority events a contact chose to get once a day, in one e-mail.

A sweep at or after ``digest_hour`` (Kazakhstan time) writes, per contact with waiting items
and no digest yet today, one e-mail listing them, marks them digested and the contact's
digest day, in one transaction per contact (locked, so two replicas never write two).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kernel.calendar import KAZAKHSTAN
from kernel.db import utcnow
from services.notifications import wakeup
from services.notifications.email.models import Contact, DigestItem, MailMessage
from services.notifications.email.templates import digest_lines, render
from services.notifications.settings import NotificationsSettings

if TYPE_CHECKING:
    from kernel.app import PlatformState

log = structlog.get_logger(__name__)


class DigestSweeper:
    def __init__(self, settings: NotificationsSettings, *, skip_locked: bool = False,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.settings = settings
        self.skip_locked = skip_locked
        self.clock = clock
        self.__name__ = "digest-sweeper"

    async def __call__(self, state: PlatformState) -> None:
        while True:
            try:
                await self.sweep(state.sessionmaker)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("digest sweep failed")
            await asyncio.sleep(self.settings.digest_sweep_seconds)

    async def sweep(self, sessionmaker: async_sessionmaker[AsyncSession]) -> int:
        """One pass; returns how many digests were written."""
        local = self.clock().astimezone(KAZAKHSTAN)
        if local.hour < self.settings.digest_hour:
            return 0
        today = local.date()
        async with sessionmaker() as session:
            contact_ids = list((await session.execute(
                select(DigestItem.contact_id).where(DigestItem.digested_at.is_(None)).distinct())).scalars())  # type: ignore[union-attr]
        written = 0
        for contact_id in contact_ids:
            with contextlib.suppress(Exception):
                written += await self._digest(sessionmaker, contact_id, today)
        return written

    async def _digest(self, sessionmaker: async_sessionmaker[AsyncSession], contact_id: uuid.UUID, today: date) -> int:
        async with sessionmaker() as session:
            query = select(Contact).where(Contact.id == contact_id, or_(Contact.last_digest_on.is_(None),  # type: ignore[union-attr]
                                                                        Contact.last_digest_on < today))  # type: ignore[operator]
            if self.skip_locked:
                query = query.with_for_update(skip_locked=True)
            contact = (await session.execute(query)).scalar_one_or_none()
            if contact is None:
                await session.rollback()
                return 0
            items = list((await session.execute(select(DigestItem).where(
                DigestItem.contact_id == contact_id, DigestItem.digested_at.is_(None))  # type: ignore[union-attr]
                .order_by(DigestItem.created_at, DigestItem.id))).scalars())  # type: ignore[arg-type]
            if not items:
                await session.rollback()
                return 0
            lines = digest_lines(contact.language, [{"title": i.title, "link": i.link} for i in items])
            subject, body = render(contact.language, "digest", day=today.isoformat(), count=len(items), lines=lines)
            session.add(MailMessage(contact_id=contact.id, organisation_id=contact.organisation_id,
                                    to_address=contact.email, language=contact.language, kind="digest",
                                    reference=today.isoformat(), subject=subject, body=body,
                                    next_attempt_at=self.clock()))
            now = self.clock()
            for item in items:
                item.digested_at = now
                session.add(item)
            contact.last_digest_on = today
            session.add(contact)
            wakeup.mark(session, "mail")
            await session.commit()
        return 1
