"""The demo commission loads through the API and shows what it promises: the republican commission with its
three parties, a General Agreement 2024-2026 with commitments at every stage, a sitting with decisions and
minutes, a sitting ahead, an open consultation. Loading it twice records nothing twice.

The demo speaks to the gateway with a synchronous httpx client; here its requests reach the running
bargaining service (real database, real nats-server, the deadline sweeper on the wall clock) through a
small transport that strips the gateway's path prefix and signs the administrator's identity, as the
gateway does.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from deploy.embedded.demo_commissions import COMMITMENTS, GENERAL_AGREEMENT, load_commissions_demo
from tests.bargaining import test_negotiation_api as negotiation_api
from tests.bargaining.test_commissions_api import party, secretariat
from tests.support.services import Clock, RunningService, eventually

sweeping_bargaining = negotiation_api.sweeping_bargaining
clock = negotiation_api.clock

PREFIX = "/api/v1/bargaining"


class ThroughTheGateway(httpx.BaseTransport):
    """Sends a synchronous client's requests to the service's async client on the test's event loop."""

    def __init__(self, service: RunningService, loop: asyncio.AbstractEventLoop) -> None:
        self.service, self.loop = service, loop

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path.startswith(PREFIX), request.url
        assert request.headers["authorization"] == "Bearer demo-administrator-key"
        headers = {**secretariat(self.service), "content-type": request.headers.get("content-type", "")}
        sent = self.service.client.request(request.method, request.url.path.removeprefix(PREFIX),
                                           params=request.url.params, content=request.read(), headers=headers)
        answer = asyncio.run_coroutine_threadsafe(sent, self.loop).result(timeout=60)
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)


async def test_the_demo_commission_and_general_agreement(sweeping_bargaining: RunningService, clock: Clock) -> None:
    service, api = sweeping_bargaining, sweeping_bargaining.client
    organisations = {slug: await party(service, kind, slug) for slug, kind in (
        ("ministry-of-labour", "government_body"), ("atameken", "republican_employer_association"),
        ("paryz", "republican_employer_association"), ("fprk", "republican_union_association"))}
    said: list[str] = []
    loop = asyncio.get_running_loop()

    def load() -> None:
        with httpx.Client(transport=ThroughTheGateway(service, loop), base_url="http://gateway") as client:
            load_commissions_demo(client, "demo-administrator-key", organisations, said.append)

    await asyncio.to_thread(load)
    await asyncio.to_thread(load)  # a second load records nothing more
    assert len(said) == 1 and "commission" in said[0]

    staff = secretariat(service)
    [commission] = (await api.get("/commissions", headers=staff)).json()["items"]
    assert {p["side"] for p in commission["parties"]} == {"government", "employers", "workers"}
    assert len(commission["members"]) == 10
    sittings = (await api.get(f"/commissions/{commission['id']}/sittings", headers=staff)).json()
    assert [s["status"] for s in sittings] == ["minutes_published", "scheduled"]
    assert [d["adopted"] for d in sittings[0]["decisions"]] == [True, False] and sittings[0]["quorum_met"]
    [consultation] = (await api.get(f"/commissions/{commission['id']}/consultations", headers=staff)).json()
    assert consultation["status"] == "open"
    assert [p["position"] for p in consultation["positions"]] == [None, "support_with_amendments", None]

    [agreement] = (await api.get("/negotiations", headers=staff, params={"level": "general"})).json()["items"]
    assert (agreement["subject_matter"], agreement["status"]) == (GENERAL_AGREEMENT, "in_force")

    async def every_stage() -> Any:
        board = (await api.get("/commitments", headers=staff)).json()
        return board if board["by_status"].get("late") == 1 else None

    board = await eventually(every_stage, what="the commitment past its due date to turn late")
    assert board["total"] == len(COMMITMENTS)
    assert board["by_status"] == {"done": 2, "late": 1, "not_done": 1, "on_track": 2}
    summary = (await api.get("/commitments/summary", headers=staff)).json()
    assert summary["overall"]["share_fulfilled"] == 0.5  # 2 done of 4 owed by now
