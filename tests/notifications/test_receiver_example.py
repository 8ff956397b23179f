"""The worked webhook receiver (docs/examples/webhook_receiver.py) does what docs/employer-api.md says:
a signed delivery is applied once, a repeat (same webhook-id) is answered 2xx without applying it
again, forgeries and stale deliveries are refused and apply nothing, either secret verifies during
a rotation, a failure mid-way keeps nothing, and a crash after a commit loses nothing. Then the
real notifications service delivers to it over loopback: every event applied exactly once."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from aiohttp import web

from services.notifications.webhooks.signing import headers as signed_headers
from services.notifications.webhooks.signing import new_secret
from tests.notifications.support import (
    Publisher,
    cloud_event,
    notifications_service,
    notifications_settings,
    organisation_headers,
    register_endpoint,
)
from tests.support.nats import free_port
from tests.support.processes import ChildProcess
from tests.support.services import eventually

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "webhook_receiver.py"


def _load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("webhook_receiver_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


receiver_example = _load_example()


def event_body(event_type: str = "kz.ntc.disputes.demands.submitted.v1", **data: Any) -> tuple[str, str]:
    """(event id, JSON body) shaped like the platform's deliveries: a CloudEvent with a link."""
    event_id = str(uuid.uuid4())
    subject = str(uuid.uuid4())
    return event_id, json.dumps({
        "specversion": "1.0", "id": event_id, "source": "/disputes", "type": event_type, "subject": subject,
        "time": datetime.now(UTC).isoformat(), "datacontenttype": "application/json", "data": data,
        "link": f"https://ntc.example.kz/api/v1/disputes/collective-disputes/{subject}"})


def signed(event_id: str, body: str, secrets: list[str], *, at: datetime | None = None) -> dict[str, str]:
    """The headers the platform sends (its own signing code): one v1 signature per secret in use."""
    return signed_headers(message_id=event_id, timestamp=at or datetime.now(UTC), payload=body,
                          secrets_in_use=secrets)


class Database:
    """The receiver's SQLite file, read from outside as its owner would."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _rows(self, sql: str) -> list[tuple[Any, ...]]:
        if not self.path.exists():
            return []
        connection = sqlite3.connect(self.path)
        try:
            return connection.execute(sql).fetchall()
        except sqlite3.OperationalError:  # no tables yet
            return []
        finally:
            connection.close()

    def applied(self) -> list[str]:
        """The event ids the application's effect ran for, one entry per run."""
        return [r[0] for r in self._rows("SELECT event_id FROM events ORDER BY id")]

    def events(self) -> list[tuple[str, str, str, str]]:
        return [tuple(r) for r in self._rows("SELECT event_id, type, subject, time FROM events ORDER BY id")]

    def processed(self) -> set[str]:
        return {r[0] for r in self._rows("SELECT webhook_id FROM processed_webhooks")}


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """The example's app on a real loopback port; yields its URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}{receiver_example.PATH}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10.0) as client:
        yield client


async def test_a_delivery_is_applied_once_and_a_repeat_is_answered_without_applying(tmp_path, http, capsys):
    secret = new_secret()
    database = Database(tmp_path / "receiver.sqlite3")
    event_id, body = event_body(workers_concerned=40)
    async with serving(receiver_example.build_app([secret], database.path)) as url:
        first = await http.post(url, content=body, headers=signed(event_id, body, [secret]))
        assert first.status_code == 200, first.text
        assert first.json() == {"applied": True, "duplicate": False}
        event = json.loads(body)
        assert database.events() == [(event_id, event["type"], event["subject"], event["time"])]
        assert f"applied {event['type']} subject={event['subject']}" in capsys.readouterr().out

        # The same delivery again (as after the platform stopped before recording the 2xx), and
        # again signed afresh a minute later (as a retry is): 2xx, so the platform stops; nothing applied.
        for at in (None, datetime.now(UTC) + timedelta(minutes=1)):
            again = await http.post(url, content=body, headers=signed(event_id, body, [secret], at=at))
            assert again.status_code == 200, again.text
            assert again.json() == {"applied": False, "duplicate": True}
        assert database.applied() == [event_id]
        assert database.processed() == {event_id}
        assert "applied" not in capsys.readouterr().out

        # Two copies at the same moment (two platform replicas after a lease ran out): one applies.
        twin_id, twin = event_body()
        answers = await asyncio.gather(*[http.post(url, content=twin, headers=signed(twin_id, twin, [secret]))
                                         for _ in range(8)])
        assert {a.status_code for a in answers} == {200}
        assert sorted(a.json()["applied"] for a in answers) == [False] * 7 + [True]
        assert database.applied() == [event_id, twin_id]


async def test_forgeries_wrong_secrets_and_stale_deliveries_are_refused_and_apply_nothing(tmp_path, http):
    secret = new_secret()
    database = Database(tmp_path / "receiver.sqlite3")
    event_id, body = event_body(workers_concerned=40)
    genuine = signed(event_id, body, [secret])
    async with serving(receiver_example.build_app([secret], database.path)) as url:
        tampered = body.replace('"workers_concerned": 40', '"workers_concerned": 90')
        assert tampered != body
        refused = {
            "tampered body": (tampered, genuine),
            "wrong secret": (body, signed(event_id, body, [new_secret()])),
            "6 minutes old": (body, signed(event_id, body, [secret], at=datetime.now(UTC) - timedelta(minutes=6))),
            "6 minutes ahead": (body, signed(event_id, body, [secret], at=datetime.now(UTC) + timedelta(minutes=6))),
            "another id, same signature": (body, {**genuine, "webhook-id": str(uuid.uuid4())}),
            "old timestamp, same signature": (body, {**genuine, "webhook-timestamp": str(
                int((datetime.now(UTC) - timedelta(minutes=1)).timestamp()))}),
        }
        for case, (content, headers) in refused.items():
            answer = await http.post(url, content=content, headers=headers)
            assert answer.status_code == 401, (case, answer.status_code, answer.text)
        malformed = {
            "no signature": {k: v for k, v in genuine.items() if k != "webhook-signature"},
            "no id": {k: v for k, v in genuine.items() if k != "webhook-id"},
            "signature not v1,<base64>": {**genuine, "webhook-signature": "garbage"},
            "timestamp not a number": {**genuine, "webhook-timestamp": "yesterday"},
        }
        for case, headers in malformed.items():
            answer = await http.post(url, content=body, headers=headers)
            assert answer.status_code == 400, (case, answer.status_code, answer.text)
        assert database.applied() == [] and database.processed() == set()

        # A refused delivery leaves no trace: the genuine one is still applied when it comes.
        answer = await http.post(url, content=body, headers=genuine)
        assert answer.status_code == 200 and answer.json()["applied"] is True
        assert database.applied() == [event_id]


async def test_during_a_rotation_a_delivery_signed_by_either_secret_verifies(tmp_path, http):
    old, new = new_secret(), new_secret()
    database = Database(tmp_path / "receiver.sqlite3")
    async with serving(receiver_example.build_app([old, new], database.path)) as url:
        applied = []
        # The platform signs with both during the overlap; before and after it, with one.
        for signing_secrets in ([old], [new], [new, old]):
            event_id, body = event_body()
            answer = await http.post(url, content=body, headers=signed(event_id, body, signing_secrets))
            assert answer.status_code == 200 and answer.json()["applied"] is True, answer.text
            applied.append(event_id)
        event_id, body = event_body()
        answer = await http.post(url, content=body, headers=signed(event_id, body, [new_secret()]))
        assert answer.status_code == 401
        assert database.applied() == applied


async def test_a_failure_mid_way_keeps_nothing_and_the_retry_applies_once(tmp_path, http):
    secret = new_secret()
    database = Database(tmp_path / "receiver.sqlite3")
    failing = {"on": True}

    def effect_that_fails_after_writing(connection: sqlite3.Connection, webhook_id: str,
                                        event: dict[str, Any]) -> None:
        receiver_example.record_event(connection, webhook_id, event)  # written, not yet committed
        if failing["on"]:
            raise RuntimeError("the application's own work failed half-way")

    app = receiver_example.build_app([secret], database.path, effect=effect_that_fails_after_writing)
    event_id, body = event_body()
    async with serving(app) as url:
        answer = await http.post(url, content=body, headers=signed(event_id, body, [secret]))
        assert answer.status_code == 500
        # Neither the half-done effect nor the id was kept, so the platform's retry is not mistaken for a repeat.
        assert database.applied() == [] and database.processed() == set()
        failing["on"] = False
        answer = await http.post(url, content=body, headers=signed(event_id, body, [secret]))
        assert answer.status_code == 200 and answer.json()["applied"] is True
        answer = await http.post(url, content=body, headers=signed(event_id, body, [secret]))
        assert answer.status_code == 200 and answer.json()["duplicate"] is True
        assert database.applied() == [event_id]


async def test_a_busy_database_asks_the_platform_to_come_back_later(tmp_path, http):
    secret = new_secret()
    database = Database(tmp_path / "receiver.sqlite3")
    app = receiver_example.build_app([secret], database.path, busy_timeout=0.2)
    event_id, body = event_body()
    async with serving(app) as url:
        other_writer = sqlite3.connect(database.path, isolation_level=None)
        other_writer.execute("BEGIN IMMEDIATE")  # e.g. a long report holding the write lock
        try:
            answer = await http.post(url, content=body, headers=signed(event_id, body, [secret]))
            assert answer.status_code == 503
            assert answer.headers["Retry-After"] == str(receiver_example.RETRY_AFTER_SECONDS)
        finally:
            other_writer.execute("ROLLBACK")
            other_writer.close()
        assert database.applied() == []
        answer = await http.post(url, content=body, headers=signed(event_id, body, [secret]))
        assert answer.status_code == 200 and answer.json()["applied"] is True
        assert database.applied() == [event_id]


class ReceiverProcess(ChildProcess):
    """The example run from its command line, as an integrator runs it."""

    def __init__(self, secrets: list[str], database: Path, log: Path) -> None:
        self.secrets, self.database, self.log = secrets, database, log
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{receiver_example.PATH}"

    def start(self, timeout: float = 30.0) -> None:
        command = [sys.executable, str(EXAMPLE), "--port", str(self.port), "--database", str(self.database)]
        for secret in self.secrets:
            command += ["--secret", secret]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        # Unsigned: a listening receiver refuses it with 400.
        self.wait_until(lambda: httpx.post(self.url, content=b"{}", timeout=1).status_code == 400, timeout=timeout,
                        what="the receiver", output=self.log.read_text)

    def output(self) -> str:
        return self.log.read_text()


async def test_the_command_line_receiver_keeps_what_it_answered_for_through_a_crash(tmp_path, http):
    old, new = new_secret(), new_secret()
    database = Database(tmp_path / "receiver.sqlite3")
    receiver = ReceiverProcess([old, new], database.path, tmp_path / "receiver.log")
    event_id, body = event_body()
    receiver.start()
    try:
        answer = await http.post(receiver.url, content=body, headers=signed(event_id, body, [old]))
        assert answer.status_code == 200 and answer.json()["applied"] is True
        receiver.kill()  # right after its 2xx; the platform, not having recorded it, will send it again
        receiver.start()
        answer = await http.post(receiver.url, content=body, headers=signed(event_id, body, [new]))
        assert answer.status_code == 200 and answer.json() == {"applied": False, "duplicate": True}
        assert database.applied() == [event_id]
        assert receiver.output().count(f"id={event_id}") == 1
    finally:
        receiver.stop()


async def test_the_notifications_service_delivers_each_event_to_the_example_exactly_once(
        make_database, nats_server, signer, public_key, tmp_path):
    settings = notifications_settings(await make_database("notifications"), nats_server.url, public_key)
    union, employer = uuid.uuid4(), uuid.uuid4()
    database = Database(tmp_path / "receiver.sqlite3")
    port = free_port()
    receiver: ReceiverProcess | None = None
    async with notifications_service(settings, signer) as service, Publisher(nats_server.url) as bus:
        try:
            endpoint = await register_endpoint(service, union, f"http://127.0.0.1:{port}{receiver_example.PATH}")
            # The secret is in the registration's answer only: the receiver starts with it.
            receiver = ReceiverProcess([endpoint["secret"]], database.path, tmp_path / "receiver.log")
            receiver.port = port
            await asyncio.to_thread(receiver.start)

            events = [cloud_event("kz.ntc.disputes.demands.submitted.v1", [union, employer], workers_concerned=40),
                      cloud_event("kz.ntc.bargaining.negotiation.proposed.v1", [union, employer]),
                      cloud_event("kz.ntc.registry.organisation.registered.v1", [union]),
                      cloud_event("kz.ntc.disputes.deadline.approaching.v1", [union], deadline="answer"),
                      cloud_event("kz.ntc.bargaining.clause.agreed.v1", [union, employer])]
            for event in events:
                await bus.publish(event)

            async def all_applied() -> bool:
                return len(database.applied()) >= len(events)

            await eventually(all_applied, what="every event applied at the receiver")
            await asyncio.sleep(1.0)  # room for anything that should not come
            assert sorted(database.applied()) == sorted(e.id for e in events)  # each exactly once
            assert {(e.id, e.type, e.subject) for e in events} == {r[:3] for r in database.events()}

            # Every delivery verified on its first attempt: the receiver answers 401 to anything else.
            log = await _deliveries(service, union, endpoint["id"])
            assert len(log) == len(events)
            assert all(d["status"] == "delivered" and [a["status_code"] for a in d["log"]] == [200] for d in log)

            # The platform sends one again (a person's redelivery; the same happens after a crash
            # between the 2xx and its record): same webhook-id, answered 2xx, not applied again.
            first = log[0]
            again = await service.client.post(
                f"/webhook-endpoints/{endpoint['id']}/deliveries/{first['id']}/redeliver",
                headers=organisation_headers(service, union))
            assert again.status_code == 200, again.text

            async def redelivered() -> bool:
                [now] = [d for d in await _deliveries(service, union, endpoint["id"]) if d["id"] == first["id"]]
                return now["status"] == "delivered" and now["delivered_at"] != first["delivered_at"]

            await eventually(redelivered, what="the redelivery answered")
            assert sorted(database.applied()) == sorted(e.id for e in events)
            assert database.processed() == {e.id for e in events}
            assert receiver.output().count(f"id={first['event_id']}") == 1
        finally:
            if receiver is not None:
                await asyncio.to_thread(receiver.stop)


async def _deliveries(service: Any, organisation: uuid.UUID, endpoint_id: str) -> list[dict[str, Any]]:
    answer = await service.client.get(f"/webhook-endpoints/{endpoint_id}/deliveries",
                                      headers=organisation_headers(service, organisation))
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]
