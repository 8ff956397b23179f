"""Reference data: regions (KATO) and the classifier of economic activities (OKED).

The data files are checked on their own, the 0002 migration is run against real SQLite
and PostgreSQL databases, and the public endpoints are asked through the running app.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select
from sqlalchemy.engine import Connection

from kernel.db import create_engine, create_sessionmaker
from kernel.migrations import alembic_config
from kernel.problems import PROBLEM_JSON
from services.registry.app import create_app as create_registry
from services.registry.reference import catalogue, loader, service
from services.registry.reference.catalogue import LANGUAGES, RegionKind
from services.registry.reference.models import Region, SectorDivision, SectorSection
from services.registry.settings import RegistrySettings
from tests.support.services import RunningService, running, settings_for

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "registry" / "migrations"

# NACE Rev. 2: which divisions each section holds.
NACE_DIVISIONS = {
    "A": "01 02 03", "B": "05 06 07 08 09", "C": " ".join(f"{n:02d}" for n in range(10, 34)), "D": "35",
    "E": "36 37 38 39", "F": "41 42 43", "G": "45 46 47", "H": "49 50 51 52 53", "I": "55 56",
    "J": "58 59 60 61 62 63", "K": "64 65 66", "L": "68", "M": "69 70 71 72 73 74 75", "N": "77 78 79 80 81 82",
    "O": "84", "P": "85", "Q": "86 87 88", "R": "90 91 92 93", "S": "94 95 96", "T": "97 98", "U": "99",
}
CYRILLIC = re.compile(r"[А-Яа-яЁёӘәҒғҚқҢңӨөҰұҮүҺһІі]")


# --- the data files -------------------------------------------------------------------

def test_twenty_regions_seventeen_oblasts_and_three_cities():
    regions = catalogue.regions()
    assert len(regions) == 20
    assert sum(r.kind == RegionKind.oblast for r in regions) == 17
    cities = {r.code: r.name.en for r in regions if r.kind == RegionKind.city}
    assert cities == {"710000000": "Astana", "750000000": "Almaty", "790000000": "Shymkent"}
    assert len({r.code for r in regions}) == 20
    assert len({r.short_code for r in regions}) == 20


def test_region_codes_are_kato_codes_and_the_2022_oblasts_are_there():
    for region in catalogue.regions():
        assert re.fullmatch(r"[0-9]{2}0000000", region.code), region.code
        assert region.short_code == region.code[:2]
        assert (region.centre is None) == (region.kind == RegionKind.city), region.code
    by_name = {r.name.en: r.code for r in catalogue.regions()}
    assert by_name["Abai Region"] == "100000000"
    assert by_name["Jetisu Region"] == "330000000"
    assert by_name["Ulytau Region"] == "620000000"
    assert by_name["Akmola Region"] == "110000000"
    assert by_name["East Kazakhstan Region"] == "630000000"


def test_twenty_one_sections_and_eighty_eight_divisions_each_in_its_nace_section():
    sections = catalogue.sections()
    divisions = catalogue.divisions()
    assert [s.code for s in sections] == list("ABCDEFGHIJKLMNOPQRSTU")
    assert len(divisions) == 88
    assert len({d.code for d in divisions}) == 88
    held = {code: " ".join(d.code for d in divisions if d.section_code == code) for code in catalogue.section_codes()}
    assert held == NACE_DIVISIONS


def test_every_name_is_given_in_every_language():
    named = [*catalogue.regions(), *catalogue.sections(), *catalogue.divisions()]
    for entry in named:
        for language in LANGUAGES:
            assert entry.name.in_language(language).strip(), (entry.code, language)
        assert CYRILLIC.search(entry.name.kk) and CYRILLIC.search(entry.name.ru), entry.code
        assert not CYRILLIC.search(entry.name.en), entry.code
    for region in catalogue.regions():
        if region.centre is not None:
            assert all(region.centre.in_language(language).strip() for language in LANGUAGES)


def test_every_file_names_its_version_source_and_effective_date():
    for name in (catalogue.REGIONS_FILE, catalogue.CLASSIFIER_FILE):
        document = loader.read_document(name)
        assert name.startswith(document["version"])
        assert document["source"] and document["effective_from"]
    classifier_notes = " ".join(loader.read_document(catalogue.CLASSIFIER_FILE)["notes"])
    assert "Kazakh names" in classifier_notes and "checked against the official" in classifier_notes


def test_the_in_memory_checks_used_without_a_database():
    assert catalogue.is_region_code("750000000") and catalogue.is_region_code("75")
    assert not catalogue.is_region_code("510000000")  # South Kazakhstan, renamed Turkistan (61) in 2018
    assert catalogue.region("79").name.ru == "город Шымкент"
    assert catalogue.region_code_problem("620000000") is None
    assert "not the code" in catalogue.region_code_problem("990000000")
    assert "9-digit" in catalogue.region_code_problem("7")
    assert "62" in catalogue.division_codes() and "04" not in catalogue.division_codes()
    assert catalogue.division("62").section_code == "J"
    assert catalogue.division_code_problem("85") is None
    assert "not a division" in catalogue.division_code_problem("04")
    assert "2-digit" in catalogue.division_code_problem("8")


def test_an_edited_released_file_is_refused():
    with pytest.raises(loader.ReferenceDataChanged, match="never edited"):
        loader.read_document(catalogue.REGIONS_FILE, "0" * 64)


# --- the migration -----------------------------------------------------------------------

def _upgrade_to(connection: Connection, url: str, revision: str) -> None:
    config = alembic_config(MIGRATIONS, url)
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def test_revision_0002_loads_exactly_the_data_files(make_database):
    url = await make_database("registry")
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade_to, url, "0002")
        async with create_sessionmaker(engine)() as session:
            regions = (await session.execute(select(Region).order_by(Region.code))).scalars().all()
            sections = (await session.execute(select(SectorSection).order_by(SectorSection.code))).scalars().all()
            divisions = (await session.execute(select(SectorDivision).order_by(SectorDivision.code))).scalars().all()
            stored_regions = [(r.code, r.short_code, r.kind, r.name_kk, r.name_ru, r.name_en, r.centre_kk,
                               r.centre_ru, r.centre_en, r.valid_from, r.valid_to, r.classifier_version)
                              for r in regions]
            expected_regions = [(r.code, r.short_code, r.kind, r.name.kk, r.name.ru, r.name.en,
                                 *((r.centre.kk, r.centre.ru, r.centre.en) if r.centre else (None, None, None)),
                                 r.valid_from, r.valid_to, r.classifier_version)
                                for r in sorted(catalogue.regions(), key=lambda r: r.code)]
            assert stored_regions == expected_regions
            assert [(s.code, s.name_kk, s.name_ru, s.name_en, s.classifier_version) for s in sections] == [
                (s.code, s.name.kk, s.name.ru, s.name.en, s.classifier_version) for s in catalogue.sections()]
            assert [(d.code, d.section_code, d.name_kk, d.name_ru, d.name_en, d.classifier_version)
                    for d in divisions] == [
                (d.code, d.section_code, d.name.kk, d.name.ru, d.name.en, d.classifier_version)
                for d in sorted(catalogue.divisions(), key=lambda d: d.code)]
            assert {r.classifier_version for r in regions} == {"regions-2022"}
            assert {d.classifier_version for d in divisions} == {"oked-2019"}

            # The checks other registry code makes through a session agree with the in-memory ones.
            assert await service.is_region_code(session, "710000000")
            assert await service.is_region_code(session, "33")
            assert not await service.is_region_code(session, "510000000")
            assert await service.region_codes(session) == set(catalogue.region_codes())
            assert await service.division_codes(session) == set(catalogue.division_codes())
    finally:
        await engine.dispose()


# --- the public endpoints ------------------------------------------------------------------

@pytest.fixture
async def registry(make_database, nats_server, signer, public_key):
    settings = settings_for(RegistrySettings, database_url=await make_database("registry"),
                            nats_url=nats_server.url, public_key=public_key)
    async with running(create_registry(settings), signer, "registry") as started:
        yield started


async def test_regions_are_public_with_all_three_names(registry: RunningService):
    response = await registry.client.get("/regions")  # no identity header: public
    assert response.status_code == 200, response.text
    regions = response.json()
    assert len(regions) == 20
    assert [r["code"] for r in regions] == sorted(r["code"] for r in regions)
    almaty = next(r for r in regions if r["code"] == "750000000")
    assert almaty == {
        "code": "750000000", "short_code": "75", "kind": "city",
        "name_kk": "Алматы қаласы", "name_ru": "город Алматы", "name_en": "Almaty",
        "centre_kk": None, "centre_ru": None, "centre_en": None,
        "valid_from": "2022-09-17", "valid_to": None, "classifier_version": "regions-2022",
    }
    cities = (await registry.client.get("/regions", params={"kind": "city"})).json()
    assert {r["name_en"] for r in cities} == {"Astana", "Almaty", "Shymkent"}


async def test_one_region_by_code_or_short_code_in_one_language(registry: RunningService):
    full = await registry.client.get("/regions/620000000", params={"lang": "kk"})
    assert full.status_code == 200, full.text
    body = full.json()
    assert (body["name_kk"], body["name_ru"], body["name_en"]) == ("Ұлытау облысы", None, None)
    assert (body["centre_kk"], body["centre_ru"]) == ("Жезқазған", None)
    short = await registry.client.get("/regions/62")
    assert short.status_code == 200
    assert short.json()["name_en"] == "Ulytau Region" and short.json()["name_ru"] == "Область Ұлытау"


async def test_sectors_are_sections_with_their_divisions(registry: RunningService):
    response = await registry.client.get("/sectors")
    assert response.status_code == 200, response.text
    sections = response.json()
    assert [s["code"] for s in sections] == list("ABCDEFGHIJKLMNOPQRSTU")
    assert sum(len(s["divisions"]) for s in sections) == 88
    assert {s["code"]: " ".join(d["code"] for d in s["divisions"]) for s in sections} == NACE_DIVISIONS
    assert all(d["section_code"] == s["code"] for s in sections for d in s["divisions"])
    english = (await registry.client.get("/sectors", params={"lang": "en"})).json()
    education = next(s for s in english if s["code"] == "P")
    assert (education["name_en"], education["name_ru"], education["name_kk"]) == ("Education", None, None)
    assert education["divisions"][0]["name_en"] == "Education"


async def test_one_division_with_its_section(registry: RunningService):
    response = await registry.client.get("/sectors/divisions/62", params={"lang": "ru"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["code"] == "62" and body["section_code"] == "J"
    assert body["name_ru"].startswith("Компьютерное программирование") and body["name_en"] is None
    assert body["section"] == {"code": "J", "name_kk": None, "name_ru": "Информация и связь", "name_en": None,
                               "classifier_version": "oked-2019"}


@pytest.mark.parametrize("path", ["/regions/999999999", "/regions/51", "/sectors/divisions/04"])
async def test_an_unknown_code_is_404_problem_json(registry: RunningService, path: str):
    response = await registry.client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body["status"] == 404 and body["type"].endswith("/not-found") and body["instance"] == path


async def test_an_unknown_language_is_a_validation_problem(registry: RunningService):
    response = await registry.client.get("/regions", params={"lang": "de"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert response.json()["errors"][0]["pointer"] == "query:/lang"
