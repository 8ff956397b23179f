"""The demo disputes (deploy/embedded/demo_disputes.py) loaded through the registry and disputes services on one
nats-server, as the embedded runner loads them through the gateway: the social-tension view then shows open
disputes in at least four regions at different stages, and a second load adds nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest

from deploy.embedded.demo_disputes import DEMO_DISPUTES, DEMO_EMPLOYERS, load_disputes_demo
from services.disputes.app import create_app as create_disputes
from services.disputes.settings import DisputesSettings
from services.registry.app import create_app as create_registry
from services.registry.settings import RegistrySettings
from tests.support.services import RunningService, running, settings_for


class GatewayStandIn(httpx.BaseTransport):
    """A synchronous transport that does what the gateway does for the demo: routes /api/v1/<service>/... to the
    service (here in-process, on the test's event loop) with the administrator's signed identity."""

    def __init__(self, services: dict[str, RunningService], loop: asyncio.AbstractEventLoop) -> None:
        self.services, self.loop = services, loop

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        _, _, _, name, *rest = request.url.path.split("/")
        service = self.services[name]
        headers = service.headers(roles={"administrator"}, subject="demo-administrator")
        forwarded = service.client.build_request(request.method, "/" + "/".join(rest), params=request.url.params,
                                                 content=request.read(), headers=headers | {
                                                     "content-type": request.headers.get("content-type", "")})
        response = asyncio.run_coroutine_threadsafe(service.client.send(forwarded), self.loop).result(timeout=60)
        return httpx.Response(response.status_code, headers=response.headers, content=response.content)


@pytest.fixture
async def services(make_database, nats_server, public_key, signer) -> AsyncIterator[dict[str, RunningService]]:
    registry_settings = settings_for(RegistrySettings, database_url=await make_database("registry"),
                                     nats_url=nats_server.url, public_key=public_key)
    disputes_settings = settings_for(DisputesSettings, database_url=await make_database("disputes"),
                                     nats_url=nats_server.url, public_key=public_key)
    async with running(create_registry(registry_settings), signer, "registry") as registry, \
            running(create_disputes(disputes_settings), signer, "disputes") as disputes:
        yield {"registry": registry, "disputes": disputes}


async def test_the_demo_disputes_show_on_the_social_tension_view(services: dict[str, RunningService]) -> None:
    registry, disputes = services["registry"], services["disputes"]
    # demo.py has registered Dala Metall and its union before this runs.
    anchors = {}
    for slug, kind, name, extra in (
            ("dala-metall", "employer", "АО «Дала Металл» (тест)", {"bin": "090340007073"}),
            ("dala-metall-union", "primary_union_organisation", "ППО АО «Дала Металл» (тест)", {})):
        made = await registry.client.post("/organisations", headers=registry.headers(roles={"registrar"}), json={
            "kind": kind, "name_ru": name, "name_kk": name, "region_code": "350000000"} | extra)
        assert made.status_code == 201, made.text
        anchors[slug] = made.json()["id"]
    lines: list[str] = []
    transport = GatewayStandIn(services, asyncio.get_running_loop())
    with httpx.Client(transport=transport, base_url="http://gateway") as client:
        added = await asyncio.to_thread(load_disputes_demo, client, "unused-key", anchors, lines.append,
                                        today=date(2026, 11, 20))
        assert len(added) == 2 * len(DEMO_EMPLOYERS)
        assert len(lines) == len(DEMO_DISPUTES) == 8
        # Loaded again: nothing new is registered or recorded.
        again: list[str] = []
        assert await asyncio.to_thread(load_disputes_demo, client, "unused-key", anchors, again.append,
                                       today=date(2026, 11, 20)) == added
        assert again == []
    staff = disputes.headers(roles={"analyst"})
    listed = (await disputes.client.get("/collective-disputes?limit=200", headers=staff)).json()
    assert listed["total"] == 8
    assert sorted(d["status"] for d in listed["items"]) == sorted([
        "strike", "conciliation", "conciliation", "mediation", "rejected", "demands_submitted", "strike_decided",
        "settled"])
    tension = (await disputes.client.get("/statistics/social-tension", headers=staff)).json()
    regions = {r["region_code"]: r for r in tension["regions"]}
    assert set(regions) == {"35", "75", "23", "55", "63", "47"} and tension["total_open"] == 7
    assert regions["35"]["open_disputes"] == 2 and regions["35"]["workers_involved"] == 4500
    assert regions["35"]["by_stage"] == {"strike": 1, "conciliation": 1}
    # The Karaganda strike of 4,200 workers weighs most.
    assert tension["regions"][0]["region_code"] == "35"
