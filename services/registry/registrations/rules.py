"""Registration and status confirmation as plain rules: checks, periods and the application's states.

Two lessons from practice are built in here. Every check runs every time and all failing
grounds are returned together, so an applicant never learns of them one at a time across
several attempts. And the office's own time never eats the applicant's period: a period
stops while a filing sits with the office and restarts, with what was left of it, when
the filing is returned.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from dateutil.relativedelta import relativedelta

from contracts.registry import Ground, OrganisationKind
from kernel.calendar import WorkingDayCalendar
from services.registry.rulesets.rules import RuleSet

UNION_KINDS = frozenset({
    OrganisationKind.republican_union_association, OrganisationKind.sectoral_union,
    OrganisationKind.territorial_union_association, OrganisationKind.local_union,
    OrganisationKind.primary_union_organisation,
})


@dataclass(frozen=True)
class ApplicationFacts:
    """What an application to register a trade union states."""

    kind: OrganisationKind
    founders: int
    documents: frozenset[str]


@dataclass(frozen=True)
class ConfirmationFacts:
    """What a union shows when it confirms its status."""

    kind: OrganisationKind
    regions_covered: frozenset[str]
    members: int
    affiliated: bool


@dataclass(frozen=True)
class Geography:
    """The regions a threshold is counted against (from the reference data)."""

    regions: frozenset[str]
    capital_cities: frozenset[str] = field(default_factory=frozenset)


def check_application(facts: ApplicationFacts, rules: RuleSet) -> list[Ground]:
    """Every failing rule for a registration application, all at once (empty when it passes)."""
    body = rules.body
    grounds: list[Ground] = []
    if facts.kind not in UNION_KINDS:
        raise ValueError(f"{facts.kind} is not registered through a trade-union application")
    if facts.founders < body.min_founders.value:
        grounds.append(Ground(rule="min_founders", article=body.min_founders.article,
                              detail=f"{facts.founders} founders; at least {body.min_founders.value} are needed"))
    missing = [d for d in body.founding_documents.value if d not in facts.documents]
    if missing:
        grounds.append(Ground(rule="founding_documents", article=body.founding_documents.article,
                              detail="missing founding documents: " + ", ".join(missing)))
    return grounds


def check_status_confirmation(facts: ConfirmationFacts, rules: RuleSet, geography: Geography) -> list[Ground]:
    """Every failing rule for a status confirmation, all at once (empty when it passes)."""
    body = rules.body
    grounds: list[Ground] = []
    threshold = body.tier_thresholds.value.get(facts.kind)
    article = body.tier_thresholds.article
    if threshold is not None:
        covered = facts.regions_covered & geography.regions
        if threshold.min_region_share is not None and geography.regions:
            needed = int(len(geography.regions) * threshold.min_region_share) + 1  # "more than" the share
            if len(covered) < needed:
                grounds.append(Ground(
                    rule="status_confirmation_regions", article=article,
                    detail=f"member organisations in {len(covered)} of {len(geography.regions)} regions; "
                           f"more than {threshold.min_region_share:.0%} ({needed}) are needed"))
        if threshold.must_cover_capital_cities:
            absent = sorted(geography.capital_cities - covered)
            if absent:
                grounds.append(Ground(rule="status_confirmation_capital_cities", article=article,
                                      detail="no member organisations in " + ", ".join(absent)))
        if threshold.min_members is not None and facts.members < threshold.min_members:
            grounds.append(Ground(rule="status_confirmation_members", article=article,
                                  detail=f"{facts.members} members; at least {threshold.min_members} are needed"))
    if facts.kind in body.affiliation_required.value and not facts.affiliated:
        grounds.append(Ground(rule="affiliation_required", article=body.affiliation_required.article,
                              detail=f"a {facts.kind.replace('_', ' ')} must belong to a higher-tier union "
                                     "under this rule set"))
    return grounds


def needs_status_confirmation(kind: OrganisationKind, rules: RuleSet) -> bool:
    return kind in rules.body.status_confirmation_kinds.value


def end_of_period(day: date, calendar: WorkingDayCalendar) -> date:
    # A period whose last day is a day off ends on the next working day (the Civil Code rule on periods).
    return calendar.working_day_on_or_after(day)


def status_confirmation_due(registered_on: date, rules: RuleSet, calendar: WorkingDayCalendar) -> date:
    """The last day to file the status confirmation, under the rules in force on the registration date."""
    months = rules.body.status_confirmation_months.value
    return end_of_period(registered_on + relativedelta(months=months), calendar)


def correction_due(returned_on: date, rules: RuleSet, calendar: WorkingDayCalendar) -> date:
    """The last day to re-file an application returned for correction."""
    return end_of_period(calendar.add_calendar_days(returned_on, rules.body.correction_period_days.value,
                                                    roll_to_working_day=False), calendar)


def resume_after_return(due: date, filed_on: date, returned_on: date, calendar: WorkingDayCalendar) -> date:
    """The applicant's new last day after the office returns a filing.

    The period stopped on the day the applicant filed; it restarts on the day of the
    return with the days that were left, so the office's time costs the applicant nothing.
    """
    left = max((due - filed_on).days, 0)
    return end_of_period(returned_on + relativedelta(days=left), calendar)


class ApplicationStatus(StrEnum):
    submitted = "submitted"
    under_review = "under_review"
    returned = "returned"
    registered = "registered"
    refused = "refused"
    withdrawn = "withdrawn"


class ApplicationAction(StrEnum):
    start_review = "start_review"
    register = "register"
    refuse = "refuse"
    return_for_correction = "return_for_correction"
    resubmit = "resubmit"
    withdraw = "withdraw"


TRANSITIONS: dict[ApplicationStatus, dict[ApplicationAction, ApplicationStatus]] = {
    ApplicationStatus.submitted: {
        ApplicationAction.start_review: ApplicationStatus.under_review,
        ApplicationAction.register: ApplicationStatus.registered,
        ApplicationAction.refuse: ApplicationStatus.refused,
        ApplicationAction.return_for_correction: ApplicationStatus.returned,
        ApplicationAction.withdraw: ApplicationStatus.withdrawn,
    },
    ApplicationStatus.under_review: {
        ApplicationAction.register: ApplicationStatus.registered,
        ApplicationAction.refuse: ApplicationStatus.refused,
        ApplicationAction.return_for_correction: ApplicationStatus.returned,
        ApplicationAction.withdraw: ApplicationStatus.withdrawn,
    },
    ApplicationStatus.returned: {
        ApplicationAction.resubmit: ApplicationStatus.submitted,
        ApplicationAction.withdraw: ApplicationStatus.withdrawn,
    },
    ApplicationStatus.registered: {},
    ApplicationStatus.refused: {},
    ApplicationStatus.withdrawn: {},
}


class IllegalTransition(Exception):
    def __init__(self, current: ApplicationStatus, action: ApplicationAction) -> None:
        self.current = current
        self.action = action
        self.allowed = sorted(TRANSITIONS[current])
        super().__init__(f"cannot {action.value} an application that is {current.value}")


def next_status(current: ApplicationStatus | str, action: ApplicationAction) -> ApplicationStatus:
    current = ApplicationStatus(current)
    try:
        return TRANSITIONS[current][action]
    except KeyError:
        raise IllegalTransition(current, action) from None


def grounds_for_decision(automatic: list[Ground], cited: Collection[Ground]) -> list[Ground]:
    """The grounds a refusal or return states: every failing check, then each cited ground once."""
    seen = {g.rule for g in automatic}
    merged = list(automatic)
    for ground in cited:
        if ground.rule not in seen:
            merged.append(ground)
            seen.add(ground.rule)
    return merged
