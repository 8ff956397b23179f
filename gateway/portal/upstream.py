"""How the portal's pages read and write the services: over HTTP, as a forwarded API call would.

The portal runs inside the gateway, but it does not reach into a service's database: it asks
the service at its configured URL (``GATEWAY_SERVICE_URLS``), with the gateway's one shared
HTTP client, carrying the signed-in staff member's signed identity token. So a service
decides what a portal page may see and do exactly as it decides for an API caller, and a page
shows the service's own refusals (RFC 9457 problem+json) as readable messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import structlog
from fastapi import Request

from gateway.proxy.forwarder import UPSTREAM_FAILURES
from gateway.proxy.upstream import is_timeout
from kernel.identity import IDENTITY_HEADER, Identity
from kernel.observability import REQUEST_ID_HEADER, correlation_id, new_correlation_id

if TYPE_CHECKING:
    from gateway.app import GatewayState

log = structlog.get_logger(__name__)

# Set by a page once it knows who is signed in (gateway.portal.registry); `call` signs as them.
IDENTITY_STATE = "portal_identity"


class ServiceUnavailable(Exception):
    """The service could not be reached, did not answer in time, or is not configured."""

    def __init__(self, service: str, reason: str) -> None:
        super().__init__(f"{service}: {reason}")
        self.service = service
        self.reason = reason


@dataclass(frozen=True)
class FieldProblem:
    pointer: str
    rule: str
    detail: str

    @property
    def field(self) -> str:
        """The pointer's last named part, as a person reads it ("/grounds/1/detail" -> "detail")."""
        parts = [part for part in self.pointer.replace("query:", "").split("/") if part and not part.isdigit()]
        return parts[-1].replace("_", " ") if parts else ""


@dataclass(frozen=True)
class Refusal:
    """A service's problem+json answer, as a page shows it."""

    status: int
    title: str
    detail: str | None
    errors: list[FieldProblem] = field(default_factory=list)
    body: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, status: int, body: Any) -> Refusal:
        if not isinstance(body, dict):
            return cls(status=status, title=f"HTTP {status}", detail=None)
        errors = [FieldProblem(pointer=str(error.get("pointer") or ""), rule=str(error.get("rule") or ""),
                               detail=str(error.get("detail") or ""))
                  for error in body.get("errors") or [] if isinstance(error, dict)]
        return cls(status=status, title=str(body.get("title") or f"HTTP {status}"),
                   detail=str(body["detail"]) if body.get("detail") else None, errors=errors, body=body)


def _state(request: Request) -> GatewayState:
    return request.app.state.gateway  # type: ignore[no-any-return]


def _identity(request: Request) -> Identity | None:
    identity = getattr(request.state, IDENTITY_STATE, None)
    return identity if isinstance(identity, Identity) else None


async def call(request: Request, service: str, method: str, path: str, *, params: Any = None, json: Any = None,
               timeout: float | None = None) -> tuple[int, Any]:
    """Ask ``service`` for ``path`` as the signed-in staff member; the status and the decoded body.

    A JSON body (problem+json included) comes back decoded, anything else as text. Raises
    `ServiceUnavailable` when the service cannot be reached or does not answer in time
    (``timeout`` seconds, else the gateway's upstream timeouts).
    """
    state = _state(request)
    base_url = state.settings.service_urls.get(service)
    if base_url is None:
        raise ServiceUnavailable(service, "not configured")
    headers = {"accept": "application/json",
               REQUEST_ID_HEADER: correlation_id.get() or new_correlation_id()}
    if request.client:
        headers["x-forwarded-for"] = request.client.host
    identity = _identity(request)
    if identity is not None and not identity.is_anonymous:
        headers[IDENTITY_HEADER] = state.identity_tokens.token_for(identity)
    options: dict[str, Any] = {"params": params, "headers": headers}
    if json is not None:
        options["json"] = json
    if timeout is not None:
        options["timeout"] = timeout
    try:
        response = await state.upstream.client.request(method, base_url + path, **options)
    except (httpx.TransportError, OSError) as exc:  # TimeoutError is an OSError
        reason = "timeout" if is_timeout(exc) else "unreachable"
        UPSTREAM_FAILURES.labels(service, reason).inc()
        log.warning("portal could not reach a service", service=service, path=path, reason=reason,
                    error=repr(exc.__cause__ or exc))
        raise ServiceUnavailable(service, reason) from None
    media_type = response.headers.get("content-type", "").split(";")[0].strip()
    if media_type == "application/json" or media_type.endswith("+json"):
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, response.text
    return response.status_code, response.text
