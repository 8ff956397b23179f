"""Claiming due work so that several replicas share it and none sends one item twice.

A pass picks due rows (on PostgreSQL with ``FOR UPDATE SKIP LOCKED``, so two replicas pick
different rows), stamps them with a lease (owner token and expiry) in a short transaction,
and reads back only the rows that carry its own token. The HTTP or SMTP send happens with
no transaction open; the result is written in a second short transaction, and only by the
lease holder. A replica that dies mid-send leaves a lease that expires, and another replica
sends again: that is the one window in which a receiver can see an item twice, and
receivers de-duplicate on webhook-id.
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
                    join_on: Any = None) -> tuple[str, list[T]]:
    """(token, rows) claimed for this pass; rows are detached snapshots."""
    table: Any = model
    token = uuid.uuid4().hex
    lease_free = or_(table.lease_until.is_(None), table.lease_until < now)
    async with sessionmaker() as session:
        query = select(table.id)
        if join is not None:
            query = query.join(join, join_on)
        query = (query.where(table.status == "pending", table.next_attempt_at <= now, lease_free,
                             *(conditions or []))
                 .order_by(table.next_attempt_at).limit(batch_size))
        if skip_locked:
            query = query.with_for_update(of=table, skip_locked=True)
        ids = list((await session.execute(query)).scalars())
        if not ids:
            await session.rollback()
            return token, []
        # Conditional on the lease still being free: whoever stamps first owns the row.
        await session.execute(update(table).where(table.id.in_(ids), lease_free)
                              .values(lease_until=now + timedelta(seconds=lease_seconds), lease_owner=token))
        rows = list((await session.execute(select(table).where(table.lease_owner == token)
                                           .execution_options(populate_existing=True))).scalars())
        await session.commit()
    return token, rows
