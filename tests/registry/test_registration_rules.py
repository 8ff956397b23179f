"""The registration and status-confirmation rules under both the 2014 and the 2020 rule sets, without I/O."""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from contracts.registry import OrganisationKind as Kind
from kernel.calendar import WorkingDayCalendar
from services.registry.organisations.rules import (
    MembershipCounts,
    affiliation_problem,
    aggregate,
    membership_problems,
)
from services.registry.reference import catalogue
from services.registry.registrations.rules import (
    TRANSITIONS,
    ApplicationAction,
    ApplicationFacts,
    ApplicationStatus,
    ConfirmationFacts,
    Geography,
    IllegalTransition,
    check_application,
    check_status_confirmation,
    correction_due,
    grounds_for_decision,
    needs_status_confirmation,
    next_status,
    resume_after_return,
    status_confirmation_due,
)
from services.registry.rulesets.rules import NoRuleSetInForce, RuleSet, RuleSetBody, in_force

DATA = Path(__file__).resolve().parents[2] / "services" / "registry" / "rulesets" / "data"
CALENDAR = WorkingDayCalendar()
GEOGRAPHY = Geography(regions=frozenset(r.code for r in catalogue.regions()),
                      capital_cities=frozenset({"710000000", "750000000"}))
ALL_DOCUMENTS = frozenset({"application_form", "charter", "founding_congress_minutes", "elected_bodies_decision",
                           "legal_address_document"})


def load(code: str, revision: int = 1) -> RuleSet:
    data = json.loads((DATA / f"{code}.json").read_text(encoding="utf-8"))
    return RuleSet(code=data["code"], revision=revision, title=data["title"],
                   effective_from=date.fromisoformat(data["effective_from"]),
                   body=RuleSetBody.model_validate(data["body"]))


LAW_2014 = load("trade-unions-2014")
LAW_2020 = load("trade-unions-2020")
RULE_SETS = [LAW_2014, LAW_2020]


# --- which law applies ---------------------------------------------------------------------

@pytest.mark.parametrize(("on", "code"), [
    (date(2014, 7, 12), "trade-unions-2014"),
    (date(2015, 1, 15), "trade-unions-2014"),
    (date(2020, 5, 15), "trade-unions-2014"),
    (date(2020, 5, 16), "trade-unions-2020"),
    (date(2021, 1, 15), "trade-unions-2020"),
])
def test_the_rule_set_in_force_on_a_date(on: date, code: str) -> None:
    assert in_force(RULE_SETS, on).code == code


def test_no_rule_set_before_the_first() -> None:
    with pytest.raises(NoRuleSetInForce):
        in_force(RULE_SETS, date(2014, 7, 11))


def test_a_correction_replaces_the_earlier_revision() -> None:
    corrected = LAW_2020.model_copy(update={"revision": 2, "effective_from": date(2020, 5, 20)})
    assert in_force([*RULE_SETS, corrected], date(2020, 5, 25)).revision == 2
    # The correction moved the start: the earlier revision's date no longer counts.
    assert in_force([*RULE_SETS, corrected], date(2020, 5, 17)).code == "trade-unions-2014"


def test_every_provision_names_its_article_and_the_2014_objections_carry_the_ilo_note() -> None:
    for rule_set in RULE_SETS:
        for name in RuleSetBody.model_fields:
            if name != "refusal_grounds":
                assert len(getattr(rule_set.body, name).article) > 5
    assert "Convention No. 87" in (LAW_2014.body.affiliation_required.ilo_note or "")
    assert "Convention No. 87" in (LAW_2014.body.tier_thresholds.ilo_note or "")
    assert LAW_2020.body.affiliation_required.ilo_note is None


def test_a_rule_set_may_not_reuse_an_automatic_check_as_a_ground() -> None:
    data = LAW_2020.body.model_dump(mode="json")
    data["refusal_grounds"].append({"code": "min_founders", "article": "art. 1", "description": "duplicate"})
    with pytest.raises(ValidationError, match="automatic checks"):
        RuleSetBody.model_validate(data)


# --- status confirmation periods ----------------------------------------------------------

def test_status_confirmation_due_under_2014_is_six_months() -> None:
    # Registered on 15 January 2015, a Thursday; six months later is Wednesday 15 July 2015.
    assert status_confirmation_due(date(2015, 1, 15), LAW_2014, CALENDAR) == date(2015, 7, 15)


def test_status_confirmation_due_under_2020_is_twelve_months_and_ends_on_a_working_day() -> None:
    # Twelve months after 15 January 2021 is Saturday 15 January 2022: the period ends on Monday the 17th.
    assert status_confirmation_due(date(2021, 1, 15), LAW_2020, CALENDAR) == date(2022, 1, 17)


def test_a_period_ending_on_a_public_holiday_moves_to_the_next_working_day() -> None:
    # 22 September 2025 + 6 months = 22 March 2026, inside Nauryz (21-25 March 2026 are days off).
    due = status_confirmation_due(date(2025, 9, 22), LAW_2014.model_copy(), CALENDAR)
    assert due == date(2026, 3, 26)
    assert CALENDAR.is_working_day(due)


def test_which_unions_confirm_their_status() -> None:
    for rule_set in RULE_SETS:
        assert needs_status_confirmation(Kind.local_union, rule_set)
        assert not needs_status_confirmation(Kind.primary_union_organisation, rule_set)
        assert not needs_status_confirmation(Kind.employer, rule_set)


def test_the_office_time_does_not_shorten_the_applicants_period() -> None:
    due = date(2022, 1, 17)
    # Filed with 17 days left; the office took until 1 March to return it: 17 days from then.
    assert resume_after_return(due, date(2021, 12, 31), date(2022, 3, 1), CALENDAR) == date(2022, 3, 18)
    # Filed on the last day: the applicant still has that day after the return (rolled to a working day).
    assert resume_after_return(due, due, date(2022, 4, 1), CALENDAR) == date(2022, 4, 1)


def test_correction_period_counts_calendar_days_and_ends_on_a_working_day() -> None:
    # 30 days after Monday 1 December 2025 is Wednesday 31 December 2025.
    assert correction_due(date(2025, 12, 1), LAW_2020, CALENDAR) == date(2025, 12, 31)
    # 30 days after 3 December 2025 is 2 January 2026, a public holiday; then a weekend: Monday 5 January.
    assert correction_due(date(2025, 12, 3), LAW_2020, CALENDAR) == date(2026, 1, 5)


# --- registration checks -------------------------------------------------------------------

@pytest.mark.parametrize("rule_set", RULE_SETS, ids=lambda r: r.code)
def test_a_complete_application_passes(rule_set: RuleSet) -> None:
    assert check_application(ApplicationFacts(Kind.local_union, 10, ALL_DOCUMENTS), rule_set) == []


@pytest.mark.parametrize("rule_set", RULE_SETS, ids=lambda r: r.code)
def test_every_failing_ground_is_listed_at_once(rule_set: RuleSet) -> None:
    grounds = check_application(ApplicationFacts(Kind.local_union, 3, frozenset({"charter"})), rule_set)
    assert [g.rule for g in grounds] == ["min_founders", "founding_documents"]
    assert all(g.article for g in grounds)
    assert "application_form" in grounds[1].detail and "founding_congress_minutes" in grounds[1].detail
    assert "3 founders" in grounds[0].detail


def test_employers_do_not_apply_as_unions() -> None:
    with pytest.raises(ValueError):
        check_application(ApplicationFacts(Kind.employer, 10, ALL_DOCUMENTS), LAW_2020)


# --- status confirmation checks ------------------------------------------------------------

def test_a_local_union_without_affiliation_fails_under_2014() -> None:
    facts = ConfirmationFacts(Kind.local_union, frozenset({"750000000"}), members=120, affiliated=False)
    grounds = check_status_confirmation(facts, LAW_2014, GEOGRAPHY)
    assert [g.rule for g in grounds] == ["affiliation_required"]
    assert grounds[0].article == LAW_2014.body.affiliation_required.article


def test_a_local_union_without_affiliation_passes_under_2020() -> None:
    facts = ConfirmationFacts(Kind.local_union, frozenset({"750000000"}), members=120, affiliated=False)
    assert check_status_confirmation(facts, LAW_2020, GEOGRAPHY) == []


def test_an_affiliated_local_union_passes_under_2014() -> None:
    facts = ConfirmationFacts(Kind.local_union, frozenset({"750000000"}), members=120, affiliated=True)
    assert check_status_confirmation(facts, LAW_2014, GEOGRAPHY) == []


def _regions(n: int, *, with_capitals: bool) -> frozenset[str]:
    capitals = ["710000000", "750000000"]
    others = [c for c in sorted(GEOGRAPHY.regions) if c not in capitals]
    chosen = (capitals if with_capitals else []) + others
    return frozenset(chosen[:n])


def test_a_sectoral_union_under_2014_needs_more_than_half_the_regions_and_both_capital_cities() -> None:
    assert len(GEOGRAPHY.regions) == 20
    short = ConfirmationFacts(Kind.sectoral_union, _regions(10, with_capitals=False), 5000, affiliated=True)
    rules = [g.rule for g in check_status_confirmation(short, LAW_2014, GEOGRAPHY)]
    assert rules == ["status_confirmation_regions", "status_confirmation_capital_cities"]
    enough = ConfirmationFacts(Kind.sectoral_union, _regions(11, with_capitals=True), 5000, affiliated=True)
    assert check_status_confirmation(enough, LAW_2014, GEOGRAPHY) == []


def test_a_sectoral_union_under_2020_needs_no_capital_cities_nor_affiliation() -> None:
    facts = ConfirmationFacts(Kind.sectoral_union, _regions(11, with_capitals=False), 5000, affiliated=False)
    assert check_status_confirmation(facts, LAW_2020, GEOGRAPHY) == []
    # The same union fails twice over under 2014.
    rules = [g.rule for g in check_status_confirmation(facts, LAW_2014, GEOGRAPHY)]
    assert rules == ["status_confirmation_capital_cities", "affiliation_required"]


def test_unknown_region_codes_do_not_count() -> None:
    facts = ConfirmationFacts(Kind.sectoral_union, frozenset({f"99{i:07d}" for i in range(15)}), 10, True)
    assert [g.rule for g in check_status_confirmation(facts, LAW_2020, GEOGRAPHY)] == ["status_confirmation_regions"]


# --- the application's states --------------------------------------------------------------

ALL_PAIRS = [(s, a) for s in ApplicationStatus for a in ApplicationAction]


@pytest.mark.parametrize(("status", "action"), ALL_PAIRS, ids=lambda v: v.value)
def test_every_transition_is_either_allowed_or_refused_with_the_alternatives(status: ApplicationStatus,
                                                                            action: ApplicationAction) -> None:
    allowed = TRANSITIONS[status]
    if action in allowed:
        assert next_status(status, action) == allowed[action]
    else:
        with pytest.raises(IllegalTransition) as failure:
            next_status(status, action)
        assert failure.value.allowed == sorted(allowed)


def test_the_decided_states_are_final() -> None:
    for status in (ApplicationStatus.registered, ApplicationStatus.refused, ApplicationStatus.withdrawn):
        assert TRANSITIONS[status] == {}


def test_a_returned_application_goes_back_to_submitted_when_corrected() -> None:
    status = next_status(ApplicationStatus.submitted, ApplicationAction.start_review)
    status = next_status(status, ApplicationAction.return_for_correction)
    assert next_status(status, ApplicationAction.resubmit) is ApplicationStatus.submitted


def test_decision_grounds_keep_every_automatic_ground_and_add_cited_ones_once() -> None:
    automatic = check_application(ApplicationFacts(Kind.local_union, 3, ALL_DOCUMENTS), LAW_2020)
    cited = [automatic[0].model_copy(update={"detail": "again"}),
             automatic[0].model_copy(update={"rule": "false_information", "detail": "the minutes"})]
    merged = grounds_for_decision(automatic, cited)
    assert [g.rule for g in merged] == ["min_founders", "false_information"]
    assert LAW_2020.knows("false_information") and not LAW_2020.knows("conference_instead_of_congress")


# --- affiliation and membership ------------------------------------------------------------

def test_which_tier_may_belong_to_which() -> None:
    assert affiliation_problem("local_union", "sectoral_union") is None
    assert affiliation_problem("sectoral_union", "republican_union_association") is None
    assert affiliation_problem("employer", "sectoral_employer_association") is None
    assert "may belong to" in (affiliation_problem("local_union", "employer") or "")
    assert "does not belong" in (affiliation_problem("republican_union_association", "sectoral_union") or "")


def test_membership_reports_must_add_up() -> None:
    assert membership_problems(MembershipCounts(100, 52, 30, {"750000000": 60, "710000000": 40})) == []
    problems = membership_problems(MembershipCounts(100, 120, 101, {"750000000": 60}))
    assert [p[:2] for p in problems] == [("/women", "not_more_than_total"), ("/under_35", "not_more_than_total"),
                                         ("/by_region", "sums_to_total")]


def test_membership_adds_up_the_affiliation_tree_counting_each_organisation_once() -> None:
    top, a, b, c = (uuid.uuid4() for _ in range(4))
    children = {top: [a, b], a: [c], c: [a]}  # a loop in bad data must not double-count
    reports = {top: MembershipCounts(10, 5, 1), a: MembershipCounts(100, 40, 20, {"750000000": 100}),
               c: MembershipCounts(7, 7, 7, {"710000000": 7})}
    total = aggregate(top, reports, children)
    assert (total.total, total.women, total.under_35) == (117, 52, 28)
    assert total.by_region == {"750000000": 100, "710000000": 7}
