"""The reference data in force, read once from the data files and held in memory.

Validation that must not wait for a database (request schemas, bulk-import checks,
domain rules under test) asks here. The database tables hold the same rows, loaded by
the migrations; a test holds the two equal.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal

from services.registry.reference.loader import read_document

# The files in force. A new edition is a new file, named here and loaded by a new migration.
REGIONS_FILE = "regions-2022.json"
CLASSIFIER_FILE = "oked-2019.json"

Language = Literal["kk", "ru", "en"]
LANGUAGES: tuple[Language, ...] = ("kk", "ru", "en")


class RegionKind(StrEnum):
    oblast = "oblast"
    city = "city"  # a city of republican significance (Astana, Almaty, Shymkent)


@dataclass(frozen=True)
class Names:
    kk: str
    ru: str
    en: str

    def in_language(self, language: Language) -> str:
        return getattr(self, language)


@dataclass(frozen=True)
class RegionEntry:
    code: str  # 9-digit KATO code
    short_code: str  # its first two digits
    kind: RegionKind
    name: Names
    centre: Names | None  # the administrative centre; None for a city
    valid_from: date
    valid_to: date | None
    classifier_version: str


@dataclass(frozen=True)
class SectionEntry:
    code: str  # a letter, A-U
    name: Names
    classifier_version: str


@dataclass(frozen=True)
class DivisionEntry:
    code: str  # two digits, as in NACE Rev. 2
    section_code: str
    name: Names
    classifier_version: str


def _names(value: dict[str, str]) -> Names:
    return Names(kk=value["kk"], ru=value["ru"], en=value["en"])


@functools.cache
def regions() -> tuple[RegionEntry, ...]:
    document = read_document(REGIONS_FILE)
    valid_from = date.fromisoformat(document["effective_from"])
    return tuple(
        RegionEntry(code=r["code"], short_code=r["short_code"], kind=RegionKind(r["kind"]), name=_names(r["name"]),
                    centre=_names(r["centre"]) if r.get("centre") else None, valid_from=valid_from,
                    valid_to=None, classifier_version=document["version"])
        for r in document["regions"])


@functools.cache
def _classifier() -> tuple[tuple[SectionEntry, ...], tuple[DivisionEntry, ...]]:
    document = read_document(CLASSIFIER_FILE)
    version = document["version"]
    sections = tuple(SectionEntry(code=s["code"], name=_names(s["name"]), classifier_version=version)
                     for s in document["sections"])
    divisions = tuple(DivisionEntry(code=d["code"], section_code=d["section"], name=_names(d["name"]),
                                    classifier_version=version)
                      for d in document["divisions"])
    return sections, divisions


def sections() -> tuple[SectionEntry, ...]:
    return _classifier()[0]


def divisions() -> tuple[DivisionEntry, ...]:
    return _classifier()[1]


@functools.cache
def _regions_by_code() -> dict[str, RegionEntry]:
    # Both the full KATO code and its two leading digits name a region.
    by_code = {r.code: r for r in regions()}
    by_code.update({r.short_code: r for r in regions()})
    return by_code


@functools.cache
def _divisions_by_code() -> dict[str, DivisionEntry]:
    return {d.code: d for d in divisions()}


def region(code: str) -> RegionEntry | None:
    """The region with this 9-digit KATO code or 2-digit short code."""
    return _regions_by_code().get(code)


def is_region_code(code: str) -> bool:
    return code in _regions_by_code()


def region_codes() -> frozenset[str]:
    """The 9-digit KATO codes of all regions."""
    return frozenset(r.code for r in regions())


def division(code: str) -> DivisionEntry | None:
    return _divisions_by_code().get(code)


def division_codes() -> frozenset[str]:
    return frozenset(_divisions_by_code())


def section_codes() -> frozenset[str]:
    return frozenset(s.code for s in sections())


def region_code_problem(code: str) -> str | None:
    """Why ``code`` names no region, or None if it names one."""
    if not code.isdigit() or len(code) not in (2, 9):
        return "a region code is its 9-digit KATO code or the 2-digit short code"
    if not is_region_code(code):
        return f"{code} is not the code of one of the 17 regions or 3 cities of republican significance"
    return None


def division_code_problem(code: str) -> str | None:
    """Why ``code`` names no division of the classifier of economic activities, or None if it names one."""
    if len(code) != 2 or not code.isdigit():
        return "a sector is a 2-digit division code of the classifier of economic activities (OKED)"
    if code not in _divisions_by_code():
        return f"{code} is not a division of the classifier of economic activities (OKED)"
    return None
