"""The bargaining service: negotiations, parity commissions, clauses and agreements at every level."""

from pathlib import Path

from fastapi import FastAPI

from contracts import produced_by
from contracts.bargaining import DeadlineApproaching, DeadlineMissed
from kernel.app import ServiceDefinition, create_service_app
from kernel.deadlines import DeadlineSpec
from services.bargaining.agreements.routes import coverage_router
from services.bargaining.agreements.routes import router as agreements_router
from services.bargaining.agreements.service import on_deadline_missed
from services.bargaining.amendments.routes import router as amendments_router
from services.bargaining.commissions.routes import router as commissions_router
from services.bargaining.commitments.routes import router as commitments_router
from services.bargaining.consumers.registry import subscription as registry_subscription
from services.bargaining.negotiations.routes import router as negotiations_router
from services.bargaining.parties.routes import router as parties_router
from services.bargaining.settings import BargainingSettings


def definition(settings: BargainingSettings | None = None) -> ServiceDefinition:
    return ServiceDefinition(
        name="bargaining",
        title="NTC bargaining",
        description="Collective bargaining at general, sectoral, regional and enterprise level.",
        settings=settings or BargainingSettings(),
        migrations_dir=Path(__file__).parent / "migrations",
        routers=[parties_router, negotiations_router, amendments_router, agreements_router, coverage_router,
                 commissions_router, commitments_router],
        sends=produced_by("bargaining"),
        subscriptions=[registry_subscription],
        deadlines=DeadlineSpec(approaching=DeadlineApproaching, missed=DeadlineMissed, on_missed=on_deadline_missed),
    )


def create_app(settings: BargainingSettings | None = None) -> FastAPI:
    return create_service_app(definition(settings))
