"""The NUL character (U+0000) refused in every request's JSON body and query, before any route runs.

PostgreSQL cannot store U+0000 in a text column (the driver fails, and the request answered 500),
while SQLite stores it silently; no field of the platform has a use for it. JSON can carry it
only as the escape ``\\u0000`` (a raw NUL byte is malformed JSON, which FastAPI already refuses),
so a body without that escape is passed on untouched after one search of its bytes; a body
with it is parsed and every string (value or key) holding the character is named in one 422
problem, with the rule ``no_nul_character``. The query string, and a form's body
(``application/x-www-form-urlencoded``, the portal's forms), are checked the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kernel.problems import FieldError, Problem, pointer_of, problem_response

RULE = "no_nul_character"
DETAIL = "text may not contain the NUL character (U+0000)"
_WITH_BODY = {"POST", "PUT", "PATCH", "DELETE"}


def nul_pointers(document: Any) -> Iterator[str]:
    """JSON pointers of the strings in ``document`` (values or keys) that hold U+0000."""
    return (pointer_of(("body", *path)) for path in _nul_paths(document, ()))


def _nul_paths(document: Any, path: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    if isinstance(document, str):
        if "\x00" in document:
            yield path
    elif isinstance(document, dict):
        for key, value in document.items():
            if "\x00" in str(key):
                yield (*path, key)
            yield from _nul_paths(value, (*path, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from _nul_paths(value, (*path, index))


def _media(content_type: bytes) -> str:
    media = content_type.split(b";", 1)[0].strip().lower()
    if media == b"application/json" or media.endswith(b"+json"):
        return "json"
    return "form" if media == b"application/x-www-form-urlencoded" else ""


def _encoded_pairs(encoded: bytes, where: str) -> list[str]:
    """Pointers of the names in a URL-encoded string (a query, a form) whose name or value holds U+0000."""
    if b"%00" not in encoded and b"\x00" not in encoded:
        return []
    return [pointer_of((where, name)) for name, value in parse_qsl(encoded.decode("latin-1"), keep_blank_values=True)
            if "\x00" in name or "\x00" in value]


def _refusal(pointers: list[str]) -> Problem:
    return Problem(422, "validation", "Invalid request", "One or more fields are invalid; see errors.",
                   errors=[FieldError(pointer=p, rule=RULE, detail=DETAIL) for p in pointers])


class RefuseNulMiddleware:
    """Plain ASGI: the body is read whole only for JSON and form requests (bounded by the body-size
    limit of the middleware outside this one) and handed on to the route unchanged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        names = _encoded_pairs(scope.get("query_string", b""), "query")
        if names:
            await problem_response(_refusal(names))(scope, receive, send)
            return
        media = _media(dict(scope.get("headers") or []).get(b"content-type", b""))
        if scope.get("method") not in _WITH_BODY or not media:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: nothing to check or answer
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if media == "form" and (pointers := _encoded_pairs(body, "body")):
            await problem_response(_refusal(pointers))(scope, receive, send)
            return
        if media == "json" and b"\\u0000" in body:
            try:
                document = json.loads(body)
            except ValueError:
                document = None  # malformed: the route's own parsing answers 400
            pointers = list(nul_pointers(document))
            if pointers:
                await problem_response(_refusal(pointers))(scope, receive, send)
                return
        handed = False

        async def replay() -> Message:
            nonlocal handed
            if not handed:
                handed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
