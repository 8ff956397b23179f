"""Collective labour disputes as plain rules: the states, the periods, the strike checks.

Nothing here touches a database, HTTP or the bus. The periods and the strike checks are law
as data (``data/disputes-rules.json``, ``data/strike-rules.json``; effective-dated, each figure
with its article and a ``verify`` flag where it is not confirmed from the primary text).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from contracts.disputes import AnswerOutcome, StrikeWarning
from kernel.calendar import WorkingDayCalendar

T = TypeVar("T")
R = TypeVar("R", bound="_Dated")

DATA = Path(__file__).parent / "data"

# Who may put demands for the workers, and against whom (registry kinds in the parties projection).
UNION_KINDS = frozenset({"republican_union_association", "sectoral_union", "territorial_union_association",
                         "local_union", "primary_union_organisation"})
EMPLOYER_KINDS = frozenset({"employer"})
# A refused, lapsed or liquidated organisation is no party to a new dispute.
ELIGIBLE_STATUSES = frozenset({"registered", "confirmed", "status_confirmation_due"})


def may_be_party(registry_status: str) -> bool:
    return registry_status in ELIGIBLE_STATUSES


# --- the dispute's states ------------------------------------------------------------------

class DisputeStatus(StrEnum):
    # Opened from a bargaining protocol of disagreements: the union may put the demands forward, or discard it.
    draft = "draft"
    demands_submitted = "demands_submitted"  # the employer has 3 working days to answer in writing
    accepted = "accepted"
    partly_accepted = "partly_accepted"
    rejected = "rejected"
    answer_overdue = "answer_overdue"  # the answer period ran out without a written answer
    conciliation = "conciliation"  # the parity commission has 7 working days
    mediation = "mediation"
    labour_arbitration = "labour_arbitration"
    strike_decided = "strike_decided"
    strike = "strike"
    suspended = "suspended"
    ruled_legal = "ruled_legal"
    ruled_illegal = "ruled_illegal"
    settled = "settled"
    withdrawn = "withdrawn"
    closed = "closed"


class DisputeAction(StrEnum):
    put_forward = "put_forward"
    accept = "accept"
    partly_accept = "partly_accept"
    reject = "reject"
    record_overdue = "record_overdue"
    start_conciliation = "start_conciliation"
    start_mediation = "start_mediation"
    start_arbitration = "start_arbitration"
    decide_strike = "decide_strike"
    start_strike = "start_strike"
    suspend_strike = "suspend_strike"
    rule_legal = "rule_legal"
    rule_illegal = "rule_illegal"
    settle = "settle"
    withdraw = "withdraw"
    close = "close"


ANSWERS: dict[AnswerOutcome, DisputeAction] = {
    AnswerOutcome.accepted: DisputeAction.accept,
    AnswerOutcome.partly_accepted: DisputeAction.partly_accept,
    AnswerOutcome.rejected: DisputeAction.reject,
}

S, A = DisputeStatus, DisputeAction
# A settlement or a withdrawal ends the dispute from any open stage.
_ENDS = {A.settle: S.settled, A.withdraw: S.withdrawn}
TRANSITIONS: dict[DisputeStatus, dict[DisputeAction, DisputeStatus]] = {
    # Discarding a draft is the workers withdrawing it before it was ever put to the employer.
    S.draft: {A.put_forward: S.demands_submitted, **_ENDS},
    S.demands_submitted: {A.accept: S.accepted, A.partly_accept: S.partly_accepted, A.reject: S.rejected,
                          A.record_overdue: S.answer_overdue, **_ENDS},
    # Demands accepted in full leave nothing in dispute once carried out: settle or close.
    S.accepted: {A.close: S.closed, **_ENDS},
    S.partly_accepted: {A.start_conciliation: S.conciliation, **_ENDS},
    S.rejected: {A.start_conciliation: S.conciliation, **_ENDS},
    S.answer_overdue: {A.start_conciliation: S.conciliation, **_ENDS},
    # Conciliation failed (or the employer evades it): mediation, arbitration or a strike decision.
    S.conciliation: {A.start_mediation: S.mediation, A.start_arbitration: S.labour_arbitration,
                     A.decide_strike: S.strike_decided, **_ENDS},
    S.mediation: {A.start_arbitration: S.labour_arbitration, A.decide_strike: S.strike_decided, **_ENDS},
    S.labour_arbitration: {A.decide_strike: S.strike_decided, **_ENDS},
    # A court may rule on a strike already decided, before it begins.
    S.strike_decided: {A.start_strike: S.strike, A.rule_legal: S.ruled_legal, A.rule_illegal: S.ruled_illegal,
                       **_ENDS},
    S.strike: {A.suspend_strike: S.suspended, A.rule_legal: S.ruled_legal, A.rule_illegal: S.ruled_illegal,
               **_ENDS},
    S.suspended: {A.start_strike: S.strike, A.rule_legal: S.ruled_legal, A.rule_illegal: S.ruled_illegal,
                  A.close: S.closed, **_ENDS},
    S.ruled_legal: {A.start_strike: S.strike, A.close: S.closed, **_ENDS},
    S.ruled_illegal: {A.close: S.closed, **_ENDS},
    S.settled: {},
    S.withdrawn: {},
    S.closed: {},
}
del S, A

TERMINAL = frozenset(s for s, moves in TRANSITIONS.items() if not moves)


class IllegalTransition(Exception):
    def __init__(self, current: DisputeStatus, action: DisputeAction) -> None:
        self.current = current
        self.action = action
        self.allowed = sorted(TRANSITIONS[current])
        super().__init__(f"cannot {action.value.replace('_', ' ')} in a dispute that is "
                         f"{current.value.replace('_', ' ')}")


def next_status(current: DisputeStatus | str, action: DisputeAction) -> DisputeStatus:
    current = DisputeStatus(current)
    try:
        return TRANSITIONS[current][action]
    except KeyError:
        raise IllegalTransition(current, action) from None


def allowed_actions(current: DisputeStatus | str) -> list[DisputeAction]:
    return sorted(TRANSITIONS[DisputeStatus(current)])


# --- law as data ---------------------------------------------------------------------------

class Provision(BaseModel, Generic[T]):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: T
    article: str = Field(min_length=3)
    verify: bool = Field(default=False, description="True where the figure is not confirmed from the primary text")


class _Dated(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    title: str
    effective_from: date


class DisputeRules(_Dated):
    answer_period_working_days: Provision[int]
    answer_notice_working_days: Provision[int]
    conciliation_period_working_days: Provision[int]
    conciliation_notice_working_days: Provision[int]


class Listed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    title: str
    article: str = Field(min_length=3)
    verify: bool = False


class StrikeRules(_Dated):
    prohibited_categories: tuple[Listed, ...]
    restricted_sectors: tuple[Listed, ...]
    quorum: Provision[float] = Field(description="Share of all employees that must be present (more than)")
    majority: Provision[float] = Field(description="Share of those present that must vote for (more than)")
    notice_working_days: Provision[int]


def _in_force(day: date, rows: Iterable[R], what: str) -> R:
    in_force = [r for r in rows if r.effective_from <= day]
    if not in_force:
        raise LookupError(f"no {what} in force on {day.isoformat()}")
    return max(in_force, key=lambda r: r.effective_from)


@cache
def all_dispute_rules() -> tuple[DisputeRules, ...]:
    rows = json.loads((DATA / "disputes-rules.json").read_text(encoding="utf-8"))
    return tuple(DisputeRules.model_validate(row) for row in rows)


@cache
def all_strike_rules() -> tuple[StrikeRules, ...]:
    rows = json.loads((DATA / "strike-rules.json").read_text(encoding="utf-8"))
    return tuple(StrikeRules.model_validate(row) for row in rows)


def rules_on(day: date) -> DisputeRules:
    return _in_force(day, all_dispute_rules(), "dispute rules")


def strike_rules_on(day: date) -> StrikeRules:
    return _in_force(day, all_strike_rules(), "strike rules")


# --- periods -------------------------------------------------------------------------------

def answer_due(submitted_on: date, law: DisputeRules, calendar: WorkingDayCalendar) -> date:
    """The last day of the employer's written answer (art. 163 p. 2: 3 working days).

    The day the demands were submitted is not counted; the period runs from the next day.
    """
    return calendar.add_working_days(submitted_on, law.answer_period_working_days.value)


def conciliation_due(started_on: date, law: DisputeRules, calendar: WorkingDayCalendar) -> date:
    """The last day for the conciliation commission to consider the dispute (art. 165: 7 working days)."""
    return calendar.add_working_days(started_on, law.conciliation_period_working_days.value)


def reminder_on(start: date, due: date, notice_working_days: int, calendar: WorkingDayCalendar) -> date:
    """The working day ``notice_working_days`` before ``due``, never before the period began."""
    day = due
    for _ in range(notice_working_days):
        day = calendar.previous_working_day(day)
    return max(start, day)


# --- strike checks -------------------------------------------------------------------------

class MeetingVote(BaseModel):
    """The meeting (conference) of employees that decided the strike."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    employees_total: int = Field(ge=1)
    present: int = Field(ge=0)
    votes_for: int = Field(ge=0)


def unknown_codes(codes: Iterable[str], listed: Iterable[Listed]) -> list[str]:
    known = {item.code for item in listed}
    return [code for code in codes if code not in known]


def strike_warnings(law: StrikeRules, *, categories: Iterable[str], sectors: Iterable[str], vote: MeetingVote,
                    decided_on: date, strike_starts_on: date | None,
                    calendar: WorkingDayCalendar) -> list[StrikeWarning]:
    """Every check the strike decision fails, each with its article; an empty list when none does.

    The checks warn: a union records its decision whatever they say, and a court rules on legality.
    """
    warnings: list[StrikeWarning] = []
    chosen = set(categories)
    for item in law.prohibited_categories:
        if item.code in chosen:
            warnings.append(StrikeWarning(rule="prohibited_category", code=item.code, article=item.article,
                                          verify=item.verify,
                                          detail=f"a strike is illegal here: {item.title.lower()}"))
    chosen_sectors = set(sectors)
    for item in law.restricted_sectors:
        if item.code in chosen_sectors:
            warnings.append(StrikeWarning(rule="restricted_sector", code=item.code, article=item.article,
                                          verify=item.verify,
                                          detail=f"a life-support organisation ({item.title.lower()}): a strike is "
                                                 "restricted and the minimum services must be kept"))
    if vote.present <= vote.employees_total * law.quorum.value:
        warnings.append(StrikeWarning(rule="quorum", article=law.quorum.article, verify=law.quorum.verify,
                                      detail=f"{vote.present} of {vote.employees_total} employees present; more than "
                                             f"{law.quorum.value:.0%} must be"))
    if vote.votes_for <= vote.present * law.majority.value:
        warnings.append(StrikeWarning(rule="majority", article=law.majority.article, verify=law.majority.verify,
                                      detail=f"{vote.votes_for} of {vote.present} present voted for; more than "
                                             f"{law.majority.value:.0%} must"))
    notice = law.notice_working_days.value
    if strike_starts_on is None:
        warnings.append(StrikeWarning(rule="notice", article=law.notice_working_days.article,
                                      verify=law.notice_working_days.verify,
                                      detail="no start date: the employer must be given notice of the strike"))
    elif strike_starts_on < (earliest := earliest_strike_day(decided_on, law, calendar)):
        warnings.append(StrikeWarning(rule="notice", article=law.notice_working_days.article,
                                      verify=law.notice_working_days.verify,
                                      detail=f"{notice} working days' notice: the strike may begin on "
                                             f"{earliest.isoformat()} at the earliest"))
    return warnings


def earliest_strike_day(decided_on: date, law: StrikeRules, calendar: WorkingDayCalendar) -> date:
    """The notice runs from the decision (the day itself not counted); the strike may begin after it has run."""
    return calendar.next_working_day(calendar.add_working_days(decided_on, law.notice_working_days.value))


def vote_problem(vote: MeetingVote) -> tuple[str, str, str] | None:
    """An impossible count (pointer, rule, detail), or None."""
    if vote.present > vote.employees_total:
        return "/meeting/present", "not_more_than_total", "more employees present than there are"
    if vote.votes_for > vote.present:
        return "/meeting/votes_for", "not_more_than_present", "more votes than employees present"
    return None


# --- causes, and stages that drag on ----------------------------------------------------------

class DisputeCause(StrEnum):
    """What the dispute is mainly about (the statistics' categories)."""

    wages = "wages"
    wage_arrears = "wage_arrears"
    working_conditions = "working_conditions"
    safety = "safety"
    dismissals = "dismissals"
    collective_agreement = "collective_agreement"
    other = "other"


class StallRules(_Dated):
    basis: str = Field(min_length=3, description="Why the limits exist; they are a policy, not a statute")
    verify: bool = False
    limits_days: dict[DisputeStatus, int] = Field(description="Calendar days a stage may last before it is stalled")


@cache
def all_stall_rules() -> tuple[StallRules, ...]:
    rows = json.loads((DATA / "stall-rules.json").read_text(encoding="utf-8"))
    return tuple(StallRules.model_validate(row) for row in rows)


def stall_rules_on(day: date) -> StallRules:
    return _in_force(day, all_stall_rules(), "stall rules")


def stage_limit(stage: DisputeStatus | str, law: StallRules) -> int | None:
    """Calendar days the stage may last; None for a stage that cannot stall (a strike, an ended dispute)."""
    return law.limits_days.get(DisputeStatus(stage))


def stalled_from(stage: DisputeStatus | str, started_on: date, law: StallRules) -> date | None:
    """The first day on which a stage begun on ``started_on`` is stalled (its limit has passed), or None."""
    limit = stage_limit(stage, law)
    return None if limit is None else started_on + timedelta(days=limit + 1)


def is_stalled(stage: DisputeStatus | str, started_on: date, ended_on: date | None, today: date,
               law: StallRules) -> bool:
    """A stage still open on ``today`` whose elapsed calendar days exceed its limit."""
    first = stalled_from(stage, started_on, law)
    return ended_on is None and first is not None and today >= first


def elapsed_days(started_on: date, ended_on: date | None, today: date) -> int:
    """Calendar days a stage lasted (until ``today`` while it lasts)."""
    return ((ended_on or today) - started_on).days


def draft_demand_text(number: int, title: str, workers_position: str | None) -> str:
    """A draft demand from an open clause of a protocol of disagreements: the workers' last position on it."""
    position = workers_position or "the workers' side proposed no text; to be formulated"
    return f"Clause {number} «{title}»: {position}"[:5000]
