"""Bulk import of an existing register: jobs, their validation and the one transaction that writes them.

A file is checked row by row with the API's own rules; when any row fails, nothing is written and
the report lists every problem. When all pass, every organisation, affiliation and membership
report of the file is written in a single transaction (so a crash half-way leaves nothing, and
the job is simply done again), with the history entries and outbox events the API would write.
"""

from __future__ import annotations

import asyncio
import time as _time
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any

import structlog
from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kernel.db import utcnow
from kernel.events import EventData
from kernel.outbox import record_events
from kernel.problems import NotFound
from services.registry.imports.models import ACTIVE_STATUSES, ImportJob, ImportStatus
from services.registry.imports.rules import (
    ImportPlan,
    KnownOrganisation,
    RegisterFacts,
    RowValidator,
    read_table,
    referenced_keys,
)
from services.registry.imports.settings import ImportSettings
from services.registry.organisations import events
from services.registry.organisations.models import (
    Affiliation,
    HistoryEntry,
    MembershipReport,
    Organisation,
    OrganisationSector,
)
from services.registry.register.rules import search_text

log = structlog.get_logger(__name__)

SOURCE = "/registry"
_CHUNK = 500  # ids per IN (...) query: well inside every backend's parameter limit


def create_job(session: AsyncSession, *, filename: str, content: bytes, actor: str) -> ImportJob:
    job = ImportJob(filename=filename, content=content, size_bytes=len(content), created_by=actor)
    session.add(job)
    return job


async def require_job(session: AsyncSession, job_id: uuid.UUID) -> ImportJob:
    job = await session.get(ImportJob, job_id)
    if job is None:
        raise NotFound("import job")
    return job


async def list_jobs(session: AsyncSession, *, limit: int, offset: int) -> tuple[list[ImportJob], int]:
    rows = await session.execute(select(ImportJob).order_by(ImportJob.created_at.desc(), ImportJob.id)
                                 .limit(limit).offset(offset))
    total = await session.scalar(select(func.count()).select_from(ImportJob))
    return list(rows.scalars().all()), int(total or 0)


# --- claiming a job ------------------------------------------------------------------------


STOPPED_TOO_OFTEN = ("the import stopped {attempts} times without finishing (the registry's log has the errors); "
                     "nothing of it was written: upload the file again, or ask an operator if it stops again")


async def claim_next(sessionmaker: async_sessionmaker[AsyncSession], *, owner: str,
                     lease_seconds: float, max_attempts: int = 5) -> uuid.UUID | None:
    """Take the oldest job that is queued, or whose worker stopped renewing its lease (it crashed).

    The claim is one conditional UPDATE, so two replicas never both win it. A job whose lease ran out
    ``max_attempts`` times is ended as failed instead (its write is one transaction: nothing was written)."""
    now = utcnow()
    claimable = or_(ImportJob.status == ImportStatus.queued, ImportJob.lease_until.is_(None),
                    ImportJob.lease_until < now)
    async with sessionmaker() as session:
        candidates = (await session.execute(
            select(ImportJob.id, ImportJob.status, ImportJob.attempts)
            .where(ImportJob.status.in_(ACTIVE_STATUSES), claimable)
            .order_by(ImportJob.created_at).limit(5))).all()
        for job_id, status, attempts in candidates:
            # Written only when there is a job to take or to end: an idle poll reads and nothing more.
            worn = status != ImportStatus.queued and attempts >= max_attempts
            values: dict[str, Any] = (
                {"status": ImportStatus.failed, "finished_at": now, "lease_owner": None, "lease_until": None,
                 "report": {"problems": [], "error": STOPPED_TOO_OFTEN.format(attempts=attempts)}} if worn else
                {"lease_owner": owner, "lease_until": now + timedelta(seconds=lease_seconds),
                 "status": ImportStatus.validating, "rows_done": 0, "started_at": now,
                 "attempts": ImportJob.attempts + 1})
            result = await session.execute(
                update(ImportJob).where(ImportJob.id == job_id, ImportJob.status.in_(ACTIVE_STATUSES), claimable,
                                        ImportJob.attempts == attempts)
                .values(updated_at=now, **values))
            await session.commit()
            if result.rowcount != 1:  # type: ignore[attr-defined]
                continue  # another worker took it (or ended it) first
            if not worn:
                return job_id
            log.error("import job failed: it stopped too often without finishing", job_id=str(job_id),
                      attempts=attempts)
    return None


async def _save(sessionmaker: async_sessionmaker[AsyncSession], job_id: uuid.UUID, owner: str,
                lease_seconds: float, **values: Any) -> bool:
    """Record progress and renew the lease; False when another worker has taken the job over."""
    now = utcnow()
    async with sessionmaker() as session:
        result = await session.execute(
            update(ImportJob).where(ImportJob.id == job_id, ImportJob.lease_owner == owner)
            .values(**{"updated_at": now, "lease_until": now + timedelta(seconds=lease_seconds), **values}))
        await session.commit()
    return result.rowcount == 1  # type: ignore[attr-defined]


class LeaseLost(Exception):
    pass


# --- running a job -------------------------------------------------------------------------


async def run_job(sessionmaker: async_sessionmaker[AsyncSession], job_id: uuid.UUID, *, owner: str,
                  settings: ImportSettings, today: date) -> ImportStatus:
    lease = settings.lease_seconds

    async def save(**values: Any) -> None:
        if not await _save(sessionmaker, job_id, owner, lease, **values):
            raise LeaseLost

    async def finish(status: ImportStatus, report: dict[str, Any]) -> ImportStatus:
        await save(status=status, report=report, finished_at=utcnow(), lease_owner=None, lease_until=None)
        return status

    started = _time.monotonic()
    try:
        async with sessionmaker() as session:
            job = await require_job(session, job_id)
            content, actor = job.content, job.created_by
        rows, file_problems = read_table(content)
        if file_problems:
            return await finish(ImportStatus.failed, {"problems": [p.as_dict() for p in file_problems]})
        await save(rows_total=len(rows), rows_done=0)
        async with sessionmaker() as session:
            facts = await register_facts(session, rows)
        validator = RowValidator(facts, today)
        step = settings.progress_every_rows
        last_saved = _time.monotonic()
        for start in range(0, len(rows), step):
            validator.check(rows[start:start + step])
            # Progress is saved at most every progress_seconds: each save is a commit.
            if _time.monotonic() - last_saved >= settings.progress_seconds or start + step >= len(rows):
                await save(rows_done=min(start + step, len(rows)))
                last_saved = _time.monotonic()
            await asyncio.sleep(0)  # let requests in between chunks
        plan, problems = validator.finish()
        if problems:
            return await finish(ImportStatus.failed, {"problems": [p.as_dict() for p in problems]})
        await save(status=ImportStatus.importing)
        validated = _time.monotonic()
        async with sessionmaker() as session:
            counts = await write_plan(session, plan, job_id=job_id, actor=actor)
            now = utcnow()
            # Only the worker holding the lease may commit: a worker that lost it rolls back.
            result = await session.execute(
                update(ImportJob).where(ImportJob.id == job_id, ImportJob.lease_owner == owner)
                .values(status=ImportStatus.done, report={"problems": [], **counts}, rows_done=len(rows),
                        finished_at=now, updated_at=now, lease_owner=None, lease_until=None))
            if result.rowcount != 1:  # type: ignore[attr-defined]
                await session.rollback()
                raise LeaseLost
            await session.commit()
        log.info("import done", job_id=str(job_id), rows=len(rows), validation_seconds=round(validated - started, 2),
                 write_seconds=round(_time.monotonic() - validated, 2), **counts)
        return ImportStatus.done
    except LeaseLost:
        log.warning("import job taken over by another worker", job_id=str(job_id))
        return ImportStatus.importing
    except IntegrityError as exc:
        # Someone registered the same BIN between validation and writing: the rows are re-checked on retry.
        log.warning("import conflicted with a concurrent change", job_id=str(job_id), error=str(exc.orig))
        return await finish(ImportStatus.failed, {"problems": [], "error": "the register changed while the file "
                                                  "was being written (a BIN registered meanwhile?); upload it again "
                                                  "to check it against the register as it is now"})


async def register_facts(session: AsyncSession, rows: Sequence[Any]) -> RegisterFacts:
    bins, ids = referenced_keys(rows)
    facts = RegisterFacts()
    columns = (Organisation.id, Organisation.kind, Organisation.status, Organisation.bin)
    for chunk in _chunks(sorted(bins)):
        for id_, kind, status, bin_ in await session.execute(select(*columns).where(Organisation.bin.in_(chunk))):
            facts.by_bin[bin_] = KnownOrganisation(id_, kind, status)
    for chunk in _chunks(sorted(ids, key=str)):
        for id_, kind, status, _ in await session.execute(select(*columns).where(Organisation.id.in_(chunk))):
            facts.by_id[id_] = KnownOrganisation(id_, kind, status)
    known_ids = [k.id for k in facts.by_bin.values()]
    for chunk in _chunks(known_ids):
        rows_ = await session.execute(select(MembershipReport.organisation_id, MembershipReport.year)
                                      .where(MembershipReport.organisation_id.in_(chunk)))
        facts.reported.update((organisation_id, year) for organisation_id, year in rows_)
    return facts


def _chunks(values: list[Any]) -> list[list[Any]]:
    return [values[i:i + _CHUNK] for i in range(0, len(values), _CHUNK)]


def _registered_at(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)  # midday: the same calendar date in every zone of Kazakhstan


async def write_plan(session: AsyncSession, plan: ImportPlan, *, job_id: uuid.UUID, actor: str) -> dict[str, int]:
    """Write a validated plan in bulk, as ``register_organisation`` and ``report_membership`` would row by row.
    Never commits.

    Rows are plain dictionaries inserted through the tables (executemany): building thousands of ORM
    objects costs more than the database does."""
    now = utcnow()
    organisations: list[dict[str, Any]] = []
    for planned in plan.organisations:
        create = planned.create
        organisations.append({
            "id": uuid.uuid4(), "kind": create.kind, "name_kk": create.name_kk, "name_ru": create.name_ru,
            "name_en": create.name_en, "search_name": search_text(create.name_kk, create.name_ru, create.name_en),
            "bin": create.bin, "region_code": create.region_code,
            "legal_address": create.legal_address, "officers": [o.model_dump() for o in create.officers],
            "status": planned.status, "parent_id": None, "registered_at": _registered_at(planned.registered_on),
            "status_confirmation_due": None, "confirmed_on": None, "lapsed_on": None, "liquidated_on": None,
            "updated_at": now, "version": 1})
    affiliations: list[dict[str, Any]] = []
    for planned, organisation in zip(plan.organisations, organisations, strict=True):
        parent_id = (organisations[planned.parent_row]["id"] if planned.parent_row is not None
                     else planned.parent_existing.id if planned.parent_existing else None)
        if parent_id is not None:
            organisation["parent_id"] = parent_id
            # The file says it belonged there since it was registered; that date is all we know.
            affiliations.append({"id": uuid.uuid4(), "organisation_id": organisation["id"], "parent_id": parent_id,
                                 "valid_from": planned.registered_on, "valid_to": None, "recorded_at": now})
    await _insert(session, Organisation, organisations)
    await _insert(session, OrganisationSector, [
        {"organisation_id": o["id"], "division_code": code}
        for planned, o in zip(plan.organisations, organisations, strict=True) for code in planned.create.sectors])
    await _insert(session, Affiliation, affiliations)

    history: list[dict[str, Any]] = []
    outbox: list[EventData] = []
    for planned, organisation in zip(plan.organisations, organisations, strict=True):
        history.append(_history(organisation["id"], "imported", actor, now,
                                {"kind": organisation["kind"], "status": organisation["status"],
                                 "import_job_id": str(job_id), "row": planned.row,
                                 "registered_on": planned.registered_on.isoformat()}))
        # The event functions read attributes only; a namespace over the row serves as the organisation.
        outbox.append(events.organisation_registered(SimpleNamespace(**organisation)))  # type: ignore[arg-type]

    existing_ids = sorted({r.existing.id for r in plan.reports if r.existing is not None}, key=str)
    existing: dict[uuid.UUID, Any] = {}
    for chunk in _chunks(existing_ids):
        rows = await session.execute(select(Organisation).where(Organisation.id.in_(chunk)))
        existing.update((o.id, o) for o in rows.scalars())
    reports: list[dict[str, Any]] = []
    for planned_report in plan.reports:
        organisation = (SimpleNamespace(**organisations[planned_report.organisation_index])
                        if planned_report.organisation_index is not None
                        else existing[planned_report.existing.id])  # type: ignore[union-attr]
        counts = planned_report.counts
        report = {"id": uuid.uuid4(), "organisation_id": organisation.id, "year": planned_report.year,
                  "total": counts.total, "women": counts.women, "under_35": counts.under_35,
                  "by_region": dict(counts.by_region), "reported_at": now, "reported_by": actor}
        reports.append(report)
        history.append(_history(organisation.id, "membership_reported", actor, now,
                                {"year": report["year"], "total": counts.total, "women": counts.women,
                                 "under_35": counts.under_35, "corrects": None, "import_job_id": str(job_id),
                                 "row": planned_report.row}))
        outbox.append(events.membership_reported(organisation, SimpleNamespace(**report)))  # type: ignore[arg-type]
    await _insert(session, MembershipReport, reports)
    await _insert(session, HistoryEntry, history)
    await record_events(session, outbox, source=SOURCE)
    return {"organisations": len(organisations), "affiliations": len(affiliations),
            "membership_reports": len(reports)}


async def _insert(session: AsyncSession, table: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(table.__table__), rows)


def _history(organisation_id: uuid.UUID, action: str, actor: str, at: datetime,
             detail: dict[str, Any]) -> dict[str, Any]:
    return {"id": uuid.uuid4(), "organisation_id": organisation_id, "occurred_at": at, "action": action,
            "actor": actor, "application_id": None, "rule_set_code": None, "rule_set_revision": None,
            "detail": detail}
