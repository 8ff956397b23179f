"""Scale-out proof on one machine: a 3-node JetStream cluster with R3 streams and two replicas of a service.

Three real nats-server processes (the pinned binary) form a cluster on loopback ports, each with
its own JetStream store and ``sync_interval: always`` as in production. The streams are declared
R3 by the operations command (``python -m deploy.streams declare --environment production``).
Two replicas of the bargaining service run as uvicorn processes against one PostgreSQL database:
they share the durable consumer of the registry's events, both run the outbox relay and the
deadline sweeper. Registry events are published (each with its ``Nats-Msg-Id``, retried with the
same id when an ack is lost, as the registry's relay does) while deadlines fall due in waves.
Mid-stream one replica is SIGKILLed, then the NATS node leading the registry's stream.

Counted at the end: every event applied once (inbox and projection), none twice; every deadline
event recorded once and published once; no duplicate in either stream. Then the node and the
replica come back: the node catches up, and the replica repeats nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import time
import uuid
from datetime import timedelta
from pathlib import Path

import nats
import pytest
from nats.errors import Error as NatsError
from sqlalchemy import func, select

from contracts.registry import OrganisationKind, OrganisationRegistered
from deploy import streams
from kernel.calendar import kazakhstan_today
from kernel.consumer import InboxRecord
from kernel.db import create_engine, create_sessionmaker, utcnow
from kernel.deadlines import schedule_deadline
from kernel.events import envelope
from kernel.migrations import upgrade
from kernel.outbox import OutboxMessage
from services.bargaining.parties.models import Party
from tests.support.nats import free_port, nats_server_binary
from tests.support.processes import ServiceProcess
from tests.support.services import eventually

ROOT = Path(__file__).resolve().parents[2]
EVENTS = 400
DEADLINE_WAVES = 3
DEADLINES_PER_WAVE = 40
DEADLINE_TYPES = ("kz.ntc.bargaining.deadline.approaching.v1", "kz.ntc.bargaining.deadline.missed.v1")

pytestmark = pytest.mark.slow


class ClusterNode:
    """One nats-server of the cluster, started from a configuration file like the production one."""

    def __init__(self, index: int, base: Path, client_port: int, cluster_port: int, routes: list[int]) -> None:
        self.name = f"node-{index}"
        self.dir = base / self.name
        self.client_port = client_port
        self.config = self.dir / "nats.conf"
        self.dir.mkdir(parents=True, exist_ok=True)
        route_urls = ", ".join(f"nats://127.0.0.1:{port}" for port in routes)
        self.config.write_text(
            f'server_name: "{self.name}"\n'
            f"listen: 127.0.0.1:{client_port}\n"
            "jetstream {\n"
            f'  store_dir: "{self.dir / "js"}"\n'
            "  sync_interval: always\n"  # every acknowledged write is on disk (see ARCHITECTURE.md, rule 3)
            "}\n"
            "cluster {\n"
            "  name: ntc-test\n"
            f"  listen: 127.0.0.1:{cluster_port}\n"
            f"  routes: [{route_urls}]\n"
            "}\n"
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.client_port}"

    def start(self) -> None:
        self.process = subprocess.Popen([nats_server_binary(), "-c", str(self.config), "-l", str(self.dir / "log")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def cluster(tmp_path):
    client_ports = [free_port() for _ in range(3)]
    cluster_ports = [free_port() for _ in range(3)]
    nodes = [ClusterNode(i, tmp_path / "nats", client_ports[i], cluster_ports[i], cluster_ports) for i in range(3)]
    for node in nodes:
        node.start()
    yield nodes
    for node in nodes:
        node.stop()


@pytest.fixture
async def bargaining_database(make_database, backend):
    if backend != "postgres":
        pytest.skip("two replicas share one database on PostgreSQL; SQLite serves one process")
    url = await make_database("bargaining")
    engine = create_engine(url)
    # Migrated once here, so the two replicas do not race to create the tables.
    await upgrade(engine, ROOT / "services/bargaining/migrations")
    yield url, engine
    await engine.dispose()


async def wait_for_jetstream(urls: list[str]) -> None:
    """The cluster is up when its JetStream meta group has a leader and answers."""
    deadline = time.monotonic() + 60
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            connection = await nats.connect(servers=urls, connect_timeout=1, max_reconnect_attempts=1)
            try:
                await connection.jetstream(timeout=2).account_info()
                return
            finally:
                await connection.close()
        except Exception as exc:  # not formed yet: no meta leader, or a node still starting
            last = exc
            await asyncio.sleep(0.3)
    raise AssertionError(f"the JetStream cluster did not form: {last!r}")


async def declare_r3_streams(url: str) -> None:
    """The operations command, as an operator runs it; retried while the cluster settles its first leaders."""
    deadline = time.monotonic() + 60
    while True:
        code = await asyncio.to_thread(streams.main, ["declare", "--nats-url", url, "--environment", "production",
                                                      "--service", "registry", "--service", "bargaining"])
        if code == 0:
            return
        if time.monotonic() > deadline:
            raise AssertionError("deploy.streams declare did not succeed on the cluster")
        await asyncio.sleep(1)


def registered(n: int) -> OrganisationRegistered:
    organisation_id = uuid.uuid4()
    return OrganisationRegistered(audience=[organisation_id], organisation_id=organisation_id,
                                  kind=OrganisationKind.local_union, name_kk=f"Кәсіподақ {n}",
                                  name_ru=f"Профсоюз {n}", status="registered", registered_at=utcnow())


async def publish_all(urls: list[str], published: list[str]) -> None:
    """Publish EVENTS registry events at a steady pace, each until acked, with the same id on every retry."""
    connection = await nats.connect(servers=urls, max_reconnect_attempts=-1, reconnect_time_wait=0.2)
    js = connection.jetstream(timeout=2)
    try:
        for n in range(EVENTS):
            event = envelope(registered(n), source="/registry")
            while True:
                try:
                    await js.publish(event.type, event.to_json(), headers={"Nats-Msg-Id": event.id})
                    break
                except (NatsError, TimeoutError):  # no ack, no responder, no stream leader yet
                    await asyncio.sleep(0.2)  # a leader is being elected: the same id again
            published.append(event.id)
            await asyncio.sleep(0.02)
    finally:
        await connection.close()


async def schedule_wave(sessionmaker, wave: int) -> list[str]:
    """Deadlines that owe an event now: half already missed (only ``missed`` is owed), half approaching."""
    today = kazakhstan_today()
    keys = []
    async with sessionmaker() as session:
        for i in range(DEADLINES_PER_WAVE):
            key = f"cluster-check:{wave}:{i}"
            missed = i % 2 == 0
            due_on = today - timedelta(days=2) if missed else today + timedelta(days=5)
            await schedule_deadline(session, key=key, kind="cluster_check", subject_id=str(uuid.uuid4()),
                                    due_on=due_on, approaching_on=due_on - timedelta(days=3) if missed else today,
                                    audience=[uuid.uuid4()])
            keys.append(key)
        await session.commit()
    return keys


async def count(sessionmaker, query) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(query) or 0)


async def stream_messages(js, stream: str) -> list[tuple[str, str]]:
    """(subject, Nats-Msg-Id) of every message in ``stream``, read straight from the stream."""
    info = await js.stream_info(stream)
    result = []
    for sequence in range(info.state.first_seq, info.state.last_seq + 1):
        message = await js.get_msg(stream, sequence)
        result.append((message.subject, (message.headers or {}).get("Nats-Msg-Id", "")))
    return result


async def test_nothing_lost_or_applied_twice_when_a_nats_node_and_a_replica_die(
        cluster, bargaining_database, public_key, tmp_path):
    database_url, engine = bargaining_database
    sessionmaker = create_sessionmaker(engine)
    urls = [node.url for node in cluster]
    await wait_for_jetstream(urls)
    await declare_r3_streams(urls[0])

    def replica(index: int) -> ServiceProcess:
        logs = tmp_path / f"replica-{index}"
        logs.mkdir()
        return ServiceProcess("bargaining", {
            "BARGAINING_DATABASE_URL": database_url,
            # Each replica seeded with a different node; the client learns the others from the cluster.
            "BARGAINING_NATS_URL": urls[index],
            "BARGAINING_IDENTITY_PUBLIC_KEY": public_key,
            "BARGAINING_ENVIRONMENT": "test",
            "BARGAINING_LOG_JSON": "true",
            "BARGAINING_STREAM_REPLICAS": "3",  # as the production ConfigMap: the relay keeps the stream R3
            "BARGAINING_DEADLINE_SWEEP_SECONDS": "0.5",
            "BARGAINING_RELAY_POLL_SECONDS": "0.2",
            "BARGAINING_CONSUMER_BATCH_SIZE": "16",
        }, logs)

    replicas = [replica(0), replica(1)]
    try:
        await asyncio.gather(*(asyncio.to_thread(r.start, 90) for r in replicas))
        deadline_keys = await schedule_wave(sessionmaker, 0)          # both replicas sweep these
        published: list[str] = []
        publisher = asyncio.create_task(publish_all(urls, published))

        applied = select(func.count()).select_from(InboxRecord)
        await eventually(lambda: _at_least(sessionmaker, applied, 80), timeout=60, what="events applied")
        deadline_keys += await schedule_wave(sessionmaker, 1)
        await asyncio.sleep(0.3)                                      # a sweep may be under way now
        replicas[0].kill()                                            # one replica dies mid-stream
        assert len(published) < EVENTS, "the stream was over before the replica was killed"

        await eventually(lambda: _at_least(sessionmaker, applied, 180), timeout=60, what="applied after the kill")
        probe = await nats.connect(servers=urls)
        leader = (await probe.jetstream().stream_info("REGISTRY_EVENTS")).cluster.leader
        await probe.close()
        victim = next(node for node in cluster if node.name == leader)
        victim.kill()                                                 # the stream's leader node dies mid-stream
        assert len(published) < EVENTS, "the stream was over before the node was killed"
        deadline_keys += await schedule_wave(sessionmaker, 2)         # swept and relayed while the cluster heals

        await asyncio.wait_for(publisher, timeout=120)
        assert len(published) == EVENTS
        await eventually(lambda: _at_least(sessionmaker, applied, EVENTS), timeout=90, what="every event applied")
        pending = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.published_at.is_(None))
        deadline_rows = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.type.in_(DEADLINE_TYPES))
        await eventually(lambda: _at_least(sessionmaker, deadline_rows, len(deadline_keys)), timeout=60,
                         what="every deadline swept")
        await eventually(lambda: _none(sessionmaker, pending), timeout=60, what="outbox drained")
        await asyncio.sleep(2)  # room for a late duplicate to show

        # Consumers: 0 lost, 0 applied twice.
        assert await count(sessionmaker, applied) == EVENTS
        assert await count(sessionmaker, select(func.count(func.distinct(InboxRecord.event_id)))) == EVENTS
        assert await count(sessionmaker, select(func.count()).select_from(Party)) == EVENTS
        async with sessionmaker() as session:
            applied_ids = set((await session.execute(select(InboxRecord.event_id))).scalars())
        assert applied_ids == set(published)

        # The sweeper: each deadline's event recorded exactly once, of the kind it owed.
        async with sessionmaker() as session:
            rows = (await session.execute(select(OutboxMessage.type, OutboxMessage.envelope)
                                          .where(OutboxMessage.type.in_(DEADLINE_TYPES)))).all()
        recorded = {}
        for event_type, body in rows:
            key = json.loads(body)["data"]["key"]
            recorded.setdefault(key, []).append(event_type.split(".")[-2])
        assert sorted(recorded) == sorted(deadline_keys)
        for key, kinds in recorded.items():
            expected = "missed" if int(key.rsplit(":", 1)[1]) % 2 == 0 else "approaching"
            assert kinds == [expected], (key, kinds)

        # The streams, read back from the surviving nodes: R3, nothing lost, nothing twice.
        connection = await nats.connect(servers=[n.url for n in cluster if n is not victim])
        try:
            js = connection.jetstream(timeout=5)
            for name in ("REGISTRY_EVENTS", "BARGAINING_EVENTS"):
                assert (await js.stream_info(name)).config.num_replicas == 3
            registry_messages = await stream_messages(js, "REGISTRY_EVENTS")
            assert sorted(msg_id for _, msg_id in registry_messages) == sorted(published)
            bargaining_messages = [m for m in await stream_messages(js, "BARGAINING_EVENTS") if m[0] in DEADLINE_TYPES]
            assert len(bargaining_messages) == len(deadline_keys)
            assert len({msg_id for _, msg_id in bargaining_messages}) == len(deadline_keys)
        finally:
            await connection.close()
        # The surviving replica did the work after the kill; the killed one really is gone.
        assert replicas[0].process.poll() is not None
        assert replicas[1].process.poll() is None

        # Both come back: the node catches up on everything it missed, and the restarted replica
        # (its sweeper sweeps at once on start, its consumer re-binds) repeats nothing.
        victim.start()
        await asyncio.to_thread(replicas[0].start, 90)
        await eventually(lambda: _caught_up(urls, victim.name), timeout=60, what=f"{victim.name} caught up")
        await asyncio.sleep(2)
        assert await count(sessionmaker, applied) == EVENTS
        assert await count(sessionmaker, select(func.count()).select_from(Party)) == EVENTS
        assert await count(sessionmaker, deadline_rows) == len(deadline_keys)
    finally:
        for r in replicas:
            with contextlib.suppress(Exception):
                r.stop()


async def _caught_up(urls: list[str], node: str) -> bool:
    """Every stream's copy on ``node`` is current, with nothing left to copy."""
    connection = await nats.connect(servers=urls)
    try:
        js = connection.jetstream(timeout=5)
        for name in ("REGISTRY_EVENTS", "BARGAINING_EVENTS"):
            cluster = (await js.stream_info(name)).cluster
            peers = {peer.name: peer for peer in cluster.replicas or []}
            if cluster.leader != node and not (node in peers and peers[node].current and not peers[node].lag):
                return False
        return True
    except Exception:  # a node restarting: ask again
        return False
    finally:
        await connection.close()


async def _at_least(sessionmaker, query, n: int) -> bool:
    return await count(sessionmaker, query) >= n


async def _none(sessionmaker, query) -> bool:
    return await count(sessionmaker, query) == 0
