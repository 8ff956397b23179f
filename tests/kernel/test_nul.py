"""U+0000 refused at every service's edge (kernel.nul): PostgreSQL cannot store it in text, and a
request carrying it answered 500 there. The guard on its own, then through a real service on both
databases, where nothing may be written."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy import func, select

from kernel.nul import RefuseNulMiddleware, nul_pointers
from kernel.outbox import OutboxMessage
from kernel.problems import install_problem_handlers
from services.bargaining.negotiations.models import Negotiation
from tests.bargaining.test_negotiation_api import add_party, org
from tests.bargaining.test_negotiation_api import bargaining as bargaining  # the fixture
from tests.support.services import RunningService


def echo_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(RefuseNulMiddleware)

    @app.post("/echo")
    async def echo(body: dict[str, Any], request: Request) -> dict:
        return {"body": body, "query": dict(request.query_params)}

    @app.post("/form")
    async def form(request: Request) -> dict:
        return dict(await request.form())

    return app


@pytest.fixture
async def client():
    transport = httpx.ASGITransport(app=echo_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://echo") as client:
        yield client


def test_every_string_holding_the_character_is_named_by_its_pointer():
    document = {"name": "a\x00b", "officers": [{"name": "ok"}, {"role": "\x00"}], "k\x00ey": 1, "a/b": ["\x00"]}
    assert list(nul_pointers(document)) == ["/name", "/officers/1/role", "/k\x00ey", "/a~1b/0"]
    assert list(nul_pointers("\x00")) == ["/"]
    assert list(nul_pointers({"text": "no such character", "n": 0, "x": None})) == []


async def test_a_json_body_with_the_character_is_refused_naming_every_field(client):
    response = await client.post("/echo", json={"name_kk": "Кәсіподақ\x00", "officers": [{"name": "\x00"}]})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [(e["pointer"], e["rule"]) for e in response.json()["errors"]] == [
        ("/name_kk", "no_nul_character"), ("/officers/0/name", "no_nul_character")]


async def test_a_query_parameter_with_the_character_is_refused(client):
    response = await client.post("/echo?q=%00&limit=5", json={})
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json()["errors"]] == ["query:/q"]


async def test_a_form_field_with_the_character_is_refused(client):
    response = await client.post("/form", data={"email": "a\x00@b.kz", "password": "fine"})
    assert response.status_code == 422
    assert [(e["pointer"], e["rule"]) for e in response.json()["errors"]] == [("/email", "no_nul_character")]
    assert (await client.post("/form", data={"email": "a@b.kz"})).json() == {"email": "a@b.kz"}


async def test_everything_else_reaches_the_route_unchanged(client):
    # The escape written as text (a backslash, then u0000) is not the character; nor is a body that is not JSON.
    body = {"note": "C:\\u0000 is a path, not a NUL", "items": list(range(3))}
    response = await client.post("/echo?q=a%20b", json=body)
    assert response.status_code == 200 and response.json() == {"body": body, "query": {"q": "a b"}}
    raw = await client.post("/echo", content=b'{"a": "\\u0000"', headers={"content-type": "application/json"})
    assert raw.status_code in (400, 422) and "no_nul_character" not in raw.text  # malformed: the route's parsing
    text = await client.post("/echo", content=json.dumps({"a": "\x00"}).encode(),
                             headers={"content-type": "text/plain"})
    assert "no_nul_character" not in text.text  # not JSON: left to the route


async def test_a_service_refuses_it_and_writes_nothing(bargaining: RunningService) -> None:
    """On PostgreSQL this request answered 500 (the driver cannot send U+0000 in text)."""
    service = bargaining
    union = await add_party(service, "primary_union_organisation", "Профсоюз")
    employer = await add_party(service, "employer", "АО Работодатель")
    response = await service.client.post("/negotiations", headers=org(service, union), json={
        "level": "enterprise", "subject_matter": "Collective agreement\x00 2026", "initiator_id": union,
        "parties": [{"organisation_id": union, "side": "workers"}, {"organisation_id": employer, "side": "employers"}]})
    assert response.status_code == 422, response.text
    assert [(e["pointer"], e["rule"]) for e in response.json()["errors"]] == [("/subject_matter", "no_nul_character")]
    async with service.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Negotiation)) == 0
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
