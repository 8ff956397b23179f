"""The commission and commitment rules as plain code: composition, limits, quorum, decisions, periods, shares."""

from __future__ import annotations

from datetime import date

import pytest

from contracts.bargaining import CommissionLevel, CommitmentStatus, PartyPosition, Side
from kernel.calendar import WorkingDayCalendar
from services.bargaining.commissions import rules
from services.bargaining.commissions.rules import MemberRole
from services.bargaining.commitments import rules as commitment_rules
from services.bargaining.commitments.rules import Outcome

LAW = rules.rules_on(date(2026, 1, 1))
S, L = CommitmentStatus, CommissionLevel


def test_the_rules_carry_their_articles_and_verify_flags() -> None:
    assert LAW.max_members_per_party.value[L.republican] == 7 and LAW.max_members_per_party.verify
    assert LAW.consultation_working_days.value == 10 and "art. 148" in LAW.consultation_working_days.article
    assert not LAW.consultation_notice_working_days.verify  # a courtesy figure, not law
    with pytest.raises(LookupError):
        rules.rules_on(date(2010, 1, 1))


def test_each_party_is_checked_by_its_kind_at_each_level() -> None:
    good = [("Ministry", Side.government, "government_body"),
            ("Atameken", Side.employers, "republican_employer_association"),
            ("FPRK", Side.workers, "republican_union_association")]
    assert rules.party_problems(L.republican, good) == []
    sectoral_union = [*good[:2], ("Miners", Side.workers, "sectoral_union")]
    assert [p[1] for p in rules.party_problems(L.republican, sectoral_union)] == ["kind_of_party"]
    assert rules.party_problems(L.sectoral, sectoral_union) == []
    assert rules.party_problems(L.regional, [*good[:2], ("Oblast unions", Side.workers,
                                                          "territorial_union_association")]) == []
    assert rules.party_problems(L.republican, good[:2]) == [(2, "three_parties",
                                                             "a tripartite commission has all three parties; "
                                                             "missing: workers")]


def test_a_party_appoints_at_most_the_rule_s_number_of_members_and_of_alternates() -> None:
    assert rules.appointment_problem(L.republican, MemberRole.member, 6, LAW) is None
    assert "at most 7 members" in (rules.appointment_problem(L.republican, MemberRole.member, 7, LAW) or "")
    assert rules.appointment_problem(L.republican, MemberRole.alternate, 6, LAW) is None


@pytest.mark.parametrize(("members", "required"), [(7, 4), (6, 4), (3, 2), (2, 2), (1, 1), (0, 1)])
def test_quorum_is_more_than_half_of_each_party(members: int, required: int) -> None:
    assert rules.quorum_required(members, LAW.quorum_share_per_party.value) == required


def test_quorum_per_party_with_alternates_standing_in() -> None:
    members = {Side.government: 7, Side.employers: 7, Side.workers: 7}
    result = {q.side: q for q in rules.quorum(members, {Side.government: 4, Side.employers: 3, Side.workers: 7},
                                              {Side.employers: 1, Side.workers: 3}, LAW)}
    assert (result[Side.government].met, result[Side.employers].present, result[Side.employers].met) == \
        (True, 4, True)
    assert result[Side.workers].present == 7  # alternates do not count beyond the members appointed
    none_appointed = rules.quorum({Side.government: 7, Side.employers: 7}, {Side.government: 7,
                                                                           Side.employers: 7}, {}, LAW)
    assert [(q.side, q.met) for q in none_appointed][2] == (Side.workers, False)


def test_a_decision_is_adopted_when_every_party_is_for_it() -> None:
    every = {s: PartyPosition.for_ for s in rules.PARTIES}
    assert rules.adopted(every, LAW)
    assert rules.adopted({**every, Side.workers: PartyPosition.with_reservations}, LAW)
    assert not rules.adopted({**every, Side.employers: PartyPosition.abstain}, LAW)
    assert not rules.adopted({**every, Side.government: PartyPosition.against}, LAW)
    assert not rules.adopted({Side.government: PartyPosition.for_}, LAW)


def test_positions_are_due_in_working_days_with_holidays() -> None:
    calendar = WorkingDayCalendar()
    # Opened on Monday 16 March 2026: Nauryz (21-23 March, observed 24-25 March) is skipped.
    due = rules.positions_due(date(2026, 3, 16), 10, calendar)
    assert calendar.working_days_between(date(2026, 3, 16), due) == 10
    assert due > date(2026, 3, 30)
    reminder = rules.positions_reminder_on(due, date(2026, 3, 16), LAW, calendar)
    assert calendar.working_days_between(reminder, due) == 3
    assert rules.positions_reminder_on(date(2026, 3, 17), date(2026, 3, 16), LAW, calendar) == date(2026, 3, 16)


def test_a_commitment_s_status_after_reports() -> None:
    assert commitment_rules.status_after_report(S.on_track, Outcome.in_progress) is S.on_track
    assert commitment_rules.status_after_report(S.late, Outcome.in_progress) is S.late
    assert commitment_rules.status_after_report(S.late, Outcome.done) is S.done
    assert commitment_rules.status_after_report(S.on_track, Outcome.not_done) is S.not_done
    with pytest.raises(ValueError):
        commitment_rules.status_after_report(S.done, Outcome.in_progress)
    assert commitment_rules.status_on(S.on_track, date(2026, 1, 1), date(2026, 1, 2)) is S.late
    assert commitment_rules.status_on(S.on_track, date(2026, 1, 1), date(2026, 1, 1)) is S.on_track


def test_the_share_fulfilled_counts_what_is_owed_by_now() -> None:
    assert commitment_rules.share_fulfilled([]) is None
    assert commitment_rules.share_fulfilled([S.on_track, S.on_track]) is None
    assert commitment_rules.share_fulfilled([S.done, S.on_track]) == 1.0
    assert commitment_rules.share_fulfilled([S.done, S.late, S.on_track]) == 0.5
    assert commitment_rules.share_fulfilled([S.done, S.late, S.not_done]) == 0.3333
    assert commitment_rules.share_done_of_all([S.done, S.on_track, S.on_track, S.late]) == 0.25
