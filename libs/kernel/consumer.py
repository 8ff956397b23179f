"""The supervised, idempotent consumer loop and the dead-letter path.

For each event: open a transaction, write the inbox row (its key refuses an event applied
already, which is then skipped), apply the handler, commit, and only then ack; a batch of
events is looked up in the inbox at once and applied in one transaction. A transient failure naks
with a growing delay; a message that cannot be an event is terminated; after
``max_deliver`` attempts JetStream gives up and publishes an advisory, which a
dead-letter stream captures, so the dead-letter table is filled even if this process
was down when the advisory was sent. A person can inspect and replay a dead letter.
A batch that takes longer than half the ack window tells JetStream it is in progress, so
that another replica is not handed the same events meanwhile.

The loop is supervised: it re-binds its durable pull consumer after the connection
comes back, and re-declares it if the server lost it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.errors import NotFoundError
from prometheus_client import Counter
from pydantic import ValidationError
from sqlalchemy import Column, Text, UniqueConstraint, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import Field, SQLModel

from kernel.bus import Bus, ConsumerSpec, StreamSpec, declare_consumer, declare_stream
from kernel.db import UTCDateTime, utcnow
from kernel.events import CloudEvent, stream_name, stream_subjects
from kernel.observability import correlation_id

log = structlog.get_logger(__name__)

EVENTS_APPLIED = Counter("ntc_events_applied_total", "Events applied by a consumer", ["consumer"])
EVENTS_SKIPPED = Counter("ntc_events_duplicate_total", "Redelivered events skipped by the inbox", ["consumer"])
EVENTS_FAILED = Counter("ntc_events_failed_total", "Event deliveries that failed and were nak'd", ["consumer"])

Handler = Callable[[AsyncSession, CloudEvent], Awaitable[None]]
BatchHandler = Callable[[AsyncSession, list[CloudEvent]], Awaitable[None]]


def in_runs(handler: Handler, runs: dict[str, BatchHandler]) -> BatchHandler:
    """A batch handler: each run of consecutive events of a type in ``runs`` goes to that type's function
    in one call (e.g. one statement for the run), every other event to ``handler``, all in order."""

    async def apply(session: AsyncSession, events: list[CloudEvent]) -> None:
        run: list[CloudEvent] = []
        for event in events:
            if run and event.type != run[0].type:
                await runs[run[0].type](session, run)
                run = []
            if event.type in runs:
                run.append(event)
            else:
                await handler(session, event)
        if run:
            await runs[run[0].type](session, run)

    return apply


class PoisonEvent(Exception):
    """Raised by a handler for an event that can never be applied: terminate, don't retry."""


class InboxRecord(SQLModel, table=True):
    """Events a consumer has applied; written in the same transaction as the effect."""

    __tablename__ = "inbox_record"

    consumer: str = Field(primary_key=True, max_length=120)
    event_id: str = Field(primary_key=True, max_length=64)
    event_type: str = Field(max_length=200)
    applied_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DeadLetter(SQLModel, table=True):
    """An event a consumer gave up on, kept for a person to inspect and replay."""

    __tablename__ = "dead_letter"
    __table_args__ = (UniqueConstraint("consumer", "stream", "stream_sequence", name="uq_dead_letter_message"),)

    id: int | None = Field(default=None, primary_key=True)
    consumer: str = Field(max_length=120, index=True)
    stream: str = Field(max_length=120)
    stream_sequence: int
    reason: str = Field(max_length=40, description="max_deliveries or terminated")
    deliveries: int = 0
    event_id: str | None = Field(default=None, max_length=64)
    event_type: str | None = Field(default=None, max_length=200)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    replayed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


@dataclass(frozen=True)
class Subscription:
    """One durable consumer of one producer's events: ``<consumer>-<producer>``."""

    consumer: str          # this service, e.g. "bargaining"
    producer: str          # e.g. "registry"
    handler: Handler
    filter_subjects: Sequence[str] = ()
    # Optional: applies a fetched batch in one go (e.g. one statement for many rows). It must
    # leave the same result as ``handler`` applied to each event in turn; a single event, and
    # every event of a batch that failed, still goes through ``handler``.
    batch_handler: BatchHandler | None = None

    @property
    def durable(self) -> str:
        return f"{self.consumer}-{self.producer}"

    @property
    def stream(self) -> str:
        return stream_name(self.producer)

    @property
    def subjects(self) -> list[str]:
        return list(self.filter_subjects) or stream_subjects(self.producer)


async def apply_once(
    sessionmaker: async_sessionmaker[AsyncSession], consumer: str, event: CloudEvent, handler: Handler
) -> bool:
    """Apply ``event`` with ``handler`` unless ``consumer`` already has. True if applied now.

    The inbox row is written first, in the transaction that then applies the event: a repeat is
    refused by its unique key before the handler runs (one statement per event, no look-up first),
    and another replica applying the same event at the same moment waits on that key and is then
    refused. A conflict among the handler's own writes, later, is the handler's failure
    (redelivered, in the end dead-lettered), never taken for a repeat and acked with its effect lost.
    """
    async with sessionmaker() as session:
        try:
            await session.execute(insert(InboxRecord), [{"consumer": consumer, "event_id": event.id,
                                                         "event_type": event.type, "applied_at": utcnow()}])
        except IntegrityError:
            await session.rollback()  # applied already (here or by another replica): its effect stands
            return False
        await handler(session, event)
        await session.commit()
    return True


class ConsumerLoop:
    """A supervised pull loop for one subscription."""

    def __init__(
        self,
        bus: Bus,
        sessionmaker: async_sessionmaker[AsyncSession],
        subscription: Subscription,
        *,
        batch_size: int = 64,
        max_deliver: int = 5,
        backoff_seconds: Sequence[float] = (1.0, 5.0, 30.0, 120.0),
        idle_check_every: int = 10,
    ) -> None:
        self.bus = bus
        self.sessionmaker = sessionmaker
        self.subscription = subscription
        self.batch_size = batch_size
        self.max_deliver = max_deliver
        self.backoff_seconds = tuple(backoff_seconds)
        self.idle_check_every = idle_check_every
        self.last_errors: dict[str, str] = {}
        self.bound = asyncio.Event()
        # How long JetStream waits for a delivery's ack before delivering it again (seconds).
        self.ack_window = self.spec.config().ack_wait or 30.0

    @property
    def spec(self) -> ConsumerSpec:
        return ConsumerSpec(
            stream=self.subscription.stream,
            durable=self.subscription.durable,
            filter_subjects=self.subscription.subjects,
            max_deliver=self.max_deliver,
            backoff_seconds=self.backoff_seconds,
        )

    async def run(self) -> None:
        durable = self.subscription.durable
        failures = 0
        while True:
            try:
                await self._bind_and_consume()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                self.bound.clear()
                delay = min(0.2 * 2 ** min(failures, 5), 5.0)
                log.warning("consumer loop restarting", consumer=durable, error=repr(exc), retry_in=delay)
                await asyncio.sleep(delay)
            else:
                failures = 0

    async def _bind_and_consume(self) -> None:
        js = self.bus.jetstream()
        await declare_consumer(js, self.spec)
        sub = await js.pull_subscribe_bind(durable=self.subscription.durable, stream=self.subscription.stream)
        generation = self.bus.generation
        self.bound.set()
        idle = 0
        try:
            while True:
                if self.bus.generation != generation:
                    log.info("re-binding consumer after reconnect", consumer=self.subscription.durable)
                    return
                try:
                    messages = await sub.fetch(self.batch_size, timeout=1.0)
                except (NatsTimeoutError, TimeoutError):
                    idle += 1
                    if idle % self.idle_check_every == 0:
                        # A pull subscription can go silent after a server restart; make sure
                        # the durable still exists (re-declared by the next bind if not).
                        await js.consumer_info(self.subscription.stream, self.subscription.durable)
                    continue
                idle = 0
                async with self._still_working(messages):
                    await self.handle_batch(messages)
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    @contextlib.asynccontextmanager
    async def _still_working(self, messages: list[Msg]) -> AsyncIterator[None]:
        """Tell JetStream the batch is in hand while it is applied.

        A delivery not acked within the ack window (the first back-off step, 1 s in production) is
        delivered again. A batch that takes longer (a slow disk, a large batch, a handler that
        waits) would come back while it is still being applied: the inbox refuses the repeat, but
        each one counts towards max_deliver, and an event applied in the end could reach the dead
        letters. So every half window each message not yet answered gets "in progress" (+WPI),
        which restarts its window. A batch done within half a window sends nothing."""
        window = self.ack_window

        async def beat() -> None:
            while True:
                await asyncio.sleep(window / 2)
                for message in messages:
                    if not message.is_acked:  # acked, nak'd or terminated by now: nothing to extend
                        with contextlib.suppress(Exception):
                            await message.in_progress()

        beating = asyncio.create_task(beat())
        try:
            yield
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating

    async def handle_batch(self, messages: list[Msg]) -> None:
        """Apply a fetched batch in one transaction (one commit, then every ack).

        If any message in the batch fails, nothing of the batch is kept and each message
        is handled on its own, so one bad event does not hold back the others.
        """
        if len(messages) == 1:
            await self.handle(messages[0])
            return
        durable = self.subscription.durable
        try:
            events = [CloudEvent.model_validate_json(message.data) for message in messages]
            async with self.sessionmaker() as session:
                seen = set((await session.execute(
                    select(InboxRecord.event_id).where(InboxRecord.consumer == durable,
                                                       InboxRecord.event_id.in_([e.id for e in events]))  # type: ignore[attr-defined]
                )).scalars())
                fresh: list[CloudEvent] = []
                for event in events:
                    if event.id not in seen:
                        seen.add(event.id)
                        fresh.append(event)
                if self.subscription.batch_handler is not None and fresh:
                    await self.subscription.batch_handler(session, fresh)
                else:
                    for event in fresh:
                        token = correlation_id.set(event.correlationid)
                        try:
                            await self.subscription.handler(session, event)
                        finally:
                            correlation_id.reset(token)
                applied_at = utcnow()
                inbox: list[dict[str, Any]] = [{"consumer": durable, "event_id": event.id, "event_type": event.type,
                                                "applied_at": applied_at} for event in fresh]
                if inbox:  # one statement for the whole batch
                    await session.execute(insert(InboxRecord), inbox)
                await session.commit()
                applied = len(inbox)
        except Exception:
            for message in messages:
                await self.handle(message)
            return
        if self.last_errors:  # kept only for events on their way to the dead letters
            for message in messages:
                self.last_errors.pop(_seq(message), None)
        for message in messages:
            await message.ack()
        EVENTS_APPLIED.labels(durable).inc(applied)
        EVENTS_SKIPPED.labels(durable).inc(len(messages) - applied)

    async def handle(self, message: Msg) -> None:
        durable = self.subscription.durable
        try:
            event = CloudEvent.model_validate_json(message.data)
        except ValidationError as exc:
            log.error("terminating a message that is not a platform event", consumer=durable, error=str(exc)[:300])
            self.last_errors[_seq(message)] = f"not a CloudEvent: {exc}"[:2000]
            await message.term()
            return
        cid = event.correlationid
        token = correlation_id.set(cid)
        structlog.contextvars.bind_contextvars(correlation_id=cid, event_id=event.id, event_type=event.type)
        try:
            applied = await apply_once(self.sessionmaker, durable, event, self.subscription.handler)
        except PoisonEvent as exc:
            log.error("terminating a poison event", consumer=durable, error=str(exc))
            self.last_errors[_seq(message)] = f"poison: {exc}"[:2000]
            await message.term()
            return
        except Exception as exc:
            attempt = message.metadata.num_delivered if message.metadata else 1
            backoff = self.backoff_seconds or (1.0,)
            delay = backoff[min(attempt - 1, len(backoff) - 1)]
            EVENTS_FAILED.labels(durable).inc()
            self.last_errors[_seq(message)] = repr(exc)[:2000]
            log.warning("event failed; will be redelivered", consumer=durable, attempt=attempt, retry_in=delay,
                        error=repr(exc))
            await message.nak(delay=delay)
            return
        finally:
            correlation_id.reset(token)
            structlog.contextvars.unbind_contextvars("correlation_id", "event_id", "event_type")
        self.last_errors.pop(_seq(message), None)  # kept only for events on their way to the dead letters
        # Ack only after the commit. If this ack is lost the event comes again and the inbox skips it.
        await message.ack()
        (EVENTS_APPLIED if applied else EVENTS_SKIPPED).labels(durable).inc()


def _seq(message: Msg) -> str:
    if message.metadata is None:
        return "?"
    return f"{message.metadata.stream}:{message.metadata.sequence.stream}"


# --- dead letters -------------------------------------------------------------------------

ADVISORY_MAX_DELIVERIES = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES"
ADVISORY_TERMINATED = "$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED"


def dead_letter_stream(service: str, subscriptions: Sequence[Subscription], *, replicas: int = 1) -> StreamSpec:
    """A stream of its own that keeps the give-up advisories of this service's consumers."""
    subjects: list[str] = []
    for sub in subscriptions:
        subjects.append(f"{ADVISORY_MAX_DELIVERIES}.{sub.stream}.{sub.durable}")
        subjects.append(f"{ADVISORY_TERMINATED}.{sub.stream}.{sub.durable}")
    return StreamSpec(name=f"{service.upper()}_DEADLETTERS", subjects=subjects, replicas=replicas,
                      description=f"Advisories for events {service} gave up on")


class DeadLetterLoop:
    """Turns give-up advisories into dead-letter rows, once each."""

    def __init__(self, bus: Bus, sessionmaker: async_sessionmaker[AsyncSession], service: str,
                 subscriptions: Sequence[Subscription], loops: Sequence[ConsumerLoop], *, replicas: int = 1) -> None:
        self.bus = bus
        self.sessionmaker = sessionmaker
        self.service = service
        self.stream = dead_letter_stream(service, subscriptions, replicas=replicas)
        self.durable = f"{service}-deadletters"
        self.loops = {loop.subscription.durable: loop for loop in loops}
        self.bound = asyncio.Event()

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                js = self.bus.jetstream()
                await declare_stream(js, self.stream)
                await declare_consumer(js, ConsumerSpec(stream=self.stream.name, durable=self.durable,
                                                        filter_subjects=list(self.stream.subjects), max_deliver=-1,
                                                        backoff_seconds=()))
                sub = await js.pull_subscribe_bind(durable=self.durable, stream=self.stream.name)
                generation = self.bus.generation
                self.bound.set()
                failures = 0
                while self.bus.generation == generation:
                    try:
                        messages = await sub.fetch(32, timeout=1.0)
                    except (NatsTimeoutError, TimeoutError):
                        continue
                    for message in messages:
                        await self._record(message)
                        await message.ack()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                self.bound.clear()
                delay = min(0.2 * 2 ** min(failures, 5), 5.0)
                log.warning("dead-letter loop restarting", service=self.service, error=repr(exc), retry_in=delay)
                await asyncio.sleep(delay)

    async def _record(self, message: Msg) -> None:
        advisory = json.loads(message.data)
        stream = advisory["stream"]
        sequence = int(advisory["stream_seq"])
        consumer = advisory["consumer"]
        reason = "terminated" if message.subject.startswith(ADVISORY_TERMINATED) else "max_deliveries"
        payload = ""
        event_id = event_type = None
        try:
            original = await self.bus.jetstream().get_msg(stream, sequence)
            payload = (original.data or b"").decode("utf-8", errors="replace")
            with contextlib.suppress(ValueError, ValidationError):
                event = CloudEvent.model_validate_json(payload)
                event_id, event_type = event.id, event.type
        except NotFoundError:
            payload = ""
        loop = self.loops.get(consumer)
        last_error = loop.last_errors.pop(f"{stream}:{sequence}", None) if loop else None
        async with self.sessionmaker() as session:
            existing = (await session.execute(
                select(DeadLetter).where(DeadLetter.consumer == consumer, DeadLetter.stream == stream,
                                         DeadLetter.stream_sequence == sequence)
            )).scalar_one_or_none()
            if existing is not None:
                return
            session.add(DeadLetter(consumer=consumer, stream=stream, stream_sequence=sequence, reason=reason,
                                   deliveries=int(advisory.get("deliveries", 0)), event_id=event_id,
                                   event_type=event_type, payload=payload, last_error=last_error))
            with contextlib.suppress(IntegrityError):
                await session.commit()
        log.error("event dead-lettered", consumer=consumer, stream=stream, sequence=sequence, reason=reason,
                  event_id=event_id)


async def replay_dead_letter(sessionmaker: async_sessionmaker[AsyncSession], dead_letter_id: int,
                             handlers: dict[str, Handler]) -> DeadLetter | None:
    """Apply a dead letter's event now, through its consumer's handler (at most once, via the inbox)."""
    async with sessionmaker() as session:
        dead = await session.get(DeadLetter, dead_letter_id)
        if dead is None:
            return None
    handler = handlers.get(dead.consumer)
    if handler is None:
        raise LookupError(f"no consumer named {dead.consumer} in this service")
    event = CloudEvent.model_validate_json(dead.payload)
    await apply_once(sessionmaker, dead.consumer, event, handler)
    async with sessionmaker() as session:
        dead = await session.get(DeadLetter, dead_letter_id)
        assert dead is not None
        dead.replayed_at = utcnow()
        session.add(dead)
        await session.commit()
        return dead
