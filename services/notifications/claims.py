"""Claiming due work so that several replicas share it and none sends one item twice.

A pass stamps due rows with a lease (owner token and expiry) in one short statement,
``UPDATE ... WHERE id IN (due rows) RETURNING ...``; on PostgreSQL the due rows are picked
``FOR UPDATE SKIP LOCKED``, so two replicas pick different rows, and on every backend the
stamp applies only while the lease is free, so whoever stamps first owns the row. The HTTP
or SMTP send happens with no transaction open; the result is written in a second short
transaction, and only by the lease holder. A replica that dies mid-send leaves a lease that
expires, and another replica sends again: that is the one window in which a receiver can see
an item twice, and receivers de-duplicate on webhook-id.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql import ColumnElement

T = TypeVar("T")


async def claim_due(sessionmaker: async_sessionmaker[AsyncSession], model: type[T], *, now: datetime,
                    lease_seconds: float, batch_size: int, skip_locked: bool,
                    conditions: list[ColumnElement[bool]] | None = None, join: Any = None,
                    join_on: Any = None) -> tuple[str, list[Any]]:
    """(token, rows) claimed for this pass: plain rows (attribute access, as stamped), not ORM
    objects, which cost more to build than the rest of a claim."""
    table: Any = model.__table__  # type: ignore[attr-defined]
    token = uuid.uuid4().hex
    lease_free = or_(table.c.lease_until.is_(None), table.c.lease_until < now)
    due = select(table.c.id)
    if join is not None:
        due = due.join(join, join_on)
    due = (due.where(table.c.status == "pending", table.c.next_attempt_at <= now, lease_free, *(conditions or []))
           .order_by(table.c.next_attempt_at).limit(batch_size))
    if skip_locked:
        due = due.with_for_update(of=table, skip_locked=True)
    statement = (update(table).where(table.c.id.in_(due.scalar_subquery()), lease_free)
                 .values(lease_until=now + timedelta(seconds=lease_seconds), lease_owner=token)
                 .returning(*table.c))
    async with sessionmaker() as session:
        rows = (await session.execute(statement)).all()
        await session.commit()
    return token, sorted(rows, key=lambda row: row.next_attempt_at)
