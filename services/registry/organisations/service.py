"""Domain operations on organisations: validate, change state, write history and the outbox event. Never commits."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.registry import OrganisationKind, OrganisationStatus, RuleSetReference
from kernel.db import utcnow
from kernel.deadlines import lock_deadlines_of
from kernel.outbox import record_event
from kernel.problems import Conflict, FieldError, NotFound, Problem, invalid
from services.registry.organisations import events
from services.registry.organisations.models import (
    Affiliation,
    HistoryEntry,
    MembershipReport,
    Organisation,
    OrganisationSector,
)
from services.registry.organisations.rules import (
    MembershipCounts,
    affiliation_problem,
    aggregate,
    descendants,
    membership_problems,
)
from services.registry.organisations.schemas import (
    AffiliationChange,
    Liquidation,
    MembershipAggregate,
    MembershipReportWrite,
    OrganisationCreate,
    OrganisationDetails,
    OrganisationPublic,
    OrganisationUpdate,
)
from services.registry.register.rules import search_text

SOURCE = "/registry"
# What the public register shows: an application or a refusal is the applicant's business.
PUBLIC_STATUSES = (OrganisationStatus.registered, OrganisationStatus.confirmed, OrganisationStatus.lapsed,
                   OrganisationStatus.liquidated)



def record_history(session: AsyncSession, organisation_id: uuid.UUID, action: str, actor: str, *,
                   application_id: uuid.UUID | None = None, rule_set: RuleSetReference | None = None,
                   detail: dict[str, Any] | None = None) -> None:
    session.add(HistoryEntry(
        organisation_id=organisation_id, action=action, actor=actor, application_id=application_id,
        rule_set_code=rule_set.code if rule_set else None, rule_set_revision=rule_set.revision if rule_set else None,
        detail=detail or {},
    ))


async def sectors_of(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    found: dict[uuid.UUID, list[str]] = defaultdict(list)
    if ids:
        rows = await session.execute(select(OrganisationSector.organisation_id, OrganisationSector.division_code)
                                     .where(OrganisationSector.organisation_id.in_(ids))
                                     .order_by(OrganisationSector.division_code))
        for organisation_id, code in rows:
            found[organisation_id].append(code)
    return found


async def public_views(session: AsyncSession, organisations: list[Organisation]) -> list[OrganisationPublic]:
    sectors = await sectors_of(session, [o.id for o in organisations])
    return [OrganisationPublic.model_validate({**{name: getattr(o, name) for name in Organisation.model_fields},
                                               "sectors": sectors.get(o.id, [])}) for o in organisations]


async def public_view(session: AsyncSession, organisation: Organisation) -> OrganisationPublic:
    return (await public_views(session, [organisation]))[0]


async def set_sectors(session: AsyncSession, organisation_id: uuid.UUID, codes: list[str]) -> None:
    await session.execute(delete(OrganisationSector).where(OrganisationSector.organisation_id == organisation_id))
    session.add_all(OrganisationSector(organisation_id=organisation_id, division_code=c) for c in codes)


def new_organisation(details: OrganisationDetails, *, kind: OrganisationKind, status: OrganisationStatus,
                     bin: str | None = None) -> Organisation:
    values = details.model_dump(exclude={"sectors", "officers", "kind", "bin"})
    return Organisation(**values, kind=kind, bin=bin, status=status,
                        officers=[o.model_dump() for o in details.officers],
                        search_name=search_text(details.name_kk, details.name_ru, details.name_en),
                        registered_at=utcnow() if status == OrganisationStatus.registered else None)


async def register_organisation(session: AsyncSession, *, application: OrganisationCreate, actor: str) -> Organisation:
    if application.kind == OrganisationKind.employer and application.bin is None:
        raise invalid("/bin", "required_for_employer", "an employer must give its 12-digit BIN")
    if application.bin is not None:
        taken = await session.scalar(select(Organisation.id).where(Organisation.bin == application.bin))
        if taken is not None:
            raise Conflict(f"An organisation with BIN {application.bin} is already registered.",
                           organisation_id=str(taken))
    organisation = new_organisation(application, kind=application.kind, status=OrganisationStatus.registered,
                                    bin=application.bin)
    session.add(organisation)
    await session.flush()
    await set_sectors(session, organisation.id, application.sectors)
    record_history(session, organisation.id, "entered", actor, detail={"kind": application.kind})
    record_event(session, events.organisation_registered(organisation), source=SOURCE)
    return organisation


async def get_organisation(session: AsyncSession, organisation_id: uuid.UUID) -> Organisation | None:
    return await session.get(Organisation, organisation_id)


async def require_organisation(session: AsyncSession, organisation_id: uuid.UUID, *,
                               for_update: bool = False) -> Organisation:
    if for_update:
        await lock_deadlines_of(session, organisation_id)  # in the sweeper's order: its deadlines first
    organisation = await session.get(Organisation, organisation_id, with_for_update=for_update)
    if organisation is None:
        raise NotFound("organisation")
    return organisation


def is_public(organisation: Organisation) -> bool:
    return organisation.status in PUBLIC_STATUSES


async def list_organisations(session: AsyncSession, *, kind: OrganisationKind | None, limit: int,
                             offset: int) -> tuple[list[Organisation], int]:
    condition = Organisation.status.in_(PUBLIC_STATUSES)
    if kind is not None:
        condition = and_(condition, Organisation.kind == kind)
    query = select(Organisation).where(condition).order_by(Organisation.name_ru, Organisation.id)
    rows = (await session.execute(query.limit(limit).offset(offset))).scalars().all()
    total = await session.scalar(select(func.count()).select_from(Organisation).where(condition))
    return list(rows), int(total or 0)


def require_version(organisation: Organisation, if_match: str | None) -> None:
    """Optimistic concurrency: a write must name the version it was based on (ETag / If-Match)."""
    if if_match is None:
        raise Problem(428, "precondition-required", "Precondition required",
                      "Send If-Match with the ETag of the organisation you read, so that a concurrent change "
                      "is not overwritten.")
    if if_match.strip().strip('"').removeprefix("W/").strip('"') != str(organisation.version):
        raise Problem(412, "precondition-failed", "Precondition failed",
                      f"The organisation changed since it was read (now at version {organisation.version}); "
                      "read it again and re-apply the change.", current_version=organisation.version)


async def update_organisation(session: AsyncSession, organisation_id: uuid.UUID, *, changes: OrganisationUpdate,
                              if_match: str | None, actor: str) -> Organisation:
    organisation = await require_organisation(session, organisation_id, for_update=True)
    if organisation.status == OrganisationStatus.liquidated:
        raise Conflict("A liquidated organisation cannot be changed.")
    require_version(organisation, if_match)
    values = changes.model_dump(exclude_unset=True)
    for required in ("name_kk", "name_ru"):
        if required in values and values[required] is None:
            raise invalid(f"/{required}", "required", "the Kazakh and Russian names cannot be removed")
    changed: list[str] = []
    before: dict[str, Any] = {}
    if "sectors" in values:
        current = (await sectors_of(session, [organisation.id])).get(organisation.id, [])
        if sorted(values["sectors"]) != current:
            before["sectors"] = current
            await set_sectors(session, organisation.id, values["sectors"])
            changed.append("sectors")
        del values["sectors"]
    if "officers" in values:
        values["officers"] = [dict(o) for o in values["officers"]]
    for name, value in values.items():
        if getattr(organisation, name) != value:
            before[name] = getattr(organisation, name)
            setattr(organisation, name, value)
            changed.append(name)
    if changed:
        organisation.search_name = search_text(organisation.name_kk, organisation.name_ru, organisation.name_en)
        organisation.version += 1
        organisation.updated_at = utcnow()
        record_history(session, organisation.id, "updated", actor,
                       detail={"changed": changed, "before": _jsonable(before)})
        record_event(session, events.organisation_updated(organisation, changed), source=SOURCE)
    return organisation


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, uuid.UUID | date) else v) for k, v in values.items()}


async def _ancestors(session: AsyncSession, organisation_id: uuid.UUID) -> set[uuid.UUID]:
    seen: set[uuid.UUID] = set()
    current: uuid.UUID | None = organisation_id
    while current is not None and current not in seen:
        seen.add(current)
        current = await session.scalar(select(Organisation.parent_id).where(Organisation.id == current))
    return seen


async def change_affiliation(session: AsyncSession, organisation_id: uuid.UUID, *, change: AffiliationChange,
                             actor: str) -> Organisation:
    organisation = await require_organisation(session, organisation_id, for_update=True)
    if organisation.status not in (OrganisationStatus.registered, OrganisationStatus.confirmed,
                                   OrganisationStatus.lapsed):
        raise Conflict(f"An organisation with status {organisation.status} cannot change its affiliation.")
    previous = organisation.parent_id
    if change.parent_id == previous:
        raise Conflict("The organisation already has this affiliation.")
    if change.parent_id is not None:
        parent = await session.get(Organisation, change.parent_id)
        if parent is None or not is_public(parent):
            raise invalid("/parent_id", "registered_organisation", "no registered organisation has this id")
        if parent.status == OrganisationStatus.liquidated:
            raise invalid("/parent_id", "not_liquidated", "the higher-tier organisation has been liquidated")
        if problem := affiliation_problem(organisation.kind, parent.kind):
            raise invalid("/parent_id", "allowed_tier", problem)
        if organisation.id in await _ancestors(session, parent.id):
            raise invalid("/parent_id", "no_cycle", "the organisation is itself above the one it would join")
    current = await session.scalar(select(Affiliation).where(Affiliation.organisation_id == organisation.id,
                                                             Affiliation.valid_to.is_(None)))
    if current is not None:
        if change.valid_from <= current.valid_from:
            raise invalid("/valid_from", "after_current_affiliation",
                          f"the current affiliation began on {current.valid_from.isoformat()}; "
                          "a change must start after it")
        current.valid_to = change.valid_from
    if change.parent_id is not None:
        session.add(Affiliation(organisation_id=organisation.id, parent_id=change.parent_id,
                                valid_from=change.valid_from))
    organisation.parent_id = change.parent_id
    organisation.version += 1
    organisation.updated_at = utcnow()
    record_history(session, organisation.id, "affiliation_changed", actor,
                   detail={"parent_id": str(change.parent_id) if change.parent_id else None,
                           "previous_parent_id": str(previous) if previous else None,
                           "valid_from": change.valid_from.isoformat()})
    record_event(session, events.affiliation_changed(organisation, previous, change.valid_from), source=SOURCE)
    return organisation


async def affiliations(session: AsyncSession, organisation_id: uuid.UUID) -> list[Affiliation]:
    rows = await session.execute(select(Affiliation).where(Affiliation.organisation_id == organisation_id)
                                 .order_by(Affiliation.valid_from.desc()))
    return list(rows.scalars().all())


async def affiliates(session: AsyncSession, organisation_id: uuid.UUID) -> list[Organisation]:
    rows = await session.execute(select(Organisation).where(Organisation.parent_id == organisation_id,
                                                            Organisation.status.in_(PUBLIC_STATUSES))
                                 .order_by(Organisation.name_ru))
    return list(rows.scalars().all())


async def liquidate(session: AsyncSession, organisation_id: uuid.UUID, *, liquidation: Liquidation,
                    actor: str, today: date) -> Organisation:
    organisation = await require_organisation(session, organisation_id, for_update=True)
    if not is_public(organisation) or organisation.status == OrganisationStatus.liquidated:
        raise Conflict(f"An organisation with status {organisation.status} cannot be liquidated.",
                       status=organisation.status)
    if liquidation.liquidated_on > today:
        raise invalid("/liquidated_on", "not_in_future", "the date cannot be in the future")
    if organisation.registered_at and liquidation.liquidated_on < organisation.registered_at.date():
        raise invalid("/liquidated_on", "after_registration", "liquidation cannot precede registration")
    organisation.status = OrganisationStatus.liquidated
    organisation.liquidated_on = liquidation.liquidated_on
    organisation.version += 1
    organisation.updated_at = utcnow()
    record_history(session, organisation.id, "liquidated", actor,
                   detail={"liquidated_on": liquidation.liquidated_on.isoformat(), "reason": liquidation.reason})
    record_event(session, events.organisation_liquidated(organisation, liquidation.reason), source=SOURCE)
    return organisation


def _counts(report: MembershipReportWrite | MembershipReport) -> MembershipCounts:
    return MembershipCounts(report.total, report.women, report.under_35, dict(report.by_region))


async def report_membership(session: AsyncSession, organisation_id: uuid.UUID, year: int, *,
                            report: MembershipReportWrite, actor: str, today: date) -> MembershipReport:
    organisation = await require_organisation(session, organisation_id)
    if not is_public(organisation) or organisation.status == OrganisationStatus.liquidated:
        raise Conflict(f"An organisation with status {organisation.status} does not report membership.")
    if not 1991 <= year <= today.year:
        raise invalid("/year", "reporting_year", f"a report is for a year from 1991 to {today.year}")
    problems = membership_problems(_counts(report))
    if problems:
        raise Problem(422, "validation", "Invalid request", "The membership counts do not add up.",
                      errors=[FieldError(pointer=p, rule=r, detail=d) for p, r, d in problems])
    existing = await session.scalar(select(MembershipReport).where(MembershipReport.organisation_id == organisation_id,
                                                                   MembershipReport.year == year))
    previous = None
    if existing is None:
        existing = MembershipReport(organisation_id=organisation_id, year=year, reported_by=actor,
                                    **report.model_dump())
        session.add(existing)
    else:
        previous = {"total": existing.total, "women": existing.women, "under_35": existing.under_35}
        for name, value in report.model_dump().items():
            setattr(existing, name, value)
        existing.reported_at = utcnow()
        existing.reported_by = actor
    record_history(session, organisation_id, "membership_reported", actor,
                   detail={"year": year, "total": report.total, "women": report.women,
                           "under_35": report.under_35, "corrects": previous})
    record_event(session, events.membership_reported(organisation, existing), source=SOURCE)
    return existing


async def membership_reports(session: AsyncSession, organisation_id: uuid.UUID) -> list[MembershipReport]:
    rows = await session.execute(select(MembershipReport).where(MembershipReport.organisation_id == organisation_id)
                                 .order_by(MembershipReport.year.desc()))
    return list(rows.scalars().all())


async def affiliation_tree(session: AsyncSession, on: date) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Children by parent, as the affiliations stood on a date."""
    rows = await session.execute(select(Affiliation.parent_id, Affiliation.organisation_id).where(
        Affiliation.valid_from <= on, or_(Affiliation.valid_to.is_(None), Affiliation.valid_to > on)))
    children: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for parent_id, child_id in rows:
        children[parent_id].append(child_id)
    return children


async def aggregate_membership(session: AsyncSession, organisation_id: uuid.UUID, year: int) -> MembershipAggregate:
    """The organisation's members plus those of every organisation below it at the end of the year."""
    children = await affiliation_tree(session, date(year, 12, 31))
    covered = [organisation_id, *descendants(organisation_id, children)]
    reports: dict[uuid.UUID, MembershipCounts] = {}
    for chunk_start in range(0, len(covered), 500):
        chunk = covered[chunk_start:chunk_start + 500]
        rows = await session.execute(select(MembershipReport).where(MembershipReport.year == year,
                                                                    MembershipReport.organisation_id.in_(chunk)))
        for row in rows.scalars():
            reports[row.organisation_id] = _counts(row)
    counts = aggregate(organisation_id, reports, children)
    return MembershipAggregate(organisation_id=organisation_id, year=year, organisations=len(covered),
                               reporting=len(reports), total=counts.total, women=counts.women,
                               under_35=counts.under_35, by_region=dict(sorted(counts.by_region.items())))


async def history(session: AsyncSession, organisation_id: uuid.UUID) -> list[HistoryEntry]:
    rows = await session.execute(select(HistoryEntry).where(HistoryEntry.organisation_id == organisation_id)
                                 .order_by(HistoryEntry.occurred_at, HistoryEntry.id))
    return list(rows.scalars().all())
