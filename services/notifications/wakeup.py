"""Wake the dispatchers right after a commit that gave them work, instead of waiting for a poll.

A transaction that writes deliveries or e-mails marks its session; after the commit the
registered callbacks run (in this process). A rolled-back transaction wakes nobody.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

KEY = "notifications_wake"
_callbacks: dict[str, set[Callable[[], None]]] = {}


def register(what: str, callback: Callable[[], None]) -> None:
    _callbacks.setdefault(what, set()).add(callback)


def unregister(what: str, callback: Callable[[], None]) -> None:
    _callbacks.get(what, set()).discard(callback)


def mark(session: AsyncSession | Session, what: str) -> None:
    session.info.setdefault(KEY, set()).add(what)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    for what in session.info.pop(KEY, ()):
        for callback in list(_callbacks.get(what, ())):
            callback()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(KEY, None)
