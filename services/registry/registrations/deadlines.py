"""The registry's statutory deadlines, kept by the kernel's deadline store and sweeper.

Two periods run against an applicant: the status confirmation (6 or 12 months from
registration, by the rule set) and the correction of a returned application. Each is
announced before it ends and when it is missed; a missed status confirmation lapses the
status, in the same transaction as the event, unless a filing reached the office in time.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from kernel.deadlines import meet_deadline, schedule_deadline
from services.registry.organisations.events import audience
from services.registry.organisations.models import Organisation
from services.registry.registrations.models import RegistrationApplication
from services.registry.rulesets.rules import RuleSet

STATUS_CONFIRMATION = "status_confirmation"
APPLICATION_CORRECTION = "application_correction"
# How long before the end of a period the parties are reminded (a courtesy, not law).
STATUS_CONFIRMATION_NOTICE = timedelta(days=30)
CORRECTION_NOTICE = timedelta(days=7)


def status_confirmation_key(organisation_id: uuid.UUID) -> str:
    return f"{STATUS_CONFIRMATION}:{organisation_id}"


def correction_key(application_id: uuid.UUID) -> str:
    return f"{APPLICATION_CORRECTION}:{application_id}"


async def schedule_status_confirmation(session: AsyncSession, organisation: Organisation, rule_set: RuleSet) -> None:
    due = organisation.status_confirmation_due
    assert due is not None
    await schedule_deadline(
        session, key=status_confirmation_key(organisation.id), kind=STATUS_CONFIRMATION, subject_id=organisation.id,
        due_on=due, approaching_on=due - STATUS_CONFIRMATION_NOTICE, audience=audience(organisation),
        article=rule_set.body.status_confirmation_months.article,
        details={"rule_set": rule_set.code, "rule_set_revision": rule_set.revision})


async def status_confirmation_filed(session: AsyncSession, organisation_id: uuid.UUID) -> None:
    await meet_deadline(session, status_confirmation_key(organisation_id))


async def schedule_correction(session: AsyncSession, application: RegistrationApplication, rule_set: RuleSet) -> None:
    due = application.correction_due
    assert due is not None
    await schedule_deadline(
        session, key=correction_key(application.id), kind=APPLICATION_CORRECTION, subject_id=application.id,
        due_on=due, approaching_on=due - CORRECTION_NOTICE, audience=[application.organisation_id],
        article=rule_set.body.correction_period_days.article,
        details={"organisation_id": str(application.organisation_id), "attempt": application.attempt})


async def correction_filed(session: AsyncSession, application_id: uuid.UUID) -> None:
    await meet_deadline(session, correction_key(application_id))

