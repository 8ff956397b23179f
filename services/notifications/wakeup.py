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


# --- deliveries handed straight to this process's dispatcher --------------------------------

FRESH = "notifications_fresh"


class FreshTaker:
    """A dispatcher that takes the deliveries this process has just written, without claiming them."""

    fresh_token: str
    lease_seconds: float

    def take_fresh(self, rows: list[dict[str, object]]) -> None: ...


_takers: list[FreshTaker] = []


def register_taker(taker: FreshTaker) -> None:
    _takers.append(taker)


def unregister_taker(taker: FreshTaker) -> None:
    if taker in _takers:
        _takers.remove(taker)


def taker() -> FreshTaker | None:
    return _takers[0] if _takers else None


def hand_over(session: AsyncSession | Session, rows: list[dict[str, object]]) -> None:
    """After this transaction commits, ``rows`` (leased to the taker in the same insert) go to it."""
    session.info.setdefault(FRESH, []).extend(rows)


@event.listens_for(Session, "after_commit")
def _hand_over(session: Session) -> None:
    rows = session.info.pop(FRESH, None)
    current = taker()
    if rows and current is not None:
        current.take_fresh(rows)


@event.listens_for(Session, "after_rollback")
def _drop(session: Session) -> None:
    session.info.pop(FRESH, None)
