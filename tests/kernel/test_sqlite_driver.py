"""The SQLite driver layer (kernel.sqlite): one trip to the database thread per statement, with the
answers SQLAlchemy expects (rows, row counts, RETURNING, errors, streaming) unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from kernel.db import create_engine

METADATA = MetaData()
ITEMS = Table("items", METADATA, Column("id", Integer, primary_key=True), Column("name", String, unique=True))


class Trips:
    """Counts the calls handed to one aiosqlite connection's thread (every call goes through its _execute)."""

    def __init__(self, driver: Any) -> None:
        self.count = 0
        self._execute = driver._execute
        driver._execute = self

    async def __call__(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        self.count += 1
        return await self._execute(fn, *args, **kwargs)


@pytest.fixture
async def engine(tmp_path: Path):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/driver.db")
    async with engine.begin() as connection:
        await connection.run_sync(METADATA.create_all)
        await connection.execute(insert(ITEMS), [{"id": i, "name": f"item {i}"} for i in range(1, 11)])
    yield engine
    await engine.dispose()


async def test_each_statement_makes_one_trip_to_the_database_thread(engine):
    async with engine.connect() as connection:
        trips = Trips((await connection.get_raw_connection()).driver_connection)
        rows = (await connection.execute(select(ITEMS).where(ITEMS.c.id <= 3))).all()
        assert [r.id for r in rows] == [1, 2, 3]
        assert trips.count == 1  # SQLAlchemy's own cursor made four: open, execute, fetch, close
        await connection.execute(update(ITEMS).where(ITEMS.c.id == 1).values(name="renamed"))
        assert trips.count == 2
        await connection.commit()
        assert trips.count == 3


async def test_rows_counts_and_returning_are_what_sqlalchemy_expects(engine):
    async with engine.begin() as connection:
        changed = await connection.execute(update(ITEMS).where(ITEMS.c.id <= 4).values(name=func.upper(ITEMS.c.name)))
        assert changed.rowcount == 4
        returned = await connection.execute(insert(ITEMS).values(name="new").returning(ITEMS.c.id, ITEMS.c.name))
        assert returned.all() == [(11, "new")]
        inserted = await connection.execute(insert(ITEMS).values(name="by rowid"))
        assert inserted.inserted_primary_key == (12,)  # from the cursor's lastrowid
        many = await connection.execute(insert(ITEMS), [{"name": f"batch {i}"} for i in range(5)])
        assert many.rowcount == 5
        assert (await connection.scalar(select(func.count()).select_from(ITEMS))) == 17
        assert (await connection.execute(select(ITEMS).where(ITEMS.c.id == 999))).all() == []
        assert (await connection.execute(select(ITEMS.c.name).where(ITEMS.c.id == 2))).scalar_one() == "ITEM 2"


async def test_an_error_is_sqlalchemy_s_and_leaves_the_connection_usable(engine):
    async with engine.connect() as connection:
        with pytest.raises(IntegrityError):
            await connection.execute(insert(ITEMS).values(id=1, name="a duplicate id"))
        await connection.rollback()
        with pytest.raises(OperationalError):
            await connection.execute(text("SELECT nothing FROM nowhere"))
        await connection.rollback()
        assert (await connection.scalar(select(func.count()).select_from(ITEMS))) == 10
    async with engine.begin() as connection:  # the pool's one connection, after those errors
        await connection.execute(insert(ITEMS).values(name="after the errors"))
    async with engine.connect() as connection:
        assert (await connection.scalar(select(func.count()).select_from(ITEMS))) == 11


async def test_streaming_results_still_fetch_as_they_go(engine):
    async with engine.connect() as connection:
        result = await connection.stream(select(ITEMS.c.id).order_by(ITEMS.c.id))
        assert [row.id async for row in result] == list(range(1, 11))
