"""Idempotency-Key at the gateway (ARCHITECTURE.md rule 8: client retries are safe).

A write sent again with the same key reaches the service once and gets the first answer again,
from any gateway replica; the same key with a different request is refused; a retry while the
first is still being answered gets 409; a 5xx frees the key. Against the echo upstream, which
counts what reaches it.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from gateway.idempotency.models import IdempotentRequest
from gateway.idempotency.rules import Outcome, Stored, decide, fingerprint, key_problem, scope_key
from gateway.idempotency.service import Claim, IdempotencyStore
from tests.gateway.support import ECHO_CALLS, Gateway, GatewayFactory, assert_problem


def bearer(key: str, idempotency_key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {key}"}
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return headers


def calls(path: str, method: str = "POST") -> int:
    return ECHO_CALLS[f"{method} {path}"]


async def test_a_retry_with_the_same_key_reaches_the_service_once_and_gets_the_same_answer(gateway: Gateway) -> None:
    _, key = await gateway.issue_key(roles=("union",), organisation_id=uuid.uuid4())
    path = f"/negotiations/{uuid.uuid4()}/clauses"
    idempotency_key = str(uuid.uuid4())
    body = {"category": "pay", "title": "Pay", "text": "Pay rises by 10%."}

    first = await gateway.client.post(f"/api/v1/bargaining{path}", json=body, headers=bearer(key, idempotency_key))
    again = await gateway.client.post(f"/api/v1/bargaining{path}", json=body, headers=bearer(key, idempotency_key))

    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert again.headers["content-type"] == first.headers["content-type"]
    assert calls(path) == 1
    # The key is passed on too, so a service may record it as well.
    assert [value for name, value in first.json()["headers"] if name.lower() == "idempotency-key"] == \
        [idempotency_key]

    # Without a key, every request goes through.
    for _ in range(2):
        await gateway.client.post(f"/api/v1/bargaining{path}", json=body, headers=bearer(key))
    assert calls(path) == 3


async def test_the_same_key_for_a_different_request_is_refused(gateway: Gateway) -> None:
    _, key = await gateway.issue_key(roles=("union",), organisation_id=uuid.uuid4())
    path = f"/negotiations/{uuid.uuid4()}/clauses"
    idempotency_key = str(uuid.uuid4())
    await gateway.client.post(f"/api/v1/bargaining{path}", json={"text": "A"}, headers=bearer(key, idempotency_key))

    other_body = await gateway.client.post(f"/api/v1/bargaining{path}", json={"text": "B"},
                                           headers=bearer(key, idempotency_key))
    other_path = await gateway.client.post(f"/api/v1/bargaining{path}/x", json={"text": "A"},
                                           headers=bearer(key, idempotency_key))

    for refused in (other_body, other_path):
        body = assert_problem(refused, 422, "idempotency-key-reused")
        assert body["errors"][0] == {"pointer": "/headers/idempotency-key", "rule": "same_request",
                                     "detail": body["detail"]}
    assert calls(path) == 1 and calls(f"{path}/x") == 0


async def test_keys_belong_to_their_credential(gateway: Gateway) -> None:
    _, first_key = await gateway.issue_key(roles=("union",), organisation_id=uuid.uuid4())
    _, second_key = await gateway.issue_key(roles=("employer",), organisation_id=uuid.uuid4())
    path = f"/collective-disputes/{uuid.uuid4()}/answer"
    shared = "retry-1"
    for key in (first_key, second_key):
        answered = await gateway.client.post(f"/api/v1/disputes{path}", json={"answer": "accepted"},
                                             headers=bearer(key, shared))
        assert answered.status_code == 200 and "idempotent-replayed" not in answered.headers
    assert calls(path) == 2


async def test_a_retry_while_the_first_is_being_answered_gets_409_then_the_answer(gateway: Gateway) -> None:
    _, key = await gateway.issue_key(roles=("union",), organisation_id=uuid.uuid4())
    idempotency_key = str(uuid.uuid4())
    url = "/api/v1/registry/slow?seconds=1.0"
    first = asyncio.create_task(gateway.client.post(url, json={}, headers=bearer(key, idempotency_key)))
    await asyncio.sleep(0.3)
    busy = await gateway.client.post(url, json={}, headers=bearer(key, idempotency_key))
    body = assert_problem(busy, 409, "idempotency-key-in-use")
    assert int(busy.headers["retry-after"]) >= 1 and idempotency_key in body["detail"]
    answered = await first
    replayed = await gateway.client.post(url, json={}, headers=bearer(key, idempotency_key))
    assert replayed.json() == answered.json() and replayed.headers["idempotent-replayed"] == "true"
    assert calls("/slow") == 1


async def test_an_answer_from_a_failing_service_frees_the_key(gateway: Gateway) -> None:
    _, key = await gateway.issue_key(roles=("union",), organisation_id=uuid.uuid4())
    idempotency_key = str(uuid.uuid4())
    for _ in range(2):
        failed = await gateway.client.post("/api/v1/registry/unavailable", json={},
                                           headers=bearer(key, idempotency_key))
        assert failed.status_code == 503 and "idempotent-replayed" not in failed.headers
    assert calls("/unavailable") == 2


async def test_an_unreachable_service_frees_the_key(make_gateway: GatewayFactory, down_url: str) -> None:
    gateway = await make_gateway(service_urls={"registry": down_url})
    _, key = await gateway.issue_key(roles=("registrar",))
    for _ in range(2):
        refused = await gateway.client.post("/api/v1/registry/organisations", json={}, headers=bearer(key, "k-1"))
        assert_problem(refused, 502, "bad-gateway")  # not 409: nothing reached the service


@pytest.mark.parametrize("bad", ["with space", "x" * 256, "ключ"])
async def test_a_malformed_key_is_refused_naming_the_header(gateway: Gateway, bad: str) -> None:
    _, key = await gateway.issue_key(roles=("union",), organisation_id=uuid.uuid4())
    headers = {"Authorization": f"Bearer {key}".encode(), "Idempotency-Key": bad.encode("utf-8")}
    path = f"/negotiations/{uuid.uuid4()}"
    refused = await gateway.client.post(f"/api/v1/bargaining{path}", json={}, headers=headers)
    body = assert_problem(refused, 400, "bad-idempotency-key")
    assert body["errors"][0]["pointer"] == "/headers/idempotency-key"
    assert calls(path) == 0


async def test_reads_ignore_the_key_and_records_expire(make_gateway: GatewayFactory) -> None:
    gateway = await make_gateway(idempotency_retention_hours=1 / 3600)  # one second
    _, key = await gateway.issue_key(roles=("union",), organisation_id=uuid.uuid4())
    path = f"/negotiations/{uuid.uuid4()}"
    for _ in range(2):
        await gateway.client.get(f"/api/v1/bargaining{path}", headers=bearer(key, "read-1"))
    assert calls(path, "GET") == 2
    await gateway.client.post(f"/api/v1/bargaining{path}", json={}, headers=bearer(key, "write-1"))
    await asyncio.sleep(1.2)
    again = await gateway.client.post(f"/api/v1/bargaining{path}", json={}, headers=bearer(key, "write-1"))
    assert "idempotent-replayed" not in again.headers
    assert calls(path) == 2


async def test_a_request_whose_claim_lapsed_neither_stores_nor_frees_the_retrys_claim(gateway: Gateway) -> None:
    """A first request outlives its claim and a retry takes the key over: what the first then does with
    its answer (keep it, or free the key after a 5xx) must not touch the retry's claim."""
    clock = [NOW]
    store = IdempotencyStore(gateway.state.sessionmaker, retention=timedelta(hours=1), claim_timeout=CLAIM,
                             clock=lambda: clock[0])
    key = scope_key("organisation-key:1", f"slow-{uuid.uuid4()}")
    outcome, first = await store.begin(key, "f")
    assert outcome is Outcome.new and isinstance(first, Claim)
    clock[0] = NOW + timedelta(seconds=61)  # the first is still waiting for its service
    outcome, retry = await store.begin(key, "f")
    assert outcome is Outcome.new and isinstance(retry, Claim) and retry != first

    await store.release(first)  # the first got a 5xx
    await store.finish(first, 201, [(b"content-type", b"application/json")], b'{"first": true}')
    outcome, _ = await store.begin(key, "f")
    assert outcome is Outcome.in_progress  # the retry's claim stands

    await store.finish(retry, 201, [(b"content-type", b"application/json")], b'{"retry": true}')
    outcome, kept = await store.begin(key, "f")
    assert outcome is Outcome.replay and isinstance(kept, IdempotentRequest)
    assert kept.response_body == b'{"retry": true}'
    await store.release(first)  # too late to free anything: the answer is kept
    assert (await store.begin(key, "f"))[0] is Outcome.replay


# --- the rules -------------------------------------------------------------------------------

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
CLAIM = timedelta(seconds=60)


def stored(status: str, *, print_: str = "f", claimed: timedelta = timedelta(0),
           expires: timedelta = timedelta(hours=1)) -> Stored:
    return Stored(fingerprint=print_, status=status, claimed_at=NOW - claimed, expires_at=NOW + expires)


@pytest.mark.parametrize(("record", "outcome"), [
    (None, Outcome.new),
    (stored("done"), Outcome.replay),
    (stored("done", print_="other"), Outcome.mismatch),
    (stored("in_progress", claimed=timedelta(seconds=5)), Outcome.in_progress),
    (stored("in_progress", claimed=timedelta(seconds=61)), Outcome.new),  # a claim nobody finished lapses
    (stored("done", expires=timedelta(seconds=-1)), Outcome.new),  # an expired record is forgotten
    (stored("in_progress", print_="other", claimed=timedelta(seconds=5)), Outcome.mismatch),
])
def test_what_a_stored_record_means_for_a_new_request(record, outcome) -> None:
    assert decide(record, fingerprint="f", now=NOW, claim_timeout=CLAIM) is outcome


def test_keys_and_fingerprints() -> None:
    assert key_problem("6f1c2f7e-8f1a-4b7e-9a5e-3b2a1c0d9e8f") is None
    assert key_problem("") and key_problem("a b") and key_problem("ä") and key_problem("x" * 256)
    assert scope_key("organisation-key:1", "k") != scope_key("organisation-key:2", "k")
    base = fingerprint("POST", "/a", b"q=1", b"{}")
    assert len({base, fingerprint("PUT", "/a", b"q=1", b"{}"), fingerprint("POST", "/b", b"q=1", b"{}"),
                fingerprint("POST", "/a", b"q=2", b"{}"), fingerprint("POST", "/a", b"q=1", b"[]"),
                fingerprint("POST", "/a", b"", b"q=1{}")}) == 6
