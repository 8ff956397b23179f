"""The demo's national register: generated the same every time, and imported whole by the registry's bulk import
into a real database (SQLite and PostgreSQL), with every region, every tier and five years of membership."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from contracts.registry import OrganisationKind
from deploy.embedded.national_register import YEARS, generate
from services.registry.app import create_app
from services.registry.organisations.models import Affiliation, MembershipReport, Organisation
from services.registry.reference import catalogue
from services.registry.settings import RegistrySettings
from tests.support.services import RunningService, eventually, running, settings_for


@pytest.fixture
async def registry(make_database, nats_server, public_key, signer) -> AsyncIterator[RunningService]:
    settings = settings_for(RegistrySettings, database_url=await make_database("registry"),
                            nats_url=nats_server.url, public_key=public_key)
    async with running(create_app(settings), signer, "registry") as service:
        yield service


def test_the_register_is_the_same_every_time_and_fits_the_upload_limit() -> None:
    first, second = generate(), generate()
    assert first.csv_files() == second.csv_files()
    assert all(len(f) <= 900_000 for f in first.csv_files())
    assert 3_000 <= len(first.rows) <= 5_000
    assert {row.values["region_code"] for row in first.rows} == catalogue.region_codes()


def test_anchored_organisations_are_named_by_id_not_entered_again() -> None:
    anchors = {"fprk": "6d1e5f1c-6a3b-4c1f-9a55-0c6f2d3e4b5a"}
    register = generate(anchors)
    assert not any(row.values["ref"] == "fprk" for row in register.rows)
    assert sum(row.values["parent_ref"] == anchors["fprk"] for row in register.rows) >= 20


async def test_the_whole_register_imports_with_all_regions_tiers_and_years(registry: RunningService) -> None:
    register = generate()
    headers = registry.headers(roles={"registrar"}, subject="demo")
    started = time.monotonic()
    for number, content in enumerate(register.csv_files(), start=1):
        posted = await registry.client.post("/imports", headers=headers,
                                            files={"file": (f"national-{number}.csv", content, "text/csv")})
        assert posted.status_code == 202, posted.text

        async def finished(job_id: str = posted.json()["id"]) -> dict | None:
            job = (await registry.client.get(f"/imports/{job_id}", headers=headers)).json()
            return job if job["status"] in ("done", "failed") else None

        job = await eventually(finished, timeout=240, interval=0.2, what=f"file {number}")
        assert job["status"] == "done", job["report"]["problems"][:10]
    elapsed = time.monotonic() - started

    async with registry.state.sessionmaker() as session:
        organisations = await session.scalar(select(func.count()).select_from(Organisation))
        kinds = set((await session.execute(select(Organisation.kind).distinct())).scalars())
        regions = set((await session.execute(select(Organisation.region_code).distinct())).scalars())
        years = set((await session.execute(select(MembershipReport.year).distinct())).scalars())
        affiliations = await session.scalar(select(func.count()).select_from(Affiliation))
        federation = await session.scalar(select(Organisation.id).where(
            Organisation.name_ru == "Федерация профсоюзов Республики Казахстан"))
    assert organisations == len(register.rows)
    assert kinds == {k.value for k in OrganisationKind}
    assert regions == catalogue.region_codes()
    assert years == set(YEARS)
    assert affiliations >= 0.8 * organisations
    print(f"\nimported {organisations} organisations and {len(register.membership)} reports in {elapsed:.1f} s")

    shares = {}
    for year in YEARS:
        aggregate = (await registry.client.get(f"/organisations/{federation}/membership/{year}/aggregate",
                                               headers=headers)).json()
        assert 1_450_000 <= aggregate["total"] <= 1_750_000, aggregate
        assert 0.49 <= aggregate["women"] / aggregate["total"] <= 0.55
        shares[year] = aggregate["under_35"] / aggregate["total"]
    assert 0.28 <= shares[2021] <= 0.32 and 0.23 <= shares[2025] <= 0.27
    assert [shares[y] for y in YEARS] == sorted(shares.values(), reverse=True)
