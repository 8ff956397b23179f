"""The connection pool hands connections out first come, first served (real SQLite, one connection)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import create_async_engine

from kernel.db import FairPool, create_engine


async def _overtaken(engine, arrivals: int = 2000) -> int:
    """Requests arrive faster than one connection serves them (as HTTP requests do under load);
    returns how many were served after a request that arrived later than they did."""
    served: list[int] = []

    async def request(n: int) -> None:
        async with engine.connect() as connection:
            served.append(n)
            await connection.execute(text("SELECT 1"))

    tasks = []
    for n in range(arrivals):
        tasks.append(asyncio.create_task(request(n)))
        await asyncio.sleep(0.0003 if n % 4 else 0)  # bursts: four arrive at once now and then
    await asyncio.gather(*tasks)
    position = {n: i for i, n in enumerate(served)}
    return sum(1 for n in range(arrivals) if position[n] > n)


async def test_requests_get_the_connection_in_the_order_they_asked(tmp_path: Path):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/fair.db")
    try:
        assert await _overtaken(engine) == 0
    finally:
        await engine.dispose()


async def test_the_default_pool_lets_newcomers_overtake(tmp_path: Path):
    """Why FairPool exists: SQLAlchemy's own queue lets a newcomer take a connection that was
    returned for a waiting request (measured: 10-17 of 2,000 requests overtaken, one of them
    by ~1,000 later requests)."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/unfair.db", pool_size=1, max_overflow=0)
    try:
        # It happens to a few requests in most runs, not in every run: a few runs, and at least one shows it.
        assert any([await _overtaken(engine) > 0 for _ in range(4)])
    finally:
        await engine.dispose()


async def test_a_caller_that_times_out_or_is_cancelled_loses_nothing(tmp_path: Path):
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/timeout.db", poolclass=FairPool, pool_size=1,
                                 max_overflow=0, pool_timeout=0.2)
    try:
        holder = await engine.connect()
        with pytest.raises(PoolTimeout):
            await engine.connect()  # gives up after pool_timeout
        waiting = asyncio.create_task(engine.connect().start())
        await asyncio.sleep(0.05)
        waiting.cancel()
        await holder.close()
        # The connection went neither to the one that timed out nor to the cancelled one: it is free.
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT 1"))).scalar() == 1
        with pytest.raises(asyncio.CancelledError):
            await waiting
    finally:
        await engine.dispose()
