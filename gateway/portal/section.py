"""What every portal section that reads one service shares: the page frame with the section's labels, the
page shown when the service is down or answers something unreadable, the page for a read it refused, and
the read itself (over the gateway's client, as the signed-in staff member; see upstream.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from gateway.portal.routes import SECTION_BY_SLUG, render, translate
from gateway.portal.upstream import Refusal, call
from gateway.staff.service import SignedIn

Current = tuple[SignedIn, str]  # the signed-in staff member and the session's CSRF token


@dataclass(frozen=True)
class ServiceSection:
    slug: str  # the portal section (routes.SECTIONS) and the prefix of its templates: <slug>_unavailable.html ...
    service: str  # the service its pages read
    unavailable_title: str  # N_() messages, translated per request
    unavailable_detail: str
    unreadable_detail: str
    labels: dict[str, Any] = field(default_factory=dict)  # put into every page's context
    extra: Callable[[Current], dict[str, Any]] | None = None  # context that depends on the staff member

    def page(self, request: Request, current: Current, template: str, context: dict[str, Any],
             status: int = 200) -> HTMLResponse:
        extra = self.extra(current) if self.extra is not None else {}
        return render(request, template, {"current": SECTION_BY_SLUG[self.slug], **self.labels, **extra, **context},
                      status=status, signed_in=current[0], token=current[1])

    def unavailable(self, request: Request, current: Current, detail: str | None = None,
                    status: int = 503) -> HTMLResponse:
        """The service could not be reached, or did not answer in time (503), or answered what the page cannot
        read (pass ``unreadable_detail`` and 502)."""
        return self.page(request, current, f"{self.slug}_unavailable.html", {
            "title": translate(request, self.unavailable_title),
            "detail": translate(request, detail or self.unavailable_detail)}, status=status)

    def unreadable(self, request: Request, current: Current) -> HTMLResponse:
        return self.unavailable(request, current, self.unreadable_detail, 502)

    def refused(self, request: Request, current: Current, refusal: Refusal) -> HTMLResponse:
        """A read the service refused (404, 403, ...), told in its own words."""
        return self.page(request, current, f"{self.slug}_refused.html", {"refusal": refusal},
                         status=refusal.status if 400 <= refusal.status < 600 else 502)

    async def get(self, request: Request, path: str, params: dict[str, Any] | None = None,
                  timeout: float | None = None) -> tuple[int, Any]:
        return await call(request, self.service, "GET", path, params=params, timeout=timeout)
