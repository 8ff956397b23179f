"""The bargaining rules as plain code: every transition allowed or refused, parity, periods and terms."""

from __future__ import annotations

from datetime import date

import pytest

from contracts.bargaining import Level, Side
from kernel.calendar import WorkingDayCalendar
from services.bargaining.negotiations import rules
from services.bargaining.negotiations.rules import (
    TRANSITIONS,
    IllegalTransition,
    NegotiationAction,
    NegotiationStatus,
    next_status,
)

S, A = NegotiationStatus, NegotiationAction
EXPECTED = {
    (S.proposed, A.enter): S.entered,
    (S.proposed, A.decline): S.declined,
    (S.proposed, A.record_evasion): S.evaded,
    (S.evaded, A.enter): S.entered,
    (S.entered, A.constitute_commission): S.negotiating,
    (S.negotiating, A.sign): S.signed,
    (S.signed, A.file): S.filed,
    (S.signed, A.terminate): S.terminated,
    (S.filed, A.enter_into_force): S.in_force,
    (S.filed, A.terminate): S.terminated,
    (S.in_force, A.expire): S.expired,
    (S.in_force, A.terminate): S.terminated,
}


@pytest.mark.parametrize("status", list(NegotiationStatus))
@pytest.mark.parametrize("action", list(NegotiationAction))
def test_every_transition_is_allowed_or_refused_as_the_table_says(status, action):
    expected = EXPECTED.get((status, action))
    if expected is None:
        with pytest.raises(IllegalTransition) as refused:
            next_status(status, action)
        assert refused.value.allowed == sorted(TRANSITIONS[status])
        assert action not in refused.value.allowed
    else:
        assert next_status(status, action) is expected


def test_the_table_names_every_status_and_ends_in_terminal_states():
    assert set(TRANSITIONS) == set(NegotiationStatus)
    assert {s for s, moves in TRANSITIONS.items() if not moves} == {S.expired, S.terminated, S.declined}


@pytest.mark.parametrize("level, counts, rule", [
    (Level.enterprise, {Side.workers: 3, Side.employers: 3}, None),
    (Level.enterprise, {Side.workers: 3, Side.employers: 2}, "equal per side"),
    (Level.enterprise, {Side.workers: 3}, "no members for: employers"),
    (Level.sectoral, {Side.workers: 5, Side.employers: 5}, None),
    (Level.general, {Side.workers: 4, Side.employers: 4, Side.government: 4}, None),
    (Level.general, {Side.workers: 4, Side.employers: 4, Side.government: 3}, "equal per party"),
    (Level.regional, {Side.workers: 2, Side.employers: 2}, "no members for: government"),
])
def test_parity(level, counts, rule):
    problem = rules.parity_problem(level, counts)
    if rule is None:
        assert problem is None
    else:
        assert problem is not None and rule in problem


def test_joint_union_body_counts_its_members_together():
    # Two unions on the workers' side name 2 and 1 members: one joint body of 3 against the employer's 3.
    assert rules.parity_problem(Level.enterprise, {Side.workers: 2 + 1, Side.employers: 3}) is None


def test_sides_must_fit_the_level_and_the_kind():
    problems = rules.side_problems(Level.enterprise, [
        ("Union", Side.workers, "primary_union_organisation"),
        ("Association", Side.employers, "sectoral_employer_association"),
        ("Ministry", Side.government, "government_body"),
        ("Employer", Side.workers, "employer"),
    ])
    assert [(i, rule) for i, rule, _ in problems] == [
        (1, "enterprise_employer"), (2, "side_at_level"), (3, "kind_on_side")]
    assert rules.missing_sides(Level.general, [Side.workers, Side.employers]) == [Side.government]
    assert rules.side_problems(Level.enterprise, [("A", Side.employers, "employer"),
                                                  ("B", Side.employers, "employer")])[-1][1] == "one_employer"


def test_entry_period_is_ten_calendar_days_by_the_rule_data():
    law = rules.rules_on(date(2026, 3, 2))
    assert law.entry_period_days.value == 10 and "art. 156" in law.entry_period_days.article
    calendar = WorkingDayCalendar()
    # Proposed on Monday 2 March 2026: ten days end on Thursday 12 March.
    assert rules.entry_due(date(2026, 3, 2), law, calendar) == date(2026, 3, 12)
    # Proposed on Wednesday 11 March: the tenth day is Saturday 21 March, in the Nauryz holidays
    # (21-25 March 2026), so the period ends on the next working day.
    assert rules.entry_due(date(2026, 3, 11), law, calendar) == date(2026, 3, 26)
    assert rules.entry_reminder_on(date(2026, 3, 12), date(2026, 3, 2), law) == date(2026, 3, 9)


def test_no_rules_before_the_code_came_into_force():
    with pytest.raises(LookupError):
        rules.rules_on(date(2010, 1, 1))


def test_term_range_is_rule_data():
    law = rules.rules_on(date(2026, 1, 1))
    assert law.term_months.verify  # the statutory range is still to be checked against the Code
    assert rules.term_problem(date(2026, 1, 1), date(2028, 12, 31), law) is None
    assert rules.term_problem(date(2026, 1, 1), date(2026, 12, 31), law) is None
    assert "shorter" in rules.term_problem(date(2026, 1, 1), date(2026, 6, 30), law)
    assert "longer" in rules.term_problem(date(2026, 1, 1), date(2029, 1, 1), law)
    assert "end after" in rules.term_problem(date(2026, 1, 1), date(2026, 1, 1), law)


def test_a_clause_is_agreed_only_when_every_side_accepted_the_current_version():
    sides = [Side.workers, Side.employers]
    assert rules.is_agreed(2, {Side.workers: 2, Side.employers: 2}, sides)
    assert not rules.is_agreed(2, {Side.workers: 2, Side.employers: 1}, sides)
    assert not rules.is_agreed(2, {Side.workers: 2}, sides)
    assert rules.acceptance_problem(3, 2) is not None and rules.acceptance_problem(3, 3) is None
