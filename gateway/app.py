"""The gateway app factory: ``uvicorn gateway.app:create_app --factory``."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.staticfiles import StaticFiles

from gateway import health
from gateway.api_clients import routes as api_clients
from gateway.api_clients.tokens import ClientTokenAuthenticator, ClientTokens
from gateway.api_keys.authenticator import ApiKeyAuthenticator
from gateway.authentication import Authentication
from gateway.docs import DocsCatalog
from gateway.docs import routes as docs
from gateway.idempotency.service import IdempotencyStore
from gateway.identity_tokens import IdentityTokens
from gateway.limits import RateLimiter, install_cors
from gateway.portal import admin as portal_admin
from gateway.portal import bargaining as portal_bargaining
from gateway.portal import commissions as portal_commissions
from gateway.portal import disputes as portal_disputes
from gateway.portal import notifications as portal_notifications
from gateway.portal import registry as portal_registry
from gateway.portal import routes as portal
from gateway.proxy.forwarder import API_PREFIX, Forwarder
from gateway.proxy.upstream import Upstream, create_upstream
from gateway.settings import GatewaySettings
from gateway.staff.authenticator import SessionAuthenticator
from gateway.staff.csrf import SessionCsrfGuard
from gateway.staff.oidc import OidcSignIn
from gateway.staff.service import STAFF_ROLES, policy_of
from gateway.tables import MIGRATIONS_DIR
from kernel.app import freeze_start_up
from kernel.db import create_engine, create_sessionmaker
from kernel.identity import IdentitySigner
from kernel.migrations import upgrade
from kernel.nul import RefuseNulMiddleware
from kernel.observability import RequestContextMiddleware, configure_logging
from kernel.problems import PROBLEM_RESPONSES, install_problem_handlers

log = structlog.get_logger(__name__)


@dataclass
class GatewayState:
    settings: GatewaySettings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    upstream: Upstream
    api_keys: ApiKeyAuthenticator
    authentication: Authentication
    identity_tokens: IdentityTokens
    migrations_dir: Path = MIGRATIONS_DIR
    rate_limiter: RateLimiter = field(default_factory=lambda: RateLimiter(enabled=False))
    docs: DocsCatalog | None = None  # the aggregated OpenAPI/AsyncAPI documents, made on first use
    client_tokens: ClientTokens | None = None  # API clients' access tokens (gateway.api_clients)
    staff_oidc: OidcSignIn | None = None  # the identity provider, when GATEWAY_STAFF_AUTH_MODE=oidc
    idempotency: IdempotencyStore | None = None  # writes sent with an Idempotency-Key (gateway.idempotency)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)


def _lifespan(settings: GatewaySettings, signer: IdentitySigner):
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(level=settings.log_level, json=settings.log_json)
        engine = create_engine(settings.database_url)
        if settings.migrate_on_start:
            await upgrade(engine, MIGRATIONS_DIR)
        sessionmaker = create_sessionmaker(engine)
        api_keys = ApiKeyAuthenticator(sessionmaker, cache_seconds=settings.api_key_cache_seconds,
                                       last_used_write_seconds=settings.api_key_last_used_write_seconds)
        client_tokens = ClientTokens(settings.identity_private_key.get_secret_value().strip(),
                                     lifetime=timedelta(minutes=settings.api_client_token_minutes))
        state = GatewayState(
            settings=settings, engine=engine, sessionmaker=sessionmaker, upstream=create_upstream(settings),
            api_keys=api_keys,
            authentication=Authentication([api_keys, ClientTokenAuthenticator(client_tokens),
                                           SessionAuthenticator(sessionmaker, policy=policy_of(settings))]),
            client_tokens=client_tokens,
            identity_tokens=IdentityTokens(signer, reuse_seconds=settings.identity_token_reuse_seconds),
        )
        state.rate_limiter = RateLimiter.from_settings(settings)
        state.idempotency = IdempotencyStore(sessionmaker,
                                             retention=timedelta(hours=settings.idempotency_retention_hours),
                                             claim_timeout=timedelta(seconds=settings.idempotency_claim_seconds))
        if settings.staff_auth_mode == "oidc":
            state.staff_oidc = OidcSignIn(settings, staff_roles=STAFF_ROLES)
        app.state.gateway = state
        state.tasks.append(asyncio.create_task(api_keys.run_last_used_writer(), name="api-key-last-used"))
        freeze_start_up(settings)
        log.info("gateway started", services=sorted(settings.service_urls))
        try:
            yield
        finally:
            for task in state.tasks:
                task.cancel()
            for task in state.tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await api_keys.write_last_used()
            await state.upstream.aclose()
            await engine.dispose()
            log.info("gateway stopped")

    return lifespan


def _operation_id(route: APIRoute) -> str:
    tag = route.tags[0] if route.tags else "gateway"
    return f"{tag}-{route.name}"


DESCRIPTION = f"""The platform's only door. Every service is reached under
`{API_PREFIX}/<service>/...` (registry, bargaining, disputes, notifications), with any
method; each service documents its own API at `{API_PREFIX}/<service>/docs`.

Authenticate with an API key, as `Authorization: Bearer ntc_...` or `X-API-Key: ntc_...`.
API clients get a short-lived bearer token from `POST /oauth/token` (OAuth 2.0 client
credentials) and send it as `Authorization: Bearer <token>`.
Requests without a credential are forwarded anonymously; the service decides what is public.
Errors are RFC 9457 problem+json."""


def _telemetry_option(settings: GatewaySettings) -> dict[str, Any]:
    """FastAPI's native OpenTelemetry asks the global providers on every request (~5 % of a
    forwarded request, measured) even when none is configured: off unless asked for."""
    if settings.opentelemetry_enabled or "telemetry" not in inspect.signature(FastAPI.__init__).parameters:
        return {}
    return {"telemetry": {"tracing": False, "metrics": False, "logs": False}}


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    private_key = settings.identity_private_key.get_secret_value().strip()
    if not private_key:
        raise RuntimeError(
            "GATEWAY_IDENTITY_PRIVATE_KEY is not set: the gateway needs its Ed25519 private key (PEM) to sign "
            "identity tokens, and every service needs the matching public key (kernel.identity.generate_keypair)."
        )
    signer = IdentitySigner(private_key, audience=settings.identity_audience)

    app = FastAPI(
        title="NTC gateway",
        description=DESCRIPTION,
        version="1.0.0",
        lifespan=_lifespan(settings, signer),
        generate_unique_id_function=_operation_id,
        responses=PROBLEM_RESPONSES,
        # /openapi.json and /docs are the whole platform's (gateway.docs), not only the gateway's.
        openapi_url=None, docs_url=None, redoc_url=None,
        **_telemetry_option(settings),
    )
    install_problem_handlers(app)
    # The last added is the outermost: the request middleware (request id, body limit,
    # metrics) wraps the forwarder, which answers /api/v1/<service>/... itself and hands
    # everything else to the routes below.
    # Inside the forwarder: the gateway's own routes (the portal's forms, the token endpoint); what is forwarded
    # is checked by the service it goes to.
    app.add_middleware(RefuseNulMiddleware)
    app.add_middleware(Forwarder, service_urls=settings.service_urls,
                       buffer_request_body_bytes=settings.buffer_request_body_bytes,
                       accepted_media_types=frozenset(settings.accepted_media_types))
    # Refuses a cookie-authenticated unsafe API call without the session's CSRF token, before forwarding.
    app.add_middleware(SessionCsrfGuard)
    install_cors(app, settings)  # closed (no middleware at all) unless GATEWAY_CORS_ALLOWED_ORIGINS is set
    app.add_middleware(RequestContextMiddleware, service="gateway", max_body_bytes=settings.max_request_body_bytes)
    app.include_router(health.router)
    app.include_router(api_clients.router)
    docs.install(app)
    app.include_router(portal.router)
    app.include_router(portal_admin.router)
    app.include_router(portal_registry.router)
    app.include_router(portal_bargaining.router)
    app.include_router(portal_commissions.router)
    app.include_router(portal_disputes.router)
    app.include_router(portal_notifications.router)
    app.mount("/portal/static", StaticFiles(directory=portal.STATIC_DIR), name="portal-static")
    return app
