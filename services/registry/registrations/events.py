"""The events the registration procedure emits (models live in contracts.registry)."""

from __future__ import annotations

from datetime import date

from contracts.registry import (
    ApplicationRefused,
    ApplicationReturned,
    ApplicationSubmitted,
    Ground,
    RuleSetReference,
    StatusConfirmed,
    StatusLapsed,
)
from services.registry.organisations.events import audience
from services.registry.organisations.models import Organisation
from services.registry.registrations.models import RegistrationApplication


def application_submitted(application: RegistrationApplication, organisation: Organisation) -> ApplicationSubmitted:
    return ApplicationSubmitted(
        audience=[organisation.id], application_id=application.id, organisation_id=organisation.id,
        kind=organisation.kind, name_kk=organisation.name_kk, name_ru=organisation.name_ru,
        attempt=application.attempt, filed_on=application.filed_on,
    )


def _decision(application: RegistrationApplication, rule_set: RuleSetReference) -> dict[str, object]:
    assert application.decided_on is not None
    return {
        "audience": [application.organisation_id], "application_id": application.id,
        "organisation_id": application.organisation_id, "attempt": application.attempt,
        "decided_on": application.decided_on, "rule_set": rule_set,
        "grounds": [Ground.model_validate(g) for g in application.grounds],
    }


def application_refused(application: RegistrationApplication, rule_set: RuleSetReference) -> ApplicationRefused:
    return ApplicationRefused(**_decision(application, rule_set))


def application_returned(application: RegistrationApplication, rule_set: RuleSetReference) -> ApplicationReturned:
    assert application.correction_due is not None
    return ApplicationReturned(**_decision(application, rule_set), correction_due=application.correction_due)


def status_confirmed(organisation: Organisation, rule_set: RuleSetReference) -> StatusConfirmed:
    assert organisation.confirmed_on is not None
    return StatusConfirmed(audience=audience(organisation), organisation_id=organisation.id,
                           status=organisation.status, confirmed_on=organisation.confirmed_on, rule_set=rule_set)


def status_lapsed(organisation: Organisation, *, reason: str, grounds: list[Ground] | None = None,
                  rule_set: RuleSetReference | None = None) -> StatusLapsed:
    lapsed_on: date | None = organisation.lapsed_on
    assert lapsed_on is not None
    return StatusLapsed(audience=audience(organisation), organisation_id=organisation.id, status=organisation.status,
                        lapsed_on=lapsed_on, reason=reason, grounds=grounds or [], rule_set=rule_set)
