"""The disputes service: collective and individual labour disputes, complaints, statutory deadlines."""

from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import produced_by
from contracts.disputes import DeadlineApproaching, DeadlineMissed
from kernel.app import ServiceDefinition, create_service_app
from kernel.deadlines import Deadline, DeadlineSpec
from services.disputes.collective.routes import router as collective_router
from services.disputes.collective.service import StallWatcher
from services.disputes.collective.service import on_deadline_missed as collective_missed
from services.disputes.complaints.routes import router as complaints_router
from services.disputes.complaints.service import on_deadline_missed as complaint_missed
from services.disputes.consumers.bargaining import subscription as bargaining_subscription
from services.disputes.consumers.registry import subscription as registry_subscription
from services.disputes.individual.routes import router as individual_router
from services.disputes.individual.service import on_deadline_missed as individual_missed
from services.disputes.parties.routes import router as parties_router
from services.disputes.roster.routes import router as roster_router
from services.disputes.settings import DisputesSettings
from services.disputes.statistics.routes import router as statistics_router


async def on_deadline_missed(session: AsyncSession, deadline: Deadline) -> None:
    """Each aggregate reacts to the kinds of deadline it scheduled and ignores the others."""
    for hook in (collective_missed, individual_missed, complaint_missed):
        await hook(session, deadline)


def definition(settings: DisputesSettings | None = None) -> ServiceDefinition:
    return ServiceDefinition(
        name="disputes",
        title="NTC disputes",
        description="Collective labour disputes from demands to settlement, individual disputes, "
        "freedom-of-association complaints and their statutory deadlines.",
        settings=settings or DisputesSettings(),
        migrations_dir=Path(__file__).parent / "migrations",
        routers=[parties_router, collective_router, roster_router, statistics_router, individual_router,
                 complaints_router],
        sends=produced_by("disputes"),
        subscriptions=[registry_subscription, bargaining_subscription],
        background=[StallWatcher()],
        deadlines=DeadlineSpec(approaching=DeadlineApproaching, missed=DeadlineMissed, on_missed=on_deadline_missed),
    )


def create_app(settings: DisputesSettings | None = None) -> FastAPI:
    return create_service_app(definition(settings))
