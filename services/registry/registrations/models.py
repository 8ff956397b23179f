import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlmodel import Field

from kernel.db import UTCDateTime, utcnow
from services.registry.registrations.rules import ApplicationStatus
from services.registry.tables import RegistryTable


class RegistrationApplication(RegistryTable, table=True):
    """An application to register a trade union, through every correction until a decision."""

    __tablename__ = "registration_application"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    status: ApplicationStatus = Field(sa_type=String(30), index=True)
    attempt: int = 1
    founders: int
    documents: list[str] = Field(default_factory=list, sa_type=JSON)
    filed_on: date = Field(description="The day the applicant filed this attempt")
    first_filed_on: date
    correction_due: date | None = None
    decided_on: date | None = None
    rule_set_code: str | None = Field(default=None, max_length=60)
    rule_set_revision: int | None = None
    grounds: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = 1


class StatusConfirmation(RegistryTable, table=True):
    """A union's filing to confirm its status, and the registrar's decision on it."""

    __tablename__ = "status_confirmation"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    filed_on: date
    regions_covered: list[str] = Field(default_factory=list, sa_type=JSON)
    members: int
    outcome: str | None = Field(default=None, max_length=30, description="confirmed or not_confirmed")
    decided_on: date | None = None
    rule_set_code: str | None = Field(default=None, max_length=60)
    rule_set_revision: int | None = None
    grounds: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
