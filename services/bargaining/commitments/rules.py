"""Monitoring what agreements promised, as plain rules: a commitment's status and the share fulfilled."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import StrEnum

from contracts.bargaining import CommitmentStatus
from services.bargaining.negotiations.rules import NegotiationStatus

# Commitments are monitored once the agreement is concluded (signed, filed, in force) and after it
# ended: what it promised stays on the record.
MONITORED = frozenset({NegotiationStatus.signed, NegotiationStatus.filed, NegotiationStatus.in_force,
                       NegotiationStatus.expired, NegotiationStatus.terminated})
OPEN = frozenset({CommitmentStatus.on_track, CommitmentStatus.late})


class Outcome(StrEnum):
    in_progress = "in_progress"
    done = "done"
    not_done = "not_done"


def status_after_report(current: CommitmentStatus, outcome: Outcome) -> CommitmentStatus:
    """A report of progress leaves the status as it is (a late commitment stays late until done)."""
    if current not in OPEN:
        raise ValueError(f"a {current.value} commitment takes no more reports")
    if outcome is Outcome.done:
        return CommitmentStatus.done
    if outcome is Outcome.not_done:
        return CommitmentStatus.not_done
    return current


def status_on(status: CommitmentStatus, due_on: date, today: date) -> CommitmentStatus:
    """What the board shows on ``today``: an open commitment past its due date is late even before the sweeper
    has recorded it."""
    if status is CommitmentStatus.on_track and today > due_on:
        return CommitmentStatus.late
    return status


DECIDED = frozenset({CommitmentStatus.done, CommitmentStatus.late, CommitmentStatus.not_done})


def share_fulfilled(statuses: Iterable[CommitmentStatus]) -> float | None:
    """Done ÷ the commitments whose outcome is known: done, not done, or late (due and not done).

    A commitment still on track is not yet owed, so it neither raises nor lowers the share; one that
    passes its due date without a report of it done lowers it. None when nothing is owed yet.
    """
    decided = [s for s in statuses if s in DECIDED]
    if not decided:
        return None
    return round(sum(1 for s in decided if s is CommitmentStatus.done) / len(decided), 4)


def share_done_of_all(statuses: Iterable[CommitmentStatus]) -> float | None:
    """Done ÷ every commitment, on track ones included (progress through the whole agreement)."""
    listed = list(statuses)
    if not listed:
        return None
    return round(sum(1 for s in listed if s is CommitmentStatus.done) / len(listed), 4)
