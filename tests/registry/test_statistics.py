"""Public statistics of the register on a small known data set, on a real database (SQLite and
PostgreSQL) and a real nats-server: every figure is checked exactly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kernel.calendar import kazakhstan_today
from kernel.problems import PROBLEM_JSON
from services.registry.app import create_app
from services.registry.organisations.rules import make_bin
from services.registry.settings import RegistrySettings
from services.registry.statistics.rules import density, median, percentile, share
from tests.support.services import RunningService, running, settings_for

ALMATY, ASTANA = "750000000", "710000000"
DOCUMENTS = ["application_form", "charter", "founding_congress_minutes", "elected_bodies_decision",
             "legal_address_document"]
EMPLOYER_BIN = next(b for n in range(100) if (b := make_bin(f"040540{n:05}")))


@pytest.fixture
async def registry(make_database, nats_server, public_key, signer) -> AsyncIterator[RunningService]:
    settings = settings_for(RegistrySettings, database_url=await make_database("registry"),
                            nats_url=nats_server.url, public_key=public_key)
    async with running(create_app(settings), signer, "registry") as service:
        yield service


def test_the_arithmetic() -> None:
    assert share(190, 400) == 47.5 and share(1, 3) == 33.3 and share(5, 0) is None
    assert density(400, 8000) == 5.0 and density(1, 0) is None
    assert median({24: 1, 1: 1}) == 12.5 and median({7: 3}) == 7 and median({}) is None
    assert median({1: 1, 7: 1, 20: 1}) == 7
    assert percentile({1: 1, 7: 1, 20: 1, 24: 1}, 90) == 24 and percentile({5: 10}, 90) == 5
    assert percentile({d: 1 for d in range(1, 11)}, 90) == 9 and percentile({}, 90) is None


class Register:
    def __init__(self, registry: RunningService) -> None:
        self.registry = registry
        self.staff = registry.headers(roles={"registrar"}, subject="registrar-1")

    async def enter(self, **body: object) -> str:
        response = await self.registry.client.post("/organisations", headers=self.staff, json=body)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    async def report(self, organisation_id: str, year: int, **counts: object) -> None:
        response = await self.registry.client.put(f"/organisations/{organisation_id}/membership/{year}",
                                                  headers=self.staff, json=counts)
        assert response.status_code == 200, response.text

    async def file(self, **overrides: object) -> dict:
        body = {"kind": "local_union", "name_kk": "Кәсіподақ", "name_ru": "Профсоюз", "region_code": ALMATY,
                "sectors": ["41"], "founders": 12, "documents": DOCUMENTS, **overrides}
        response = await self.registry.client.post("/registrations", headers=self.staff, json=body)
        assert response.status_code == 201, response.text
        return response.json()

    async def decide(self, application_id: str, **decision: object) -> dict:
        response = await self.registry.client.post(f"/registrations/{application_id}/decision", headers=self.staff,
                                                   json=decision)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
async def known(registry: RunningService) -> Register:
    r = Register(registry)
    a = await r.enter(kind="local_union", name_kk="А кәсіподағы", name_ru="Профсоюз А", region_code=ALMATY,
                      sectors=["85"])
    b = await r.enter(kind="primary_union_organisation", name_kk="Б ұйымы", name_ru="Первичка Б",
                      region_code=ASTANA, sectors=["85"])
    c = await r.enter(kind="sectoral_union", name_kk="В салалық", name_ru="Отраслевой В", region_code=ASTANA,
                      sectors=["85", "86"])
    d = await r.enter(kind="republican_employer_association", name_kk="Атамекен", name_ru="Атамекен",
                      region_code=ASTANA)
    e = await r.enter(kind="employer", name_kk="ЖШС", name_ru="ТОО", bin=EMPLOYER_BIN, sectors=["06"])
    await r.report(a, 2023, total=100, women=60, under_35=30, by_region={ALMATY: 100})
    await r.report(a, 2024, total=120, women=70, under_35=40)
    await r.report(b, 2024, total=80, women=20, under_35=50, by_region={ASTANA: 50, ALMATY: 30})
    await r.report(c, 2024, total=200, women=100, under_35=60)
    # An employers' association's members are employers: never union members.
    await r.report(d, 2024, total=500, women=0, under_35=0)
    liquidated = await registry.client.post(f"/organisations/{e}/liquidation", headers=r.staff,
                                            json={"liquidated_on": kazakhstan_today().isoformat(), "reason": "closed"})
    assert liquidated.status_code == 200, liquidated.text

    # Refused after 7 days; the same union re-applies, is returned, corrects and is registered 24 days after
    # its second first filing.
    first = await r.file(founders=4, documents=["charter"], filed_on="2025-02-03", sectors=["41", "42"])
    await r.decide(first["id"], outcome="refuse", decided_on="2025-02-10",
                   grounds=[{"rule": "false_information", "detail": "the minutes and the list disagree"}])
    union = registry.headers(organisation_id=first["organisation_id"], roles={"union"})
    second = (await registry.client.post("/registrations", headers=union, json={
        "organisation_id": first["organisation_id"], "kind": "local_union", "name_kk": "Кәсіподақ",
        "name_ru": "Профсоюз", "region_code": ALMATY, "sectors": ["41", "42"], "founders": 12,
        "documents": DOCUMENTS[:-1], "filed_on": "2025-03-03"})).json()
    await r.decide(second["id"], outcome="return", decided_on="2025-03-10")
    corrected = await registry.client.post(f"/registrations/{second['id']}/resubmission", headers=union,
                                           json={"founders": 12, "documents": DOCUMENTS, "filed_on": "2025-03-20"})
    assert corrected.status_code == 200, corrected.text
    await r.decide(second["id"], outcome="register", decided_on="2025-03-27")
    # Refused after 20 days on one ground; registered after 1 day; one still waiting.
    third = await r.file(founders=3, filed_on="2025-04-01")
    await r.decide(third["id"], outcome="refuse", decided_on="2025-04-21")
    fourth = await r.file(kind="primary_union_organisation", region_code=ASTANA, filed_on="2025-05-05")
    await r.decide(fourth["id"], outcome="register", decided_on="2025-05-06")
    await r.file(filed_on="2025-06-02")
    return r


async def test_every_figure_on_a_known_register(registry: RunningService, known: Register) -> None:
    response = await registry.client.get("/statistics")
    assert response.status_code == 200, response.text
    figures = response.json()
    assert figures["membership"] == [
        {"year": 2023, "organisations_reporting": 1, "members": 100, "women": 60, "under_35": 30,
         "women_share": 60.0, "under_35_share": 30.0},
        {"year": 2024, "organisations_reporting": 3, "members": 400, "women": 190, "under_35": 150,
         "women_share": 47.5, "under_35_share": 37.5},
    ]
    organisations = figures["organisations"]
    assert organisations["total"] == 7
    tally = {name: {t["code"]: t["organisations"] for t in organisations[name]}
             for name in ("by_kind", "by_status", "by_region", "by_sector")}
    assert tally["by_kind"] == {"employer": 1, "local_union": 2, "primary_union_organisation": 2,
                                "republican_employer_association": 1, "sectoral_union": 1}
    assert tally["by_status"] == {"liquidated": 1, "registered": 6}
    assert tally["by_region"] == {ASTANA: 4, ALMATY: 2}
    assert tally["by_sector"] == {"06": 1, "41": 2, "42": 1, "85": 3, "86": 1}
    assert [t["code"] for t in organisations["by_sector"]] == ["06", "41", "42", "85", "86"]
    assert figures["density"] == []
    assert figures["decision_times"] == [
        {"outcome": "registered", "decisions": 2, "median_days": 12.5, "p90_days": 24},
        {"outcome": "refused", "decisions": 2, "median_days": 13.5, "p90_days": 20},
        {"outcome": "all", "decisions": 4, "median_days": 13.5, "p90_days": 24},
    ]
    grounds = figures["refusal_grounds"]
    assert [(g["rule"], g["refusals"]) for g in grounds] == [
        ("min_founders", 2), ("false_information", 1), ("founding_documents", 1)]
    assert all(g["articles"] for g in grounds)
    assert figures["notes"]


async def test_density_by_year_and_region_where_labour_force_is_loaded(registry: RunningService,
                                                                       known: Register) -> None:
    analyst = registry.headers(roles={"analyst"}, subject="analyst-1")
    loaded = await registry.client.put("/statistics/labour-force/2024", headers=analyst, json={
        "employees": 8000, "regions": {ALMATY: 1000, ASTANA: 2000}, "source": "Bureau of National Statistics"})
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["regions"] == {ALMATY: 1000, ASTANA: 2000}
    assert loaded.json()["recorded_by"] == "staff:analyst-1"
    national = await registry.client.put("/statistics/labour-force/2023", headers=known.staff,
                                         json={"employees": 5000, "source": "Bureau of National Statistics"})
    assert national.status_code == 200, national.text
    figures = (await registry.client.get("/statistics")).json()
    assert figures["density"] == [
        {"year": 2023, "region_code": None, "members": 100, "employees": 5000, "density": 2.0},
        {"year": 2024, "region_code": None, "members": 400, "employees": 8000, "density": 5.0},
        # Almaty: A's report has no split and A is in Almaty (120), B put 30 of its members there.
        {"year": 2024, "region_code": ASTANA, "members": 250, "employees": 2000, "density": 12.5},
        {"year": 2024, "region_code": ALMATY, "members": 150, "employees": 1000, "density": 15.0},
    ]
    # A new publication replaces the year's figures; statistics follow the write at once.
    replaced = await registry.client.put("/statistics/labour-force/2024", headers=analyst, json={
        "employees": 10000, "source": "Bureau of National Statistics, revised"})
    assert replaced.json()["regions"] == {}
    await known.report((await registry.client.get("/organisations?q=первичка")).json()["items"][0]["id"], 2023,
                       total=50, women=10, under_35=5)
    figures = (await registry.client.get("/statistics")).json()
    assert figures["density"] == [
        {"year": 2023, "region_code": None, "members": 150, "employees": 5000, "density": 3.0},
        {"year": 2024, "region_code": None, "members": 400, "employees": 10000, "density": 4.0},
    ]
    assert figures["membership"][0]["members"] == 150
    years = (await registry.client.get("/statistics/labour-force")).json()
    assert [(y["year"], y["employees"]) for y in years] == [(2023, 5000), (2024, 10000)]
    assert (await registry.client.get("/statistics/labour-force/2024")).json()["source"].endswith("revised")
    assert (await registry.client.get("/statistics/labour-force/2020")).status_code == 404


async def test_labour_force_upload_is_validated(registry: RunningService) -> None:
    analyst = registry.headers(roles={"analyst"})
    source = "Bureau of National Statistics"

    async def put(year: object, body: dict, headers: dict[str, str] | None = None) -> tuple[int, dict]:
        response = await registry.client.put(f"/statistics/labour-force/{year}", json=body,
                                             headers=analyst if headers is None else headers)
        if response.status_code >= 400:
            assert response.headers["content-type"].startswith(PROBLEM_JSON), response.text
        return response.status_code, response.json()

    status, problem = await put(2024, {"source": source})
    assert status == 422 and problem["errors"][0]["pointer"] == "/employees"
    assert problem["errors"][0]["rule"] == "at_least_one_figure"
    status, problem = await put(2024, {"employees": 0, "source": source})
    assert status == 422 and problem["errors"][0]["pointer"] == "/employees"
    status, problem = await put(2024, {"regions": {"123456789": 10}, "source": source})
    assert status == 422 and problem["errors"][0]["pointer"].startswith("/regions/123456789")
    status, problem = await put(2024, {"employees": 10, "source": ""})
    assert status == 422 and problem["errors"][0]["pointer"] == "/source"
    status, problem = await put(2024, {"employees": 10, "source": source, "members": 3})
    assert status == 422 and problem["errors"][0]["pointer"] == "/members"
    status, problem = await put(kazakhstan_today().year + 1, {"employees": 10, "source": source})
    assert status == 422 and problem["errors"][0] == {
        "pointer": "path:/year", "rule": "not_in_future",
        "detail": f"the year cannot be after {kazakhstan_today().year}"}
    status, problem = await put(1800, {"employees": 10, "source": source})
    assert status == 422 and problem["errors"][0]["pointer"] == "path:/year"
    # Staff with the right role only: a union's key is refused, an anonymous caller must authenticate.
    union = registry.headers(organisation_id="00000000-0000-0000-0000-000000000001", roles={"union"})
    assert (await put(2024, {"employees": 10, "source": source}, union))[0] == 403
    assert (await put(2024, {"employees": 10, "source": source}, {}))[0] == 401
    # Nothing was written by any of these.
    assert (await registry.client.get("/statistics/labour-force")).json() == []
