"""Freedom-of-association complaints as plain rules: states, who sees the complainant, findings
that would name them, the categories and the inspectorate's period in working days. No I/O."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel.calendar import WorkingDayCalendar
from kernel.identity import Identity
from services.disputes.complaints import rules
from services.disputes.complaints.rules import ComplaintAction, ComplaintStatus, IllegalTransition, View

CALENDAR = WorkingDayCalendar()
LAW = rules.rules_on(date(2026, 1, 1))
UNION, EMPLOYER = uuid.uuid4(), uuid.uuid4()


def person(*roles: str, organisation: uuid.UUID | None = None) -> Identity:
    return Identity(subject="someone", kind="staff" if organisation is None else "organisation-key",
                    organisation_id=str(organisation) if organisation else None, roles=frozenset(roles))


def test_states() -> None:
    assert rules.allowed_actions("received") == ["close", "start_inspection"]
    assert rules.next_status("under_inspection", ComplaintAction.record_findings) is ComplaintStatus.findings
    with pytest.raises(IllegalTransition) as refused:
        rules.next_status("received", ComplaintAction.record_findings)
    assert refused.value.allowed == [ComplaintAction.close, ComplaintAction.start_inspection]
    assert rules.allowed_actions("closed") == []


@pytest.mark.parametrize(("identity", "told", "view"), [
    (person("labour_inspector"), False, View.full),
    (person("administrator"), False, View.full),
    (person("union", organisation=UNION), False, View.full),
    (person("employer", organisation=EMPLOYER), False, None),  # not before the inspection begins
    (person("employer", organisation=EMPLOYER), True, View.shielded),
    (person("dispute_officer"), True, View.shielded),
    (person("analyst"), True, View.shielded),
    # A credential bound to an organisation never has staff powers, whatever roles it carries.
    (person("labour_inspector", organisation=uuid.uuid4()), True, None),
    (person("employer", organisation=uuid.uuid4()), True, None),
    (person(), True, None),
])
def test_who_sees_the_complainant(identity: Identity, told: bool, view: View | None) -> None:
    assert rules.view_for(identity, union_id=UNION, employer_id=EMPLOYER, employer_told=told) is view


def test_the_employer_never_sees_in_full_even_if_named_as_the_union() -> None:
    employer = person("employer", organisation=EMPLOYER)
    assert rules.view_for(employer, union_id=EMPLOYER, employer_id=EMPLOYER, employer_told=True) is View.shielded


@pytest.mark.parametrize(("text", "names"), [
    ("The dismissal of Nurtayev was retaliation.", True),
    ("The dismissal of NURTAYEV B. was retaliation.", True),
    ("Contact +7 701 000 0000 confirmed", True),
    ("The dismissal was linked to union activity.", False),
    ("Bo was not named", False),  # words under 4 letters are not matched on their own
])
def test_findings_that_would_name_the_complainant(text: str, names: bool) -> None:
    assert rules.names_complainant(text, "Bolat Nurtayev", "+7 701 000 0000") is names


@given(st.text(min_size=4, max_size=40).filter(lambda s: s.strip() and len(s.strip()) >= 4),
       st.text(max_size=60), st.text(max_size=60))
@settings(max_examples=200, deadline=None)
def test_a_name_inside_any_text_is_always_caught(name: str, before: str, after: str) -> None:
    assert rules.names_complainant(before + name + after, name)


def test_categories_and_the_period_are_rule_data() -> None:
    assert {c.code for c in LAW.categories} >= {"threat_of_dismissal", "dismissal_of_union_leader",
                                                 "non_renewal_of_union_leader", "pressure_to_change_union",
                                                 "refusal_to_bargain", "surveillance"}
    assert all("Convention No. 8" in c.article or "Convention No. 9" in c.article for c in LAW.categories)
    assert LAW.consideration_period_working_days.verify is True


@pytest.mark.parametrize(("received_on", "due"), [
    (date(2025, 12, 30), date(2026, 1, 23)),  # across New Year and 7 January
    (date(2026, 3, 20), date(2026, 4, 15)),  # across Nauryz with the observed days
    (date(2026, 4, 30), date(2026, 5, 26)),  # across 1, 7 and 9 (observed 11) May
])
def test_the_consideration_period_across_holidays(received_on: date, due: date) -> None:
    assert rules.consideration_due(received_on, LAW, CALENDAR) == due


@given(st.dates(min_value=date(2022, 1, 1), max_value=date(2027, 6, 30)))
@settings(max_examples=200, deadline=None)
def test_the_consideration_period_in_working_days(received_on: date) -> None:
    due = rules.consideration_due(received_on, LAW, CALENDAR)
    assert CALENDAR.working_days_between(received_on, due) == LAW.consideration_period_working_days.value
    reminder = rules.reminder_on(received_on, due, LAW, CALENDAR)
    assert received_on <= reminder < due
    assert CALENDAR.working_days_between(reminder, due) == LAW.consideration_notice_working_days.value
