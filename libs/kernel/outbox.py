"""The transactional outbox and its relay.

`record_event` adds the event row in the caller's transaction, beside the state change
it describes: both commit or neither does. After the commit the rows are handed to the
relay in memory; it publishes them to JetStream with ``Nats-Msg-Id`` = event id and
marks a row sent only after the stream's ack. A publish whose ack never came is
retried with the same id, and the stream drops the duplicate, so a crash between ack
and marking re-publishes nothing new.
Several replicas of one service can run relays side by side: on PostgreSQL each
batch is claimed with ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from prometheus_client import Counter, Gauge
from sqlalchemy import Column, Index, Text, event, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, SessionTransaction
from sqlmodel import Field, SQLModel

from kernel.bus import Bus, StreamSpec, declare_stream
from kernel.db import UTCDateTime, utcnow
from kernel.events import CloudEvent, EventData, envelope
from kernel.observability import correlation_id

log = structlog.get_logger(__name__)

EVENTS_PUBLISHED = Counter("ntc_outbox_published_total", "Events published from the outbox", ["service"])
PUBLISH_FAILURES = Counter("ntc_outbox_publish_failures_total", "Outbox publishes that got no ack", ["service"])
OUTBOX_PENDING = Gauge("ntc_outbox_pending", "Outbox rows seen pending by the last relay pass", ["service"])


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_pending", "published_at", "created_at"),)

    id: str = Field(primary_key=True, max_length=64, description="The event id, sent as Nats-Msg-Id")
    type: str = Field(max_length=200)
    subject: str | None = Field(default=None, max_length=200)
    envelope: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)


def record_event(session: AsyncSession, data: EventData, *, source: str) -> CloudEvent:
    """Write ``data`` to the outbox in the session's transaction. The caller commits."""
    cloud_event = envelope(data, source=source, correlation_id=correlation_id.get())
    row = OutboxMessage(
        id=cloud_event.id,
        type=cloud_event.type,
        subject=cloud_event.subject,
        envelope=cloud_event.to_json().decode(),
        created_at=cloud_event.time,
    )
    session.add(row)
    _hand_over(session, [CommittedEvent(row.id, row.type, row.envelope)])
    return cloud_event


async def record_events(session: AsyncSession, data: Sequence[EventData], *, source: str) -> None:
    """``record_event`` for thousands of events (a bulk import): the same rows, in one statement."""
    if not data:
        return
    rows: list[dict[str, Any]] = []
    handed: list[CommittedEvent] = []
    cid = correlation_id.get()
    for item in data:
        cloud_event = envelope(item, source=source, correlation_id=cid)
        body = cloud_event.to_json().decode()
        rows.append({"id": cloud_event.id, "type": cloud_event.type, "subject": cloud_event.subject,
                     "envelope": body, "created_at": cloud_event.time, "published_at": None, "attempts": 0,
                     "last_error": None})
        handed.append(CommittedEvent(cloud_event.id, cloud_event.type, body))
    await session.execute(insert(OutboxMessage.__table__), rows)  # type: ignore[attr-defined]
    _hand_over(session, handed)


def _hand_over(session: AsyncSession, events: list[CommittedEvent]) -> None:
    """Keep the rows for the relay until the commit (``_wake_relay``); forgotten on rollback."""
    session.info.setdefault("outbox_events", []).extend(events)


@dataclass(frozen=True, slots=True)
class CommittedEvent:
    """What the relay needs to publish one outbox row without reading it back."""

    id: str
    type: str
    envelope: str


@event.listens_for(Session, "after_commit")
def _wake_relay(session: Session) -> None:
    events = session.info.pop("outbox_events", [])
    session.info.pop("outbox_savepoints", None)
    callback = session.info.get("on_outbox_commit")
    if events and callback is not None:
        callback(events)


@event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction: SessionTransaction) -> None:
    # Rows recorded inside a savepoint are forgotten if it is rolled back (marks go with the transaction).
    if transaction.nested:
        session.info.setdefault("outbox_savepoints", {})[id(transaction)] = len(session.info.get("outbox_events", []))


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.nested:
        mark = session.info.get("outbox_savepoints", {}).pop(id(previous_transaction), None)
        if mark is not None:
            del session.info.get("outbox_events", [])[mark:]
        return
    session.info.pop("outbox_events", None)
    session.info.pop("outbox_savepoints", None)



class Relay:
    """Publishes outbox rows to JetStream and marks them sent after the ack.

    The rows a commit wrote are handed to the relay in memory (``committed``) and published
    at once, without reading them back: with one SQLite connection shared by every request,
    a relay that had to read each batch first waited its turn behind the writers and fell
    seconds behind them. Marking rows sent runs beside the publishing, so a slow turn at
    the database holds back the bookkeeping, not the events. The table stays the truth:
    a pass over it (at start, after a failure, and every ``poll_seconds`` when idle) publishes
    whatever is still unmarked - rows of a crashed process or another replica, rows written
    in bulk without a hand-over - and the stream drops a re-published id.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        bus: Bus,
        *,
        service: str,
        batch_size: int = 256,
        poll_seconds: float = 0.5,
        publish_timeout_seconds: float = 5.0,
        skip_locked: bool = False,
        stream: StreamSpec | None = None,
        max_handed: int = 10_000,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.bus = bus
        self.service = service
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.publish_timeout_seconds = publish_timeout_seconds
        self.skip_locked = skip_locked
        self.stream = stream
        self.max_handed = max_handed
        self._declared_generation: int | None = None
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._handed: deque[CommittedEvent] = deque()
        self._unmarked: set[str] = set()       # handed over or published, not yet marked in the table
        self._acked: list[str] = []            # published, waiting to be marked sent
        self._failed: list[tuple[str, BaseException]] = []
        self._marks_due = asyncio.Event()
        self._marker: asyncio.Task[None] | None = None
        self._look_in_table = True             # a pass over the table is due (start: rows left from before)

    def committed(self, events: list[CommittedEvent]) -> None:
        """Called after a commit that wrote outbox rows; ``events`` are the rows it wrote."""
        if events and len(self._handed) + len(events) <= self.max_handed:
            self._handed.extend(events)
            self._unmarked.update(e.id for e in events)
        else:  # too many waiting: read them from the table
            self._look_in_table = True
        self._wakeup.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self.service}")
        self._marker = asyncio.create_task(self._mark_forever(), name=f"outbox-marker-{self.service}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._marker is not None:
            # Record what was published before stopping, so a restart does not publish it again.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._mark_due(), timeout=5.0)
            self._marker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._marker

    async def _run(self) -> None:
        while True:
            more = False
            try:
                if self._handed:
                    await self._publish_handed()
                    more = bool(self._handed)
                elif self._look_in_table:
                    self._look_in_table = False
                    more = await self.publish_pending() >= self.batch_size
                    self._look_in_table = more
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay pass failed", service=self.service)
                self._look_in_table = True
                more = False
            if more:
                continue
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout=self.poll_seconds)
            except TimeoutError:
                self._look_in_table = True
            self._wakeup.clear()

    async def _ensure_stream(self, js: Any) -> None:
        if self.stream is not None and self._declared_generation != self.bus.generation:
            # Declared at start and again after each reconnect, in case the server lost it.
            await declare_stream(js, self.stream)
            self._declared_generation = self.bus.generation

    async def _publish_handed(self) -> None:
        batch = [self._handed.popleft() for _ in range(min(self.batch_size, len(self._handed)))]
        if not self.bus.is_connected:
            # They stay unmarked in the table; a pass over it publishes them once NATS is back.
            self._unmarked.difference_update(e.id for e in batch)
            self._look_in_table = True
            return
        try:
            js = self.bus.jetstream()
            await self._ensure_stream(js)
            acked, failed = await self._publish(js, batch)
        except BaseException:
            self._unmarked.difference_update(e.id for e in batch)
            raise
        self._acked.extend(acked)
        self._failed.extend(failed)
        self._marks_due.set()
        self._count(acked, failed)
        if failed:
            self._look_in_table = True

    async def _mark_forever(self) -> None:
        while True:
            await self._marks_due.wait()
            self._marks_due.clear()
            try:
                await self._mark_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("marking published outbox rows failed; will retry", service=self.service)
                await asyncio.sleep(1.0)
                self._marks_due.set()

    async def _mark_due(self) -> None:
        acked, self._acked = self._acked, []
        failed, self._failed = self._failed, []
        if not acked and not failed:
            return
        try:
            async with self.sessionmaker() as session:
                await self._mark(session, acked, failed)
                await session.commit()
        except BaseException:
            self._acked[:0] = acked
            self._failed[:0] = failed
            raise
        self._unmarked.difference_update(acked)
        self._unmarked.difference_update(row_id for row_id, _ in failed)

    def _count(self, acked: list[str], failed: list[tuple[str, BaseException]]) -> None:
        EVENTS_PUBLISHED.labels(self.service).inc(len(acked))
        if failed:
            PUBLISH_FAILURES.labels(self.service).inc(len(failed))
            log.warning("outbox publish without ack; will retry with the same id", service=self.service,
                        failed=len(failed), error=repr(failed[0][1]))

    async def publish_pending(self) -> int:
        """One pass: claim a batch, publish it, mark what was acked. Returns rows marked."""
        if not self.bus.is_connected:
            return 0
        js = self.bus.jetstream()
        await self._ensure_stream(js)
        if self.skip_locked:
            # PostgreSQL, possibly several replicas: hold the claimed rows locked while publishing,
            # so two relays never publish the same batch at once.
            async with self.sessionmaker() as session:
                rows = await self._pending(session, lock=True)
                acked, failed = await self._publish(js, rows)
                await self._mark(session, acked, failed)
                await session.commit()
        else:
            # SQLite, one writer: don't hold the only connection while waiting for acks.
            async with self.sessionmaker() as session:
                rows = await self._pending(session, lock=False)
                await session.rollback()
            acked, failed = await self._publish(js, rows)
            if acked or failed:
                async with self.sessionmaker() as session:
                    await self._mark(session, acked, failed)
                    await session.commit()
        self._count(acked, failed)
        return len(acked)

    async def _pending(self, session: AsyncSession, *, lock: bool) -> list[Any]:
        query = (
            select(OutboxMessage.id, OutboxMessage.type, OutboxMessage.envelope)
            .where(OutboxMessage.published_at.is_(None))  # type: ignore[union-attr]
            .order_by(OutboxMessage.created_at)  # type: ignore[arg-type]
            .limit(self.batch_size)
        )
        if lock:
            query = query.with_for_update(skip_locked=True)
        rows = list((await session.execute(query)).all())
        OUTBOX_PENDING.labels(self.service).set(len(rows))
        # Rows handed over by a commit in this process are published (or being marked) already.
        return [row for row in rows if row.id not in self._unmarked]

    async def _publish(self, js: Any, rows: list[Any]) -> tuple[list[str], list[tuple[str, BaseException]]]:
        """Publish with the event id as Nats-Msg-Id; a row counts as sent only once its ack came."""
        if not rows:
            return [], []
        futures = [await js.publish_async(row.type, row.envelope.encode(), headers={"Nats-Msg-Id": row.id})
                   for row in rows]
        results = await asyncio.gather(
            *(asyncio.wait_for(f, self.publish_timeout_seconds) for f in futures), return_exceptions=True
        )
        acked = [row.id for row, result in zip(rows, results, strict=True) if not isinstance(result, BaseException)]
        failed = [(row.id, result) for row, result in zip(rows, results, strict=True)
                  if isinstance(result, BaseException)]
        return acked, failed

    async def _mark(self, session: AsyncSession, acked: list[str], failed: list[tuple[str, BaseException]]) -> None:
        if acked:
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.id.in_(acked)).values(published_at=utcnow())  # type: ignore[attr-defined]
            )
        for row_id, error in failed:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id)
                .values(attempts=OutboxMessage.attempts + 1, last_error=(repr(error) or "no ack")[:500])
            )
