"""The transactional outbox and its relay.

`record_event` adds the event row in the caller's transaction, beside the state change
it describes: both commit or neither does. The relay publishes pending rows to
JetStream with ``Nats-Msg-Id`` = event id and marks a row sent only after the stream's
ack. A publish whose ack never came is retried with the same id, and the stream drops
the duplicate, so a crash between ack and marking re-publishes nothing new.
Several replicas of one service can run relays side by side: on PostgreSQL each
batch is claimed with ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from typing import Any

import structlog
from prometheus_client import Counter, Gauge
from sqlalchemy import Column, Index, Text, event, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session
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
    session.add(
        OutboxMessage(
            id=cloud_event.id,
            type=cloud_event.type,
            subject=cloud_event.subject,
            envelope=cloud_event.to_json().decode(),
            created_at=cloud_event.time,
        )
    )
    session.info["outbox_written"] = True
    return cloud_event


@event.listens_for(Session, "after_commit")
def _wake_relay(session: Session) -> None:
    if session.info.pop("outbox_written", False):
        callback = session.info.get("on_outbox_commit")
        if callback is not None:
            callback()


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop("outbox_written", None)


class Relay:
    """Publishes pending outbox rows, woken after each commit, with a short fallback poll."""

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
    ) -> None:
        self.sessionmaker = sessionmaker
        self.bus = bus
        self.service = service
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.publish_timeout_seconds = publish_timeout_seconds
        self.skip_locked = skip_locked
        self.stream = stream
        self._declared_generation: int | None = None
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wakeup.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self.service}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                published = await self.publish_pending()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay pass failed", service=self.service)
                published = 0
            if published >= self.batch_size:
                continue  # more may be waiting
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=self.poll_seconds)
            self._wakeup.clear()

    async def publish_pending(self) -> int:
        """One pass: claim a batch, publish it, mark what was acked. Returns rows marked."""
        if not self.bus.is_connected:
            return 0
        js = self.bus.jetstream()
        if self.stream is not None and self._declared_generation != self.bus.generation:
            # Declared at start and again after each reconnect, in case the server lost it.
            await declare_stream(js, self.stream)
            self._declared_generation = self.bus.generation
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
        EVENTS_PUBLISHED.labels(self.service).inc(len(acked))
        if failed:
            PUBLISH_FAILURES.labels(self.service).inc(len(failed))
            log.warning("outbox publish without ack; will retry with the same id", service=self.service,
                        failed=len(failed), error=repr(failed[0][1]))
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
        return rows

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
