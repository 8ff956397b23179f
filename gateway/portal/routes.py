"""The status page at ``/``: server-rendered, no JavaScript, nothing fetched from elsewhere."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from gateway.health import readiness
from gateway.proxy.forwarder import API_PREFIX

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
STATIC_DIR = Path(__file__).parent / "static"

# Strict by default: the page loads only its own stylesheet and can be framed by no one.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def status_page(request: Request) -> HTMLResponse:
    state = request.app.state.gateway
    ready, report = await readiness(state)
    services = [
        {
            "name": name,
            "status": answer["status"],
            "ready": answer["status"] == "ready",
            "checks": answer["checks"],
            "docs": f"{API_PREFIX}/{name}/docs",
            "asyncapi": f"{API_PREFIX}/{name}/asyncapi.json",
        }
        for name, answer in report["services"].items()
    ]
    return TEMPLATES.TemplateResponse(
        request, "status.html",
        {"ready": ready, "gateway_checks": report["checks"], "services": services},
        headers=SECURITY_HEADERS,
    )
