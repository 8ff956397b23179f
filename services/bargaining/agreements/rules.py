"""Accession, the register of agreements in force and the coverage rate, as plain rules (no I/O).

Coverage follows the ILO definition: employees whose pay or conditions are set by one or
more collective agreements ÷ employees × 100. A worker covered by several agreements must
be counted once, but agreements report only a count of workers, never who they are. The
assumption made here: agreements that share an employer-side party (an enterprise
agreement and a sectoral or regional agreement that employer signed itself, or two
overlapping agreements of one employer) cover the same workers, so such a group counts
its largest agreement only — the maximum per employer. Agreements with no employer-side
party in common are taken to cover different workers; where the employer side is an
association this may overcount, so every rate is capped at 100.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from contracts.bargaining import Level
from kernel.calendar import WorkingDayCalendar
from services.bargaining.negotiations.rules import BargainingRules, NegotiationStatus

# --- accession -----------------------------------------------------------------------------


class AccessionStatus(StrEnum):
    pending = "pending"  # the employer's answer is awaited within the period
    overdue = "overdue"  # the period ran out unanswered; the employer may still answer (late)
    accepted = "accepted"  # the union is a party on the workers' side of the agreement
    refused = "refused"  # refused in writing, with reasons


OPEN_ACCESSION = frozenset({AccessionStatus.pending, AccessionStatus.overdue})


def accession_problem(level: Level | str, status: NegotiationStatus | str) -> str | None:
    """Why a union cannot ask to join this agreement, or None when it can."""
    if Level(level) is not Level.enterprise:
        return "a union accedes to an enterprise collective agreement, not to a general, sectoral or regional one"
    if NegotiationStatus(status) is not NegotiationStatus.in_force:
        return f"a union accedes to an agreement in force; this one is {NegotiationStatus(status).value}"
    return None


def answer_due(requested_on: date, rules: BargainingRules, calendar: WorkingDayCalendar) -> date:
    """The employer's last day to answer; a period ending on a day off ends on the next working day."""
    return calendar.add_calendar_days(requested_on, rules.accession_answer_days.value)


def answer_reminder_on(due: date, requested_on: date, rules: BargainingRules) -> date:
    return max(requested_on, date.fromordinal(due.toordinal() - rules.accession_notice_days.value))


# --- the register of agreements in force ---------------------------------------------------

# States in which an agreement has been in force at some time; the term and the end date decide the day.
HAS_BEEN_IN_FORCE = (NegotiationStatus.in_force, NegotiationStatus.expired, NegotiationStatus.terminated)
CONCLUDED = frozenset({NegotiationStatus.signed, NegotiationStatus.filed, *HAS_BEEN_IN_FORCE})


def in_force_on(day: date, *, status: str, term_from: date | None, term_to: date | None,
                ended_on: date | None) -> bool:
    """In force on ``day``: within its term and not yet ended (the end day itself is no longer in force)."""
    if status not in HAS_BEEN_IN_FORCE or term_from is None or term_to is None:
        return False
    return term_from <= day <= term_to and (ended_on is None or day < ended_on)


def coverage_fields_missing(level: Level | str, region_code: str | None, sector: str | None) -> list[str]:
    """Which of region and sector an agreement must state: a general agreement is national and cross-sector,
    a regional one cross-sector, a sectoral one may be national; an enterprise has both."""
    needed = {Level.enterprise: ("region_code", "sector"), Level.regional: ("region_code",),
              Level.sectoral: ("sector",), Level.general: ()}[Level(level)]
    given = {"region_code": region_code, "sector": sector}
    return [name for name in needed if not given[name]]


# --- the coverage rate ---------------------------------------------------------------------


@dataclass(frozen=True)
class CoveredAgreement:
    agreement_id: str
    employer_ids: frozenset[str]  # the employer-side parties
    workers: int
    region_code: str | None
    sector: str | None


def covered_once(agreements: Iterable[CoveredAgreement]) -> int:
    """Workers covered, each group of agreements sharing an employer-side party counted at its maximum."""
    listed = list(agreements)
    parent = list(range(len(listed)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_with: dict[str, int] = {}
    for index, agreement in enumerate(listed):
        for employer in agreement.employer_ids:
            if employer in first_with:
                parent[root(index)] = root(first_with[employer])
            else:
                first_with[employer] = index
    largest: dict[int, int] = {}
    for index, agreement in enumerate(listed):
        group = root(index)
        largest[group] = max(largest.get(group, 0), agreement.workers)
    return sum(largest.values())


def rate(covered: int, employees: int | None) -> float | None:
    """Coverage in per cent, one decimal, capped at 100; None without an employees figure."""
    if not employees or employees <= 0:
        return None
    return round(min(covered, employees) * 100 / employees, 1)


@dataclass(frozen=True)
class Cell:
    key: str | None  # region code or sector; None for the national row
    covered: int
    employees: int | None
    rate: float | None


def coverage(agreements: Iterable[CoveredAgreement], *, national: int, by_region: Mapping[str, int],
             by_sector: Mapping[str, int]) -> tuple[Cell, list[Cell], list[Cell]]:
    """The national rate and the rates by region and by sector.

    An agreement without a region (general, national sectoral) counts in the national rate and in
    its sector's, not in any region's; one without a sector (general, regional) in no sector's.
    """
    listed = list(agreements)
    covered = covered_once(listed)
    nation = Cell(key=None, covered=covered, employees=national, rate=rate(covered, national))

    def cells(attribute: str, figures: Mapping[str, int]) -> list[Cell]:
        keys = sorted(set(figures) | {getattr(a, attribute) for a in listed if getattr(a, attribute)})
        out = []
        for key in keys:
            count = covered_once(a for a in listed if getattr(a, attribute) == key)
            out.append(Cell(key=key, covered=count, employees=figures.get(key), rate=rate(count, figures.get(key))))
        return out

    return nation, cells("region_code", by_region), cells("sector", by_sector)
