"""Fault test with real processes: writes keep coming while the consuming service and
nats-server are SIGKILLed and restarted. Counted at the end: 0 events lost, 0 applied
twice, 0 duplicates in the stream."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import uuid

import httpx
import nats
import pytest

from kernel.identity import IDENTITY_HEADER, Identity
from tests.support.processes import ServiceProcess
from tests.support.services import eventually

WRITES = 240


def count(database: str, statement: str) -> int:
    with sqlite3.connect(database, timeout=30) as connection:
        return connection.execute(statement).fetchone()[0]


@pytest.fixture
def processes(tmp_path, nats_server, public_key):
    def service(name: str) -> ServiceProcess:
        prefix = name.upper()
        return ServiceProcess(name, {
            f"{prefix}_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / name}.db",
            f"{prefix}_NATS_URL": nats_server.url,
            f"{prefix}_IDENTITY_PUBLIC_KEY": public_key,
            f"{prefix}_LOG_JSON": "true",
            f"{prefix}_CONSUMER_BACKOFF_SECONDS": "[0.5, 1.0]",
            f"{prefix}_CONSUMER_BATCH_SIZE": "16",
        }, tmp_path)

    started = {name: service(name) for name in ("registry", "bargaining")}
    yield started
    for process in started.values():
        process.stop()


@pytest.mark.slow
async def test_nothing_lost_or_applied_twice_when_the_consumer_and_nats_are_killed_mid_stream(
        processes, nats_server, signer, tmp_path):
    registry, bargaining = processes["registry"], processes["bargaining"]
    await asyncio.to_thread(registry.start)
    await asyncio.to_thread(bargaining.start)
    token = signer.sign(Identity(subject="fault-test", kind="staff", roles=frozenset({"registrar"})))
    written: list[str] = []
    failures: list[str] = []

    def write_all() -> None:
        with httpx.Client(base_url=registry.url, headers={IDENTITY_HEADER: token}, timeout=30) as client:
            for n in range(WRITES):
                body = {"kind": "local_union", "name_kk": f"Кәсіподақ {n}",
                        "name_ru": f"Профсоюз {n} {uuid.uuid4().hex[:4]}"}
                response = client.post("/organisations", json=body)
                if response.status_code != 201:
                    failures.append(response.text)
                else:
                    written.append(response.json()["id"])

    bargaining_db = str(tmp_path / "bargaining.db")
    registry_db = str(tmp_path / "registry.db")
    writer = threading.Thread(target=write_all)
    writer.start()

    await eventually(lambda: _at_least(bargaining_db, 30), timeout=60, what="consumer under way")
    bargaining.kill()                                   # the consumer dies mid-stream
    await eventually(lambda: _writes_at_least(written, 80), timeout=60, what="more writes meanwhile")
    nats_server.kill()                                  # the bus dies too, while writes go on
    await eventually(lambda: _writes_at_least(written, 140), timeout=60, what="writes while NATS is down")
    nats_server.start()
    await asyncio.to_thread(bargaining.start)           # the consumer comes back
    await asyncio.to_thread(writer.join, 120)
    assert not failures, failures[:3]
    assert len(written) == WRITES

    await eventually(lambda: _at_least(bargaining_db, WRITES), timeout=120, what="every event applied")
    await eventually(lambda: _all_published(registry_db), timeout=60, what="outbox drained")
    await asyncio.sleep(2)  # room for a late duplicate to show up
    assert count(bargaining_db, "SELECT count(*) FROM inbox_record") == WRITES          # none lost, none twice
    assert count(bargaining_db, "SELECT count(*) FROM party") == WRITES
    assert count(bargaining_db, "SELECT count(DISTINCT event_id) FROM inbox_record") == WRITES
    nc = await nats.connect(nats_server.url)
    try:
        assert (await nc.jetstream().stream_info("REGISTRY_EVENTS")).state.messages == WRITES   # no duplicates
    finally:
        await nc.close()


async def _at_least(database: str, n: int) -> bool:
    try:
        return count(database, "SELECT count(*) FROM inbox_record") >= n
    except sqlite3.OperationalError:  # not migrated yet
        return False


async def _writes_at_least(written: list[str], n: int) -> bool:
    return len(written) >= n


async def _all_published(database: str) -> bool:
    return count(database, "SELECT count(*) FROM outbox_message WHERE published_at IS NULL") == 0
