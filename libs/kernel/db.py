"""Database engine and the unit-of-work session.

SQLite is the default (one file per service, WAL journal, ``synchronous=FULL`` so a
committed transaction survives power loss); PostgreSQL (asyncpg) is chosen by URL.
Services never call ``commit()`` inside domain code: the request handler or the event
handler is the unit of work and commits once.
"""

from __future__ import annotations

import asyncio
import functools
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import DateTime, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import registry
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util.concurrency import await_
from sqlalchemy.util.queue import AsyncAdaptedQueue, Empty
from sqlmodel import SQLModel

from kernel.sqlite import DBAPI as sqlite_dbapi


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored and returned as timezone-aware UTC on every backend.

    SQLite has no time zones; without this a value read back would be naive.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class FairQueue(AsyncAdaptedQueue):  # type: ignore[type-arg]
    """The pool's queue of idle connections, handed out first come, first served.

    SQLAlchemy's asyncio queue lets a newcomer take a connection that was just returned
    while the task woken for it has not run yet; the woken task then queues again at the
    back (sqlalchemy/sqlalchemy#7679). With one SQLite connection and a steady stream of
    requests, the outbox relay waited up to 1.6 s for its turn this way. Here a returned
    connection goes straight to the longest waiter, and nobody takes one while others wait.
    """

    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        super().__init__(maxsize, use_lifo)
        self._waiters: deque[asyncio.Future[Any]] = deque()

    def put_nowait(self, item: Any) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(item)
                return
        super().put_nowait(item)

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        while self._waiters and self._waiters[0].done():  # gave up (timed out or cancelled)
            self._waiters.popleft()
        if not self._waiters:
            try:
                return self._queue.get_nowait()
            except asyncio.QueueEmpty:
                pass
        if not block:
            raise Empty()
        return await_(self._wait(timeout))

    async def _wait(self, timeout: float | None) -> Any:
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.shield(waiter)
        except TimeoutError:
            if waiter.done() and not waiter.cancelled():
                return waiter.result()  # handed over just as the time ran out
            waiter.cancel()
            raise Empty() from None
        except asyncio.CancelledError:
            # The caller gave up; a connection handed to it meanwhile goes to the next in line.
            if waiter.done() and not waiter.cancelled():
                self.put_nowait(waiter.result())
            else:
                waiter.cancel()
            raise


class FairPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio pool with a first-come, first-served queue of connections."""

    _queue_class = FairQueue


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # One connection: SQLite serialises writers anyway, and a larger pool only
        # lengthens the tail (p99 ~55 ms -> ~1 s measured on this machine).
        # module: each statement makes one trip to aiosqlite's thread instead of four (kernel.sqlite).
        engine = create_async_engine(
            url, echo=echo, poolclass=FairPool, pool_size=1, max_overflow=0, pool_timeout=60,
            connect_args={"timeout": 30}, module=sqlite_dbapi,
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            # 64 MiB of page cache for the one connection (the default is 2 MiB): a register of
            # 100,000 organisations is searched ~1.3x faster when its pages stay in memory.
            cursor.execute("PRAGMA cache_size=-65536")
            cursor.close()

        return engine
    # No pre-ping: it costs a round trip on every checkout; a connection that died is
    # invalidated on its first error instead, and recycled before servers time it out.
    return create_async_engine(url, echo=echo, poolclass=FairPool, pool_size=10, max_overflow=10,
                               pool_recycle=1800)


def create_sessionmaker(
    engine: AsyncEngine, *, on_commit: Callable[[list[Any]], None] | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions for one service. ``on_commit`` is called after a commit that wrote outbox rows
    (``kernel.outbox.record_event``/``record_events``), with those rows."""
    return async_sessionmaker(engine, expire_on_commit=False, info={"on_outbox_commit": on_commit})


async def session_dependency(request: Request) -> AsyncIterator[AsyncSession]:
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.platform.sessionmaker
    async with sessionmaker() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(session_dependency)]


def table_base(service: str) -> type[SQLModel]:
    """A base class for one service's tables, with a metadata of its own.

    Each service's tables live in their own database; keeping their metadata apart
    lets several services be imported in one process (tests) without name clashes,
    and lets each service's migrations see only its own tables.
    """
    return type(f"{service.title()}Table", (SQLModel,), {"__doc__": f"Tables of the {service} service."},
                registry=registry())


async def upsert(session: AsyncSession, table: type[SQLModel], values: dict[str, Any], *, key: Sequence[str],
                 unless_newer: str | None = None) -> None:
    """Insert a row or update the existing one with the same ``key``, in one statement.

    Projections apply events with it: no read before the write, and the same result
    whether the row existed or not. With ``unless_newer`` (a column holding the time of the
    change last applied), an existing row is left alone when it already holds a later change:
    an event redelivered late, after a newer one, cannot take the projection back.
    """
    await upsert_many(session, table, [values], key=key, unless_newer=unless_newer)


async def upsert_many(session: AsyncSession, table: type[SQLModel], rows: Sequence[dict[str, Any]], *,
                      key: Sequence[str], unless_newer: str | None = None) -> None:
    """``upsert`` for many rows with the same columns: one statement, executed once per row
    by the driver (a consumer applies a batch of events this way). Rows apply in order."""
    if not rows:
        return
    if session.bind is None:
        raise RuntimeError("session is not bound to an engine")
    statement = _upsert_statement(session.bind.dialect.name, table, tuple(rows[0]), tuple(key), unless_newer)
    await session.execute(statement, list(rows))


@functools.cache
def _upsert_statement(dialect: str, table: type[SQLModel], columns: tuple[str, ...], key: tuple[str, ...],
                      unless_newer: str | None) -> Any:
    # Built once per shape: building the statement cost more than running it.
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:  # pragma: no cover - the platform runs on these two
        raise NotImplementedError(dialect)
    core_table = table.__table__  # type: ignore[attr-defined]
    statement = dialect_insert(core_table)
    updates = {name: statement.excluded[name] for name in columns if name not in key}
    where = None
    if unless_newer is not None:
        where = core_table.c[unless_newer] <= statement.excluded[unless_newer]
    return statement.on_conflict_do_update(index_elements=list(key), set_=updates, where=where)
