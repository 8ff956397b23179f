"""Stage limits as rule data: when a stage is stalled, and the elapsed days shown."""

from __future__ import annotations

from datetime import date

from services.disputes.collective import rules
from services.disputes.collective.rules import DisputeStatus


def test_the_limits_are_rule_data_with_their_basis_and_a_verify_flag():
    law = rules.stall_rules_on(date(2026, 4, 1))
    assert law.verify and "ILO" in law.basis
    assert law.limits_days[DisputeStatus.conciliation] == 14
    # A strike and an ended dispute cannot stall.
    for stage in (DisputeStatus.strike, *rules.TERMINAL):
        assert rules.stage_limit(stage, law) is None


def test_a_stage_is_stalled_from_the_day_its_elapsed_days_exceed_the_limit():
    law = rules.stall_rules_on(date(2026, 4, 1))
    started = date(2026, 3, 2)  # conciliation, 14 days: 16 March is day 14, 17 March day 15
    assert rules.stalled_from("conciliation", started, law) == date(2026, 3, 17)
    assert not rules.is_stalled("conciliation", started, None, date(2026, 3, 16), law)
    assert rules.is_stalled("conciliation", started, None, date(2026, 3, 17), law)
    assert rules.elapsed_days(started, None, date(2026, 3, 17)) == 15
    # An ended stage is history, however long it lasted.
    assert not rules.is_stalled("conciliation", started, date(2026, 3, 30), date(2026, 4, 1), law)
    assert rules.elapsed_days(started, date(2026, 3, 30), date(2026, 4, 1)) == 28
    assert not rules.is_stalled("strike", date(2025, 1, 1), None, date(2026, 4, 1), law)


def test_a_draft_demand_carries_the_workers_position_or_says_none_was_proposed():
    assert rules.draft_demand_text(4, "Pay", "Index pay by 12%") == "Clause 4 «Pay»: Index pay by 12%"
    assert "proposed no text" in rules.draft_demand_text(5, "Shifts", None)
