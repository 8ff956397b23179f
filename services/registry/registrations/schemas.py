import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from contracts.registry import Ground, OrganisationKind, RuleSetReference
from services.registry.organisations.schemas import OrganisationDetails, RegionCode
from services.registry.registrations.rules import UNION_KINDS, ApplicationAction, ApplicationStatus

DocumentCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,59}$")]


def _union_kind(kind: OrganisationKind) -> OrganisationKind:
    if kind not in UNION_KINDS:
        raise PydanticCustomError("union_kind", "only trade unions register through an application; "
                                                "enter other organisations with POST /organisations")
    return kind


def _unique(values: list[str]) -> list[str]:
    if len(values) != len(set(values)):
        raise PydanticCustomError("unique_items", "each document may appear only once")
    return values


UnionKind = Annotated[OrganisationKind, AfterValidator(_union_kind)]
Documents = Annotated[list[DocumentCode], AfterValidator(_unique), Field(max_length=30)]
Founders = Annotated[int, Field(ge=0, le=1_000_000, description="Number of founders")]


class Filing(BaseModel):
    """What an application states about its founding; the same for a first filing and a correction."""

    model_config = ConfigDict(extra="forbid")

    founders: Founders
    documents: Documents = Field(description="Founding documents enclosed (a checklist of codes)")
    filed_on: date | None = Field(default=None, description="The day the applicant filed (default: today); it is "
                                  "the applicant's date that counts, whenever the office records it")


class ApplicationCreate(OrganisationDetails, Filing):
    kind: UnionKind
    organisation_id: uuid.UUID | None = Field(
        default=None, description="Re-apply for an organisation whose earlier application was refused")


class PreCheck(BaseModel):
    """The checks a registrar will run, run by the applicant before filing."""

    model_config = ConfigDict(extra="forbid")

    kind: UnionKind
    founders: Founders
    documents: Documents
    on: date | None = Field(default=None, description="The filing date to check against (default: today)")


class PreCheckResult(BaseModel):
    rule_set: RuleSetReference
    passes: bool
    grounds: list[Ground] = Field(description="Every failing rule, all at once")


class CitedGround(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,59}$")] = Field(
        description="A ground from the rule set's catalogue (refusal_grounds) or an automatic check's code")
    detail: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=1000)] = Field(
        description="What exactly is wrong, so that the applicant can act on it")


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["register", "refuse", "return"]
    decided_on: date | None = Field(default=None, description="Default: today")
    grounds: list[CitedGround] = Field(default_factory=list, max_length=30)


class ApplicationPublic(BaseModel):
    id: uuid.UUID
    organisation_id: uuid.UUID
    kind: OrganisationKind
    name_kk: str
    name_ru: str
    status: ApplicationStatus
    attempt: int
    founders: int
    documents: list[str]
    filed_on: date
    first_filed_on: date
    correction_due: date | None
    decided_on: date | None
    rule_set: RuleSetReference | None
    grounds: list[Ground]
    allowed_actions: list[ApplicationAction]
    version: int
    updated_at: AwareDatetime | datetime


class ConfirmationFiling(BaseModel):
    model_config = ConfigDict(extra="forbid")

    regions_covered: Annotated[list[RegionCode], Field(max_length=40)] = Field(
        description="Regions where the union has member organisations or structural subdivisions")
    members: int = Field(ge=0, le=10_000_000)
    filed_on: date | None = Field(default=None, description="Default: today")


class ConfirmationDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["confirm", "refuse", "return"]
    decided_on: date | None = None
    grounds: list[CitedGround] = Field(default_factory=list, max_length=30)


class ConfirmationPublic(BaseModel):
    id: uuid.UUID
    organisation_id: uuid.UUID
    filed_on: date
    regions_covered: list[str]
    members: int
    outcome: str | None
    decided_on: date | None
    rule_set: RuleSetReference | None
    grounds: list[Ground]
    check: PreCheckResult | None = Field(default=None, description="The checks as they stand for this filing")
