import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from contracts.registry import OrganisationKind
from services.registry.organisations.rules import bin_problem

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=300)]


def _valid_bin(value: str | None) -> str | None:
    if value is not None and (problem := bin_problem(value)):
        raise PydanticCustomError("bin_check", "{problem}", {"problem": problem})
    return value


class OrganisationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: OrganisationKind
    name_kk: Name = Field(description="Name in Kazakh")
    name_ru: Name = Field(description="Name in Russian")
    name_en: Name | None = Field(default=None, description="Name in English (optional)")
    bin: Annotated[str | None, AfterValidator(_valid_bin)] = Field(
        pattern=r"^[0-9]{12}$",
        default=None,
        description="12-digit business identification number with its check digit; required for employers",
    )
    region_code: Annotated[str, StringConstraints(pattern=r"^[0-9]{2,9}$")] | None = Field(
        default=None, description="Official code of the region (oblast or city of republican significance)"
    )


class OrganisationPublic(BaseModel):
    id: uuid.UUID
    kind: OrganisationKind
    name_kk: str
    name_ru: str
    name_en: str | None
    bin: str | None
    region_code: str | None
    status: str
    registered_at: AwareDatetime | datetime


class OrganisationPage(BaseModel):
    items: list[OrganisationPublic]
    total: int
