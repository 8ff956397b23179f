"""Accession, the register and the coverage rate as plain rules, with the rate computed by hand."""

from __future__ import annotations

from datetime import date

import pytest

from contracts.bargaining import Level
from kernel.calendar import WorkingDayCalendar
from services.bargaining.agreements import rules
from services.bargaining.agreements.rules import CoveredAgreement
from services.bargaining.negotiations.rules import rules_on


def agreement(name: str, employers: set[str], workers: int, region: str | None = None,
              sector: str | None = None) -> CoveredAgreement:
    return CoveredAgreement(agreement_id=name, employer_ids=frozenset(employers), workers=workers,
                            region_code=region, sector=sector)


def test_only_an_enterprise_agreement_in_force_is_open_to_accession():
    assert rules.accession_problem(Level.enterprise, "in_force") is None
    assert "enterprise" in rules.accession_problem(Level.sectoral, "in_force")
    for status in ("signed", "filed", "expired", "terminated"):
        assert status in rules.accession_problem(Level.enterprise, status)


def test_the_answer_period_is_rule_data_marked_verify():
    law = rules_on(date(2026, 3, 2))
    assert law.accession_answer_days.verify and "art." in law.accession_answer_days.article
    calendar = WorkingDayCalendar({})
    due = rules.answer_due(date(2026, 3, 2), law, calendar)
    assert due >= date(2026, 3, 2).fromordinal(date(2026, 3, 2).toordinal() + law.accession_answer_days.value)
    assert rules.answer_reminder_on(due, date(2026, 3, 2), law) < due


@pytest.mark.parametrize(("day", "expected"), [
    (date(2025, 12, 31), False), (date(2026, 1, 1), True), (date(2027, 6, 30), True),
    (date(2027, 7, 1), False), (date(2028, 12, 31), False)])
def test_in_force_within_the_term_and_until_the_end_day(day, expected):
    assert rules.in_force_on(day, status="terminated", term_from=date(2026, 1, 1), term_to=date(2028, 12, 31),
                             ended_on=date(2027, 7, 1)) is expected


def test_a_filed_agreement_not_yet_in_force_is_not_in_the_register():
    assert not rules.in_force_on(date(2026, 6, 1), status="filed", term_from=date(2026, 1, 1),
                                 term_to=date(2028, 12, 31), ended_on=None)


def test_region_and_sector_needed_by_level():
    assert rules.coverage_fields_missing(Level.enterprise, None, None) == ["region_code", "sector"]
    assert rules.coverage_fields_missing(Level.sectoral, None, "05") == []
    assert rules.coverage_fields_missing(Level.regional, None, None) == ["region_code"]
    assert rules.coverage_fields_missing(Level.general, None, None) == []


def test_agreements_sharing_an_employer_count_once_at_their_maximum():
    # Employer A has an enterprise agreement (300) and signed a sectoral one itself with B (1,000):
    # one group, counted at 1,000. Employer C's enterprise agreement (200) is separate.
    listed = [agreement("ent-a", {"A"}, 300), agreement("sect", {"A", "B"}, 1000), agreement("ent-c", {"C"}, 200),
              agreement("ent-b", {"B"}, 400)]
    assert rules.covered_once(listed) == 1000 + 200
    assert rules.covered_once([]) == 0


def test_the_coverage_rate_by_hand():
    listed = [
        agreement("ent-1", {"E1"}, 400, region="KAR", sector="05"),
        agreement("ent-2", {"E2"}, 600, region="KAR", sector="24"),
        agreement("ent-3", {"E3"}, 250, region="ALA", sector="24"),
        # A sectoral agreement E2 signed itself, national (no region): overlaps ent-2.
        agreement("sect-24", {"E2", "ASSOC"}, 900, sector="24"),
    ]
    national, regions, sectors = rules.coverage(listed, national=10_000, by_region={"KAR": 2_000, "ALA": 5_000},
                                                by_sector={"05": 800, "24": 3_000, "47": 1_000})
    # National: ent-1 400 + max(ent-2 600, sect-24 900) + ent-3 250 = 1,550 of 10,000 = 15.5 %.
    assert (national.covered, national.rate) == (1550, 15.5)
    # Karaganda: 400 + 600 = 1,000 of 2,000 = 50 %; Almaty: 250 of 5,000 = 5 % (sect-24 has no region).
    assert [(c.key, c.covered, c.rate) for c in regions] == [("ALA", 250, 5.0), ("KAR", 1000, 50.0)]
    # Sector 05: 400 of 800 = 50 %; 24: max(600, 900) + 250 = 1,150 of 3,000 = 38.3 %; 47: none.
    assert [(c.key, c.covered, c.rate) for c in sectors] == [("05", 400, 50.0), ("24", 1150, 38.3), ("47", 0, 0.0)]


def test_the_rate_is_capped_and_needs_employees():
    assert rules.rate(1200, 1000) == 100.0
    assert rules.rate(10, 0) is None and rules.rate(10, None) is None
    _, regions, _ = rules.coverage([agreement("x", {"E"}, 10, region="NEW")], national=100, by_region={},
                                   by_sector={})
    assert [(c.key, c.employees, c.rate) for c in regions] == [("NEW", None, None)]
