"""``/openapi.json``, ``/docs`` (Swagger UI), ``/asyncapi.json`` and ``/asyncapi`` of the whole platform.

Swagger UI's script and style are served by the gateway itself (the copies the
``fastapi-offline`` package ships), so the docs work on a network without the internet.
The AsyncAPI page is rendered on the server: no JavaScript, nothing from elsewhere.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates
from starlette.staticfiles import StaticFiles

from gateway.docs import DocsCatalog, event_views
from kernel.docs import ASSETS_PATH, SWAGGER_ASSETS, swagger_ui
from kernel.identity import ANONYMOUS

if TYPE_CHECKING:
    from gateway.app import GatewayState

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.filters["pretty_json"] = lambda value: json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def _state(request: Request) -> GatewayState:
    return request.app.state.gateway


def rate_limited(request: Request) -> None:
    """The documents are public: counted against the caller's address like any anonymous call."""
    _state(request).rate_limiter.admit(ANONYMOUS, request.scope)


router = APIRouter(tags=["documentation"], include_in_schema=False, dependencies=[Depends(rate_limited)])


def create_catalog(state: GatewayState) -> DocsCatalog:
    settings = state.settings
    return DocsCatalog(service_urls=settings.service_urls, client=state.upstream.client,
                       cache_seconds=settings.docs_cache_seconds, timeout_seconds=settings.docs_timeout_seconds)


def _catalog(request: Request) -> DocsCatalog:
    state = _state(request)
    if state.docs is None:
        state.docs = create_catalog(state)
    return state.docs


@router.get("/openapi.json")
async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(await _catalog(request).openapi(request.app.openapi()))


@router.get("/asyncapi.json")
async def asyncapi(request: Request) -> JSONResponse:
    return JSONResponse(await _catalog(request).asyncapi())


@router.get("/docs", response_class=HTMLResponse)
async def docs_page() -> HTMLResponse:
    return swagger_ui(openapi_url="/openapi.json", title="NTC platform API")


@router.get("/asyncapi", response_class=HTMLResponse)
async def asyncapi_page(request: Request) -> HTMLResponse:
    document: dict[str, Any] = await _catalog(request).asyncapi()
    return TEMPLATES.TemplateResponse(request, "asyncapi.html", {
        "document": document, "events": event_views(document), "unavailable": document.get("x-unavailable") or [],
    })


def install(app: FastAPI) -> None:
    """The routes and Swagger UI's local assets. The app must be built with ``openapi_url=None``."""
    app.include_router(router)
    app.mount(ASSETS_PATH, StaticFiles(directory=SWAGGER_ASSETS), name="docs-static")
