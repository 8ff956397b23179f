"""The notifications service: subscriptions and delivery by webhook, e-mail and the portal inbox."""

from pathlib import Path

from fastapi import FastAPI

from contracts import produced_by
from kernel.app import ServiceDefinition, create_service_app
from services.notifications.consumers.registry import subscription as registry_subscription
from services.notifications.inbox.routes import router as inbox_router
from services.notifications.settings import NotificationsSettings


def definition(settings: NotificationsSettings | None = None) -> ServiceDefinition:
    return ServiceDefinition(
        name="notifications",
        title="NTC notifications",
        description="Events reach the organisations they concern: portal inbox now; signed webhooks and e-mail next.",
        settings=settings or NotificationsSettings(),
        migrations_dir=Path(__file__).parent / "migrations",
        routers=[inbox_router],
        sends=produced_by("notifications"),
        subscriptions=[registry_subscription],
    )


def create_app(settings: NotificationsSettings | None = None) -> FastAPI:
    return create_service_app(definition(settings))
