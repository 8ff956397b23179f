"""Statutory deadlines: stored by the service that owns them, announced exactly once by a sweeper.

Architecture rule 6: deadlines are computed (with `kernel.calendar`), stored, and a sweeper
emits ``deadline.approaching`` and ``deadline.missed`` events exactly once each.

How it works
------------
* A service computes the dates in its domain code and, inside its business transaction,
  calls `schedule_deadline` with a stable ``key`` (``"status-confirmation:<organisation id>"``).
  The key is unique, so scheduling the same obligation again never makes a second row.
  `meet_deadline` records that the obligation was fulfilled, `cancel_deadline` that it no
  longer applies (the case was withdrawn ...). None of these commit: the caller's unit of
  work does, together with the state change that caused them.
* Dates are calendar days in Kazakhstan time (Asia/Almaty). ``due_on`` is the last day on
  which the obligation can still be met; the deadline is *approaching* from the start of
  ``approaching_on`` and *missed* from the start of the day after ``due_on``.
* `DeadlineSweeper` wakes every few seconds, asks an injectable clock for "now", and for
  every open deadline (neither met nor cancelled) whose moment has come it opens ONE
  transaction that locks the row, writes the producer's event to the outbox, marks the row
  (``approaching_emitted_at`` / ``missed_emitted_at``) and runs the producer's optional
  ``on_missed`` hook. All of it commits or none of it does, so an event is never recorded
  without its mark (it would be sent twice) nor a mark without its event (lost). On
  PostgreSQL the row is claimed with ``FOR UPDATE SKIP LOCKED``, so replicas sweeping at the
  same moment never both emit; SQLite has a single connection, hence a single writer. Either
  way the mark is written only if the row still holds the version the sweeper read, so two
  processes over one SQLite file (a restart overlapping the old process) do not both emit either.
  The outbox relay then publishes the events as it does for any other.

Choices worth knowing
---------------------
* A deadline found already missed whose approaching event was never sent (scheduled late,
  or the service was down for the whole window) emits only ``missed``: a warning that the
  time is running out, sent after it ran out, would mislead. ``approaching_emitted_at`` stays
  empty as the honest record that no warning went out.
* Re-scheduling a key (`reschedule_rule` is the plain-code version of the rule):
  - same dates: nothing about the timing changes (a retried request is harmless); the
    descriptive fields (article, audience, details) take the new values;
  - an open deadline not yet missed: the dates move; if ``due_on`` moves later (the period
    was extended) an approaching event already sent is forgotten, so the parties are warned
    again before the new date; if it moves earlier or stays, they are not warned twice;
  - a met or cancelled deadline: a new cycle of the same obligation (next year's status
    confirmation) opens: met/cancelled and both emission marks are cleared;
  - a missed deadline that is still open is not moved: its missed event and the producer's
    reaction to it have happened. The caller raises `DeadlineAlreadyMissed` unless it first
    meets or cancels it, which then lets a new cycle open.
* The ``deadline`` table is a kernel table like the outbox: every service's database has it,
  created by a migration of the service that calls `kernel.migrations.create_deadline_table_v1`.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Self

import structlog
from prometheus_client import Counter
from pydantic import Field as PydanticField
from sqlalchemy import JSON, Column, Index, Uuid, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Field, SQLModel

from kernel.calendar import KAZAKHSTAN, kazakhstan_now
from kernel.db import UTCDateTime, utcnow
from kernel.events import EventData
from kernel.outbox import record_event

if TYPE_CHECKING:
    from kernel.app import PlatformState

log = structlog.get_logger(__name__)

DEADLINE_EVENTS = Counter("ntc_deadline_events_total", "Deadline events recorded by the sweeper",
                          ["service", "emission"])
SWEEP_FAILURES = Counter("ntc_deadline_sweep_failures_total", "Deadlines whose sweep transaction failed",
                         ["service"])


def local_day(moment: datetime) -> date:
    """The calendar day in Kazakhstan at ``moment`` (which must be timezone-aware)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("the clock must return a timezone-aware datetime")
    return moment.astimezone(KAZAKHSTAN).date()


# --- the rules, as plain code ------------------------------------------------------------

class Emission(StrEnum):
    approaching = "approaching"
    missed = "missed"


def due_emission(*, approaching_on: date, due_on: date, today: date, approaching_emitted: bool,
                 missed_emitted: bool, closed: bool) -> Emission | None:
    """Which event, if any, a deadline owes on ``today``.

    ``closed`` is met or cancelled: nothing more is ever owed. Past ``due_on`` only the missed
    event is owed, whether or not the approaching one went out (see the module docstring).
    """
    if closed or missed_emitted:
        return None
    if today > due_on:
        return Emission.missed
    if today >= approaching_on and not approaching_emitted:
        return Emission.approaching
    return None


class Reschedule(StrEnum):
    unchanged = "unchanged"  # same dates: timing and marks untouched
    move = "move"  # open, not yet missed: new dates, marks kept
    move_and_warn_again = "move_and_warn_again"  # extended after the warning: the approaching mark is cleared
    new_cycle = "new_cycle"  # met or cancelled before: reopened with new dates, every mark cleared
    refuse = "refuse"  # missed and still open: not moved


def reschedule_rule(*, old_due_on: date, old_approaching_on: date, new_due_on: date, new_approaching_on: date,
                    closed: bool, approaching_emitted: bool, missed_emitted: bool) -> Reschedule:
    """What scheduling an existing key with (possibly) new dates does; see the module docstring."""
    if (old_due_on, old_approaching_on) == (new_due_on, new_approaching_on):
        return Reschedule.unchanged
    if closed:
        return Reschedule.new_cycle
    if missed_emitted:
        return Reschedule.refuse
    if approaching_emitted and new_due_on > old_due_on:
        return Reschedule.move_and_warn_again
    return Reschedule.move


def check_dates(*, approaching_on: date, due_on: date) -> None:
    for name, value in (("approaching_on", approaching_on), ("due_on", due_on)):
        # A datetime is a date too; it would carry a time of day and a zone into day arithmetic.
        if isinstance(value, datetime) or not isinstance(value, date):
            raise TypeError(f"{name} must be a datetime.date, got {type(value).__name__}")
    if approaching_on > due_on:
        raise ValueError(f"approaching_on {approaching_on} is after due_on {due_on}")


# --- the table ---------------------------------------------------------------------------

class Deadline(SQLModel, table=True):
    """One statutory obligation with a last day. Matches `kernel.migrations.create_deadline_table_v1`."""

    __tablename__ = "deadline"
    __table_args__ = (
        # The sweeper's question: open deadlines not yet announced as missed, by date.
        Index("ix_deadline_sweep", "missed_emitted_at", "approaching_on"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True, sa_type=Uuid)
    key: str = Field(max_length=200, unique=True, index=True,
                     description="Stable per obligation, e.g. status-confirmation:<organisation id>")
    kind: str = Field(max_length=80, description="e.g. status_confirmation")
    subject_id: str = Field(max_length=64, index=True, description="The aggregate id the obligation is about")
    due_on: date = Field(description="Last day (Asia/Almaty) on which the obligation can still be met")
    approaching_on: date = Field(description="First day (Asia/Almaty) on which the approaching event is due")
    article: str | None = Field(default=None, max_length=300, description="The statute the period comes from")
    audience: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    met_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    approaching_emitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    missed_emitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = Field(default=1, description="Raised by every change")

    @property
    def closed(self) -> bool:
        return self.met_at is not None or self.cancelled_at is not None

    def owed_on(self, today: date) -> Emission | None:
        return due_emission(approaching_on=self.approaching_on, due_on=self.due_on, today=today,
                            approaching_emitted=self.approaching_emitted_at is not None,
                            missed_emitted=self.missed_emitted_at is not None, closed=self.closed)


# --- used inside a business transaction (never committing) -------------------------------

class DeadlineAlreadyMissed(ValueError):
    """Moving a deadline whose missed event has gone out; meet or cancel it first."""


async def _by_key(session: AsyncSession, key: str) -> Deadline | None:
    # Locked (on PostgreSQL) so a sweep marking the same row waits for us, or we for it,
    # and neither overwrites the other's change.
    query = (select(Deadline).where(Deadline.key == key).with_for_update()
             .execution_options(populate_existing=True))
    return (await session.execute(query)).scalar_one_or_none()


async def schedule_deadline(session: AsyncSession, *, key: str, kind: str, subject_id: str | uuid.UUID,
                            due_on: date, approaching_on: date, audience: list[uuid.UUID] | list[str],
                            article: str | None = None, details: dict[str, Any] | None = None) -> Deadline:
    """Create the deadline ``key`` or re-schedule it (rule: `reschedule_rule`). The caller commits."""
    check_dates(approaching_on=approaching_on, due_on=due_on)
    subject = str(subject_id)
    audience_ids = [str(uuid.UUID(str(member))) for member in audience]
    details = dict(details or {})
    deadline = await _by_key(session, key)
    if deadline is None:
        deadline = Deadline(key=key, kind=kind, subject_id=subject, due_on=due_on, approaching_on=approaching_on,
                            article=article, audience=audience_ids, details=details)
        session.add(deadline)
        await session.flush()  # a concurrent first schedule of the same key fails here, in the caller's hands
        return deadline
    if (deadline.kind, deadline.subject_id) != (kind, subject):
        raise ValueError(f"deadline {key!r} is a {deadline.kind} of {deadline.subject_id}, not a {kind} of {subject}")
    rule = reschedule_rule(old_due_on=deadline.due_on, old_approaching_on=deadline.approaching_on,
                           new_due_on=due_on, new_approaching_on=approaching_on, closed=deadline.closed,
                           approaching_emitted=deadline.approaching_emitted_at is not None,
                           missed_emitted=deadline.missed_emitted_at is not None)
    if rule is Reschedule.refuse:
        raise DeadlineAlreadyMissed(f"deadline {key!r} was missed on {deadline.due_on}; meet or cancel it first")
    changed = (deadline.article, deadline.audience, deadline.details) != (article, audience_ids, details)
    deadline.article, deadline.audience, deadline.details = article, audience_ids, details
    if rule is not Reschedule.unchanged:
        changed = True
        deadline.due_on, deadline.approaching_on = due_on, approaching_on
        if rule in (Reschedule.move_and_warn_again, Reschedule.new_cycle):
            deadline.approaching_emitted_at = None
        if rule is Reschedule.new_cycle:
            deadline.met_at = deadline.cancelled_at = deadline.missed_emitted_at = None
    if changed:
        deadline.version += 1
    return deadline


async def meet_deadline(session: AsyncSession, key: str, *, at: datetime | None = None) -> Deadline | None:
    """Record that the obligation was fulfilled (no further events). None if no such deadline.

    Meeting it after it was missed is recorded too (late fulfilment is a fact worth keeping);
    a deadline already met keeps its first date; a cancelled one stays cancelled.
    """
    deadline = await _by_key(session, key)
    if deadline is None or deadline.closed:
        return deadline
    deadline.met_at = at or utcnow()
    deadline.version += 1
    return deadline


async def cancel_deadline(session: AsyncSession, key: str) -> Deadline | None:
    """The obligation no longer applies (no further events). None if no such deadline."""
    deadline = await _by_key(session, key)
    if deadline is None or deadline.closed:
        return deadline
    deadline.cancelled_at = utcnow()
    deadline.version += 1
    return deadline


async def lock_deadlines_of(session: AsyncSession, subject_id: str | uuid.UUID) -> None:
    """Lock an aggregate's deadlines before the aggregate itself (PostgreSQL; nothing to do on SQLite).

    The sweeper locks a deadline and then, in the service's missed hook, its aggregate. A request that
    locked the aggregate first and then met the deadline would take the two in the other order, and
    PostgreSQL would abort one of them as a deadlock when they meet; in the same order they just wait.
    """
    await session.execute(select(Deadline.id).where(Deadline.subject_id == str(subject_id))
                          .order_by(Deadline.key).with_for_update())


async def deadlines_for(session: AsyncSession, subject_id: str | uuid.UUID) -> list[Deadline]:
    """Every deadline of one aggregate, soonest first."""
    query = select(Deadline).where(Deadline.subject_id == str(subject_id)).order_by(Deadline.due_on, Deadline.key)
    return list((await session.execute(query)).scalars())


# --- the events --------------------------------------------------------------------------

class DeadlineEventData(EventData):
    """The fields every deadline event carries. A producer subclasses it once per event type:

    ``class StatusConfirmationApproaching(DeadlineEventData): event_type = "kz.ntc.registry.deadline.approaching.v1"``
    """

    event_type: ClassVar[str]

    deadline_id: uuid.UUID
    key: str
    kind: str = PydanticField(description="e.g. status_confirmation")
    subject_id: str = PydanticField(description="The aggregate the obligation is about")
    due_on: date = PydanticField(description="Last day (Kazakhstan time) on which the obligation could be met")
    article: str | None = PydanticField(default=None, description="The statute the period comes from")
    details: dict[str, Any] = PydanticField(default_factory=dict)

    def subject(self) -> str:
        return self.subject_id

    @classmethod
    def from_deadline(cls, deadline: Deadline) -> Self:
        return cls(deadline_id=deadline.id, key=deadline.key, kind=deadline.kind, subject_id=deadline.subject_id,
                   due_on=deadline.due_on, article=deadline.article, details=deadline.details,
                   audience=[uuid.UUID(member) for member in deadline.audience])


# --- the sweeper -------------------------------------------------------------------------

MissedHook = Callable[[AsyncSession, Deadline], Awaitable[None]]


@dataclass(frozen=True)
class DeadlineSpec:
    """What a service tells the kernel about its deadlines (``ServiceDefinition.deadlines``)."""

    approaching: type[DeadlineEventData]
    missed: type[DeadlineEventData]
    # Runs in the transaction that records the missed event, e.g. the registry lapses a status.
    on_missed: MissedHook | None = None
    clock: Callable[[], datetime] = kazakhstan_now


@dataclass(frozen=True)
class SweepResult:
    approaching: int = 0
    missed: int = 0
    failed: int = 0


class DeadlineSweeper:
    """Emits the approaching and missed events that have come due, each exactly once.

    Called with the `PlatformState` it runs forever (a ``ServiceDefinition.background`` task);
    `sweep` is one pass, for tests and tools.
    """

    def __init__(self, spec: DeadlineSpec, *, service: str, interval_seconds: float = 30.0,
                 batch_size: int = 200, skip_locked: bool = False) -> None:
        self.spec = spec
        self.service = service
        self.source = f"/{service}"
        self.interval_seconds = interval_seconds
        self.batch_size = batch_size
        self.skip_locked = skip_locked
        self._wakeup = asyncio.Event()
        self.__name__ = f"deadline-sweeper-{service}"  # the task name the app gives a background callable

    def wake(self) -> None:
        self._wakeup.set()

    async def __call__(self, state: PlatformState) -> None:
        await self.run(state.sessionmaker)

    async def run(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.wake()  # sweep at once on start: the service may have been down when something came due
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=self.interval_seconds)
            self._wakeup.clear()
            try:
                await self.sweep(sessionmaker)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("deadline sweep failed", service=self.service)

    async def sweep(self, sessionmaker: async_sessionmaker[AsyncSession]) -> SweepResult:
        """One pass over everything due now. A deadline whose transaction fails is left for the next pass."""
        today = local_day(self.spec.clock())
        counts = {Emission.approaching: 0, Emission.missed: 0}
        failed = 0
        after: tuple[date, uuid.UUID] | None = None
        while True:
            # Candidates are read without a lock and in a session closed at once: on SQLite
            # the single connection is needed for the per-deadline transactions below.
            async with sessionmaker() as session:
                candidates = await self._candidates(session, today, after=after)
            if not candidates:
                break
            # Each candidate is visited once a pass, even one that failed or was locked by
            # someone else: the pass moves on past it instead of spinning on it.
            after = candidates[-1]
            for _, deadline_id in candidates:
                try:
                    emission = await self._emit(sessionmaker, deadline_id, today)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    failed += 1
                    SWEEP_FAILURES.labels(self.service).inc()
                    log.exception("deadline not swept; will retry", service=self.service,
                                  deadline_id=str(deadline_id))
                    continue
                if emission is not None:
                    counts[emission] += 1
            if len(candidates) < self.batch_size:
                break
        return SweepResult(approaching=counts[Emission.approaching], missed=counts[Emission.missed],
                           failed=failed)

    async def _candidates(self, session: AsyncSession, today: date, *,
                          after: tuple[date, uuid.UUID] | None) -> list[tuple[date, uuid.UUID]]:
        query = (
            select(Deadline.due_on, Deadline.id)
            .where(Deadline.met_at.is_(None), Deadline.cancelled_at.is_(None),  # type: ignore[union-attr]
                   Deadline.missed_emitted_at.is_(None),  # type: ignore[union-attr]
                   or_(Deadline.due_on < today,
                       and_(Deadline.approaching_on <= today,
                            Deadline.approaching_emitted_at.is_(None))))  # type: ignore[union-attr]
            .order_by(Deadline.due_on, Deadline.id)
            .limit(self.batch_size)
        )
        if after is not None:
            due_on, deadline_id = after
            query = query.where(or_(Deadline.due_on > due_on,
                                    and_(Deadline.due_on == due_on, Deadline.id > deadline_id)))
        return [(row.due_on, row.id) for row in (await session.execute(query)).all()]

    async def _emit(self, sessionmaker: async_sessionmaker[AsyncSession], deadline_id: uuid.UUID,
                    today: date) -> Emission | None:
        """The one transaction per deadline: lock, re-check, record the event, mark, react."""
        async with sessionmaker() as session:
            query = select(Deadline).where(Deadline.id == deadline_id)
            if self.skip_locked:
                # Another replica holds it (or a business transaction is changing it): leave it
                # to them; it is looked at again on the next pass if still owed.
                query = query.with_for_update(skip_locked=True)
            deadline = (await session.execute(query)).scalar_one_or_none()
            # Re-checked under the lock: another sweeper may have committed since the candidates were read.
            emission = deadline.owed_on(today) if deadline is not None else None
            if deadline is None or emission is None:
                await session.rollback()
                return None
            # The mark is claimed first, on the version just read: if anyone changed the row since (another
            # sweeper marked it, a business transaction met or moved it), nothing is claimed and nothing is
            # emitted; the next pass looks again. Row locks alone do not guarantee it: a sweeper in another
            # process over the same SQLite file reads without any lock, and so does one built without
            # skip_locked on PostgreSQL.
            mark = "approaching_emitted_at" if emission is Emission.approaching else "missed_emitted_at"
            marks = {mark: utcnow(), "version": deadline.version + 1}
            table = Deadline.__table__  # type: ignore[attr-defined]
            claimed = await session.execute(update(table).where(table.c.id == deadline.id,
                                                                table.c.version == deadline.version).values(marks))
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                await session.rollback()
                return None
            for name, value in marks.items():
                set_committed_value(deadline, name, value)  # what the row now holds; nothing left to flush
            event_class = self.spec.approaching if emission is Emission.approaching else self.spec.missed
            record_event(session, event_class.from_deadline(deadline), source=self.source)
            if emission is Emission.missed and self.spec.on_missed is not None:
                await self.spec.on_missed(session, deadline)
            await session.commit()
        DEADLINE_EVENTS.labels(self.service, emission.value).inc()
        log.info("deadline event recorded", service=self.service, emission=emission.value, key=deadline.key,
                 due_on=str(deadline.due_on))
        return emission
