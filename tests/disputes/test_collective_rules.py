"""Collective disputes as plain rules: every transition allowed or refused, the periods, the strike checks."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel.calendar import WorkingDayCalendar
from services.disputes.collective import rules
from services.disputes.collective.rules import (
    TRANSITIONS,
    DisputeAction,
    DisputeStatus,
    IllegalTransition,
    MeetingVote,
    next_status,
)

S, A = DisputeStatus, DisputeAction
OPEN = [s for s in DisputeStatus if s not in {S.settled, S.withdrawn, S.closed}]
EXPECTED = {
    (S.draft, A.put_forward): S.demands_submitted,
    (S.demands_submitted, A.accept): S.accepted,
    (S.demands_submitted, A.partly_accept): S.partly_accepted,
    (S.demands_submitted, A.reject): S.rejected,
    (S.demands_submitted, A.record_overdue): S.answer_overdue,
    (S.accepted, A.close): S.closed,
    (S.partly_accepted, A.start_conciliation): S.conciliation,
    (S.rejected, A.start_conciliation): S.conciliation,
    (S.answer_overdue, A.start_conciliation): S.conciliation,
    (S.conciliation, A.start_mediation): S.mediation,
    (S.conciliation, A.start_arbitration): S.labour_arbitration,
    (S.conciliation, A.decide_strike): S.strike_decided,
    (S.mediation, A.start_arbitration): S.labour_arbitration,
    (S.mediation, A.decide_strike): S.strike_decided,
    (S.labour_arbitration, A.decide_strike): S.strike_decided,
    (S.strike_decided, A.start_strike): S.strike,
    (S.strike_decided, A.rule_legal): S.ruled_legal,
    (S.strike_decided, A.rule_illegal): S.ruled_illegal,
    (S.strike, A.suspend_strike): S.suspended,
    (S.strike, A.rule_legal): S.ruled_legal,
    (S.strike, A.rule_illegal): S.ruled_illegal,
    (S.suspended, A.start_strike): S.strike,
    (S.suspended, A.rule_legal): S.ruled_legal,
    (S.suspended, A.rule_illegal): S.ruled_illegal,
    (S.suspended, A.close): S.closed,
    (S.ruled_legal, A.start_strike): S.strike,
    (S.ruled_legal, A.close): S.closed,
    (S.ruled_illegal, A.close): S.closed,
    # A settlement or a withdrawal ends the dispute from every open stage.
    **{(s, A.settle): S.settled for s in OPEN},
    **{(s, A.withdraw): S.withdrawn for s in OPEN},
}


@pytest.mark.parametrize("status", list(DisputeStatus))
@pytest.mark.parametrize("action", list(DisputeAction))
def test_every_transition_is_allowed_or_refused_as_the_table_says(status, action):
    expected = EXPECTED.get((status, action))
    if expected is None:
        with pytest.raises(IllegalTransition) as refused:
            next_status(status, action)
        assert refused.value.allowed == sorted(TRANSITIONS[status])
        assert action not in refused.value.allowed
    else:
        assert next_status(status, action) is expected


def test_the_table_names_every_status_and_ends_in_settled_withdrawn_or_closed():
    assert set(TRANSITIONS) == set(DisputeStatus)
    assert rules.TERMINAL == {S.settled, S.withdrawn, S.closed}


def test_every_rule_figure_names_its_article():
    law = rules.rules_on(date(2026, 3, 20))
    assert law.answer_period_working_days.value == 3 and "art. 163 p. 2" in law.answer_period_working_days.article
    conciliation = law.conciliation_period_working_days
    assert conciliation.value == 7 and "art. 165" in conciliation.article
    strike = rules.strike_rules_on(date(2026, 3, 20))
    assert {c.code for c in strike.prohibited_categories} >= {
        "hazardous_production_facility", "emergency_medical_service", "defence_and_security", "rescue_and_fire",
        "law_enforcement"}
    assert {s.code for s in strike.restricted_sectors} == {
        "energy", "heat", "water", "gas", "aviation", "rail", "public_transport", "communications", "medical"}
    assert all("art. 176 p. 1" in c.article for c in strike.prohibited_categories)
    assert all("art. 176 p. 2" in s.article for s in strike.restricted_sectors)
    assert strike.quorum.verify and strike.majority.verify and strike.notice_working_days.verify
    with pytest.raises(LookupError):
        rules.rules_on(date(2015, 12, 31))


# --- periods across holidays -----------------------------------------------------------------

CALENDAR = WorkingDayCalendar()
LAW = rules.rules_on(date(2026, 1, 1))


@pytest.mark.parametrize("submitted, due", [
    # Friday before Nauryz 2026: 21-23 March and the observed 24-25 March are days off.
    (date(2026, 3, 20), date(2026, 3, 30)),
    # Just before New Year: 1-2 January are days off.
    (date(2025, 12, 30), date(2026, 1, 6)),
    # Before the May holidays of 2026 (1 May, 7 May, 9 May -> 11 May observed).
    (date(2026, 4, 29), date(2026, 5, 5)),
    # An ordinary Monday: Thursday.
    (date(2026, 2, 2), date(2026, 2, 5)),
    # Submitted on a Saturday: the period runs from Monday.
    (date(2026, 2, 7), date(2026, 2, 11)),
])
def test_the_employers_answer_is_due_three_working_days_after_the_demands(submitted, due):
    assert rules.answer_due(submitted, LAW, CALENDAR) == due


def test_conciliation_lasts_seven_working_days_across_nauryz():
    # Started on Thursday 19 March 2026: 20, 26, 27, 30, 31 March, 1 and 2 April.
    assert rules.conciliation_due(date(2026, 3, 19), LAW, CALENDAR) == date(2026, 4, 2)


def test_an_override_moves_the_answer_day():
    # A day off decreed later than the holiday library knows pushes the period on.
    calendar = WorkingDayCalendar({date(2026, 2, 4): False})
    assert rules.answer_due(date(2026, 2, 2), LAW, calendar) == date(2026, 2, 6)


def test_the_reminder_is_a_working_day_before_the_due_day_but_never_before_the_demands():
    due = rules.answer_due(date(2026, 3, 20), LAW, CALENDAR)
    assert rules.reminder_on(date(2026, 3, 20), due, 1, CALENDAR) == date(2026, 3, 27)
    assert rules.reminder_on(date(2026, 3, 27), due, 5, CALENDAR) == date(2026, 3, 27)


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(2016, 1, 1), max_value=date(2035, 12, 31)))
def test_the_computed_due_dates_are_working_days_after_the_event(submitted):
    due = rules.answer_due(submitted, LAW, CALENDAR)
    assert CALENDAR.is_working_day(due)
    assert due > submitted
    assert CALENDAR.working_days_between(submitted, due) == 3
    conciliation = rules.conciliation_due(submitted, LAW, CALENDAR)
    assert CALENDAR.is_working_day(conciliation)
    assert CALENDAR.working_days_between(submitted, conciliation) == 7
    # Never sooner than the period in calendar days, never absurdly later (the longest run of days off is short).
    assert timedelta(days=3) <= due - submitted <= timedelta(days=14)


# --- strike checks ---------------------------------------------------------------------------

STRIKE = rules.strike_rules_on(date(2026, 6, 1))
FAIR = MeetingVote(employees_total=100, present=60, votes_for=40)


def warnings(**overrides):
    args = {"categories": [], "sectors": [], "vote": FAIR, "decided_on": date(2026, 6, 1),
            "strike_starts_on": date(2026, 6, 15), "calendar": CALENDAR} | overrides
    return rules.strike_warnings(STRIKE, **args)


def test_a_lawful_decision_has_no_warnings():
    assert warnings() == []


def test_a_hazardous_production_facility_is_warned_with_its_article():
    [warning] = warnings(categories=["hazardous_production_facility"])
    assert warning.rule == "prohibited_category" and warning.code == "hazardous_production_facility"
    assert "art. 176 p. 1" in warning.article


def test_a_life_support_sector_is_warned_as_restricted():
    [warning] = warnings(sectors=["water"])
    assert warning.rule == "restricted_sector" and "art. 176 p. 2" in warning.article and warning.verify


@pytest.mark.parametrize("vote, rule", [
    (MeetingVote(employees_total=100, present=50, votes_for=50), "quorum"),  # exactly half is not more than half
    (MeetingVote(employees_total=100, present=60, votes_for=30), "majority"),
    (MeetingVote(employees_total=100, present=51, votes_for=26), None),
])
def test_quorum_and_majority(vote, rule):
    assert [w.rule for w in warnings(vote=vote)] == ([rule] if rule else [])


def test_the_notice_period_is_counted_in_working_days():
    # Decided on Monday 1 June 2026: 5 working days of notice end on Monday 8 June; Tuesday 9 June is the first day.
    assert rules.earliest_strike_day(date(2026, 6, 1), STRIKE, CALENDAR) == date(2026, 6, 9)
    assert warnings(strike_starts_on=date(2026, 6, 9)) == []
    [warning] = warnings(strike_starts_on=date(2026, 6, 8))
    assert warning.rule == "notice" and "2026-06-09" in warning.detail
    assert [w.rule for w in warnings(strike_starts_on=None)] == ["notice"]


def test_impossible_counts_and_unknown_codes_are_named():
    assert rules.vote_problem(MeetingVote(employees_total=10, present=11, votes_for=0))[1] == "not_more_than_total"
    assert rules.vote_problem(MeetingVote(employees_total=10, present=5, votes_for=6))[1] == "not_more_than_present"
    assert rules.unknown_codes(["energy", "bakery"], STRIKE.restricted_sectors) == ["bakery"]
