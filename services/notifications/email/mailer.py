"""The mailer: sends owed e-mails over SMTP (aiosmtplib), with retries; several replicas share
the work through the same claims as webhooks."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import TYPE_CHECKING

import aiosmtplib
import structlog
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kernel.db import utcnow
from services.notifications import wakeup
from services.notifications.claims import claim_due
from services.notifications.email.models import MailMessage
from services.notifications.settings import NotificationsSettings

if TYPE_CHECKING:
    from kernel.app import PlatformState

log = structlog.get_logger(__name__)

MAIL_SENT = Counter("ntc_mail_total", "E-mails sent or failed", ["outcome"])


def compose(message: MailMessage, sender: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = formataddr(("NTC", sender))
    mail["To"] = message.to_address
    mail["Subject"] = message.subject
    # Stable per message: a resend after a crash carries the same id, so mail clients can fold it.
    mail["Message-ID"] = make_msgid(idstring=message.id.hex, domain=sender.rsplit("@", 1)[-1])
    mail.set_content(message.body, charset="utf-8")
    mail["Content-Language"] = message.language  # after set_content, which resets the Content-* headers
    return mail


class Mailer:
    def __init__(self, settings: NotificationsSettings, *, skip_locked: bool = False,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.settings = settings
        self.skip_locked = skip_locked
        self.clock = clock
        # Mail goes one message after another: a pass may take every message's full timeout.
        self.lease_seconds = max(settings.dispatch_lease_seconds,
                                 1.5 * settings.mail_batch_size * settings.smtp_timeout_seconds + 5)
        self._wakeup = asyncio.Event()
        self.__name__ = "mailer"

    def wake(self) -> None:
        self._wakeup.set()

    async def __call__(self, state: PlatformState) -> None:
        await self.run(state.sessionmaker)

    async def run(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        wakeup.register("mail", self.wake)
        self.wake()
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), timeout=self.settings.dispatch_poll_seconds)
                self._wakeup.clear()
                try:
                    while await self.send_once(sessionmaker) >= self.settings.mail_batch_size:
                        pass
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("mail pass failed")
                    await asyncio.sleep(0.5)
        finally:
            wakeup.unregister("mail", self.wake)

    async def send_once(self, sessionmaker: async_sessionmaker[AsyncSession]) -> int:
        token, claimed = await claim_due(
            sessionmaker, MailMessage, now=self.clock(), lease_seconds=self.lease_seconds,
            batch_size=self.settings.mail_batch_size, skip_locked=self.skip_locked)
        for message in claimed:
            error: str | None = None
            try:
                await aiosmtplib.send(compose(message, self.settings.smtp_sender), hostname=self.settings.smtp_host,
                                      port=self.settings.smtp_port, timeout=self.settings.smtp_timeout_seconds,
                                      start_tls=self.settings.smtp_start_tls)
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                error = f"{type(exc).__name__}: {exc}"[:500]
            await self._settle(sessionmaker, token, message, error)
        return len(claimed)

    async def _settle(self, sessionmaker: async_sessionmaker[AsyncSession], token: str, claimed: MailMessage,
                      error: str | None) -> None:
        now = self.clock()
        async with sessionmaker() as session:
            message = await session.get(MailMessage, claimed.id, populate_existing=True)
            if message is None or message.lease_owner != token:
                return
            message.attempts += 1
            message.lease_until = message.lease_owner = None
            message.last_error = error
            schedule = self.settings.mail_retry_seconds
            if error is None:
                message.status, message.sent_at = "sent", now
            elif message.attempts > len(schedule):
                message.status = "failed"
            else:
                message.next_attempt_at = now + timedelta(seconds=schedule[message.attempts - 1])
            session.add(message)
            await session.commit()
        MAIL_SENT.labels("sent" if error is None else "failed").inc()
        if error is not None:
            log.warning("e-mail not sent", message_id=str(claimed.id), error=error)
