"""Swagger UI served from local files, so API docs work on a network without the internet.

FastAPI's own ``/docs`` loads Swagger UI from a CDN; the platform serves the copies the
``fastapi-offline`` package ships instead. Paths honour the ASGI ``root_path``, so a
service's docs work both directly and through the gateway (``/api/v1/<service>/docs``).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

SWAGGER_ASSETS = Path(str(files("fastapi_offline") / "static"))
ASSETS_PATH = "/docs/static"


def swagger_ui(*, openapi_url: str, title: str, prefix: str = "") -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=f"{prefix}{openapi_url}", title=title,
        swagger_js_url=f"{prefix}{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{prefix}{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{prefix}{ASSETS_PATH}/favicon.png",
        # The default validator badge would call out to validator.swagger.io.
        swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": False},
    )


def install_offline_docs(app: FastAPI, *, title: str) -> None:
    """``/docs`` with local assets. Build the app with ``docs_url=None, redoc_url=None``."""

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        return swagger_ui(openapi_url=app.openapi_url or "/openapi.json", title=title,
                          prefix=request.scope.get("root_path", "").rstrip("/"))

    app.mount(ASSETS_PATH, StaticFiles(directory=SWAGGER_ASSETS), name="docs-static")
