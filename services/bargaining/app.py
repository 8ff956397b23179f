"""The bargaining service: negotiations, parity commissions, clauses and agreements at every level."""

from pathlib import Path

from fastapi import FastAPI

from contracts import produced_by
from kernel.app import ServiceDefinition, create_service_app
from services.bargaining.consumers.registry import subscription as registry_subscription
from services.bargaining.parties.routes import router as parties_router
from services.bargaining.settings import BargainingSettings


def definition(settings: BargainingSettings | None = None) -> ServiceDefinition:
    return ServiceDefinition(
        name="bargaining",
        title="NTC bargaining",
        description="Collective bargaining at general, sectoral, regional and enterprise level.",
        settings=settings or BargainingSettings(),
        migrations_dir=Path(__file__).parent / "migrations",
        routers=[parties_router],
        sends=produced_by("bargaining"),
        subscriptions=[registry_subscription],
    )


def create_app(settings: BargainingSettings | None = None) -> FastAPI:
    return create_service_app(definition(settings))
