import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.disputes.roster.rules import RosterKind

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=100)]
RegionCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{2,9}$")]
Language = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[a-z]{2}$")]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MemberCreate(_Request):
    name: Name
    kind: RosterKind
    specialisations: list[Label] = Field(default_factory=list, max_length=20,
                                         description="e.g. wages, mining, occupational safety")
    regions: list[RegionCode] = Field(default_factory=list, max_length=20,
                                      description="KATO codes served (empty: every region)")
    languages: list[Language] = Field(min_length=1, max_length=5, description="ISO 639-1 codes: kk, ru, en ...")
    available: bool = True
    affiliations: list[uuid.UUID] = Field(default_factory=list, max_length=50,
                                          description="Organisations the person works for, represents or advises")


class MemberUpdate(_Request):
    """Only the fields sent change."""

    name: Name | None = None
    specialisations: list[Label] | None = Field(default=None, max_length=20)
    regions: list[RegionCode] | None = Field(default=None, max_length=20)
    languages: list[Language] | None = Field(default=None, min_length=1, max_length=5)
    available: bool | None = None
    affiliations: list[uuid.UUID] | None = Field(default=None, max_length=50)


class MemberPublic(BaseModel):
    id: uuid.UUID
    name: str
    kind: RosterKind
    specialisations: list[str]
    regions: list[str]
    languages: list[str]
    available: bool
    affiliations: list[uuid.UUID]
    last_assigned_at: datetime | None
    version: int


class MemberPage(BaseModel):
    items: list[MemberPublic]
    total: int


class AssignmentCreate(_Request):
    kind: RosterKind
    member_id: uuid.UUID | None = Field(default=None, description="Name the person; default: rotation picks the "
                                        "least recently assigned available person serving the dispute's region")
    language: Language | None = Field(default=None, description="The language the person must speak (rotation)")
    assigned_on: date | None = Field(default=None, description="Default: today")


class ConsentIn(_Request):
    consent_on: date = Field(description="The day the person consented in writing")
    consent_document: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)] | None = (
        None)


class AssignmentPublic(BaseModel):
    id: uuid.UUID
    dispute_id: uuid.UUID
    member_id: uuid.UUID
    member_name: str
    kind: RosterKind
    assigned_on: date
    by_rotation: bool
    consent_on: date | None
    consent_document: str | None
