"""The registry service: trade unions, employers' organisations and employers, and the rules they are held to."""

from pathlib import Path

from fastapi import FastAPI

from contracts import produced_by
from contracts.registry import DeadlineApproaching, DeadlineMissed
from kernel.app import ServiceDefinition, create_service_app
from kernel.deadlines import DeadlineSpec
from services.registry.imports.routes import router as imports_router
from services.registry.imports.worker import import_worker
from services.registry.organisations.routes import router as organisations_router
from services.registry.reference.routes import router as reference_router
from services.registry.register.routes import router as register_router
from services.registry.registrations.routes import router as registrations_router
from services.registry.registrations.service import on_deadline_missed
from services.registry.rulesets.routes import router as rule_sets_router
from services.registry.settings import RegistrySettings
from services.registry.statistics.routes import router as statistics_router


def definition(settings: RegistrySettings | None = None) -> ServiceDefinition:
    return ServiceDefinition(
        name="registry",
        title="NTC registry",
        description="Trade unions at every tier, employers' associations and employers; registration, "
        "status confirmation, affiliation and membership figures.",
        settings=settings or RegistrySettings(),
        migrations_dir=Path(__file__).parent / "migrations",
        # The register's exports come before /organisations/{organisation_id}, which would take their paths.
        routers=[register_router, organisations_router, registrations_router, rule_sets_router, reference_router,
                 statistics_router, imports_router],
        sends=produced_by("registry"),
        background=[import_worker],
        deadlines=DeadlineSpec(approaching=DeadlineApproaching, missed=DeadlineMissed, on_missed=on_deadline_missed),
    )


def create_app(settings: RegistrySettings | None = None) -> FastAPI:
    return create_service_app(definition(settings))
