"""Statistics as plain rules: ILO days not worked, time to resolution, the social-tension weights."""

from __future__ import annotations

import math
from datetime import date

import pytest

from kernel.calendar import WorkingDayCalendar
from services.disputes.collective.rules import TERMINAL, DisputeStatus
from services.disputes.statistics import rules
from services.disputes.statistics.rules import StrikeSpell

CALENDAR = WorkingDayCalendar()


def test_a_strike_spell_counts_its_working_days_up_to_the_day_before_work_resumed():
    # Monday 6 April 2026 to Friday 10 April, work resumed on Monday 13 April: 5 working days.
    assert rules.strike_working_days(date(2026, 4, 6), date(2026, 4, 13), date(2026, 5, 1), CALENDAR) == 5
    # Still on strike on Wednesday 8 April (as of): Monday to Wednesday inclusive.
    assert rules.strike_working_days(date(2026, 4, 6), None, date(2026, 4, 8), CALENDAR) == 3
    # A strike over a weekend counts no Saturday or Sunday.
    assert rules.strike_working_days(date(2026, 4, 10), date(2026, 4, 14), date(2026, 5, 1), CALENDAR) == 2


def test_the_holidays_of_the_calendar_are_not_days_not_worked():
    # Nauryz 2026: 21-23 March are holidays, with days off moved; from Friday 20 March back to work 25 March.
    days = rules.strike_working_days(date(2026, 3, 20), date(2026, 3, 25), date(2026, 4, 1), CALENDAR)
    expected = sum(CALENDAR.is_working_day(date(2026, 3, d)) for d in range(20, 25))
    assert days == expected and days < 5


def test_days_not_worked_are_workers_involved_times_working_days_summed_over_spells():
    spells = [StrikeSpell("a", 1200, date(2026, 4, 6), date(2026, 4, 13)),   # 5 working days
              StrikeSpell("a", 1200, date(2026, 4, 20), date(2026, 4, 22)),  # 2 (a second spell after a suspension)
              StrikeSpell("b", 300, date(2026, 4, 27), None)]                # 27-29 April as of 29 April: 3
    assert rules.days_not_worked(spells, date(2026, 4, 29), CALENDAR) == 1200 * 5 + 1200 * 2 + 300 * 3


def test_median_and_nearest_rank_p90():
    values = [10, 2, 7, 30, 4, 14, 21, 3, 9, 60]
    assert rules.median(values) == (9 + 10) / 2
    assert rules.percentile(values, 0.9) == 30  # rank ceil(0.9 × 10) = 9 of the sorted values
    assert rules.median([5, 1, 3]) == 3
    assert rules.percentile([5], 0.9) == 5
    assert rules.median([]) is None and rules.percentile([], 0.9) is None


def test_later_stages_weigh_more_and_no_ended_stage_or_draft_has_a_weight():
    weights = rules.tension_weights_on(date(2026, 4, 1))
    w = lambda s: rules.stage_weight(s, weights)  # noqa: E731
    assert w("demands_submitted") < w("conciliation") < w("mediation") < w("strike_decided") < w("strike")
    assert w("draft") == 0
    assert not set(weights.stage_weights) & TERMINAL
    assert weights.verify and weights.basis


@pytest.mark.parametrize("status,workers", [("strike", 1200), ("conciliation", 9), ("demands_submitted", 0)])
def test_one_disputes_tension_is_stage_weight_times_log_workers(status, workers):
    weights = rules.tension_weights_on(date(2026, 4, 1))
    expected = weights.stage_weights[DisputeStatus(status)] * math.log10(1 + workers)
    assert rules.dispute_tension(status, workers, weights) == pytest.approx(expected)


def test_the_method_sentence_names_the_formula_and_every_weight():
    weights = rules.tension_weights_on(date(2026, 4, 1))
    text = rules.method(weights)
    assert "log10(1 + workers involved)" in text
    for stage, weight in weights.stage_weights.items():
        assert f"{stage.value} {weight:g}" in text


def test_statistics_count_by_region_the_first_two_digits_of_the_kato_code():
    assert rules.region_of("350000000") == rules.region_of("351010000") == rules.region_of("35") == "35"
    assert rules.region_of(None) is None and rules.region_of("") is None
