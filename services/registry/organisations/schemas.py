import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from contracts.registry import OrganisationKind, OrganisationStatus
from services.registry.organisations.rules import bin_problem
from services.registry.reference import catalogue


def _no_nul(text: str) -> str:
    # PostgreSQL text cannot hold U+0000 (the insert fails with a 500) and SQLite would store it silently.
    if "\x00" in text:
        raise PydanticCustomError("no_nul_character", "the text must not contain the NUL character (U+0000)")
    return text


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=300), AfterValidator(_no_nul)]
Address = Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=500),
                    AfterValidator(_no_nul)]


def _known_region(code: str) -> str:
    if problem := catalogue.region_code_problem(code):
        raise PydanticCustomError("known_region", "{problem}", {"problem": problem})
    return code


def _known_division(code: str) -> str:
    if problem := catalogue.division_code_problem(code):
        raise PydanticCustomError("known_division", "{problem}", {"problem": problem})
    return code


RegionCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{9}$"), AfterValidator(_known_region)]
DivisionCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{2}$"), AfterValidator(_known_division)]


def _valid_bin(value: str | None) -> str | None:
    if value is not None and (problem := bin_problem(value)):
        raise PydanticCustomError("bin_check", "{problem}", {"problem": problem})
    return value


def _unique(values: list[Any]) -> list[Any]:
    if len(values) != len(set(values)):
        raise PydanticCustomError("unique_items", "each value may appear only once")
    return values


class Officer(BaseModel):
    """An officer of the organisation (chair, deputy): public by law."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["chair", "deputy_chair", "secretary", "treasurer", "director", "other"]
    name: Name


Sectors = Annotated[list[DivisionCode], AfterValidator(_unique), Field(max_length=20)]
Officers = Annotated[list[Officer], Field(max_length=20)]


class OrganisationDetails(BaseModel):
    """Public particulars shared by entries, applications and updates."""

    model_config = ConfigDict(extra="forbid")

    name_kk: Name = Field(description="Name in Kazakh")
    name_ru: Name = Field(description="Name in Russian")
    name_en: Name | None = Field(default=None, description="Name in English (optional)")
    legal_address: Address | None = Field(default=None, description="Legal address")
    region_code: RegionCode | None = Field(
        default=None, description="Official (KATO) code of the region: an oblast or a city of republican significance")
    sectors: Sectors = Field(default_factory=list, description="Classifier divisions (2 digits) it works in")
    officers: Officers = Field(default_factory=list, description="Chair, deputies and other officers (public)")


class OrganisationCreate(OrganisationDetails):
    """Direct entry in the register: employers, employers' associations, government bodies, and
    unions registered before the platform existed."""

    kind: OrganisationKind
    bin: Annotated[str | None, AfterValidator(_valid_bin)] = Field(
        pattern=r"^[0-9]{12}$",
        default=None,
        description="12-digit business identification number with its check digit; required for employers",
    )


class OrganisationUpdate(BaseModel):
    """A change of public particulars; send only what changes. Needs If-Match with the current ETag."""

    model_config = ConfigDict(extra="forbid")

    name_kk: Name | None = None
    name_ru: Name | None = None
    name_en: Name | None = None
    legal_address: Address | None = None
    region_code: RegionCode | None = None
    sectors: Sectors | None = None
    officers: Officers | None = None


class OrganisationPublic(BaseModel):
    id: uuid.UUID
    kind: OrganisationKind
    name_kk: str
    name_ru: str
    name_en: str | None
    bin: str | None
    region_code: str | None
    legal_address: str | None
    sectors: list[str]
    officers: list[Officer]
    status: OrganisationStatus
    parent_id: uuid.UUID | None = Field(description="The higher-tier organisation it belongs to now")
    registered_at: AwareDatetime | datetime | None
    status_confirmation_due: date | None
    confirmed_on: date | None
    lapsed_on: date | None
    liquidated_on: date | None
    version: int


class OrganisationPage(BaseModel):
    items: list[OrganisationPublic]
    total: int


class AffiliationChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parent_id: uuid.UUID | None = Field(description="The higher-tier organisation to join; null to leave")
    valid_from: date = Field(description="The first day of the new affiliation (or of none)")


class AffiliationPublic(BaseModel):
    parent_id: uuid.UUID
    valid_from: date
    valid_to: date | None = Field(description="The first day it no longer applied; null while current")


class Liquidation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    liquidated_on: date
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=1000),
                      AfterValidator(_no_nul)]


class MembershipReportWrite(BaseModel):
    """Counts of the members the organisation holds directly. Never names."""

    model_config = ConfigDict(extra="forbid")

    total: int = Field(ge=0, le=10_000_000)
    women: int = Field(ge=0, le=10_000_000)
    under_35: int = Field(ge=0, le=10_000_000)
    by_region: dict[RegionCode, Annotated[int, Field(ge=0)]] = Field(
        default_factory=dict, description="Members by region code; when given, must add up to the total")


class MembershipReportPublic(BaseModel):
    organisation_id: uuid.UUID
    year: int
    total: int
    women: int
    under_35: int
    by_region: dict[str, int]
    reported_at: AwareDatetime | datetime | None = None


class MembershipAggregate(BaseModel):
    organisation_id: uuid.UUID
    year: int
    organisations: int = Field(description="How many organisations the figures cover (itself and those below)")
    reporting: int = Field(description="How many of them reported for the year")
    total: int
    women: int
    under_35: int
    by_region: dict[str, int]


class HistoryEntryPublic(BaseModel):
    occurred_at: AwareDatetime | datetime
    action: str
    actor: str
    application_id: uuid.UUID | None
    rule_set_code: str | None
    rule_set_revision: int | None
    detail: dict[str, Any]
