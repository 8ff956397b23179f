"""The service app factory: every service is wired the same way.

A service describes itself with a `ServiceDefinition` (its routers, the events it sends
and receives, its consumers, its migrations); `create_service_app` does the rest:
migrations at start, the database, the bus, the outbox relay, the supervised
consumers and dead-letter loop, problem+json errors, health, metrics, AsyncAPI.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from kernel.asyncapi import asyncapi_document, event_schema
from kernel.bus import Bus, StreamSpec
from kernel.consumer import ConsumerLoop, DeadLetter, DeadLetterLoop, Subscription, replay_dead_letter
from kernel.db import create_engine, create_sessionmaker, is_postgres, utcnow
from kernel.deadlines import DeadlineSpec, DeadlineSweeper
from kernel.docs import install_offline_docs
from kernel.events import EventData, stream_name, stream_subjects
from kernel.identity import Identity, IdentityVerifier, require_roles
from kernel.migrations import database_checks, upgrade
from kernel.nul import RefuseNulMiddleware
from kernel.observability import RequestContextMiddleware, configure_logging
from kernel.outbox import Relay
from kernel.paging import RowId
from kernel.problems import PROBLEM_RESPONSES, NotFound, install_problem_handlers
from kernel.settings import ServiceSettings

log = structlog.get_logger(__name__)

BackgroundTask = Callable[["PlatformState"], Awaitable[None]]


@dataclass
class ServiceDefinition:
    name: str
    title: str
    description: str
    settings: ServiceSettings
    migrations_dir: Path
    routers: Sequence[APIRouter] = ()
    sends: Sequence[type[EventData]] = ()
    subscriptions: Sequence[Subscription] = ()
    background: Sequence[BackgroundTask] = ()
    # Set by a service that stores deadlines: the lifespan then runs a DeadlineSweeper.
    deadlines: DeadlineSpec | None = None
    # The service's clock for what is due when (tests move it); routes read it as state.definition.clock.
    clock: Callable[[], datetime] = utcnow

    def __post_init__(self) -> None:
        if self.deadlines is not None:
            # The deadline events are this service's events: documented and relayed like the others.
            for event_class in (self.deadlines.approaching, self.deadlines.missed):
                if event_class not in self.sends:
                    raise ValueError(f"{event_class.event_type} is a deadline event but not in sends")

    @property
    def receives(self) -> list[type[EventData]]:
        from contracts import load_catalog

        catalog = load_catalog()
        subjects = [s for sub in self.subscriptions for s in sub.subjects]
        return [model for event_type, model in sorted(catalog.items())
                if any(_matches(p, event_type) for p in subjects)]


def _matches(pattern: str, subject: str) -> bool:
    p_tokens, s_tokens = pattern.split("."), subject.split(".")
    for i, token in enumerate(p_tokens):
        if token == ">":
            return len(s_tokens) > i
        if i >= len(s_tokens) or (token != "*" and token != s_tokens[i]):
            return False
    return len(p_tokens) == len(s_tokens)


@dataclass
class PlatformState:
    definition: ServiceDefinition
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    bus: Bus
    identity_verifier: IdentityVerifier
    relay: Relay | None = None
    deadline_sweeper: DeadlineSweeper | None = None
    consumer_loops: list[ConsumerLoop] = field(default_factory=list)
    dead_letter_loop: DeadLetterLoop | None = None
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    @property
    def settings(self) -> ServiceSettings:
        return self.definition.settings


async def _connect_forever(bus: Bus) -> None:
    delay = 0.2
    while True:
        try:
            await bus.connect()
            log.info("nats connected", url=bus.url)
            return
        except Exception as exc:
            log.warning("nats not reachable yet", url=bus.url, error=repr(exc), retry_in=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


def freeze_start_up(settings: ServiceSettings) -> None:
    """Once a process has started, keep what start-up built out of the garbage collector's full passes
    (``gc_freeze_after_start``): they no longer re-scan objects that live as long as the process."""
    if settings.gc_freeze_after_start:
        gc.collect()
        gc.freeze()


def _lifespan(definition: ServiceDefinition):
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings = definition.settings
        configure_logging(level=settings.log_level, json=settings.log_json)
        engine = create_engine(settings.database_url)
        if settings.migrate_on_start:
            await upgrade(engine, definition.migrations_dir)
        bus = Bus(settings.nats_url, name=definition.name)
        relay: Relay | None = None
        sessionmaker = create_sessionmaker(engine,
                                           on_commit=lambda rows: relay.committed(rows) if relay else None)
        state = PlatformState(
            definition=definition, engine=engine, sessionmaker=sessionmaker, bus=bus,
            identity_verifier=IdentityVerifier(settings.identity_public_key.get_secret_value(),
                                               audience=settings.identity_audience),
        )
        app.state.platform = state
        state.tasks.append(asyncio.create_task(_connect_forever(bus), name="nats-connect"))
        if definition.sends and settings.relay_enabled:
            relay = Relay(
                sessionmaker, bus, service=definition.name, batch_size=settings.relay_batch_size,
                poll_seconds=settings.relay_poll_seconds,
                publish_timeout_seconds=settings.relay_publish_timeout_seconds,
                skip_locked=is_postgres(settings.database_url),
                stream=StreamSpec(name=stream_name(definition.name), subjects=stream_subjects(definition.name),
                                  duplicate_window_seconds=settings.stream_duplicate_window_seconds,
                                  replicas=settings.stream_replicas,
                                  max_age_seconds=settings.stream_max_age_seconds,
                                  description=f"Events produced by the {definition.name} service"),
            )
            state.relay = relay
            relay.start()
        if definition.subscriptions and settings.consumers_enabled:
            for subscription in definition.subscriptions:
                loop = ConsumerLoop(bus, sessionmaker, subscription, batch_size=settings.consumer_batch_size,
                                    max_deliver=settings.consumer_max_deliver,
                                    backoff_seconds=settings.consumer_backoff_seconds)
                state.consumer_loops.append(loop)
                state.tasks.append(asyncio.create_task(loop.run(), name=f"consumer-{subscription.durable}"))
            state.dead_letter_loop = DeadLetterLoop(bus, sessionmaker, definition.name, definition.subscriptions,
                                                    state.consumer_loops, replicas=settings.stream_replicas)
            state.tasks.append(asyncio.create_task(state.dead_letter_loop.run(), name="dead-letters"))
        if definition.deadlines is not None:
            # Its commits write outbox rows, so the sessionmaker's on_commit wakes the relay.
            sweeper = DeadlineSweeper(definition.deadlines, service=definition.name,
                                      interval_seconds=settings.deadline_sweep_seconds,
                                      skip_locked=is_postgres(settings.database_url))
            state.deadline_sweeper = sweeper
            state.tasks.append(asyncio.create_task(sweeper(state), name=sweeper.__name__))
        for task in definition.background:
            state.tasks.append(asyncio.create_task(task(state), name=getattr(task, "__name__", "background")))
        freeze_start_up(settings)
        log.info("service started", service=definition.name)
        try:
            yield
        finally:
            await _shutdown(state)

    return lifespan


async def _shutdown(state: PlatformState) -> None:
    """Stop background work, then the bus, then the database; each step bounded in time."""
    name = state.definition.name
    steps: list[tuple[str, Callable[[], Awaitable[Any]]]] = []
    if state.relay is not None:
        steps.append(("relay", state.relay.stop))
    steps.append(("background tasks", lambda: _cancel_all(state.tasks)))
    steps.append(("bus", state.bus.close))
    steps.append(("database", state.engine.dispose))
    for what, step in steps:
        try:
            await asyncio.wait_for(step(), timeout=10)
        except Exception as exc:
            log.error("shutdown step did not finish", service=name, step=what, error=repr(exc))
    log.info("service stopped", service=name)


async def _cancel_all(tasks: list[asyncio.Task[Any]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


def _operation_id(route: APIRoute) -> str:
    tag = route.tags[0] if route.tags else "platform"
    return f"{tag}-{route.name}"


def create_service_app(definition: ServiceDefinition) -> FastAPI:
    app = FastAPI(
        title=definition.title,
        description=definition.description,
        version="1.0.0",
        lifespan=_lifespan(definition),
        generate_unique_id_function=_operation_id,
        responses=PROBLEM_RESPONSES,
        docs_url=None,
        redoc_url=None,
    )
    install_offline_docs(app, title=definition.title)
    install_problem_handlers(app)
    app.add_middleware(RefuseNulMiddleware)  # inside the body-size limit below, which bounds what it reads
    app.add_middleware(RequestContextMiddleware, service=definition.name,
                       max_body_bytes=definition.settings.max_request_body_bytes)
    app.include_router(platform_router(definition))
    for router in definition.routers:
        app.include_router(router)
    return app


def get_state(request: Request) -> PlatformState:
    return request.app.state.platform


StateDep = Annotated[PlatformState, Depends(get_state)]
AdminIdentity = Annotated[Identity, Depends(require_roles("administrator"))]


class DeadLetterPublic(BaseModel):
    id: int
    consumer: str
    stream: str
    stream_sequence: int
    reason: str
    deliveries: int
    event_id: str | None
    event_type: str | None
    payload: str
    last_error: str | None
    received_at: Any
    replayed_at: Any | None


def platform_router(definition: ServiceDefinition) -> APIRouter:
    router = APIRouter(tags=["platform"])

    @router.get("/healthz", summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": definition.name}

    @router.get("/readyz", summary="Readiness: database, migrations at head, NATS connected",
                responses={503: {"description": "Not ready"}})
    async def readyz(state: StateDep) -> JSONResponse:
        checks = await database_checks(state.engine, definition.migrations_dir)
        checks["nats"] = "ok" if state.bus.is_connected else "disconnected"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ready" if ready else "not ready", "service": definition.name,
                             "checks": checks}, status_code=200 if ready else 503)

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @router.get("/asyncapi.json", summary="AsyncAPI 3.0 document of the events this service sends and receives")
    async def asyncapi() -> dict[str, Any]:
        return asyncapi_document(definition.name, sends=list(definition.sends), receives=definition.receives)

    @router.get("/events/schemas/{event_type}", summary="JSON Schema of one event type's data")
    async def schema(event_type: str) -> dict[str, Any]:
        for model in [*definition.sends, *definition.receives]:
            if model.event_type == event_type:
                return event_schema(model)
        raise NotFound("event type")

    @router.get("/admin/dead-letters", summary="Events this service's consumers gave up on")
    async def dead_letters(state: StateDep, _: AdminIdentity, include_replayed: bool = False) -> list[DeadLetterPublic]:
        async with state.sessionmaker() as session:
            query = select(DeadLetter).order_by(DeadLetter.id)  # type: ignore[arg-type]
            if not include_replayed:
                query = query.where(DeadLetter.replayed_at.is_(None))  # type: ignore[union-attr]
            rows = (await session.execute(query)).scalars().all()
        return [DeadLetterPublic.model_validate(row, from_attributes=True) for row in rows]

    @router.post("/admin/dead-letters/{dead_letter_id}/replay", summary="Apply a dead-lettered event now")
    async def replay(dead_letter_id: RowId, state: StateDep, _: AdminIdentity) -> DeadLetterPublic:
        handlers = {sub.durable: sub.handler for sub in definition.subscriptions}
        dead = await replay_dead_letter(state.sessionmaker, dead_letter_id, handlers)
        if dead is None:
            raise NotFound("dead letter")
        return DeadLetterPublic.model_validate(dead, from_attributes=True)

    return router
