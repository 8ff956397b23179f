"""The JetStream connection and the declaration of streams and consumers, as code.

Declarations are idempotent: a stream or consumer that exists is updated to the
declared configuration, one that does not is created. Every service declares its own
stream at start; consumers declare their durable consumers on other services' streams
(waiting, supervised, until the producer has declared its stream).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

import nats
import structlog
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: Sequence[str]
    duplicate_window_seconds: float = 120.0
    replicas: int = 1
    max_age_seconds: float = 0  # 0: keep the history (streams are how projections are rebuilt)
    description: str | None = None

    def config(self) -> StreamConfig:
        return StreamConfig(
            name=self.name,
            subjects=list(self.subjects),
            storage=StorageType.FILE,
            duplicate_window=self.duplicate_window_seconds,
            num_replicas=self.replicas,
            max_age=self.max_age_seconds,
            description=self.description,
        )


@dataclass(frozen=True)
class ConsumerSpec:
    stream: str
    durable: str
    filter_subjects: Sequence[str]
    max_deliver: int = 5
    backoff_seconds: Sequence[float] = (1.0, 5.0, 30.0, 120.0)
    ack_wait_seconds: float = 30.0
    max_ack_pending: int = 1_000

    def config(self) -> ConsumerConfig:
        filters = list(self.filter_subjects)
        # JetStream requires backoff to have at most max_deliver entries.
        backoff = list(self.backoff_seconds)[: max(self.max_deliver - 1, 0)] or None
        return ConsumerConfig(
            durable_name=self.durable,
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=backoff[0] if backoff else self.ack_wait_seconds,
            max_deliver=self.max_deliver,
            backoff=backoff if backoff and len(backoff) > 0 else None,
            filter_subject=filters[0] if len(filters) == 1 else None,
            filter_subjects=filters if len(filters) > 1 else None,
            max_ack_pending=self.max_ack_pending,
        )


def nats_servers(url: str) -> list[str]:
    """The servers of a NATS URL setting: one URL, or several separated by commas (the seeds of a cluster;
    the client learns the rest of the cluster from whichever answers)."""
    servers = [part.strip() for part in url.split(",") if part.strip()]
    if not servers:
        raise ValueError("no NATS server given")
    return servers


class Bus:
    """One NATS connection per service process, with JetStream."""

    def __init__(self, url: str, *, name: str):
        self.url = url
        self.name = name
        self.nc: NATS | None = None
        self.js: JetStreamContext | None = None
        # Bumped on every reconnect: consumer loops re-bind when it changes.
        self.generation = 0
        self._connected = asyncio.Event()

    async def connect(self) -> None:
        async def _reconnected() -> None:
            self.generation += 1
            self._connected.set()
            log.info("nats reconnected", url=self.url, generation=self.generation)

        async def _disconnected() -> None:
            self._connected.clear()
            log.warning("nats disconnected", url=self.url)

        async def _error(exc: Exception) -> None:
            log.warning("nats error", error=str(exc))

        self.nc = await nats.connect(
            servers=nats_servers(self.url),
            name=self.name,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            connect_timeout=2,
            allow_reconnect=True,
            reconnected_cb=_reconnected,
            disconnected_cb=_disconnected,
            error_cb=_error,
        )
        self.js = self.nc.jetstream(timeout=5)
        self._connected.set()

    @property
    def is_connected(self) -> bool:
        return self.nc is not None and self.nc.is_connected

    async def close(self) -> None:
        # Plain close, not drain: every consumer acks only after its commit, so nothing in
        # flight is lost, and drain can wait out its whole timeout on a pull subscription.
        if self.nc is not None and not self.nc.is_closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.nc.close(), timeout=5)

    def jetstream(self) -> JetStreamContext:
        if self.js is None:
            raise RuntimeError("bus is not connected")
        return self.js


async def declare_stream(js: JetStreamContext, spec: StreamSpec) -> None:
    config = spec.config()
    try:
        await js.stream_info(spec.name)
    except NotFoundError:
        await js.add_stream(config)
        log.info("stream created", stream=spec.name, subjects=list(spec.subjects))
        return
    await js.update_stream(config)


async def declare_consumer(js: JetStreamContext, spec: ConsumerSpec) -> None:
    # add_consumer creates or, for an identical/compatible durable, updates it.
    await js.add_consumer(spec.stream, spec.config())
