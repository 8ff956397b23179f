"""Events produced by the registry service (stream REGISTRY_EVENTS, source /registry)."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import ClassVar

from pydantic import AwareDatetime, BaseModel, Field

from contracts import contract
from kernel.deadlines import DeadlineEventData
from kernel.events import EventData


class OrganisationKind(StrEnum):
    republican_union_association = "republican_union_association"
    sectoral_union = "sectoral_union"
    territorial_union_association = "territorial_union_association"
    local_union = "local_union"
    primary_union_organisation = "primary_union_organisation"
    republican_employer_association = "republican_employer_association"
    sectoral_employer_association = "sectoral_employer_association"
    regional_employer_association = "regional_employer_association"
    employer = "employer"
    government_body = "government_body"


@contract
class OrganisationRegistered(EventData):
    """An organisation entered the register (a union, an employers' body, an employer, a government body)."""

    event_type: ClassVar[str] = "kz.ntc.registry.organisation.registered.v1"

    organisation_id: uuid.UUID
    kind: OrganisationKind
    name_kk: str = Field(description="Name in Kazakh")
    name_ru: str = Field(description="Name in Russian")
    name_en: str | None = Field(default=None, description="Name in English, if given")
    bin: str | None = Field(default=None, description="12-digit business identification number")
    region_code: str | None = None
    status: str
    registered_at: AwareDatetime

    def subject(self) -> str:
        return str(self.organisation_id)


class OrganisationStatus(StrEnum):
    """Where an organisation stands in the register.

    applicant: an application is under consideration; registered: entered in the register
    (a union then has to confirm its status in time); confirmed: status confirmed;
    lapsed: status not confirmed in time, or confirmation refused; refused: the
    application was refused; liquidated: struck off.
    """

    applicant = "applicant"
    registered = "registered"
    confirmed = "confirmed"
    lapsed = "lapsed"
    refused = "refused"
    liquidated = "liquidated"


class RuleSetReference(BaseModel):
    """Which law a decision was taken under."""

    code: str = Field(description="Rule set code, e.g. trade-unions-2020")
    revision: int = Field(description="Revision of the rule set (corrections add revisions)")
    title: str


class Ground(BaseModel):
    """One reason for a refusal or a return, tied to a rule and its article."""

    rule: str = Field(description="Code of the rule in the rule set, e.g. min_founders")
    article: str = Field(description="The article of law the rule comes from")
    detail: str = Field(description="What is wrong, in words")


class _ApplicationDecision(EventData):
    application_id: uuid.UUID
    organisation_id: uuid.UUID
    attempt: int = Field(description="1 for the first submission, 2 after the first correction, ...")
    decided_on: date
    rule_set: RuleSetReference
    grounds: list[Ground]

    def subject(self) -> str:
        return str(self.application_id)


@contract
class ApplicationSubmitted(EventData):
    """An application to register a trade union was filed (or re-filed after correction)."""

    event_type: ClassVar[str] = "kz.ntc.registry.application.submitted.v1"

    application_id: uuid.UUID
    organisation_id: uuid.UUID
    kind: OrganisationKind
    name_kk: str
    name_ru: str
    attempt: int
    filed_on: date = Field(description="The day the applicant filed, which starts the office's period")

    def subject(self) -> str:
        return str(self.application_id)


@contract
class ApplicationRefused(_ApplicationDecision):
    """Registration refused; every failing ground is listed at once."""

    event_type: ClassVar[str] = "kz.ntc.registry.application.refused.v1"


@contract
class ApplicationReturned(_ApplicationDecision):
    """The application was returned for correction; the applicant may re-file by `correction_due`."""

    event_type: ClassVar[str] = "kz.ntc.registry.application.returned.v1"

    correction_due: date


class _OrganisationChange(EventData):
    organisation_id: uuid.UUID
    status: OrganisationStatus

    def subject(self) -> str:
        return str(self.organisation_id)


@contract
class StatusConfirmed(_OrganisationChange):
    """A union's status was confirmed under the rule set in force on its filing date."""

    event_type: ClassVar[str] = "kz.ntc.registry.organisation.status_confirmed.v1"

    confirmed_on: date
    rule_set: RuleSetReference


@contract
class StatusLapsed(_OrganisationChange):
    """A union's status lapsed: not confirmed by the due date, or confirmation refused with grounds."""

    event_type: ClassVar[str] = "kz.ntc.registry.organisation.status_lapsed.v1"

    lapsed_on: date
    reason: str = Field(description="deadline_missed or confirmation_refused")
    grounds: list[Ground] = Field(default_factory=list)
    rule_set: RuleSetReference | None = None


@contract
class AffiliationChanged(_OrganisationChange):
    """An organisation joined, left or changed its higher-tier organisation."""

    event_type: ClassVar[str] = "kz.ntc.registry.organisation.affiliation_changed.v1"

    parent_id: uuid.UUID | None = Field(description="The new higher-tier organisation, or null when it left")
    previous_parent_id: uuid.UUID | None
    valid_from: date


@contract
class MembershipReported(_OrganisationChange):
    """Membership counts for a year were reported (counts only, never names)."""

    event_type: ClassVar[str] = "kz.ntc.registry.organisation.membership_reported.v1"

    year: int
    total: int
    women: int
    under_35: int


@contract
class OrganisationUpdated(_OrganisationChange):
    """Public details of an organisation changed (names, address, region, sectors, officers)."""

    event_type: ClassVar[str] = "kz.ntc.registry.organisation.updated.v1"

    kind: OrganisationKind
    name_kk: str
    name_ru: str
    name_en: str | None = None
    region_code: str | None = None
    changed: list[str] = Field(description="Names of the fields that changed")


@contract
class OrganisationLiquidated(_OrganisationChange):
    """The organisation was struck off the register."""

    event_type: ClassVar[str] = "kz.ntc.registry.organisation.liquidated.v1"

    liquidated_on: date
    reason: str


@contract
class DeadlineApproaching(DeadlineEventData):
    """A statutory period of the registry is running out (status confirmation, correction of an application)."""

    event_type: ClassVar[str] = "kz.ntc.registry.deadline.approaching.v1"


@contract
class DeadlineMissed(DeadlineEventData):
    """A statutory period of the registry ended unmet; for a status confirmation, the status lapses with it."""

    event_type: ClassVar[str] = "kz.ntc.registry.deadline.missed.v1"
