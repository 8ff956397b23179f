"""What every portal section that reads one service shares: the page frame with the section's labels, the
page shown when the service is down or answers something unreadable, the page for a read it refused, and
the reads themselves (over the gateway's client, as the signed-in staff member; see upstream.py).

A page reads with `ServiceSection.read` (or `read_all`, several at once): it gets the body it can draw, or the
read raises `PageAnswer` carrying the page that says why not (503 unavailable, the service's refusal, 502
unreadable), which the route decorated with `answers` returns. A read the page can do without is
`ServiceSection.optional`: its body, or a default that shows nothing.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from gateway.portal.routes import SECTION_BY_SLUG, render, translate
from gateway.portal.upstream import Refusal, ServiceUnavailable, call
from gateway.staff.service import SignedIn

Current = tuple[SignedIn, str]  # the signed-in staff member and the session's CSRF token
T = TypeVar("T")


class PageAnswer(Exception):
    """The page's answer is decided before it is drawn (the service is down, refused or answered something the
    page cannot read): the route returns ``response`` as it is (see `answers`)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def answers(page: Callable[..., Coroutine[Any, Any, Response]]) -> Callable[..., Coroutine[Any, Any, Response]]:
    """A route (or a helper that draws a page) whose reads may raise `PageAnswer`: it answers with that page."""

    @functools.wraps(page)
    async def answering(*args: Any, **kwargs: Any) -> Response:
        try:
            return await page(*args, **kwargs)
        except PageAnswer as answer:
            return answer.response

    return answering


@dataclass(frozen=True)
class Read:
    """A read the page cannot do without: the service must answer 200 with an ``expect`` that has the ``keys``
    and holds a list at each of the ``lists``. A status in ``instead`` is an answer the page draws itself, not a
    refusal (the inbox's 403 for staff with no desk): the read gives the value it maps to in place of the body."""

    path: str
    params: dict[str, Any] | None = None
    expect: type = dict
    keys: tuple[str, ...] = ()
    lists: tuple[str, ...] = ()
    instead: dict[int, Any] = field(default_factory=dict)

    def readable(self, body: Any) -> bool:
        return isinstance(body, self.expect) and all(key in body for key in self.keys) and all(
            isinstance(body.get(key), list) for key in self.lists)

    def refuses(self, status: int) -> bool:
        return status != 200 and status not in self.instead

    def given(self, status: int, body: Any) -> Any:
        return body if status == 200 else self.instead[status]


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

    async def reach(self, request: Request, current: Current, reads: Awaitable[T]) -> T:
        """``reads`` awaited; when the service cannot be reached, the page answers 503 (`PageAnswer`)."""
        try:
            return await reads
        except ServiceUnavailable:
            raise PageAnswer(self.unavailable(request, current)) from None

    async def read(self, request: Request, current: Current, path: str, params: dict[str, Any] | None = None, *,
                   expect: type = dict, keys: tuple[str, ...] = (), lists: tuple[str, ...] = (),
                   instead: dict[int, Any] | None = None) -> Any:
        """The body of one `Read` (see `read_all`)."""
        (body,) = await self.read_all(request, current, Read(path, params, expect, keys, lists, instead or {}))
        return body

    async def read_all(self, request: Request, current: Current, *reads: Read | Awaitable[Any]) -> list[Any]:
        """Everything read at once: a `Read` gives its body, anything else (an optional read, reference data)
        its own result (a status the `Read` takes ``instead``, the value for it). Else the page answers
        (`PageAnswer`): 503 when the service cannot be reached; the service's refusal of the first `Read` it
        refused; 502 when a `Read` came back in a shape it cannot use."""
        results = await self.reach(request, current, asyncio.gather(
            *(self.get(request, read.path, read.params) if isinstance(read, Read) else read for read in reads)))
        checked = [(read, answer) for read, answer in zip(reads, results, strict=True) if isinstance(read, Read)]
        for read, (status, body) in checked:
            if read.refuses(status):
                raise PageAnswer(self.refused(request, current, Refusal.of(status, body)))
        if not all(read.readable(body) for read, (status, body) in checked if status == 200):
            raise PageAnswer(self.unreadable(request, current))
        return [read.given(*answer) if isinstance(read, Read) else answer
                for read, answer in zip(reads, results, strict=True)]

    async def optional(self, request: Request, path: str, params: dict[str, Any] | None = None, *,
                       expect: type = list, default: Any = None) -> Any:
        """A read the page can do without: the body when the service answers 200 with an ``expect``, else
        ``default`` (shown as nothing). A service that cannot be reached still raises `ServiceUnavailable`."""
        status, body = await self.get(request, path, params)
        return body if status == 200 and isinstance(body, expect) else default
