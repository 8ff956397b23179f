"""Collective bargaining as plain rules: levels and sides, the negotiation's states, parity, clauses, periods.

Nothing here touches a database, HTTP or the bus. The periods are law as data
(``data/bargaining-rules.json``, effective-dated, each figure with its article), so a
change in the Labour Code is a new entry in that file, not a code change.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Generic, TypeVar

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ConfigDict, Field

from contracts.bargaining import ClauseCategory, Level, Side
from kernel.calendar import WorkingDayCalendar

T = TypeVar("T")

RULES_FILE = Path(__file__).parent / "data" / "bargaining-rules.json"

# --- levels and sides ----------------------------------------------------------------------

# The sides each level must have. General and regional agreements are tripartite (with the
# Government or the akimat); sectoral and enterprise ones are bargained by two sides.
REQUIRED_SIDES: dict[Level, tuple[Side, ...]] = {
    Level.general: (Side.workers, Side.employers, Side.government),
    Level.regional: (Side.workers, Side.employers, Side.government),
    Level.sectoral: (Side.workers, Side.employers),
    Level.enterprise: (Side.workers, Side.employers),
}
TRIPARTITE = frozenset({Level.general, Level.regional})

UNION_KINDS = frozenset({"republican_union_association", "sectoral_union", "territorial_union_association",
                         "local_union", "primary_union_organisation"})
EMPLOYER_KINDS = frozenset({"republican_employer_association", "sectoral_employer_association",
                            "regional_employer_association", "employer"})
GOVERNMENT_KINDS = frozenset({"government_body"})
SIDE_KINDS: dict[Side, frozenset[str]] = {Side.workers: UNION_KINDS, Side.employers: EMPLOYER_KINDS,
                                          Side.government: GOVERNMENT_KINDS}


def side_problems(level: Level, parties: Iterable[tuple[str, Side, str]]) -> list[tuple[int, str, str]]:
    """Every wrong party of a proposal: (index, rule, detail). ``parties`` are (name, side, registry kind)."""
    listed = list(parties)
    problems: list[tuple[int, str, str]] = []
    for index, (name, side, kind) in enumerate(listed):
        if side not in REQUIRED_SIDES[level]:
            problems.append((index, "side_at_level", f"a {level.value} negotiation has no {side.value} side"))
        elif kind not in SIDE_KINDS[side]:
            problems.append((index, "kind_on_side", f"{name} ({kind}) cannot sit on the {side.value} side"))
        elif level is Level.enterprise and side is Side.employers and kind != "employer":
            problems.append((index, "enterprise_employer", "an enterprise agreement is concluded with the employer "
                                                           "itself"))
    sides = Counter(side for _, side, _ in listed)
    if level is Level.enterprise and sides[Side.employers] > 1:
        problems.append((len(listed), "one_employer", "an enterprise agreement has exactly one employer"))
    return problems


def missing_sides(level: Level, sides: Iterable[Side]) -> list[Side]:
    present = set(sides)
    return [side for side in REQUIRED_SIDES[level] if side not in present]


# --- parity --------------------------------------------------------------------------------

def parity_problem(level: Level, members_by_side: Mapping[Side, int]) -> str | None:
    """Why the commission is not on a parity basis, or None when it is (art. 156: equal members per side).

    At tripartite levels each of the three parties has the same number; several unions on
    the workers' side form one joint body, so their members are counted together.
    """
    counts = {side: members_by_side.get(side, 0) for side in REQUIRED_SIDES[level]}
    empty = [side.value for side, n in counts.items() if n == 0]
    if empty:
        return f"no members for: {', '.join(empty)}"
    if len(set(counts.values())) > 1:
        shown = ", ".join(f"{side.value} {n}" for side, n in counts.items())
        per = "per party" if level in TRIPARTITE else "per side"
        return f"members must be equal {per}; now {shown}"
    return None


# --- the negotiation's states --------------------------------------------------------------

class NegotiationStatus(StrEnum):
    proposed = "proposed"  # a written proposal was sent; the addressees have 10 days to enter
    entered = "entered"  # every addressee entered; the commission is being formed
    negotiating = "negotiating"  # the commission is constituted on a parity basis
    signed = "signed"  # every side signed (with or without a protocol of disagreements)
    filed = "filed"  # filed with the labour authority
    in_force = "in_force"
    expired = "expired"
    terminated = "terminated"  # ended before its term (unilateral or by agreement)
    declined = "declined"  # an addressee refused in writing
    evaded = "evaded"  # the entry period ran out (art. 158: evading negotiations is an offence)


class NegotiationAction(StrEnum):
    enter = "enter"
    decline = "decline"
    record_evasion = "record_evasion"
    constitute_commission = "constitute_commission"
    sign = "sign"
    file = "file"
    enter_into_force = "enter_into_force"
    expire = "expire"
    terminate = "terminate"


S, A = NegotiationStatus, NegotiationAction
TRANSITIONS: dict[NegotiationStatus, dict[NegotiationAction, NegotiationStatus]] = {
    S.proposed: {A.enter: S.entered, A.decline: S.declined, A.record_evasion: S.evaded},
    # A late entry after the period is still an entry; the evasion stays on the record.
    S.evaded: {A.enter: S.entered},
    S.entered: {A.constitute_commission: S.negotiating},
    S.negotiating: {A.sign: S.signed},
    S.signed: {A.file: S.filed, A.terminate: S.terminated},
    S.filed: {A.enter_into_force: S.in_force, A.terminate: S.terminated},
    S.in_force: {A.expire: S.expired, A.terminate: S.terminated},
    S.expired: {},
    S.terminated: {},
    S.declined: {},
}
del S, A

# Where the clauses may still change: while negotiating, and after signing for the clauses
# left in a protocol of disagreements, which the parties keep negotiating.
CLAUSE_EDITING = frozenset({NegotiationStatus.entered, NegotiationStatus.negotiating})
PROTOCOL_EDITING = frozenset({NegotiationStatus.signed, NegotiationStatus.filed, NegotiationStatus.in_force})


class IllegalTransition(Exception):
    def __init__(self, current: NegotiationStatus, action: NegotiationAction) -> None:
        self.current = current
        self.action = action
        self.allowed = sorted(TRANSITIONS[current])
        super().__init__(f"cannot {action.value.replace('_', ' ')} a negotiation that is {current.value}")


def next_status(current: NegotiationStatus | str, action: NegotiationAction) -> NegotiationStatus:
    current = NegotiationStatus(current)
    try:
        return TRANSITIONS[current][action]
    except KeyError:
        raise IllegalTransition(current, action) from None


def allowed_actions(current: NegotiationStatus | str) -> list[NegotiationAction]:
    return sorted(TRANSITIONS[NegotiationStatus(current)])


# --- clauses -------------------------------------------------------------------------------

CATEGORIES = tuple(ClauseCategory)


def is_agreed(current_version: int, accepted: Mapping[Side, int], sides: Iterable[Side]) -> bool:
    """A clause is agreed when every side has accepted the same, current, version of it."""
    return all(accepted.get(side) == current_version for side in sides)


def acceptance_problem(current_version: int, accepting: int) -> str | None:
    if accepting != current_version:
        return (f"version {accepting} is not the current text (version {current_version}); "
                "only the current version can be accepted")
    return None


# --- periods and terms (law as data) -------------------------------------------------------

class Provision(BaseModel, Generic[T]):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: T
    article: str = Field(min_length=3)
    verify: bool = Field(default=False, description="True where the figure is not confirmed from the primary text")


class TermRange(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min: int = Field(ge=1)
    max: int = Field(ge=1)


class BargainingRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    title: str
    effective_from: date
    entry_period_days: Provision[int]
    entry_notice_days: Provision[int]
    disagreement_period_months: Provision[int]
    term_months: Provision[TermRange]
    accession_answer_days: Provision[int]
    accession_notice_days: Provision[int]
    expiry_notice_days: Provision[int]


@cache
def all_rules() -> tuple[BargainingRules, ...]:
    rows = json.loads(RULES_FILE.read_text(encoding="utf-8"))
    return tuple(sorted((BargainingRules.model_validate(row) for row in rows), key=lambda r: r.effective_from))


def rules_on(day: date, rules: Iterable[BargainingRules] | None = None) -> BargainingRules:
    """The rules in force on ``day`` (the latest whose effective date is not after it)."""
    in_force = [r for r in (rules if rules is not None else all_rules()) if r.effective_from <= day]
    if not in_force:
        raise LookupError(f"no bargaining rules in force on {day.isoformat()}")
    return max(in_force, key=lambda r: r.effective_from)


def entry_due(proposed_on: date, rules: BargainingRules, calendar: WorkingDayCalendar) -> date:
    """The last day for the addressees to enter negotiations (art. 156: 10 calendar days).

    The day of the proposal is not counted; a period ending on a day off ends on the next
    working day (the Civil Code's general rule on periods).
    """
    return calendar.add_calendar_days(proposed_on, rules.entry_period_days.value)


def entry_reminder_on(due: date, proposed_on: date, rules: BargainingRules) -> date:
    return max(proposed_on, due - relativedelta(days=rules.entry_notice_days.value))


def expiry_reminder_on(term_to: date, rules: BargainingRules) -> date:
    """The day the parties are reminded that the agreement's term is ending (``term_to`` is its last day)."""
    return term_to - relativedelta(days=rules.expiry_notice_days.value)


def expired_on(term_to: date) -> date:
    """The first day an agreement is no longer in force: the day after the last day of its term."""
    return term_to + relativedelta(days=1)


def term_problem(term_from: date, term_to: date, rules: BargainingRules) -> str | None:
    """Why an agreement's term is outside the statutory range, or None."""
    if term_to <= term_from:
        return "the term must end after it begins"
    bounds = rules.term_months.value
    if term_to < term_from + relativedelta(months=bounds.min) - relativedelta(days=1):
        return f"the term is shorter than {bounds.min} months"
    if term_to > term_from + relativedelta(months=bounds.max) - relativedelta(days=1):
        return f"the term is longer than {bounds.max} months"
    return None
