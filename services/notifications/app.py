"""The notifications service: events reach the organisations they concern, by signed webhook,
e-mail (or a daily digest) and the portal inbox."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from contracts import produced_by
from kernel.app import ServiceDefinition, create_service_app
from kernel.db import is_postgres, utcnow
from services.notifications.consumers.intake import ProducerStreams, intake_subscriptions
from services.notifications.email.digest import DigestSweeper
from services.notifications.email.mailer import Mailer
from services.notifications.email.routes import router as contacts_router
from services.notifications.inbox.routes import router as inbox_router
from services.notifications.settings import NotificationsSettings
from services.notifications.subscriptions.routes import router as subscriptions_router
from services.notifications.webhooks.dispatcher import WebhookDispatcher
from services.notifications.webhooks.routes import router as webhooks_router
from services.notifications.webhooks.secret_box import LegacySecretSealer, require_keys


def definition(settings: NotificationsSettings | None = None, *,
               clock: Callable[[], datetime] = utcnow) -> ServiceDefinition:
    """``clock`` drives what is due when - routing stamps, retries, leases, the digest hour (tests move it);
    signatures use the wall clock."""
    settings = settings or NotificationsSettings()
    skip_locked = is_postgres(settings.database_url)
    return ServiceDefinition(
        name="notifications",
        title="NTC notifications",
        description="Events reach the organisations they concern: subscriptions per channel, signed webhooks "
                    "(Standard Webhooks), e-mail in Kazakh, Russian or English with a daily digest, and the "
                    "portal inbox read per user.",
        settings=settings,
        migrations_dir=Path(__file__).parent / "migrations",
        routers=[inbox_router, subscriptions_router, webhooks_router, contacts_router],
        sends=produced_by("notifications"),
        subscriptions=intake_subscriptions(settings, clock),
        background=[ProducerStreams(settings), LegacySecretSealer(settings),
                    WebhookDispatcher(settings, skip_locked=skip_locked, clock=clock),
                    Mailer(settings, skip_locked=skip_locked, clock=clock),
                    DigestSweeper(settings, skip_locked=skip_locked, clock=clock)],
        clock=clock,
    )


def create_app(settings: NotificationsSettings | None = None) -> FastAPI:
    """The service as it runs: without a key to encrypt webhook secrets at rest it refuses to start
    (before touching its database). The app is still built, so its documents can be read without one."""
    settings = settings or NotificationsSettings()
    app = create_service_app(definition(settings))
    platform_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Any]:
        require_keys(settings)
        async with platform_lifespan(app) as state:
            yield state

    app.router.lifespan_context = lifespan
    return app
