"""RFC 9457 problem details: every failure is an answer a client can act on.

Validation errors name the field (as a JSON pointer into the request) and the rule
that failed. Domain code raises `Problem` (or a subclass); nothing here knows HTTP
frameworks beyond the handlers registered by `install_problem_handlers`.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://ntc.kz/problems/"

log = structlog.get_logger(__name__)


class FieldError(BaseModel):
    """One failing field: where it is, which rule it broke, in words."""

    pointer: str
    rule: str
    detail: str


class ProblemBody(BaseModel):
    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None


class Problem(Exception):
    """An error that is an answer. Raise from domain code; the app turns it into problem+json."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str | None = None,
        *,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extensions = extensions

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = [e.model_dump() for e in self.errors]
        body.update(self.extensions)
        return body


def invalid(pointer: str, rule: str, detail: str) -> Problem:
    """A 422 naming one field (JSON pointer) and the rule it broke, for checks made after parsing."""
    return Problem(422, "validation", "Invalid request", detail,
                   errors=[FieldError(pointer=pointer, rule=rule, detail=detail)])


class NotFound(Problem):
    """The object does not exist *for this caller*: another tenant's object answers the same."""

    def __init__(self, kind: str) -> None:
        super().__init__(404, "not-found", "Not found", f"No {kind} with this id is visible to you.")


class Conflict(Problem):
    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(409, "conflict", "Conflict", detail, **extensions)


def problem_response(problem: Problem, request: Request | None = None) -> JSONResponse:
    instance = str(request.url.path) if request is not None else None
    return JSONResponse(
        problem.body(instance), status_code=problem.status, media_type=PROBLEM_JSON, headers=problem.headers
    )


def pointer_of(loc: tuple[Any, ...] | list[Any]) -> str:
    # ("body", "name_kk") -> "/name_kk"; ("query", "limit") -> "query:/limit"
    parts = list(loc)
    where = parts.pop(0) if parts and parts[0] in {"body", "query", "path", "header", "cookie"} else "body"
    pointer = "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)
    return pointer if where == "body" else f"{where}:{pointer}"


def validation_problem(errors: list[dict[str, Any]] | Any) -> Problem:
    field_errors: list[FieldError] = []
    malformed = False
    for error in errors:
        rule = str(error.get("type", "invalid"))
        if rule == "json_invalid":
            malformed = True
        field_errors.append(
            FieldError(pointer=pointer_of(error.get("loc", ())), rule=rule, detail=str(error.get("msg", "")))
        )
    if malformed:
        return Problem(400, "malformed-json", "Malformed JSON", "The request body is not valid JSON.",
                       errors=field_errors)
    return Problem(
        422, "validation", "Invalid request", "One or more fields are invalid; see errors.", errors=field_errors
    )


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(validation_problem(exc.errors()), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        phrase = HTTPStatus(exc.status_code).phrase if exc.status_code in HTTPStatus._value2member_map_ else "Error"
        slug, phrase = PREFERRED_NAMES.get(exc.status_code, (phrase.lower().replace(" ", "-"), phrase))
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail != phrase else None
        problem = Problem(exc.status_code, slug, phrase, detail, headers=dict(exc.headers or {}))
        return problem_response(problem, request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", path=request.url.path)
        return problem_response(Problem(500, "internal", "Internal error", "The error was logged."), request)


# Names used for a status however it arises (declared Content-Length or a body that grew too big).
PREFERRED_NAMES: dict[int, tuple[str, str]] = {413: ("payload-too-large", "Payload too large")}

PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ProblemBody, "content": {PROBLEM_JSON: {}}, "description": HTTPStatus(status).phrase}
    for status in (400, 401, 403, 404, 409, 413, 422, 500)
}
