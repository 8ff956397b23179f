from typing import Annotated

from fastapi import APIRouter, Path, Query

from kernel.db import SessionDep
from kernel.problems import NotFound
from services.registry.reference import service
from services.registry.reference.catalogue import Language, RegionKind
from services.registry.reference.schemas import (
    DivisionDetail,
    DivisionPublic,
    RegionPublic,
    SectionPublic,
    SectionSummary,
)

# Public reference data: no identity is asked for.
router = APIRouter(tags=["reference"])

LanguageQuery = Annotated[Language | None, Query(
    description="Give names in this language only (the others are null); without it, all three")]
RegionCode = Annotated[str, Path(max_length=9, description="9-digit KATO code, or its 2-digit short code")]
DivisionCode = Annotated[str, Path(max_length=2, description="2-digit division code")]


@router.get("/regions", summary="The 17 regions (oblasts) and 3 cities of republican significance")
async def list_regions(session: SessionDep, lang: LanguageQuery = None,
                       kind: RegionKind | None = None) -> list[RegionPublic]:
    return [RegionPublic.of(region, lang) for region in await service.list_regions(session, kind=kind)]


@router.get("/regions/{code}", summary="One region by its KATO code or short code")
async def get_region(code: RegionCode, session: SessionDep, lang: LanguageQuery = None) -> RegionPublic:
    region = await service.get_region(session, code)
    if region is None:
        raise NotFound("region")
    return RegionPublic.of(region, lang)


@router.get("/sectors", summary="The classifier of economic activities (OKED): sections with their divisions")
async def list_sectors(session: SessionDep, lang: LanguageQuery = None) -> list[SectionPublic]:
    return [SectionPublic(**SectionSummary.of(section, lang).model_dump(),
                          divisions=[DivisionPublic.of(d, lang) for d in divisions])
            for section, divisions in await service.list_sections(session)]


@router.get("/sectors/divisions/{code}", summary="One division of the classifier, with its section")
async def get_division(code: DivisionCode, session: SessionDep, lang: LanguageQuery = None) -> DivisionDetail:
    found = await service.get_division(session, code)
    if found is None:
        raise NotFound("division of the classifier of economic activities")
    division, section = found
    return DivisionDetail(**DivisionPublic.of(division, lang).model_dump(), section=SectionSummary.of(section, lang))
