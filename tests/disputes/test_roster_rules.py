"""The roster as plain rules: the conflict-of-interest check, regions served and rotation order."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from services.disputes.roster.rules import Candidate, conflicts, rotation, serves_region

UNION, EMPLOYER, OTHER = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def person(name: str, *, kind: str = "mediator", regions: tuple[str, ...] = (), languages: tuple[str, ...] = ("ru",),
           available: bool = True, affiliations: tuple[uuid.UUID, ...] = (),
           last: datetime | None = None) -> Candidate:
    return Candidate(id=uuid.uuid4(), name=name, kind=kind, regions=regions, languages=languages, available=available,
                     affiliations=frozenset(str(a) for a in affiliations), last_assigned_at=last)


def test_an_affiliation_with_either_party_is_a_conflict_and_names_the_party():
    assert conflicts([str(OTHER)], [UNION, EMPLOYER]) == []
    assert conflicts([str(EMPLOYER), str(OTHER)], [UNION, EMPLOYER]) == [str(EMPLOYER)]
    assert conflicts([str(UNION), str(EMPLOYER)], [UNION, EMPLOYER]) == sorted([str(UNION), str(EMPLOYER)])
    # Demands put by elected representatives: no union id, only the employer can conflict.
    assert conflicts([str(UNION)], [None, EMPLOYER]) == []


def test_a_region_list_serves_its_codes_and_the_codes_under_them():
    assert serves_region([], "75")  # empty: every region
    assert serves_region(["75"], "751010000")
    assert serves_region(["751010000"], "75")
    assert serves_region(["35", "75"], None)
    assert not serves_region(["35"], "75")


def test_rotation_puts_the_least_recently_assigned_first_and_never_assigned_before_anyone():
    early = person("Бекова", last=datetime(2026, 1, 5, tzinfo=UTC))
    late = person("Асанов", last=datetime(2026, 3, 1, tzinfo=UTC))
    never = person("Жумабаев")
    ordered = rotation([late, early, never], kind="mediator", parties=[UNION, EMPLOYER], region_code="75",
                       language=None)
    assert [c.name for c in ordered] == ["Жумабаев", "Бекова", "Асанов"]


def test_rotation_leaves_out_the_unavailable_the_conflicted_the_other_kind_region_and_language():
    fine = person("Fine", regions=("75",), languages=("kk", "ru"))
    candidates = [
        person("Busy", available=False),
        person("Conflicted", affiliations=(EMPLOYER,)),
        person("Arbitrator", kind="arbitrator"),
        person("Elsewhere", regions=("35",)),
        person("Russian only", languages=("ru",)),
        fine,
    ]
    ordered = rotation(candidates, kind="mediator", parties=[UNION, EMPLOYER], region_code="75", language="kk")
    assert ordered == [fine]
    assert rotation(candidates[:2], kind="mediator", parties=[UNION, EMPLOYER], region_code="75",
                    language=None) == []


def test_rotation_ties_are_broken_by_name_then_id_so_the_order_is_stable():
    same = datetime(2026, 2, 1, tzinfo=UTC)
    b, a = person("B", last=same), person("A", last=same)
    assert [c.name for c in rotation([b, a], kind="mediator", parties=[], region_code=None, language=None)] == [
        "A", "B"]
