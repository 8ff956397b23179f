"""Individual labour disputes as plain rules: the states, the periods on real calendars (New Year,
Nauryz 2026 with its observed days, the May holidays), calendar against working days, the art. 160
time limit with its suspensions, and the exemptions — with property-based tests. No I/O."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from contracts.disputes import IndividualOutcome
from kernel.calendar import WorkingDayCalendar
from services.disputes.individual import rules
from services.disputes.individual.rules import (
    IllegalTransition,
    IndividualAction,
    IndividualStatus,
    Suspension,
    add_months,
    time_limit_check,
)

CALENDAR = WorkingDayCalendar()
LAW = rules.rules_on(date(2026, 1, 1))
DAYS = st.dates(min_value=date(2022, 1, 1), max_value=date(2027, 6, 30))


# --- states ------------------------------------------------------------------------------------

def test_states() -> None:
    assert rules.allowed_actions("registered") == ["decide", "record_decision_overdue", "refer_to_court", "withdraw"]
    assert rules.next_status("decision_overdue", IndividualAction.decide) is IndividualStatus.decided
    assert rules.allowed_actions("decided") == ["execute", "refer_to_court"]
    with pytest.raises(IllegalTransition) as refused:
        rules.next_status("executed", IndividualAction.withdraw)
    assert refused.value.allowed == []
    # Every end is final and every open state can reach one.
    assert rules.TERMINAL == {IndividualStatus.executed, IndividualStatus.referred_to_court, IndividualStatus.withdrawn}
    for status in IndividualStatus:
        assert status in rules.TERMINAL or any(target in rules.TERMINAL or rules.TRANSITIONS[target]
                                               for target in rules.TRANSITIONS[status].values())


# --- periods on real calendars -------------------------------------------------------------------

@pytest.mark.parametrize(("filed_on", "decision_due", "copies_due", "why"), [
    # New Year (1-2 January) and Orthodox Christmas (7 January) are not working days.
    (date(2025, 12, 30), date(2026, 1, 23), date(2026, 1, 5), "New Year: 3 calendar days end on 2 January, "
                                                                  "a holiday, then a weekend: Monday 5 January"),
    # Nauryz 2026: 21-23 March, with 24 and 25 March observed.
    (date(2026, 3, 20), date(2026, 4, 15), date(2026, 3, 26), "Nauryz: the 23rd is a holiday, the 24th and 25th "
                                                              "observed: Thursday 26 March"),
    # May 2026: 1 May (Friday), 7 May, 9 May (Saturday) observed on Monday 11 May.
    (date(2026, 4, 30), date(2026, 5, 26), date(2026, 5, 4), "May: Sunday 3 May moves to Monday 4 May"),
])
def test_the_commission_periods_across_holidays(filed_on: date, decision_due: date, copies_due: date,
                                                why: str) -> None:
    assert rules.decision_due(filed_on, LAW, CALENDAR) == decision_due
    assert rules.copies_due(filed_on, LAW, CALENDAR) == copies_due, why


def test_calendar_days_and_working_days_differ() -> None:
    # Copies: 3 calendar days (the rule data's unit); the decision: 15 working days.
    assert LAW.copies_period.value.unit == "calendar_days" and LAW.copies_period.verify is True
    assert LAW.decision_period_working_days.value == 15
    # From Thursday 30 April 2026: 3 calendar days end on Sunday 3 May (rolled to Monday 4 May); 3 working days
    # (4, 5, 6 May) end on Wednesday 6 May.
    assert rules.copies_due(date(2026, 4, 30), LAW, CALENDAR) == date(2026, 5, 4)
    assert CALENDAR.add_working_days(date(2026, 4, 30), 3) == date(2026, 5, 6)


@given(DAYS)
@settings(max_examples=200, deadline=None)
def test_the_decision_is_due_on_the_fifteenth_working_day(filed_on: date) -> None:
    due = rules.decision_due(filed_on, LAW, CALENDAR)
    assert CALENDAR.is_working_day(due)
    assert CALENDAR.working_days_between(filed_on, due) == 15
    # And 15 working days always take at least 3 calendar weeks (weekends alone make 21 days).
    assert (due - filed_on).days >= 19


@given(DAYS)
@settings(max_examples=200, deadline=None)
def test_copies_are_due_three_calendar_days_later_or_the_next_working_day(decided_on: date) -> None:
    due = rules.copies_due(decided_on, LAW, CALENDAR)
    third = decided_on + timedelta(days=3)
    assert CALENDAR.is_working_day(due) and due >= third
    assert due == third or all(not CALENDAR.is_working_day(third + timedelta(days=i))
                               for i in range((due - third).days))


@given(DAYS, st.integers(min_value=1, max_value=24))
@settings(max_examples=300, deadline=None)
def test_add_months(day: date, months: int) -> None:
    later = add_months(day, months)
    assert (later.year - day.year) * 12 + later.month - day.month == months
    assert later.day == day.day or (later.day < day.day and (later + timedelta(days=1)).day == 1)


def test_add_months_at_the_end_of_a_month() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2025, 2, 10), 12) == date(2026, 2, 10)


@given(DAYS)
@settings(max_examples=200, deadline=None)
def test_the_execution_day_is_at_most_one_month_after_the_decision(decided_on: date) -> None:
    latest = rules.latest_execution_day(decided_on, LAW)
    assert 28 <= (latest - decided_on).days <= 31
    assert rules.needs_execution_day(IndividualOutcome.upheld)
    assert not rules.needs_execution_day(IndividualOutcome.rejected)


# --- the art. 160 time limit ---------------------------------------------------------------------

def check(subject: str, starts_on: date, filed_on: date, *suspensions: Suspension, step: str = "commission"):
    return time_limit_check(LAW, subject=subject, step=step, starts_on=starts_on,  # type: ignore[arg-type]
                            filed_on=filed_on, suspensions=list(suspensions), calendar=CALENDAR)


def test_reinstatement_one_month_to_the_commission_then_two_to_court() -> None:
    # Dismissal act handed over on Friday 20 February 2026: one month ends on Friday 20 March.
    assert check("reinstatement", date(2026, 2, 20), date(2026, 3, 20)).in_time
    late = check("reinstatement", date(2026, 2, 20), date(2026, 3, 26))
    assert (late.in_time, late.days_left, late.months) == (False, -6, 1)
    assert "out of time" in late.reasons[-1]
    # Dismissal act on 21 February: one month ends on Saturday 21 March, a Nauryz day: the next working day is 26 March.
    rolled = check("reinstatement", date(2026, 2, 21), date(2026, 3, 26))
    assert (rolled.base_ends_on, rolled.ends_on, rolled.in_time) == (date(2026, 3, 21), date(2026, 3, 26), True)
    court = check("reinstatement", date(2026, 3, 26), date(2026, 5, 26), step="court")
    assert (court.months, court.ends_on, court.in_time) == (2, date(2026, 5, 26), True)


def test_other_disputes_one_year_and_the_suspension_grounds() -> None:
    base = check("pay", date(2025, 3, 1), date(2026, 3, 10))
    # One year ends on Sunday 1 March 2026, rolled to Monday 2 March: late by 8 days.
    assert (base.base_ends_on, base.ends_on, base.in_time, base.days_left) == (
        date(2026, 3, 1), date(2026, 3, 2), False, -8)
    # 30 days without a commission and an overlapping mediation agreement count once: 45 days in all.
    suspended = check("pay", date(2025, 3, 1), date(2026, 3, 10),
                      Suspension("no_commission", date(2025, 9, 1), date(2025, 9, 30)),
                      Suspension("mediation_agreement", date(2025, 9, 20), date(2025, 10, 15)))
    assert (suspended.suspended_days, suspended.ends_on, suspended.in_time) == (45, date(2026, 4, 15), True)
    assert any("suspended" in reason for reason in suspended.reasons)
    # A mediation agreement still in force at filing suspends until the filing.
    open_ended = check("disciplinary", date(2025, 1, 10), date(2026, 2, 1),
                       Suspension("mediation_agreement", date(2025, 12, 1)))
    assert open_ended.suspended_days == 63 and open_ended.in_time


SPANS = st.lists(st.tuples(DAYS, st.integers(min_value=0, max_value=90)), max_size=4)


@given(DAYS, st.integers(min_value=0, max_value=500), SPANS, st.sampled_from(["reinstatement", "pay"]))
@settings(max_examples=300, deadline=None)
def test_time_limit_properties(starts_on: date, filed_after: int, spans: list[tuple[date, int]],
                               subject: str) -> None:
    filed_on = starts_on + timedelta(days=filed_after)
    assume(filed_on <= date(2027, 12, 31))
    suspensions = [Suspension("no_commission", since, since + timedelta(days=length)) for since, length in spans
                   if since <= filed_on]
    plain = check(subject, starts_on, filed_on)
    result = check(subject, starts_on, filed_on, *suspensions)
    # The period without suspensions: the months, rolled to a working day.
    assert plain.ends_on == CALENDAR.working_day_on_or_after(add_months(starts_on, plain.months))
    # Suspensions only ever lengthen it, by exactly the suspended days before rolling.
    assert result.ends_on >= plain.ends_on and result.suspended_days >= 0
    assert CALENDAR.is_working_day(result.ends_on)
    assert result.ends_on >= result.base_ends_on + timedelta(days=result.suspended_days)
    # Never more suspended days than the suspensions hold.
    assert result.suspended_days <= sum(length + 1 for _, length in spans)
    # In time exactly when filed on or before the last day, and days_left says by how much.
    assert result.in_time == (filed_on <= result.ends_on)
    assert result.days_left == (result.ends_on - filed_on).days


@given(DAYS, st.integers(min_value=0, max_value=400), st.integers(min_value=0, max_value=30))
@settings(max_examples=200, deadline=None)
def test_filing_later_never_makes_a_late_application_timely(starts_on: date, filed_after: int, later: int) -> None:
    first = check("pay", starts_on, starts_on + timedelta(days=filed_after))
    second = check("pay", starts_on, starts_on + timedelta(days=filed_after + later))
    assert first.ends_on == second.ends_on
    assert first.in_time or not second.in_time


@given(DAYS, st.integers(min_value=1, max_value=20))
@settings(max_examples=200, deadline=None)
def test_a_suspension_inside_the_period_moves_its_end_by_its_length(starts_on: date, length: int) -> None:
    since = starts_on + timedelta(days=3)
    until = since + timedelta(days=length - 1)
    far = starts_on + timedelta(days=400)
    result = check("reinstatement", starts_on, far, Suspension("mediation_agreement", since, until))
    assert result.suspended_days == length
    unrolled = add_months(starts_on, 1) + timedelta(days=length)
    assert result.ends_on == CALENDAR.working_day_on_or_after(unrolled)


def test_merged_spans() -> None:
    spans = rules.merged_spans([Suspension("a", date(2025, 1, 10), date(2025, 1, 20)),
                                Suspension("b", date(2025, 1, 15), date(2025, 1, 25)),
                                Suspension("c", date(2025, 1, 26), date(2025, 1, 27)),
                                Suspension("d", date(2025, 3, 1))], open_until=date(2025, 3, 5))
    assert spans == [(date(2025, 1, 10), date(2025, 1, 27)), (date(2025, 3, 1), date(2025, 3, 5))]


# --- exemptions and the rule data ----------------------------------------------------------------

def test_exemptions() -> None:
    assert {e.code for e in LAW.exemptions} == {"micro_enterprise", "small_non_profit", "domestic_worker",
                                               "head_of_employer", "excluded_public_service"}
    domestic = rules.exemption_checks(LAW, ["domestic_worker"], employees=None)
    assert domestic[0].applies and not rules.commission_mandatory(domestic)
    for employees, applies in ((15, True), (16, False), (None, False)):
        [small] = rules.exemption_checks(LAW, ["small_non_profit"], employees=employees)
        assert small.applies is applies, employees
    assert rules.commission_mandatory([])
    with pytest.raises(ValueError):
        rules.exemption_checks(LAW, ["ministry"], employees=None)


def test_the_rule_data_cites_articles_and_marks_what_is_unconfirmed() -> None:
    raw = json.loads((rules.DATA / "individual-rules.json").read_text(encoding="utf-8"))
    assert [row["effective_from"] for row in raw] == sorted(row["effective_from"] for row in raw)
    assert "art. 159" in LAW.decision_period_working_days.article
    for limit in LAW.time_limits.values():
        assert "art. 160" in limit.commission.article and "art. 160" in limit.court.article
    assert LAW.time_limits["reinstatement"].commission.value == 1
    assert LAW.time_limits["reinstatement"].court.value == 2 and LAW.time_limits["other"].commission.value == 12
    assert all(e.verify for e in LAW.exemptions)
    assert {g.code for g in LAW.suspension_grounds} == {"mediation_agreement", "no_commission"}
    with pytest.raises(LookupError):
        rules.rules_on(date(2010, 1, 1))
