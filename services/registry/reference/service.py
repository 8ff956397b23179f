"""Reads of the reference tables, and the checks other registry code makes against them. Never commits."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.reference.catalogue import RegionKind
from services.registry.reference.models import Region, SectorDivision, SectorSection


async def list_regions(session: AsyncSession, *, kind: RegionKind | None = None) -> list[Region]:
    query = select(Region).order_by(Region.code)
    if kind is not None:
        query = query.where(Region.kind == kind)
    return list((await session.execute(query)).scalars().all())


async def get_region(session: AsyncSession, code: str) -> Region | None:
    """The region with this 9-digit KATO code or 2-digit short code."""
    query = select(Region).where(or_(Region.code == code, Region.short_code == code))
    return (await session.execute(query)).scalars().first()


async def list_sections(session: AsyncSession) -> list[tuple[SectorSection, list[SectorDivision]]]:
    sections = (await session.execute(select(SectorSection).order_by(SectorSection.code))).scalars().all()
    divisions = (await session.execute(select(SectorDivision).order_by(SectorDivision.code))).scalars().all()
    by_section: dict[str, list[SectorDivision]] = {s.code: [] for s in sections}
    for division in divisions:
        by_section[division.section_code].append(division)
    return [(section, by_section[section.code]) for section in sections]


async def get_division(session: AsyncSession, code: str) -> tuple[SectorDivision, SectorSection] | None:
    query = (select(SectorDivision, SectorSection)
             .join(SectorSection, SectorSection.code == SectorDivision.section_code)
             .where(SectorDivision.code == code))
    row = (await session.execute(query)).first()
    return None if row is None else (row[0], row[1])


async def is_region_code(session: AsyncSession, code: str) -> bool:
    return await get_region(session, code) is not None


async def region_codes(session: AsyncSession) -> set[str]:
    """The 9-digit KATO codes of all regions."""
    return set((await session.execute(select(Region.code))).scalars().all())


async def division_codes(session: AsyncSession) -> set[str]:
    return set((await session.execute(select(SectorDivision.code))).scalars().all())
