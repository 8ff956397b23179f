"""The public register over HTTP, on a real database (SQLite and PostgreSQL) and a real nats-server.

Anyone may search it by a fragment of any of the names, in any case and in Cyrillic, filter
it, page through it and download it as CSV or JSON; applicants and refused applicants are
never in it, whatever the filters.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator

import pytest

from kernel.db import create_engine, create_sessionmaker
from kernel.problems import PROBLEM_JSON
from services.registry.app import create_app
from services.registry.organisations.models import Organisation
from services.registry.organisations.rules import make_bin
from services.registry.register.rules import csv_cell, normalise, search_text
from services.registry.register.schemas import CSV_COLUMNS
from services.registry.settings import RegistrySettings
from tests.support.services import RunningService, running, settings_for

ALMATY, ASTANA, KARAGANDA = "750000000", "710000000", "350000000"
EMPLOYER_BIN = next(b for n in range(100) if (b := make_bin(f"040540{n:05}")))
DOCUMENTS = ["application_form", "charter", "founding_congress_minutes", "elected_bodies_decision",
             "legal_address_document"]


@pytest.fixture
async def registry(make_database, nats_server, public_key, signer) -> AsyncIterator[RunningService]:
    settings = settings_for(RegistrySettings, database_url=await make_database("registry"),
                            nats_url=nats_server.url, public_key=public_key)
    async with running(create_app(settings), signer, "registry") as service:
        yield service


def test_names_are_folded_for_search_in_every_alphabet() -> None:
    assert normalise("  ҚАЗАҚСТАН   Мұнай ") == "қазақстан мұнай"
    assert normalise("ЁЛКА") == "елка"
    assert search_text("Құрылысшылар", "Строители", None) == "құрылысшылар\nстроители"
    assert csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and csv_cell(None) == "" and csv_cell(3) == "3"


async def _enter(registry: RunningService, **body: object) -> dict:
    staff = registry.headers(roles={"registrar"})
    response = await registry.client.post("/organisations", headers=staff, json=body)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
async def register(registry: RunningService) -> dict[str, dict]:
    """Five public organisations, one applicant and one refused applicant."""
    staff = registry.headers(roles={"registrar"})
    found = {
        "federation": await _enter(registry, kind="republican_union_association",
                                   name_kk="Қазақстан кәсіподақтары федерациясы",
                                   name_ru="Федерация профсоюзов Республики Казахстан",
                                   name_en="Federation of Trade Unions of Kazakhstan", region_code=ASTANA,
                                   sectors=["84"]),
        "oil": await _enter(registry, kind="sectoral_union", name_kk="Мұнайшылар салалық кәсіподағы",
                            name_ru="Отраслевой профсоюз нефтяников", region_code=ASTANA, sectors=["06", "09"],
                            officers=[{"role": "chair", "name": "Ә. Жұмабаев"}]),
        "teachers": await _enter(registry, kind="local_union", name_kk="Алматы мұғалімдерінің кәсіподағы",
                                 name_ru="Профсоюз учителей Алматы", region_code=ALMATY, sectors=["85"],
                                 legal_address="=cmd|' /C calc'!A0"),
        "miners": await _enter(registry, kind="local_union", name_kk="Қарағанды кеншілер кәсіподағы",
                               name_ru="Профсоюз горняков Ёлочный", region_code=KARAGANDA, sectors=["05", "09"]),
        "employer": await _enter(registry, kind="employer", name_kk="Мұнай-газ ЖШС", name_ru="ТОО Нефтегаз",
                                 bin=EMPLOYER_BIN, region_code=ASTANA, sectors=["06"]),
    }
    joined = await registry.client.put(f"/organisations/{found['teachers']['id']}/affiliation", headers=staff,
                                       json={"parent_id": found["federation"]["id"], "valid_from": "2024-01-10"})
    assert joined.status_code == 200, joined.text
    applicant = await registry.client.post("/registrations", headers=staff, json={
        "kind": "local_union", "name_kk": "Мұнайшылар бастауыш ұйымы", "name_ru": "Первичка нефтяников заявитель",
        "region_code": ASTANA, "sectors": ["06"], "founders": 12, "documents": DOCUMENTS})
    refused = await registry.client.post("/registrations", headers=staff, json={
        "kind": "local_union", "name_kk": "Мұнайшылар қабылданбаған", "name_ru": "Нефтяники отказные",
        "region_code": ASTANA, "sectors": ["06"], "founders": 2, "documents": ["charter"]})
    decision = await registry.client.post(f"/registrations/{refused.json()['id']}/decision", headers=staff,
                                          json={"outcome": "refuse"})
    assert applicant.status_code == 201 and decision.status_code == 200, decision.text
    found["applicant"] = {"id": applicant.json()["organisation_id"]}
    found["refused"] = {"id": refused.json()["organisation_id"]}
    return found


async def _names(registry: RunningService, query: str) -> list[str]:
    response = await registry.client.get(f"/organisations?{query}")
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == len(page["items"]) or "limit=" in query
    return [o["name_ru"] for o in page["items"]]


async def test_a_fragment_of_any_name_finds_it_in_either_case(registry: RunningService,
                                                               register: dict[str, dict]) -> None:
    assert await _names(registry, "q=НЕФТЯН") == ["Отраслевой профсоюз нефтяников"]
    assert await _names(registry, "q=нефтян") == ["Отраслевой профсоюз нефтяников"]
    # Kazakh letters fold too, and a fragment matches the Kazakh name of every organisation that has it.
    assert await _names(registry, "q=МҰНАЙ") == ["Отраслевой профсоюз нефтяников", "ТОО Нефтегаз"]
    assert await _names(registry, "q=federation") == ["Федерация профсоюзов Республики Казахстан"]
    assert await _names(registry, "q=елочн") == ["Профсоюз горняков Ёлочный"]
    # Sorted by the Russian name; a % or _ in the fragment is a letter, not a wildcard.
    assert await _names(registry, "q=профсоюз") == ["Отраслевой профсоюз нефтяников", "Профсоюз горняков Ёлочный",
                                                   "Профсоюз учителей Алматы",
                                                   "Федерация профсоюзов Республики Казахстан"]
    assert await _names(registry, "q=%25%25") == []
    assert await _names(registry, "q=__") == []
    short = await registry.client.get("/organisations?q=%D0%B0")
    assert short.status_code == 422 and short.headers["content-type"].startswith(PROBLEM_JSON)
    assert short.json()["errors"][0] == {"pointer": "query:/q", "rule": "min_fragment",
                                         "detail": "a name fragment has at least 2 letters"}


async def test_each_filter_and_their_combination(registry: RunningService, register: dict[str, dict]) -> None:
    assert await _names(registry, "kind=local_union") == ["Профсоюз горняков Ёлочный", "Профсоюз учителей Алматы"]
    assert await _names(registry, "kind=local_union&kind=employer") == [
        "Профсоюз горняков Ёлочный", "Профсоюз учителей Алматы", "ТОО Нефтегаз"]
    assert await _names(registry, f"region_code={ASTANA}") == [
        "Отраслевой профсоюз нефтяников", "ТОО Нефтегаз", "Федерация профсоюзов Республики Казахстан"]
    assert await _names(registry, "sector=09") == ["Отраслевой профсоюз нефтяников", "Профсоюз горняков Ёлочный"]
    assert await _names(registry, f"parent_id={register['federation']['id']}") == ["Профсоюз учителей Алматы"]
    assert await _names(registry, f"q=мұнай&kind=sectoral_union&region_code={ASTANA}&sector=06") == [
        "Отраслевой профсоюз нефтяников"]
    assert await _names(registry, "status=registered&q=горняк") == ["Профсоюз горняков Ёлочный"]
    assert await _names(registry, "status=liquidated") == []
    assert await _names(registry, "sort=name_kk&kind=local_union") == [
        "Профсоюз учителей Алматы", "Профсоюз горняков Ёлочный"]
    for bad, pointer in (("region_code=123", "query:/region_code"), ("sector=34", "query:/sector"),
                         ("kind=guild", "query:/kind/0"), ("status=applicant", "query:/status/0"),
                         ("status=refused", "query:/status/0")):
        response = await registry.client.get(f"/organisations?{bad}")
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["pointer"] == pointer, response.json()


async def test_paging_keeps_the_total(registry: RunningService, register: dict[str, dict]) -> None:
    pages = [(await registry.client.get(f"/organisations?limit=2&offset={offset}")).json()
             for offset in (0, 2, 4, 6)]
    assert [p["total"] for p in pages] == [5, 5, 5, 5]
    assert [len(p["items"]) for p in pages] == [2, 2, 1, 0]
    assert len({o["id"] for p in pages for o in p["items"]}) == 5
    searched = (await registry.client.get("/organisations?q=профсоюз&limit=1&offset=3")).json()
    assert searched["total"] == 4 and searched["items"][0]["name_ru"] == "Федерация профсоюзов Республики Казахстан"
    beyond = (await registry.client.get("/organisations?q=профсоюз&limit=1&offset=10")).json()
    assert beyond == {"items": [], "total": 4}


async def test_applicants_and_refusals_are_never_listed_or_exported(registry: RunningService,
                                                                    register: dict[str, dict]) -> None:
    hidden = {register["applicant"]["id"], register["refused"]["id"]}
    for query in ("", "q=нефтян", "q=мұнайшылар", f"region_code={ASTANA}&kind=local_union", "sector=06"):
        listed = (await registry.client.get(f"/organisations?{query}")).json()
        assert not hidden & {o["id"] for o in listed["items"]}, query
        exported = json.loads((await registry.client.get(f"/organisations/export.json?{query}")).content)
        assert not hidden & {o["id"] for o in exported}, query
        rows = list(csv.DictReader(io.StringIO((await registry.client.get(
            f"/organisations/export.csv?{query}")).text)))
        assert not hidden & {r["id"] for r in rows}, query
    # Their names are not searchable either.
    assert (await registry.client.get("/organisations?q=заявитель")).json() == {"items": [], "total": 0}
    assert (await registry.client.get("/organisations?q=отказные")).json() == {"items": [], "total": 0}


async def test_renaming_and_reapplying_keep_the_search_current(registry: RunningService,
                                                               register: dict[str, dict]) -> None:
    staff = registry.headers(roles={"registrar"})
    oil = register["oil"]
    renamed = await registry.client.patch(f"/organisations/{oil['id']}", headers={**staff, "If-Match": '"1"'},
                                          json={"name_ru": "Профсоюз работников нефтегазового комплекса"})
    assert renamed.status_code == 200, renamed.text
    assert await _names(registry, "q=нефтегазов") == ["Профсоюз работников нефтегазового комплекса"]
    assert await _names(registry, "q=отраслевой") == []
    # A refused applicant that re-applies under a new name is found under it once registered.
    refused = register["refused"]["id"]
    union = registry.headers(organisation_id=refused, roles={"union"})
    again = await registry.client.post("/registrations", headers=union, json={
        "organisation_id": refused, "kind": "local_union", "name_kk": "Жаңа мұнайшылар кәсіподағы",
        "name_ru": "Новый профсоюз нефтяников", "region_code": ASTANA, "founders": 12, "documents": DOCUMENTS})
    assert again.status_code == 201, again.text
    decided = await registry.client.post(f"/registrations/{again.json()['id']}/decision", headers=staff,
                                         json={"outcome": "register"})
    assert decided.status_code == 200, decided.text
    assert await _names(registry, "q=жаңа") == ["Новый профсоюз нефтяников"]


async def test_csv_export_has_a_header_and_the_public_particulars(registry: RunningService,
                                                                  register: dict[str, dict]) -> None:
    response = await registry.client.get(f"/organisations/export.csv?region_code={ASTANA}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="register.csv"'
    assert not response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    records = [dict(zip(CSV_COLUMNS, r, strict=True)) for r in rows[1:]]
    assert [r["name_ru"] for r in records] == [
        "Отраслевой профсоюз нефтяников", "ТОО Нефтегаз", "Федерация профсоюзов Республики Казахстан"]
    oil = records[0]
    assert oil["id"] == register["oil"]["id"] and oil["kind"] == "sectoral_union"
    assert oil["name_kk"] == "Мұнайшылар салалық кәсіподағы" and oil["status"] == "registered"
    assert oil["sectors"] == "06;09" and oil["officers"] == "chair: Ә. Жұмабаев" and oil["region_code"] == ASTANA
    assert records[1]["bin"] == EMPLOYER_BIN
    # With a byte-order mark for Excel; a cell that a spreadsheet would run as a formula is quoted as text.
    teachers = await registry.client.get("/organisations/export.csv?q=учител&bom=true")
    assert teachers.content.startswith(b"\xef\xbb\xbf")
    record = dict(zip(CSV_COLUMNS, list(csv.reader(io.StringIO(teachers.content.decode("utf-8-sig"))))[1],
                      strict=True))
    assert record["legal_address"] == "'=cmd|' /C calc'!A0"
    assert record["parent_id"] == register["federation"]["id"]


async def test_json_export_matches_the_list(registry: RunningService, register: dict[str, dict]) -> None:
    response = await registry.client.get("/organisations/export.json?kind=local_union&kind=sectoral_union")
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    exported = json.loads(response.content)
    listed = (await registry.client.get("/organisations?kind=local_union&kind=sectoral_union")).json()["items"]
    assert exported == listed
    assert (await registry.client.get("/organisations/export.json?q=нет такого")).json() == []
    bad = await registry.client.get("/organisations/export.json?kind=guild")
    assert bad.status_code == 422 and bad.headers["content-type"].startswith(PROBLEM_JSON)


async def test_exports_page_through_many_organisations(registry: RunningService) -> None:
    # Written straight to the database: the export's batches, not the entry route, are under test here.
    async with registry.state.sessionmaker() as session:
        session.add_all(Organisation(kind="primary_union_organisation", name_kk=f"Бастауыш ұйым {n:04}",
                                     name_ru=f"Первичная организация {n:04}", status="registered",
                                     search_name=search_text(f"Бастауыш ұйым {n:04}", f"Первичная организация {n:04}",
                                                             None))
                        for n in range(1203))
        await session.commit()
    exported = json.loads((await registry.client.get("/organisations/export.json")).content)
    assert [o["name_ru"] for o in exported] == [f"Первичная организация {n:04}" for n in range(1203)]
    rows = list(csv.reader(io.StringIO((await registry.client.get("/organisations/export.csv?q=ұйым 11")).text)))
    assert [r[3] for r in rows[1:]] == [f"Первичная организация {n:04}" for n in range(1100, 1200)]


async def test_writes_by_another_connection_are_found_too(registry: RunningService,
                                                          register: dict[str, dict]) -> None:
    # On SQLite the first search builds the connection's trigram index; a row written through
    # another connection (another process, a loader) must still be found afterwards.
    assert await _names(registry, "q=сталевар") == []
    engine = create_engine(registry.state.settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            session.add(Organisation(kind="local_union", name_kk="Болат құюшылар кәсіподағы",
                                     name_ru="Профсоюз сталеваров", status="registered",
                                     search_name=search_text("Болат құюшылар кәсіподағы", "Профсоюз сталеваров", None)))
            await session.commit()
    finally:
        await engine.dispose()
    assert await _names(registry, "q=СТАЛЕВАР") == ["Профсоюз сталеваров"]
    assert await _names(registry, "q=құюшы") == ["Профсоюз сталеваров"]
