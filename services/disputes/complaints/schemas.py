import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from contracts.disputes import ComplaintOutcome

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20000)]
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ComplainantIn(_Request):
    """Who complains. Shielded: never shown, sent or hinted at to the employer."""

    name: PersonName
    contact: Short | None = Field(default=None, description="Telephone or e-mail for the inspectorate")
    position: Short | None = None


class ComplaintCreate(_Request):
    """A freedom-of-association complaint, from a union (for itself or a member) or taken in by staff."""

    category: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)] = Field(
        description="threat_of_dismissal, dismissal_of_union_leader, non_renewal_of_union_leader, "
                    "pressure_to_change_union, refusal_to_bargain, surveillance, other_interference")
    employer_id: uuid.UUID
    union_id: uuid.UUID | None = Field(default=None, description="The complainant's union (a union files only "
                                       "its own; staff may take in a worker's complaint without one)")
    complainant: ComplainantIn
    description: Text = Field(description="What happened: seen by the inspectorate and the union, never by the "
                              "employer")
    received_on: date | None = Field(default=None, description="Default: today")


class InspectionIn(_Request):
    on: date | None = None
    inspector: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)] = Field(
        description="The inspector who takes the complaint")


class FindingsIn(_Request):
    on: date | None = None
    outcome: ComplaintOutcome
    findings: Text = Field(description="Shown to the employer and the union: must not name the complainant")


class ClosureIn(_Request):
    on: date | None = None
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)] | None = Field(
        default=None, description="Shown to the union only")


class ComplainantPublic(BaseModel):
    name: str
    contact: str | None
    position: str | None


class FindingsPublic(BaseModel):
    outcome: ComplaintOutcome
    findings: str
    on: date


class ComplaintShielded(BaseModel):
    """What the employer (and staff outside the inspectorate) may know: a complaint concerns it, and how it ends."""

    view: Literal["shielded"] = "shielded"
    id: uuid.UUID
    status: str
    employer_id: uuid.UUID
    employer_name: str
    inspection_started_on: date | None
    findings: FindingsPublic | None
    closed_on: date | None


class ComplaintPublic(BaseModel):
    """The whole record: the inspectorate and the complainant's union. Every such read is audited."""

    view: Literal["full"] = "full"
    id: uuid.UUID
    status: str
    category: str
    category_article: str
    employer_id: uuid.UUID
    employer_name: str
    union_id: uuid.UUID | None
    received_via: str
    complainant: ComplainantPublic
    description: str
    received_on: date
    consideration_due: date
    consideration_article: str
    consideration_verify: bool
    overdue_since: date | None
    inspector: str | None
    inspection_started_on: date | None
    findings: FindingsPublic | None
    closed_on: date | None
    allowed_actions: list[str]
    updated_at: datetime
    version: int


ComplaintView = Annotated[ComplaintPublic | ComplaintShielded, Field(discriminator="view")]


class ComplaintPage(BaseModel):
    items: list[ComplaintView]
    total: int


class AccessRecord(BaseModel):
    at: datetime
    actor: str
    action: str
    detail: dict[str, object]


class AccessLog(BaseModel):
    complaint_id: uuid.UUID
    items: list[AccessRecord]
