"""The roster as plain rules: the conflict-of-interest check, regions served and rotation order."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

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


PARTIES = [UNION, EMPLOYER]
candidates = st.lists(st.builds(
    person, st.text(alphabet="АБВГДЕ", min_size=1, max_size=3),
    kind=st.sampled_from(["mediator", "arbitrator"]),
    regions=st.sampled_from([(), ("75",), ("35",), ("75", "35")]),
    languages=st.sampled_from([("ru",), ("kk",), ("kk", "ru")]),
    available=st.booleans(),
    affiliations=st.sampled_from([(), (UNION,), (EMPLOYER,), (OTHER,)]),
    last=st.one_of(st.none(), st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 31),
                                           timezones=st.just(UTC)))), max_size=12)


@settings(max_examples=200, deadline=None)
@given(candidates, st.sampled_from([None, "75", "35", "751010000"]), st.sampled_from([None, "kk", "ru"]))
def test_rotation_offers_exactly_the_eligible_the_longest_waiting_first(people, region_code, language):
    ordered = rotation(people, kind="mediator", parties=PARTIES, region_code=region_code, language=language)
    eligible = [c for c in people if c.kind == "mediator" and c.available and not conflicts(c.affiliations, PARTIES)
                and serves_region(c.regions, region_code) and (language is None or language in c.languages)]
    assert sorted(ordered, key=lambda c: str(c.id)) == sorted(eligible, key=lambda c: str(c.id))
    waited = [c.last_assigned_at for c in ordered]
    never = [w for w in waited if w is None]
    assert waited[:len(never)] == never  # never assigned come first
    assert waited[len(never):] == sorted(waited[len(never):])  # then the least recently assigned
