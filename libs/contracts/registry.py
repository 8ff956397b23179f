"""Events produced by the registry service (stream REGISTRY_EVENTS, source /registry)."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import ClassVar

from pydantic import AwareDatetime, Field

from contracts import contract
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


