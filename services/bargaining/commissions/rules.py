"""Tripartite commissions as plain rules: who may sit for which party, how many members, quorum per
party, when a decision is adopted, and the consultation period. No database, HTTP or bus here.

The figures are law as data (``data/commission-rules.json``, effective-dated, each with its article
and a ``verify`` flag where the primary text is not confirmed).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import date
from enum import StrEnum
from functools import cache
from pathlib import Path

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ConfigDict

from contracts.bargaining import CommissionLevel, PartyPosition, PartyQuorum, Side
from kernel.calendar import WorkingDayCalendar
from services.bargaining.negotiations.rules import GOVERNMENT_KINDS, Provision

RULES_FILE = Path(__file__).parent / "data" / "commission-rules.json"

# The three parties of every tripartite commission, in the order they are shown.
PARTIES: tuple[Side, ...] = (Side.government, Side.employers, Side.workers)

# Who may sit for each party at each level. At republican level the social partners are the
# republican associations (DOMAIN.md: "Republican Tripartite Commission"); sectoral and regional
# commissions seat the sectoral or territorial bodies, and the republican ones may sit there too.
PARTY_KINDS: dict[CommissionLevel, dict[Side, frozenset[str]]] = {
    CommissionLevel.republican: {
        Side.government: GOVERNMENT_KINDS,
        Side.employers: frozenset({"republican_employer_association"}),
        Side.workers: frozenset({"republican_union_association"}),
    },
    CommissionLevel.sectoral: {
        Side.government: GOVERNMENT_KINDS,
        Side.employers: frozenset({"republican_employer_association", "sectoral_employer_association"}),
        Side.workers: frozenset({"republican_union_association", "sectoral_union"}),
    },
    CommissionLevel.regional: {
        Side.government: GOVERNMENT_KINDS,
        Side.employers: frozenset({"republican_employer_association", "regional_employer_association"}),
        Side.workers: frozenset({"republican_union_association", "territorial_union_association"}),
    },
}


class MemberRole(StrEnum):
    member = "member"
    alternate = "alternate"


class SittingStatus(StrEnum):
    scheduled = "scheduled"
    held = "held"  # attendance recorded, quorum checked
    minutes_published = "minutes_published"
    cancelled = "cancelled"


class ConsultationStatus(StrEnum):
    open = "open"
    closed = "closed"


class DecisionRule(StrEnum):
    every_party_for = "every_party_for"


class CommissionRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    title: str
    effective_from: date
    max_members_per_party: Provision[dict[CommissionLevel, int]]
    max_alternates_per_party: Provision[dict[CommissionLevel, int]]
    quorum_share_per_party: Provision[float]
    decision_rule: Provision[DecisionRule]
    consultation_working_days: Provision[int]
    consultation_notice_working_days: Provision[int]
    commitment_notice_days: Provision[int]


@cache
def all_rules() -> tuple[CommissionRules, ...]:
    rows = json.loads(RULES_FILE.read_text(encoding="utf-8"))
    return tuple(sorted((CommissionRules.model_validate(row) for row in rows), key=lambda r: r.effective_from))


def rules_on(day: date, rules: Iterable[CommissionRules] | None = None) -> CommissionRules:
    """The rules in force on ``day`` (the latest whose effective date is not after it)."""
    in_force = [r for r in (rules if rules is not None else all_rules()) if r.effective_from <= day]
    if not in_force:
        raise LookupError(f"no commission rules in force on {day.isoformat()}")
    return max(in_force, key=lambda r: r.effective_from)


# --- composition ---------------------------------------------------------------------------

def party_problems(level: CommissionLevel, parties: Iterable[tuple[str, Side, str]]) -> list[tuple[int, str, str]]:
    """Every wrong party of a commission: (index, rule, detail). ``parties`` are (name, side, registry kind)."""
    listed = list(parties)
    problems: list[tuple[int, str, str]] = []
    for index, (name, side, kind) in enumerate(listed):
        if kind not in PARTY_KINDS[level][side]:
            problems.append((index, "kind_of_party", f"{name} ({kind}) cannot sit for the {side.value} party of a "
                                                     f"{level.value} commission"))
    present = {side for _, side, _ in listed}
    missing = [side.value for side in PARTIES if side not in present]
    if missing:
        problems.append((len(listed), "three_parties", f"a tripartite commission has all three parties; "
                                                       f"missing: {', '.join(missing)}"))
    return problems


def appointment_problem(level: CommissionLevel, role: MemberRole, serving: int, law: CommissionRules) -> str | None:
    """Why one more member (or alternate) cannot be appointed by a party already having ``serving`` of them."""
    limits = law.max_alternates_per_party if role is MemberRole.alternate else law.max_members_per_party
    limit = limits.value[level]
    if serving >= limit:
        return f"a party appoints at most {limit} {role.value}s to a {level.value} commission ({limits.article})"
    return None


# --- sittings ------------------------------------------------------------------------------

def quorum_required(members: int, share: float) -> int:
    """Members a party needs present: more than ``share`` of those it appointed (more than half: 4 of 7)."""
    return math.floor(members * share) + 1 if members else 1


def quorum(members: Mapping[Side, int], present_members: Mapping[Side, int], present_alternates: Mapping[Side, int],
           law: CommissionRules) -> list[PartyQuorum]:
    """Quorum per party: an alternate present stands in for an absent member of the same party."""
    result = []
    for side in PARTIES:
        appointed = members.get(side, 0)
        standing_in = min(present_alternates.get(side, 0), appointed - present_members.get(side, 0))
        present = present_members.get(side, 0) + max(standing_in, 0)
        required = quorum_required(appointed, law.quorum_share_per_party.value)
        result.append(PartyQuorum(side=side, members=appointed, present=present, required=required,
                                  met=appointed > 0 and present >= required))
    return result


def adopted(positions: Mapping[Side, PartyPosition], law: CommissionRules) -> bool:
    """Whether a decision is adopted under the rule in force (every party for, with or without reservations)."""
    assert law.decision_rule.value is DecisionRule.every_party_for
    return all(positions.get(side) in (PartyPosition.for_, PartyPosition.with_reservations) for side in PARTIES)


POSITION_NEEDS_TEXT = frozenset({PartyPosition.against, PartyPosition.with_reservations})


# --- consultations -------------------------------------------------------------------------

def positions_due(opened_on: date, working_days: int, calendar: WorkingDayCalendar) -> date:
    """The last day for positions: ``working_days`` working days after the day the draft was put forward."""
    return calendar.add_working_days(opened_on, working_days)


def positions_reminder_on(due: date, opened_on: date, law: CommissionRules, calendar: WorkingDayCalendar) -> date:
    day = due
    for _ in range(law.consultation_notice_working_days.value):
        day = calendar.previous_working_day(day)
    return max(opened_on, day)


def commitment_reminder_on(due: date, recorded_on: date, law: CommissionRules) -> date:
    return max(min(recorded_on, due), due - relativedelta(days=law.commitment_notice_days.value))
