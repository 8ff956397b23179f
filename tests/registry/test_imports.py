"""Bulk import of an existing register over HTTP, on a real database (SQLite and PostgreSQL) and a real nats-server.

A good CSV and a good XLSX enter every organisation with its affiliations and membership; a file with
one bad row among many writes nothing and its report names the row and the column; a job left half-done
by a crash is done again; only registrars may import; an oversize file is refused with a problem.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select

from contracts.registry import MembershipReported, OrganisationRegistered
from kernel.outbox import OutboxMessage
from kernel.problems import PROBLEM_JSON
from services.registry.app import create_app
from services.registry.imports.models import ImportJob, ImportStatus
from services.registry.imports.routes import import_settings
from services.registry.imports.rules import COLUMNS
from services.registry.imports.settings import ImportSettings
from services.registry.organisations.models import (
    Affiliation,
    HistoryEntry,
    MembershipReport,
    Organisation,
    OrganisationSector,
)
from services.registry.organisations.rules import make_bin
from services.registry.settings import RegistrySettings
from tests.support.services import RunningService, eventually, running, settings_for

ALMATY, ASTANA, KARAGANDA = "750000000", "710000000", "350000000"
TABLES = (Organisation, OrganisationSector, Affiliation, HistoryEntry, MembershipReport, OutboxMessage)


@pytest.fixture
async def registry(make_database, nats_server, public_key, signer) -> AsyncIterator[RunningService]:
    settings = settings_for(RegistrySettings, database_url=await make_database("registry"),
                            nats_url=nats_server.url, public_key=public_key)
    async with running(create_app(settings), signer, "registry") as service:
        yield service


def registrar(service: RunningService) -> dict[str, str]:
    return service.headers(roles={"registrar"}, subject="registrar-1")


def bins(count: int, start: int = 0) -> list[str]:
    found = []
    serial = 100_000 + start
    while len(found) < count:
        if (value := make_bin(f"0801{4}{serial:06d}")) is not None:
            found.append(value)
        serial += 1
    return found


def register_rows(employers: int = 30) -> list[dict[str, Any]]:
    """A small national register: a federation, a sectoral union, a local union, primary organisations at
    employers, an employers' association, and membership for two years."""
    rows: list[dict[str, Any]] = [
        {"kind": "republican_union_association", "name_kk": "Кәсіподақтар федерациясы",
         "name_ru": "Федерация профсоюзов", "region_code": ASTANA, "ref": "federation",
         "registered_on": "1992-05-01", "status": "confirmed"},
        {"kind": "sectoral_union", "name_kk": "Металлургтер кәсіподағы", "name_ru": "Профсоюз металлургов",
         "region_code": KARAGANDA, "sectors": "24;07", "parent_ref": "federation", "ref": "metal",
         "registered_on": "1995-01-10"},
        {"kind": "local_union", "name_kk": "Қарағанды металлургтері", "name_ru": "Металлурги Караганды",
         "region_code": KARAGANDA, "sectors": "24", "parent_ref": "metal", "ref": "metal-krg",
         "registered_on": "2001-03-03"},
        {"kind": "republican_employer_association", "name_kk": "Жұмыс берушілер палатасы",
         "name_ru": "Палата работодателей", "region_code": ASTANA, "ref": "chamber", "registered_on": "2000-01-01"},
    ]
    for i, bin_value in enumerate(bins(employers)):
        rows.append({"kind": "employer", "name_kk": f"«Болат {i}» ЖШС", "name_ru": f"ТОО «Болат {i}»",
                     "bin": bin_value, "region_code": KARAGANDA, "sectors": "24", "parent_ref": "chamber",
                     "registered_on": "2010-06-01"})
        rows.append({"kind": "primary_union_organisation", "name_kk": f"«Болат {i}» кәсіподақ ұйымы",
                     "name_ru": f"Профсоюзная организация ТОО «Болат {i}»", "region_code": KARAGANDA,
                     "parent_ref": "metal-krg", "ref": f"puo-{i}", "registered_on": "2011-01-01",
                     "membership_year": "2024", "members_total": str(100 + i), "members_women": "50",
                     "members_under_35": "30"})
        rows.append({"ref": f"puo-{i}", "membership_year": "2025", "members_total": str(90 + i),
                     "members_women": "45", "members_under_35": "25"})
    return rows


def to_csv(rows: list[dict[str, Any]], delimiter: str = ",") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, delimiter=delimiter, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(rows: list[dict[str, Any]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(COLUMNS))
    for row in rows:
        values: list[Any] = [row.get(c) for c in COLUMNS]
        for numeric in ("members_total", "members_women", "members_under_35", "membership_year"):
            index = COLUMNS.index(numeric)
            if values[index] is not None:
                values[index] = int(values[index])  # as a spreadsheet holds them
        sheet.append(values)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


async def upload(service: RunningService, content: bytes, name: str = "register.csv",
                 headers: dict[str, str] | None = None) -> Any:
    return await service.client.post("/imports", files={"file": (name, content, "application/octet-stream")},
                                     headers=registrar(service) if headers is None else headers)


async def finished(service: RunningService, job_id: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        job = (await service.client.get(f"/imports/{job_id}", headers=registrar(service))).json()
        return job if job["status"] in ("done", "failed") else None

    return await eventually(check, timeout=60, what=f"import job {job_id} to finish")


async def counts(service: RunningService) -> dict[str, int]:
    async with service.state.sessionmaker() as session:
        return {t.__tablename__: int(await session.scalar(select(func.count()).select_from(t)) or 0)
                for t in TABLES}


async def assert_imported(service: RunningService, job: dict[str, Any], employers: int) -> None:
    assert job["status"] == "done", job
    assert job["rows_done"] == job["rows_total"] == 4 + 3 * employers
    assert job["report"] == {"problems": [], "organisations": 4 + 2 * employers,
                             "affiliations": 2 + 2 * employers, "membership_reports": 2 * employers, "error": None}
    page = (await service.client.get("/organisations", params={"kind": "sectoral_union"})).json()
    metal = page["items"][0]
    assert metal["sectors"] == ["07", "24"] and metal["parent_id"] is not None
    aggregate = (await service.client.get(f"/organisations/{metal['id']}/membership/2024/aggregate",
                                         headers=registrar(service))).json()
    assert aggregate["total"] == sum(100 + i for i in range(employers))
    assert aggregate["reporting"] == employers
    async with service.state.sessionmaker() as session:
        registered = await session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.type == OrganisationRegistered.event_type))
        reported = await session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.type == MembershipReported.event_type))
        imported = await session.scalar(select(func.count()).select_from(HistoryEntry).where(
            HistoryEntry.action == "imported"))
        confirmed = await session.scalar(select(Organisation.status)
                                         .where(Organisation.name_ru == "Федерация профсоюзов"))
    assert registered == imported == 4 + 2 * employers
    assert reported == 2 * employers
    assert confirmed == "confirmed"


async def test_a_good_csv_imports_everything_with_affiliations_and_membership(registry: RunningService) -> None:
    posted = await upload(registry, to_csv(register_rows(30), delimiter=";"))
    assert posted.status_code == 202, posted.text
    assert posted.headers["location"] == f"imports/{posted.json()['id']}"
    assert posted.json()["status"] == "queued"
    await assert_imported(registry, await finished(registry, posted.json()["id"]), 30)
    listed = (await registry.client.get("/imports", headers=registrar(registry))).json()
    assert listed["total"] == 1 and listed["items"][0]["filename"] == "register.csv"


async def test_a_good_xlsx_imports_everything(registry: RunningService) -> None:
    posted = await upload(registry, to_xlsx(register_rows(12)), name="register.xlsx")
    assert posted.status_code == 202, posted.text
    await assert_imported(registry, await finished(registry, posted.json()["id"]), 12)


async def test_one_bad_row_among_many_writes_nothing_and_is_named(registry: RunningService) -> None:
    rows = register_rows(200)
    bad = rows[301]  # an employer, in the middle
    assert bad["kind"] == "employer"
    bad["region_code"] = "990000000"
    before = await counts(registry)
    job = await finished(registry, (await upload(registry, to_csv(rows))).json()["id"])
    assert job["status"] == "failed"
    assert job["rows_done"] == job["rows_total"] == len(rows)
    assert job["report"]["problems"] == [{"row": 303, "column": "region_code", "rule": "known_region",
                                          "detail": job["report"]["problems"][0]["detail"]}]
    assert "990000000" in job["report"]["problems"][0]["detail"]
    assert await counts(registry) == before


async def test_every_problem_of_every_row_is_reported(registry: RunningService) -> None:
    existing = bins(1, start=5000)[0]
    created = await registry.client.post("/organisations", headers=registrar(registry), json={
        "kind": "employer", "name_kk": "Бар кәсіпорын", "name_ru": "Существующее предприятие", "bin": existing})
    assert created.status_code == 201, created.text
    good_bin = bins(1, start=6000)[0]
    rows = [
        {"kind": "employer", "name_kk": "Бір", "name_ru": "Один", "bin": good_bin},
        {"kind": "employer", "name_kk": "Екі", "name_ru": "Два", "bin": good_bin},  # same BIN as row 2
        {"kind": "employer", "name_kk": "Үш", "name_ru": "Три", "bin": existing},  # already registered
        {"kind": "employer", "name_kk": "Төрт", "name_ru": "Четыре", "bin": good_bin[:11] + "0"
         if good_bin[11] != "0" else good_bin[:11] + "1", "sectors": "24 00"},
        {"kind": "primary_union_organisation", "name_kk": "Бес", "name_ru": "Пять", "parent_ref": good_bin,
         "membership_year": "2024", "members_total": "10", "members_women": "11", "members_under_35": "3"},
        {"kind": "employer", "name_kk": "Алты", "name_ru": "Шесть"},
        {"kind": "planet", "name_kk": "Жеті", "name_ru": "Семь", "status": "refused", "registered_on": "2099-01-01"},
    ]
    before = await counts(registry)
    job = await finished(registry, (await upload(registry, to_csv(rows))).json()["id"])
    assert job["status"] == "failed"
    found = [(p["row"], p["column"], p["rule"]) for p in job["report"]["problems"]]
    assert found == [
        (3, "bin", "unique_in_file"),
        (4, "bin", "unique"),
        (5, "bin", "bin_check"),
        (5, "sectors", "known_division"),
        (6, "parent_ref", "allowed_tier"),
        (6, "members_women", "not_more_than_total"),
        (7, "bin", "required_for_employer"),
        (8, "kind", "enum"),
        (8, "status", "importable_status"),
        (8, "registered_on", "not_in_future"),
    ]
    assert await counts(registry) == before


async def test_a_header_with_an_unknown_column_is_refused(registry: RunningService) -> None:
    posted = await upload(registry, b"kind,name_kk,name_ru,colour\nemployer,a,b,red\n")
    job = await finished(registry, posted.json()["id"])
    assert job["status"] == "failed"
    assert [(p["row"], p["column"], p["rule"]) for p in job["report"]["problems"]] == [(1, "colour", "known_column")]


async def test_a_job_left_half_done_by_a_crash_is_done_again(registry: RunningService) -> None:
    # As a crashed worker leaves it: importing, its lease long run out, nothing written (one transaction).
    async with registry.state.sessionmaker() as session:
        job = ImportJob(filename="crashed.csv", content=to_csv(register_rows(5)), size_bytes=1, created_by="staff:x",
                        status=ImportStatus.importing, lease_owner="worker-dead", attempts=1,
                        lease_until=datetime.now(UTC) - timedelta(minutes=5))
        session.add(job)
        await session.commit()
    done = await finished(registry, str(job.id))
    assert done["attempts"] == 2
    await assert_imported(registry, done, 5)


async def test_a_job_that_stopped_too_often_is_failed_not_taken_up_forever(registry: RunningService) -> None:
    # Each lease ran out without the job finishing (a worker that crashed on it, or failed with an error it could
    # not report): the fifth time it is ended with a report, not claimed again every minute forever.
    before = await counts(registry)
    stale = datetime.now(UTC) - timedelta(minutes=5)
    async with registry.state.sessionmaker() as session:
        worn = ImportJob(filename="worn.csv", content=to_csv(register_rows(3)), size_bytes=1, created_by="staff:x",
                         status=ImportStatus.validating, lease_owner="worker-dead", attempts=5, lease_until=stale)
        again = ImportJob(filename="again.csv", content=to_csv(register_rows(2)), size_bytes=1, created_by="staff:x",
                          status=ImportStatus.importing, lease_owner="worker-dead", attempts=4, lease_until=stale)
        session.add_all([worn, again])
        await session.commit()
    failed = await finished(registry, str(worn.id))
    assert failed["status"] == "failed" and failed["attempts"] == 5
    assert "stopped 5 times" in failed["report"]["error"] and failed["report"]["problems"] == []
    done = await finished(registry, str(again.id))
    assert done["attempts"] == 5
    await assert_imported(registry, done, 2)
    after = await counts(registry)  # the worn job wrote nothing: only what the other one reports
    assert after["organisation"] - before["organisation"] == done["report"]["organisations"]


async def test_only_registrars_import(registry: RunningService) -> None:
    analyst = registry.headers(roles={"analyst"})
    union = registry.headers(organisation_id=str(uuid.uuid4()), roles={"union", "registrar"})
    for headers in (analyst, union):
        answer = await upload(registry, to_csv(register_rows(1)), headers=headers)
        assert answer.status_code == 403, answer.text
        assert answer.headers["content-type"] == PROBLEM_JSON
    assert (await registry.client.get("/imports", headers=analyst)).status_code == 403
    missing = await registry.client.get(f"/imports/{uuid.uuid4()}", headers=registrar(registry))
    assert missing.status_code == 404
    template = await registry.client.get("/imports/template.csv")
    assert template.status_code == 200 and template.text.strip() == ",".join(COLUMNS)


async def test_an_oversize_file_is_refused_with_a_problem(registry: RunningService) -> None:
    registry.app.dependency_overrides[import_settings] = lambda: ImportSettings(max_file_bytes=1000)
    try:
        before = await counts(registry)
        answer = await upload(registry, to_csv(register_rows(20)))
        assert answer.status_code == 413
        assert answer.headers["content-type"] == PROBLEM_JSON
        body = answer.json()
        assert body["type"].endswith("/payload-too-large") and body["limit_bytes"] == 1000
        assert "1000 bytes" in body["detail"]
        async with registry.state.sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(ImportJob)) == 0
        assert await counts(registry) == before
    finally:
        registry.app.dependency_overrides.clear()


async def test_progress_moves_to_done(registry: RunningService) -> None:
    posted = await upload(registry, to_csv(register_rows(400)))
    seen: set[tuple[str, int]] = set()

    async def check() -> bool:
        job = (await registry.client.get(f"/imports/{posted.json()['id']}", headers=registrar(registry))).json()
        seen.add((job["status"], job["rows_done"]))
        return job["status"] == "done"

    await eventually(check, timeout=60, interval=0.01, what="the import to finish")
    assert ("done", 4 + 3 * 400) in seen
    assert {status for status, _ in seen} - {"queued", "validating", "importing", "done"} == set()
