"""Freedom-of-association complaints as plain rules: states, categories, the inspectorate's period,
and who may see the complainant.

Nothing here touches a database, HTTP or the bus. The categories and the period are law as data
(``data/complaint-rules.json``, effective-dated, each with its article; ``verify`` where the figure
is not confirmed from the primary text).
"""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from kernel.calendar import WorkingDayCalendar
from kernel.identity import Identity
from services.disputes.collective.rules import Listed, Provision

DATA = Path(__file__).parent / "data"

# The labour inspectorate is a staff role; administrators may do what it does.
INSPECTORS = ("labour_inspector", "administrator")
# Staff who may take a complaint in for a worker who comes to them (with or without a union).
INTAKE = ("dispute_officer", "labour_inspector", "administrator")
# Staff who see that complaints exist and how they end, never who made them.
SHIELDED_READERS = ("dispute_officer", "analyst")


class ComplaintStatus(StrEnum):
    received = "received"  # routed to the labour inspectorate
    under_inspection = "under_inspection"
    findings = "findings"  # upheld or not upheld
    closed = "closed"


class ComplaintAction(StrEnum):
    start_inspection = "start_inspection"
    record_findings = "record_findings"
    close = "close"


S, A = ComplaintStatus, ComplaintAction
TRANSITIONS: dict[ComplaintStatus, dict[ComplaintAction, ComplaintStatus]] = {
    S.received: {A.start_inspection: S.under_inspection, A.close: S.closed},
    S.under_inspection: {A.record_findings: S.findings, A.close: S.closed},
    S.findings: {A.close: S.closed},
    S.closed: {},
}
del S, A


class IllegalTransition(Exception):
    def __init__(self, current: ComplaintStatus, action: ComplaintAction) -> None:
        self.current = current
        self.action = action
        self.allowed = sorted(TRANSITIONS[current])
        super().__init__(f"cannot {action.value.replace('_', ' ')} in a complaint that is "
                         f"{current.value.replace('_', ' ')}")


def next_status(current: ComplaintStatus | str, action: ComplaintAction) -> ComplaintStatus:
    current = ComplaintStatus(current)
    try:
        return TRANSITIONS[current][action]
    except KeyError:
        raise IllegalTransition(current, action) from None


def allowed_actions(current: ComplaintStatus | str) -> list[ComplaintAction]:
    return sorted(TRANSITIONS[ComplaintStatus(current)])


# --- who sees what ---------------------------------------------------------------------------

class View(StrEnum):
    full = "full"  # with the complainant's identity: the inspectorate and the complainant's union
    shielded = "shielded"  # that a complaint exists, its stage and findings: the employer, other staff


def view_for(identity: Identity, *, union_id: object | None, employer_id: object,
             employer_told: bool) -> View | None:
    """Which view of a complaint the caller gets, or None when it may not know the complaint exists.

    The complainant's union sees its own complaint in full; the employer only shielded, even if
    (by some registry quirk) it were also named as the union, and only once the inspectorate has
    told it (``employer_told``: the inspection began), so that a complaint does not reach the
    employer before the inspectorate can act on it.
    """
    if identity.acts_as_staff(*INSPECTORS):
        return View.full
    if identity.acts_for(employer_id):
        return View.shielded if employer_told else None
    if union_id is not None and identity.acts_for(union_id):
        return View.full
    if identity.acts_as_staff(*SHIELDED_READERS):
        return View.shielded
    return None


def names_complainant(text: str, *identity_parts: str | None) -> bool:
    """Whether ``text`` (findings the employer will read) contains the complainant's name or contact.

    Compared case-insensitively, whole and word by word for names of several words (a surname
    alone identifies a person as well as the full name); words under 4 letters are ignored.
    """
    haystack = " ".join(text.casefold().split())
    for part in identity_parts:
        if not part:
            continue
        whole = " ".join(part.casefold().split())
        if whole and whole in haystack:
            return True
        if any(len(word) >= 4 and word in haystack for word in whole.replace(",", " ").split()):
            return True
    return False


# --- law as data -----------------------------------------------------------------------------

class ComplaintRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    title: str
    effective_from: date
    consideration_period_working_days: Provision[int]
    consideration_notice_working_days: Provision[int]
    categories: tuple[Listed, ...] = Field(min_length=1)

    def category(self, code: str) -> Listed | None:
        return next((c for c in self.categories if c.code == code), None)


@cache
def all_rules() -> tuple[ComplaintRules, ...]:
    rows = json.loads((DATA / "complaint-rules.json").read_text(encoding="utf-8"))
    return tuple(ComplaintRules.model_validate(row) for row in rows)


def rules_on(day: date) -> ComplaintRules:
    in_force = [r for r in all_rules() if r.effective_from <= day]
    if not in_force:
        raise LookupError(f"no complaint rules in force on {day.isoformat()}")
    return max(in_force, key=lambda r: r.effective_from)


def consideration_due(received_on: date, law: ComplaintRules, calendar: WorkingDayCalendar) -> date:
    """Last day of the inspectorate's consideration, counted in working days from the day after receipt."""
    return calendar.add_working_days(received_on, law.consideration_period_working_days.value)


def reminder_on(received_on: date, due: date, law: ComplaintRules, calendar: WorkingDayCalendar) -> date:
    day = due
    for _ in range(law.consideration_notice_working_days.value):
        day = calendar.previous_working_day(day)
    return max(received_on, day)
