"""Dispute statistics as plain rules: ILO measures of strikes, time to resolution, the social-tension index.

Nothing here touches a database, HTTP or the bus. The index weights are data
(``data/tension-weights.json``), effective-dated like the law they sit beside.

ILO definitions (Resolution concerning statistics of strikes, lockouts and other action due to
labour disputes, 15th ICLS, 1993): *workers involved* are those directly taking part in the
strike; *working days not worked* are, for each worker involved, the working days on which they
did not work because of it, so with a constant number of workers: workers × working days of
the strike.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from kernel.calendar import WorkingDayCalendar
from services.disputes.collective.rules import DisputeStatus

DATA = Path(__file__).parent / "data"


class TensionWeights(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    title: str
    effective_from: date
    basis: str
    verify: bool = False
    stage_weights: dict[DisputeStatus, float] = Field(description="Weight of an open dispute by its stage")


@cache
def all_tension_weights() -> tuple[TensionWeights, ...]:
    rows = json.loads((DATA / "tension-weights.json").read_text(encoding="utf-8"))
    return tuple(TensionWeights.model_validate(row) for row in rows)


def tension_weights_on(day: date) -> TensionWeights:
    in_force = [w for w in all_tension_weights() if w.effective_from <= day]
    if not in_force:
        raise LookupError(f"no social-tension weights in force on {day.isoformat()}")
    return max(in_force, key=lambda w: w.effective_from)


def stage_weight(status: DisputeStatus | str, weights: TensionWeights) -> float:
    """An open stage's weight; a stage the table does not name (a draft) weighs nothing."""
    return weights.stage_weights.get(DisputeStatus(status), 0.0)


def dispute_tension(status: DisputeStatus | str, workers_involved: int, weights: TensionWeights) -> float:
    """One open dispute's share of the index: stage weight × log10(1 + workers involved)."""
    return stage_weight(status, weights) * math.log10(1 + max(workers_involved, 0))


def method(weights: TensionWeights) -> str:
    listed = ", ".join(f"{stage.value} {weight:g}" for stage, weight in
                       sorted(weights.stage_weights.items(), key=lambda item: (item[1], item[0].value)))
    return (f"Index of a region = sum over its open collective disputes of stage weight × log10(1 + workers "
            f"involved); stage weights ({weights.code}): {listed}.")


def region_of(code: str | None) -> str | None:
    """The region (oblast or city of republican significance) of a KATO code: its first two digits.

    Disputes are recorded at whatever level the register knows the employer (350000000, 351010000);
    statistics count them by region, so both are region 35.
    """
    return code[:2] if code else None


def strike_working_days(started_on: date, ended_on: date | None, as_of: date, calendar: WorkingDayCalendar) -> int:
    """Working days not worked in one strike spell: from its first day up to the day before it ended (work
    resumed that day), or up to ``as_of`` inclusive while it lasts."""
    last = (ended_on - timedelta(days=1)) if ended_on is not None else as_of
    return calendar.working_days_between(started_on - timedelta(days=1), last)


@dataclass(frozen=True)
class StrikeSpell:
    dispute_id: str
    workers_involved: int
    started_on: date
    ended_on: date | None


def days_not_worked(spells: Iterable[StrikeSpell], as_of: date, calendar: WorkingDayCalendar) -> int:
    """ILO working days not worked: workers involved × working days of each strike spell, summed."""
    return sum(s.workers_involved * strike_working_days(s.started_on, s.ended_on, as_of, calendar) for s in spells)


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile (the smallest value with at least ``share`` of the values at or below it)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return float(ordered[rank - 1])


def median(values: Sequence[float]) -> float | None:
    """The middle value; the mean of the two middle values for an even count."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2
