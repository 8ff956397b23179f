"""SQLite statements in one trip to the database thread each.

SQLite runs through aiosqlite: one thread per connection, and every call is handed to that
thread and its answer handed back to the event loop. SQLAlchemy's adapter makes four such
trips for one SELECT (open a cursor, execute, fetch all rows, close the cursor) and three for
a write. A trip costs ~0.1-0.2 ms and an event-loop turn, while SQLite itself answers a
keyed SELECT in ~0.01 ms: most of a statement's cost was the trips.

``OneTripCursor`` opens the cursor, executes, fetches every row and closes the cursor in
one function run on the connection's own thread, then answers from what it brought back.
It is used for every ordinary statement; server-side (streaming) cursors, which fetch as
they go, keep SQLAlchemy's own. ``create_engine`` in kernel.db passes ``DBAPI`` as the
engine's module.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util.concurrency import await_

Outcome = tuple[Any, list[Any], int, int | None]


def _one_trip(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> Outcome:
    """Runs on the connection's thread: everything one statement needs, in one go."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        # Read after the rows: for INSERT ... RETURNING, sqlite3 counts the rows as they are fetched.
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A DB-API cursor over aiosqlite that makes one trip to the database thread per statement."""

    __slots__ = ("_description", "_rowcount", "_lastrowid", "_arraysize")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # No cursor is opened here (that was a trip of its own): _one_trip opens one per statement.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._rows = collections.deque()
        self._soft_closed_memoized = {}  # type: ignore[assignment]
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _async_soft_close(self) -> None:
        return None  # the statement's cursor was closed on the database thread already

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            return await_(self._run(operation, parameters, many=False))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        try:
            return await_(self._run(operation, seq_of_parameters, many=True))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _run(self, operation: Any, parameters: Any, *, many: bool) -> None:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        async with self._adapt_connection._execute_mutex:
            description, rows, rowcount, lastrowid = await connection._execute(
                _one_trip, connection._conn, operation, parameters, many)
        self._description = description
        self._rows = collections.deque(rows)
        self._rowcount = rowcount
        self._lastrowid = lastrowid

    def nextset(self) -> None:
        return None  # sqlite3 has a single result set per statement


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """SQLAlchemy's aiosqlite DB-API module, handing out connections with the one-trip cursor."""

    def connect(self, *args: Any, **kwargs: Any) -> OneTripConnection:
        connection = super().connect(*args, **kwargs)
        # SQLAlchemy builds its own connection class here; both classes share one layout (no slots of
        # their own), so the instance is re-classed rather than the library's connect copied.
        connection.__class__ = OneTripConnection
        return connection  # type: ignore[return-value]


DBAPI = OneTripDBAPI(aiosqlite, sqlite3)
