from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from services.registry.reference.catalogue import LANGUAGES, Language, RegionKind
from services.registry.reference.models import Region, SectorDivision, SectorSection


def _localised(row: Any, field: str, language: Language | None) -> dict[str, str | None]:
    # Without a language every name is given; with one, only that language's (the others are null).
    return {f"{field}_{lang}": getattr(row, f"{field}_{lang}") if language in (None, lang) else None
            for lang in LANGUAGES}


class RegionPublic(BaseModel):
    code: str = Field(description="9-digit KATO code")
    short_code: str = Field(description="The first two digits of the KATO code")
    kind: RegionKind
    name_kk: str | None
    name_ru: str | None
    name_en: str | None
    centre_kk: str | None = Field(description="Administrative centre (null for a city of republican significance)")
    centre_ru: str | None
    centre_en: str | None
    valid_from: date
    valid_to: date | None
    classifier_version: str

    @classmethod
    def of(cls, region: Region, language: Language | None) -> RegionPublic:
        return cls(code=region.code, short_code=region.short_code, kind=region.kind, valid_from=region.valid_from,
                   valid_to=region.valid_to, classifier_version=region.classifier_version,
                   **_localised(region, "name", language), **_localised(region, "centre", language))


class SectionSummary(BaseModel):
    code: str = Field(description="Section letter, A-U")
    name_kk: str | None
    name_ru: str | None
    name_en: str | None
    classifier_version: str

    @classmethod
    def of(cls, section: SectorSection, language: Language | None) -> SectionSummary:
        return cls(code=section.code, classifier_version=section.classifier_version,
                   **_localised(section, "name", language))


class DivisionPublic(BaseModel):
    code: str = Field(description="2-digit division code, as in NACE Rev. 2")
    section_code: str
    name_kk: str | None
    name_ru: str | None
    name_en: str | None
    classifier_version: str

    @classmethod
    def of(cls, division: SectorDivision, language: Language | None) -> DivisionPublic:
        return cls(code=division.code, section_code=division.section_code,
                   classifier_version=division.classifier_version, **_localised(division, "name", language))


class SectionPublic(SectionSummary):
    divisions: list[DivisionPublic]


class DivisionDetail(DivisionPublic):
    section: SectionSummary
