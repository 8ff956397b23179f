"""The HTTP edge every service shares, exercised on the registry's sample endpoint:
problem+json for every bad input with nothing written, the identity token, the
correlation id, readiness."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from kernel.identity import IDENTITY_HEADER, Identity, IdentitySigner, generate_keypair
from kernel.outbox import OutboxMessage
from services.registry.app import create_app as create_registry
from services.registry.organisations.models import Organisation
from services.registry.organisations.rules import make_bin
from services.registry.settings import RegistrySettings
from tests.support.services import RunningService, eventually, running, settings_for

VALID = {"kind": "local_union", "name_kk": "Жергілікті кәсіподақ", "name_ru": "Местный профсоюз"}


@pytest.fixture
async def registry(make_database, nats_server, signer, public_key):
    settings = settings_for(RegistrySettings, database_url=await make_database("registry"), nats_url=nats_server.url,
                            public_key=public_key, max_request_body_bytes=4096)
    async with running(create_registry(settings), signer, "registry") as service:
        yield service


async def written(service: RunningService) -> tuple[int, int]:
    async with service.state.sessionmaker() as session:
        organisations = await session.scalar(select(func.count()).select_from(Organisation))
        events = await session.scalar(select(func.count()).select_from(OutboxMessage))
    return int(organisations or 0), int(events or 0)


def assert_problem(response, status: int, *, pointer: str | None = None, rule: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["type"].startswith("https://") and body["title"]
    if pointer is not None:
        matching = [e for e in body.get("errors", []) if e["pointer"] == pointer]
        assert matching, body
        if rule is not None:
            assert any(e["rule"] == rule for e in matching), body
    return body


@pytest.mark.parametrize(
    "body, pointer, rule",
    [
        ({**VALID, "kind": 5}, "/kind", "enum"),
        ({**VALID, "kind": "guild"}, "/kind", "enum"),
        ({**VALID, "name_kk": ["not", "a", "string"]}, "/name_kk", "string_type"),
        ({**VALID, "name_ru": "x"}, "/name_ru", "string_too_short"),
        ({k: v for k, v in VALID.items() if k != "name_ru"}, "/name_ru", "missing"),
        ({**VALID, "bin": "123"}, "/bin", "string_pattern_mismatch"),
        ({**VALID, "bin": "123456789012"}, "/bin", "bin_check"),
        ({**VALID, "region_code": "Almaty"}, "/region_code", "string_pattern_mismatch"),
        ({**VALID, "members": ["Ivanov"]}, "/members", "extra_forbidden"),
        ({"kind": "employer", "name_kk": "Кәсіпорын", "name_ru": "Предприятие"}, "/bin", "required_for_employer"),
    ],
)
async def test_invalid_fields_are_named_and_nothing_is_written(registry, body, pointer, rule):
    response = await registry.client.post("/organisations", json=body, headers=registry.headers(roles={"registrar"}))
    assert_problem(response, 422, pointer=pointer, rule=rule)
    assert await written(registry) == (0, 0)


async def test_malformed_json_is_a_problem_and_writes_nothing(registry):
    response = await registry.client.post("/organisations", content=b'{"kind": "local_union", ',
                                          headers={**registry.headers(roles={"registrar"}),
                                                   "content-type": "application/json"})
    assert_problem(response, 400)
    assert response.json()["type"].endswith("/malformed-json")
    assert await written(registry) == (0, 0)


async def test_body_that_is_not_an_object_is_a_problem(registry):
    response = await registry.client.post("/organisations", json=["kind", "local_union"],
                                          headers=registry.headers(roles={"registrar"}))
    assert_problem(response, 422)
    assert await written(registry) == (0, 0)


async def test_oversized_body_is_refused_by_declared_length_and_while_streaming(registry):
    big = {**VALID, "name_en": "x" * 10_000}
    response = await registry.client.post("/organisations", json=big, headers=registry.headers(roles={"registrar"}))
    assert_problem(response, 413)

    async def chunks():
        for _ in range(10):
            yield b" " * 1024  # no Content-Length: the limit must hold while reading

    streamed = await registry.client.post("/organisations", content=chunks(),
                                          headers={**registry.headers(roles={"registrar"}),
                                                   "content-type": "application/json"})
    assert_problem(streamed, 413)
    assert response.json()["type"] == streamed.json()["type"] == "https://ntc.kz/problems/payload-too-large"
    assert await written(registry) == (0, 0)


async def test_duplicate_bin_is_a_conflict_and_the_first_stays(registry):
    body = {"kind": "employer", "name_kk": "Кәсіпорын", "name_ru": "Предприятие", "bin": make_bin("07014000111")}
    headers = registry.headers(roles={"registrar"})
    assert (await registry.client.post("/organisations", json=body, headers=headers)).status_code == 201
    assert_problem(await registry.client.post("/organisations", json=body, headers=headers), 409)
    assert await written(registry) == (1, 1)


async def test_unknown_id_and_malformed_id_are_problems(registry):
    assert_problem(await registry.client.get("/organisations/6f0c1f3e-0000-4000-8000-000000000000"), 404)
    assert_problem(await registry.client.get("/organisations/not-a-uuid"), 422, pointer="path:/organisation_id")
    assert_problem(await registry.client.get("/organisations?limit=0"), 422, pointer="query:/limit")
    assert_problem(await registry.client.get("/no-such-route"), 404)


# --- the identity token --------------------------------------------------------------------

async def test_writes_need_a_verified_identity_with_the_right_role(registry, keypair):
    post = lambda headers: registry.client.post("/organisations", json=VALID, headers=headers)  # noqa: E731
    assert_problem(await post({}), 401)
    assert_problem(await post({IDENTITY_HEADER: "not-a-token"}), 401)

    stranger_private, _ = generate_keypair()
    forged = IdentitySigner(stranger_private).sign(Identity(subject="x", kind="staff", roles=frozenset({"registrar"})))
    assert_problem(await post({IDENTITY_HEADER: forged}), 401)

    expired = IdentitySigner(keypair[0]).sign(Identity(subject="x", kind="staff", roles=frozenset({"registrar"})),
                                              now=datetime.now(UTC) - timedelta(minutes=5))
    assert_problem(await post({IDENTITY_HEADER: expired}), 401)

    wrong_audience = IdentitySigner(keypair[0], audience="someone-else").sign(
        Identity(subject="x", kind="staff", roles=frozenset({"registrar"})))
    assert_problem(await post({IDENTITY_HEADER: wrong_audience}), 401)

    assert_problem(await post(registry.headers(roles={"analyst"})), 403)
    assert await written(registry) == (0, 0)
    assert (await post(registry.headers(roles={"registrar"}))).status_code == 201


# --- correlation id and readiness ----------------------------------------------------------

async def test_request_id_is_echoed_and_carried_into_the_event(registry):
    response = await registry.client.post("/organisations", json=VALID,
                                          headers={**registry.headers(roles={"registrar"}), "x-request-id": "req-42"})
    assert response.status_code == 201 and response.headers["x-request-id"] == "req-42"
    async with registry.state.sessionmaker() as session:
        envelope = json.loads((await session.execute(select(OutboxMessage.envelope))).scalar_one())
    assert envelope["correlationid"] == "req-42"

    generated = await registry.client.get("/healthz", headers={"x-request-id": "bad id with spaces"})
    assert generated.headers["x-request-id"] != "bad id with spaces" and len(generated.headers["x-request-id"]) == 32


async def test_readiness_reports_nats_and_recovers(registry, nats_server):
    await eventually(lambda: _status(registry, 200), what="ready")
    body = (await registry.client.get("/readyz")).json()
    assert body["checks"] == {"database": "ok", "migrations": "ok", "nats": "ok"}
    nats_server.kill()
    not_ready = await eventually(lambda: _status(registry, 503), what="not ready without NATS")
    assert not_ready["checks"]["nats"] == "disconnected"
    assert (await registry.client.get("/healthz")).status_code == 200  # alive all the same
    nats_server.start()
    await eventually(lambda: _status(registry, 200), timeout=30, what="ready again")


async def _status(service: RunningService, code: int):
    response = await service.client.get("/readyz")
    return response.json() if response.status_code == code else None


async def test_metrics_and_asyncapi_are_served(registry):
    metrics = await registry.client.get("/metrics")
    assert metrics.status_code == 200 and "ntc_http_requests_total" in metrics.text
    document = (await registry.client.get("/asyncapi.json")).json()
    assert document["asyncapi"].startswith("3.")
    assert "kz.ntc.registry.organisation.registered.v1" in {c["address"] for c in document["channels"].values()}
    schema = await registry.client.get("/events/schemas/kz.ntc.registry.organisation.registered.v1")
    assert schema.status_code == 200 and "audience" in schema.json()["properties"]
    assert_problem(await registry.client.get("/events/schemas/kz.ntc.registry.nothing.v1"), 404)
