"""Aggregated, public statistics of the register, computed with GROUP BY in the database. Never commits.

Membership reports count the members an organisation holds directly (a primary or local
union's own members; a higher tier reports only members it holds itself), so the sum of
all reports for a year is the national figure and nothing is counted twice.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import bindparam, delete, event, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session

from kernel.problems import FieldError, Problem
from services.registry.organisations.models import MembershipReport, Organisation, OrganisationSector
from services.registry.organisations.service import PUBLIC_STATUSES
from services.registry.registrations.models import RegistrationApplication
from services.registry.registrations.rules import ApplicationStatus
from services.registry.statistics.models import LabourForce
from services.registry.statistics.rules import UNION_KINDS, density, median, percentile, share
from services.registry.statistics.schemas import (
    DecisionTimes,
    GroundFrequency,
    LabourForcePublic,
    LabourForceWrite,
    MembershipYear,
    OrganisationCounts,
    Statistics,
    Tally,
    UnionDensity,
)

NOTES = [
    "Members are the sum of every trade union's report for the year; each report counts the members the "
    "organisation holds directly, so higher tiers do not repeat their affiliates' members.",
    "Employers' associations and employers are not in the membership or density figures.",
    "Union density follows the ILO definition (union members who are employees ÷ employees × 100) and takes "
    "every reported member to be an employee, since the registry holds no employment status.",
    "Regional membership uses a report's by-region counts, or, without them, the organisation's own region.",
    "Organisation counts cover the public register (registered, confirmed, lapsed, liquidated).",
    "Decision times are calendar days from the first filing of an application to its final decision.",
]


# --- the cache ---------------------------------------------------------------------------------
# Statistics are recomputed only after a committed write to a table they read (noticed by the
# ORM events below, in this process) or, as a backstop for writes by another replica or by
# plain SQL, when they are older than CACHE_SECONDS.

CACHE_SECONDS = 60.0
WATCHED = (Organisation, OrganisationSector, MembershipReport, RegistrationApplication, LabourForce)
_generation = itertools.count(1)
_current_generation = 0


def _bump() -> None:
    global _current_generation
    _current_generation = next(_generation)


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _context: Any) -> None:
    if any(isinstance(o, WATCHED) for o in itertools.chain(session.new, session.dirty, session.deleted)):
        session.info["statistics_stale"] = True


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state: ORMExecuteState) -> None:
    if (state.is_insert or state.is_update or state.is_delete) and state.bind_mapper is not None \
            and state.bind_mapper.class_ in WATCHED:
        state.session.info["statistics_stale"] = True


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop("statistics_stale", False):
        _bump()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("statistics_stale", None)


@dataclass
class StatisticsCache:
    value: Statistics | None = None
    generation: int = -1
    computed_at: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def fresh(self) -> Statistics | None:
        if (self.value is not None and self.generation == _current_generation
                and time.monotonic() - self.computed_at < CACHE_SECONDS):
            return self.value
        return None


async def cached_statistics(cache: StatisticsCache, session: AsyncSession) -> Statistics:
    if (value := cache.fresh()) is not None:
        return value
    async with cache.lock:  # one computation at a time; the others wait for its result
        if (value := cache.fresh()) is not None:
            return value
        generation = _current_generation
        value = await statistics(session)
        cache.value, cache.generation, cache.computed_at = value, generation, time.monotonic()
        return value


# --- the figures -----------------------------------------------------------------------------------

_UNION_KIND_VALUES = [k.value for k in UNION_KINDS]
_PUBLIC = [s.value for s in PUBLIC_STATUSES]


async def membership_by_year(session: AsyncSession) -> list[MembershipYear]:
    query = (select(MembershipReport.year, func.count(), func.sum(MembershipReport.total),
                    func.sum(MembershipReport.women), func.sum(MembershipReport.under_35))
             .join(Organisation, Organisation.id == MembershipReport.organisation_id)
             .where(Organisation.kind.in_(_UNION_KIND_VALUES))
             .group_by(MembershipReport.year).order_by(MembershipReport.year))
    years = []
    for year, reporting, members, women, under_35 in await session.execute(query):
        members, women, under_35 = int(members or 0), int(women or 0), int(under_35 or 0)
        years.append(MembershipYear(year=year, organisations_reporting=reporting, members=members, women=women,
                                    under_35=under_35, women_share=share(women, members),
                                    under_35_share=share(under_35, members)))
    return years


async def _tally(session: AsyncSession, column: Any, *, join_sectors: bool = False) -> list[Tally]:
    query = select(column, func.count()).where(Organisation.status.in_(_PUBLIC), column.is_not(None))
    if join_sectors:
        query = query.select_from(OrganisationSector).join(Organisation,
                                                           Organisation.id == OrganisationSector.organisation_id)
    rows = await session.execute(query.group_by(column).order_by(column))
    return [Tally(code=str(code), organisations=n) for code, n in rows]


async def organisation_counts(session: AsyncSession) -> OrganisationCounts:
    by_status = await _tally(session, Organisation.status)
    return OrganisationCounts(total=sum(t.organisations for t in by_status),
                              by_kind=await _tally(session, Organisation.kind), by_status=by_status,
                              by_region=await _tally(session, Organisation.region_code),
                              by_sector=await _tally(session, OrganisationSector.division_code, join_sectors=True))


async def _regional_members(session: AsyncSession, years: list[int]) -> dict[tuple[int, str], int]:
    """Union members by (year, region): a report's by-region counts, else the whole report in its own region."""
    members: dict[tuple[int, str], int] = defaultdict(int)
    if not years:
        return members
    # Only the JSON functions differ: SQLite's json_each gives numbers, PostgreSQL's json_each_text text.
    if session.bind.dialect.name == "sqlite":
        split_of, value, has_split = "json_each(r.by_region) j", "j.value", "json_each(r.by_region)"
    else:
        split_of, value, has_split = ("LATERAL json_each_text(r.by_region) j", "CAST(j.value AS BIGINT)",
                                      "json_each_text(r.by_region)")
    split = text(f"""
        SELECT r.year, j.key, SUM({value}) FROM membership_report r
        JOIN organisation o ON o.id = r.organisation_id
        CROSS JOIN {split_of}
        WHERE r.year IN :years AND o.kind IN :kinds
        GROUP BY r.year, j.key""")
    whole = text(f"""
        SELECT r.year, o.region_code, SUM(r.total) FROM membership_report r
        JOIN organisation o ON o.id = r.organisation_id
        WHERE r.year IN :years AND o.kind IN :kinds AND o.region_code IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM {has_split})
        GROUP BY r.year, o.region_code""")
    for query in (split, whole):
        query = query.bindparams(bindparam("years", expanding=True), bindparam("kinds", expanding=True))
        for year, region, n in await session.execute(query, {"years": years, "kinds": _UNION_KIND_VALUES}):
            members[(year, region)] += int(n or 0)
    return members


async def union_density(session: AsyncSession, membership: list[MembershipYear]) -> list[UnionDensity]:
    figures = (await session.execute(select(LabourForce).order_by(LabourForce.year, LabourForce.region_code)))
    labour = list(figures.scalars())
    if not labour:
        return []
    national = {m.year: m.members for m in membership}
    regional_years = sorted({f.year for f in labour if f.region_code is not None})
    regional = await _regional_members(session, regional_years)
    result = []
    for figure in labour:
        members = (national.get(figure.year, 0) if figure.region_code is None
                   else regional.get((figure.year, figure.region_code), 0))
        result.append(UnionDensity(year=figure.year, region_code=figure.region_code, members=members,
                                   employees=figure.employees, density=density(members, figure.employees)))
    return sorted(result, key=lambda d: (d.year, d.region_code is not None, d.region_code or ""))


async def decision_times(session: AsyncSession) -> list[DecisionTimes]:
    final = [ApplicationStatus.registered.value, ApplicationStatus.refused.value]
    rows = await session.execute(
        select(RegistrationApplication.status, RegistrationApplication.first_filed_on,
               RegistrationApplication.decided_on, func.count())
        .where(RegistrationApplication.status.in_(final), RegistrationApplication.decided_on.is_not(None))
        .group_by(RegistrationApplication.status, RegistrationApplication.first_filed_on,
                  RegistrationApplication.decided_on))
    histograms: dict[str, Counter[int]] = {outcome: Counter() for outcome in (*final, "all")}
    for status, filed, decided, n in rows:
        days = (_as_date(decided) - _as_date(filed)).days
        histograms[str(status)][days] += n
        histograms["all"][days] += n
    return [DecisionTimes(outcome=outcome, decisions=sum(h.values()), median_days=median(h),
                          p90_days=percentile(h, 90)) for outcome, h in histograms.items()]


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


async def refusal_grounds(session: AsyncSession) -> list[GroundFrequency]:
    rows = await session.execute(select(RegistrationApplication.grounds)
                                 .where(RegistrationApplication.status == ApplicationStatus.refused.value))
    refusals: Counter[str] = Counter()
    articles: dict[str, set[str]] = defaultdict(set)
    for (grounds,) in rows:
        cited = {g["rule"]: g.get("article") for g in grounds or []}
        refusals.update(cited.keys())
        for rule, article in cited.items():
            if article:
                articles[rule].add(article)
    return [GroundFrequency(rule=rule, refusals=n, articles=sorted(articles[rule]))
            for rule, n in sorted(refusals.items(), key=lambda item: (-item[1], item[0]))]


async def statistics(session: AsyncSession) -> Statistics:
    membership = await membership_by_year(session)
    return Statistics(generated_at=datetime.now(UTC), membership=membership,
                      organisations=await organisation_counts(session),
                      density=await union_density(session, membership),
                      decision_times=await decision_times(session), refusal_grounds=await refusal_grounds(session),
                      notes=NOTES)


# --- labour-force figures ------------------------------------------------------------------------

def _view(year: int, rows: list[LabourForce]) -> LabourForcePublic | None:
    if not rows:
        return None
    national = next((r for r in rows if r.region_code is None), None)
    return LabourForcePublic(year=year, employees=national.employees if national else None,
                             regions={r.region_code: r.employees for r in rows if r.region_code is not None},
                             source=rows[0].source, recorded_at=max(r.recorded_at for r in rows),
                             recorded_by=rows[0].recorded_by)


async def labour_force(session: AsyncSession, year: int) -> LabourForcePublic | None:
    rows = (await session.execute(select(LabourForce).where(LabourForce.year == year))).scalars().all()
    return _view(year, list(rows))


async def labour_force_years(session: AsyncSession) -> list[LabourForcePublic]:
    rows = (await session.execute(select(LabourForce).order_by(LabourForce.year))).scalars().all()
    by_year: dict[int, list[LabourForce]] = defaultdict(list)
    for row in rows:
        by_year[row.year].append(row)
    return [view for year, group in sorted(by_year.items()) if (view := _view(year, group)) is not None]


async def set_labour_force(session: AsyncSession, year: int, *, figures: LabourForceWrite, actor: str,
                           today: date) -> LabourForcePublic:
    """Replace the year's figures as a whole: a new publication supersedes the old one."""
    if year > today.year:
        raise Problem(422, "validation", "Invalid request", "labour-force figures are for past or current years",
                      errors=[FieldError(pointer="path:/year", rule="not_in_future",
                                         detail=f"the year cannot be after {today.year}")])
    if figures.employees is None and not figures.regions:
        raise Problem(422, "validation", "Invalid request", "give the national figure, regional figures, or both",
                      errors=[FieldError(pointer="/employees", rule="at_least_one_figure",
                                         detail="neither employees nor regions was given")])
    await session.execute(delete(LabourForce).where(LabourForce.year == year))
    rows = [LabourForce(year=year, region_code=region, employees=n, source=figures.source, recorded_by=actor)
            for region, n in sorted(figures.regions.items())]
    if figures.employees is not None:
        rows.insert(0, LabourForce(year=year, region_code=None, employees=figures.employees, source=figures.source,
                                   recorded_by=actor))
    session.add_all(rows)
    await session.flush()
    return _view(year, rows)  # type: ignore[return-value]
