"""Individual labour disputes as plain rules: states, periods, the art. 160 time limits, exemptions.

Nothing here touches a database, HTTP or the bus. Every period, limit and list is law as data
(``data/individual-rules.json``: effective-dated, each figure with its article and a ``verify``
flag where it is not confirmed from the primary text), counted with the kernel's calendar.
"""

from __future__ import annotations

import calendar as month_calendar
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.disputes import IndividualOutcome
from kernel.calendar import Period, WorkingDayCalendar
from services.disputes.collective.rules import Provision

DATA = Path(__file__).parent / "data"

Step = Literal["commission", "court"]
LimitClass = Literal["reinstatement", "other"]


# --- the application's states ----------------------------------------------------------------

class IndividualStatus(StrEnum):
    registered = "registered"  # the commission has 15 working days
    decision_overdue = "decision_overdue"  # the period ran out with no decision
    decided = "decided"  # copies within 3 days; carried out within the time set (at most 1 month)
    executed = "executed"
    referred_to_court = "referred_to_court"
    withdrawn = "withdrawn"


class IndividualAction(StrEnum):
    decide = "decide"
    record_decision_overdue = "record_decision_overdue"
    execute = "execute"
    refer_to_court = "refer_to_court"
    withdraw = "withdraw"


S, A = IndividualStatus, IndividualAction
TRANSITIONS: dict[IndividualStatus, dict[IndividualAction, IndividualStatus]] = {
    S.registered: {A.decide: S.decided, A.record_decision_overdue: S.decision_overdue,
                   A.refer_to_court: S.referred_to_court, A.withdraw: S.withdrawn},
    # A late decision is still a decision; the employee may also go to court without it.
    S.decision_overdue: {A.decide: S.decided, A.refer_to_court: S.referred_to_court, A.withdraw: S.withdrawn},
    # A party that disagrees with the decision goes to court (art. 159).
    S.decided: {A.execute: S.executed, A.refer_to_court: S.referred_to_court},
    S.executed: {},
    S.referred_to_court: {},
    S.withdrawn: {},
}
del S, A

TERMINAL = frozenset(s for s, moves in TRANSITIONS.items() if not moves)


class IllegalTransition(Exception):
    def __init__(self, current: IndividualStatus, action: IndividualAction) -> None:
        self.current = current
        self.action = action
        self.allowed = sorted(TRANSITIONS[current])
        super().__init__(f"cannot {action.value.replace('_', ' ')} an application that is "
                         f"{current.value.replace('_', ' ')}")


def next_status(current: IndividualStatus | str, action: IndividualAction) -> IndividualStatus:
    current = IndividualStatus(current)
    try:
        return TRANSITIONS[current][action]
    except KeyError:
        raise IllegalTransition(current, action) from None


def allowed_actions(current: IndividualStatus | str) -> list[IndividualAction]:
    return sorted(TRANSITIONS[IndividualStatus(current)])


# --- law as data -------------------------------------------------------------------------

class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PeriodValue(_Frozen):
    length: int = Field(ge=1)
    unit: Literal["working_days", "calendar_days"]

    def period(self) -> Period:
        return Period(self.length, self.unit)


class TimeLimit(_Frozen):
    commission: Provision[int] = Field(description="Months to the commission")
    court: Provision[int] = Field(description="Months to court after the commission's decision")


class Subject(_Frozen):
    code: str
    title: str
    time_limit: LimitClass


class Ground(_Frozen):
    code: str
    title: str
    article: str = Field(min_length=3)
    verify: bool = False


class Exemption(Ground):
    max_employees: int | None = Field(default=None, ge=1)


class IndividualRules(_Frozen):
    code: str
    title: str
    effective_from: date
    decision_period_working_days: Provision[int]
    decision_notice_working_days: Provision[int]
    copies_period: Provision[PeriodValue]
    execution_max_months: Provision[int]
    execution_notice_working_days: Provision[int]
    time_limits: dict[LimitClass, TimeLimit]
    period_end_rolls_to_working_day: Provision[bool]
    subjects: tuple[Subject, ...]
    suspension_grounds: tuple[Ground, ...]
    exemptions: tuple[Exemption, ...]

    def subject(self, code: str) -> Subject | None:
        return next((s for s in self.subjects if s.code == code), None)

    def ground(self, code: str) -> Ground | None:
        return next((g for g in self.suspension_grounds if g.code == code), None)

    def exemption(self, code: str) -> Exemption | None:
        return next((e for e in self.exemptions if e.code == code), None)


@cache
def all_rules() -> tuple[IndividualRules, ...]:
    rows = json.loads((DATA / "individual-rules.json").read_text(encoding="utf-8"))
    return tuple(IndividualRules.model_validate(row) for row in rows)


def rules_on(day: date) -> IndividualRules:
    in_force = [r for r in all_rules() if r.effective_from <= day]
    if not in_force:
        raise LookupError(f"no individual dispute rules in force on {day.isoformat()}")
    return max(in_force, key=lambda r: r.effective_from)


# --- periods -----------------------------------------------------------------------------

def add_months(day: date, months: int) -> date:
    """The same day ``months`` later; the month's last day when it has no such day (31 Jan + 1 month = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, month_calendar.monthrange(year, month)[1]))


def decision_due(filed_on: date, law: IndividualRules, calendar: WorkingDayCalendar) -> date:
    """Last day of the commission's decision: 15 working days, counted from the day after registration."""
    return calendar.add_working_days(filed_on, law.decision_period_working_days.value)


def copies_due(decided_on: date, law: IndividualRules, calendar: WorkingDayCalendar) -> date:
    """Last day to hand copies of the decision to the parties (3 days)."""
    return calendar.deadline(decided_on, law.copies_period.value.period())


def latest_execution_day(decided_on: date, law: IndividualRules) -> date:
    """The decision may set any day up to one month after it (art. 159)."""
    return add_months(decided_on, law.execution_max_months.value)


def reminder_on(start: date, due: date, notice_working_days: int, calendar: WorkingDayCalendar) -> date:
    """The working day ``notice_working_days`` before ``due``, never before the period began."""
    day = due
    for _ in range(notice_working_days):
        day = calendar.previous_working_day(day)
    return max(start, min(day, due))


# --- the art. 160 time limit -----------------------------------------------------------------

@dataclass(frozen=True)
class Suspension:
    """A span (both days included) during which the time limit stood still; ``until`` None: still running."""

    ground: str
    since: date
    until: date | None = None


def merged_spans(suspensions: Iterable[Suspension], *, open_until: date) -> list[tuple[date, date]]:
    """The suspended days as sorted, non-overlapping spans (an open suspension runs to ``open_until``)."""
    spans = sorted((s.since, s.until or open_until) for s in suspensions)
    merged: list[tuple[date, date]] = []
    for start, end in spans:
        if end < start:
            continue
        if merged and start <= merged[-1][1] + timedelta(days=1):
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def extend_by_suspensions(start: date, end: date, spans: Sequence[tuple[date, date]]) -> tuple[date, int]:
    """The period's end pushed back by every suspended day inside it, and how many days that was.

    Only days after ``start`` count (the period runs from the next day); a suspension that begins
    after the period has already ended no longer matters, but one reached because an earlier
    suspension moved the end does.
    """
    suspended = 0
    for since, until in spans:
        since = max(since, start + timedelta(days=1))
        if until < since:
            continue
        if since > end:
            break
        days = (until - since).days + 1
        suspended += days
        end += timedelta(days=days)
    return end, suspended


class TimeLimitCheck(BaseModel):
    """Whether an application is in time under art. 160, and why."""

    step: Step
    subject: str
    time_limit: LimitClass
    months: int
    starts_on: date = Field(description="The day the period runs from (not itself counted)")
    base_ends_on: date = Field(description="The period's end without suspensions")
    suspended_days: int
    ends_on: date = Field(description="The last day, after suspensions and rolling past a day off")
    filed_on: date
    in_time: bool
    days_left: int = Field(description="Calendar days from filing to the last day (negative: late by so many)")
    article: str
    verify: bool
    reasons: list[str]


def time_limit_check(law: IndividualRules, *, subject: str, step: Step, starts_on: date, filed_on: date,
                     suspensions: Sequence[Suspension], calendar: WorkingDayCalendar) -> TimeLimitCheck:
    """Art. 160: reinstatement 1 month to the commission, then 2 months to court; others 1 year.

    ``starts_on`` is the day the copy of the dismissal act (reinstatement) or of the commission's
    decision (court) was handed over, or the day the employee learned of the violation (others).
    Suspended days (a mediation agreement in force, no commission) are added to the period.
    """
    chosen = law.subject(subject)
    if chosen is None:
        raise ValueError(f"unknown subject {subject!r}")
    provision = getattr(law.time_limits[chosen.time_limit], step)
    base_end = add_months(starts_on, provision.value)
    spans = merged_spans(suspensions, open_until=filed_on)
    end, suspended = extend_by_suspensions(starts_on, base_end, spans)
    rolled = law.period_end_rolls_to_working_day.value and not calendar.is_working_day(end)
    if rolled:
        end = calendar.working_day_on_or_after(end)
    in_time = filed_on <= end
    where = "the conciliation commission" if step == "commission" else "court"
    unit = "month" if provision.value == 1 else "months"
    reasons = [f"{chosen.title}: {provision.value} {unit} to {where} from {starts_on.isoformat()} "
               f"({provision.article})"]
    if suspended:
        grounds = sorted({s.ground for s in suspensions})
        titles = ", ".join((law.ground(g).title if law.ground(g) else g).lower() for g in grounds)  # type: ignore[union-attr]
        reasons.append(f"{suspended} day(s) suspended ({titles}): the period ends {suspended} day(s) later")
    if rolled:
        reasons.append(f"the last day falls on a day off: it moves to the next working day, {end.isoformat()} "
                       f"({law.period_end_rolls_to_working_day.article})")
    if in_time:
        reasons.append(f"filed on {filed_on.isoformat()}, on or before the last day {end.isoformat()}: in time")
    else:
        reasons.append(f"filed on {filed_on.isoformat()}, {(filed_on - end).days} day(s) after the last day "
                       f"{end.isoformat()}: out of time (the commission or court may restore a period missed "
                       "for good reason)")
    return TimeLimitCheck(step=step, subject=subject, time_limit=chosen.time_limit, months=provision.value,
                          starts_on=starts_on, base_ends_on=base_end, suspended_days=suspended, ends_on=end,
                          filed_on=filed_on, in_time=in_time, days_left=(end - filed_on).days,
                          article=provision.article, verify=provision.verify, reasons=reasons)


# --- the commission step and its exemptions ----------------------------------------------------

class ExemptionCheck(BaseModel):
    code: str
    title: str
    applies: bool
    detail: str
    article: str
    verify: bool


def exemption_checks(law: IndividualRules, codes: Iterable[str], *, employees: int | None) -> list[ExemptionCheck]:
    """The exemptions claimed, each said to apply or not (a non-profit's head count is checked)."""
    checks: list[ExemptionCheck] = []
    for code in codes:
        exemption = law.exemption(code)
        if exemption is None:
            raise ValueError(f"unknown exemption {code!r}")
        applies, detail = True, f"{exemption.title}: the commission step is not mandatory; the dispute may go to court"
        if exemption.max_employees is not None:
            if employees is None:
                applies = False
                detail = f"{exemption.title}: give the number of employees (at most {exemption.max_employees})"
            elif employees > exemption.max_employees:
                applies = False
                detail = (f"{exemption.title}: {employees} employees, more than {exemption.max_employees}; "
                          "the commission step is mandatory")
        checks.append(ExemptionCheck(code=code, title=exemption.title, applies=applies, detail=detail,
                                     article=exemption.article, verify=exemption.verify))
    return checks


def commission_mandatory(checks: Iterable[ExemptionCheck]) -> bool:
    """Art. 159: the commission is a mandatory step before court unless an exemption applies."""
    return not any(check.applies for check in checks)


def needs_execution_day(outcome: IndividualOutcome) -> bool:
    """A decision that upholds the claim, wholly or partly, sets the day by which it is carried out."""
    return outcome is not IndividualOutcome.rejected


def unknown(codes: Iterable[str], known: Iterable[str]) -> list[str]:
    known_set = set(known)
    return [code for code in codes if code not in known_set]
