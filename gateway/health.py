"""Liveness, readiness and metrics of the gateway — and the readiness of the services behind it."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.proxy.upstream import is_timeout
from kernel.migrations import database_checks
from kernel.observability import REQUEST_ID_HEADER, correlation_id

if TYPE_CHECKING:
    from gateway.app import GatewayState

router = APIRouter(tags=["platform"])


async def service_readiness(state: GatewayState) -> dict[str, dict[str, Any]]:
    """Every service's own ``/readyz``, asked concurrently, each bounded by the readiness timeout."""
    timeout = state.settings.readiness_timeout_seconds
    headers = {REQUEST_ID_HEADER: correlation_id.get() or ""}

    async def ask(base_url: str) -> dict[str, Any]:
        try:
            async with asyncio.timeout(timeout):
                response = await state.upstream.client.get(f"{base_url}/readyz", headers=headers, timeout=timeout)
                is_json = response.headers.get("content-type", "").startswith("application/json")
                body = response.json() if is_json else {}
        except (httpx.TransportError, OSError) as exc:  # TimeoutError is an OSError
            if is_timeout(exc):
                return {"status": "timeout", "checks": {}}
            return {"status": "unreachable", "checks": {"error": (exc.__cause__ or exc).__class__.__name__}}
        except ValueError:  # not JSON
            body = {}
        if not isinstance(body, dict):
            body = {}
        checks = body["checks"] if isinstance(body.get("checks"), dict) else {}
        if response.status_code == 200 and body.get("status") == "ready":
            return {"status": "ready", "checks": checks}
        status = body.get("status") if isinstance(body.get("status"), str) else f"answered {response.status_code}"
        return {"status": status, "checks": checks}

    names = list(state.settings.service_urls)
    answers = await asyncio.gather(*(ask(state.settings.service_urls[name]) for name in names))
    return dict(zip(names, answers, strict=True))


async def own_checks(state: GatewayState) -> dict[str, str]:
    return await database_checks(state.engine, state.migrations_dir)


async def readiness(state: GatewayState) -> tuple[bool, dict[str, Any]]:
    checks, services = await asyncio.gather(own_checks(state), service_readiness(state))
    ready = all(v == "ok" for v in checks.values()) and all(s["status"] == "ready" for s in services.values())
    return ready, {"status": "ready" if ready else "not ready", "service": "gateway", "checks": checks,
                   "services": services}


@router.get("/healthz", summary="Liveness: the gateway process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok", "service": "gateway"}


@router.get("/readyz", summary="Readiness: the gateway's database at head and every service ready",
            responses={503: {"description": "The gateway or a service behind it is not ready"}})
async def readyz(request: Request) -> JSONResponse:
    ready, body = await readiness(request.app.state.gateway)
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
