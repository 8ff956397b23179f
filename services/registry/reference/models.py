from datetime import date

from sqlalchemy import String
from sqlmodel import Field

from services.registry.reference.catalogue import RegionKind
from services.registry.tables import RegistryTable


class Region(RegistryTable, table=True):
    """An oblast or a city of republican significance, by its KATO code."""

    __tablename__ = "region"

    code: str = Field(primary_key=True, max_length=9)
    short_code: str = Field(max_length=2, unique=True)
    kind: RegionKind = Field(sa_type=String(10))
    name_kk: str = Field(max_length=200)
    name_ru: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    centre_kk: str | None = Field(default=None, max_length=100)
    centre_ru: str | None = Field(default=None, max_length=100)
    centre_en: str | None = Field(default=None, max_length=100)
    valid_from: date
    valid_to: date | None = None
    classifier_version: str = Field(max_length=40)


class SectorSection(RegistryTable, table=True):
    """A section (A-U) of the classifier of economic activities."""

    __tablename__ = "sector_section"

    code: str = Field(primary_key=True, max_length=1)
    name_kk: str = Field(max_length=300)
    name_ru: str = Field(max_length=300)
    name_en: str = Field(max_length=300)
    classifier_version: str = Field(max_length=40)


class SectorDivision(RegistryTable, table=True):
    """A division (2-digit code) of the classifier of economic activities; organisations name their sectors by it."""

    __tablename__ = "sector_division"

    code: str = Field(primary_key=True, max_length=2)
    section_code: str = Field(foreign_key="sector_section.code", max_length=1, index=True)
    name_kk: str = Field(max_length=300)
    name_ru: str = Field(max_length=300)
    name_en: str = Field(max_length=300)
    classifier_version: str = Field(max_length=40)
