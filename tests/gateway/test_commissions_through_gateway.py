"""A sitting of the Republican Tripartite Commission as its users meet it: through the gateway.

The registry, bargaining and notifications run as real processes (uvicorn, their own databases, a real
nats-server) behind the gateway. The registry's events bring the ministry, two employers' associations
and the union federation into bargaining. The secretariat sets up the commission; each party appoints
its members with its own key; the secretariat schedules a sitting; each party adds an agenda item; the
quorum is checked per party; a decision is recorded with each party's position and the minutes are
published. Every commission event is on the BARGAINING_EVENTS stream exactly once, with every
organisation of the commission in its audience, and each party finds each in its inbox exactly once.
"""

from __future__ import annotations

import uuid
from collections import Counter

import jsonschema
import pytest

from contracts.export import published
from kernel.calendar import kazakhstan_today
from tests.gateway.support import (
    API,
    Gateway,
    PlatformFactory,
    bearer,
    register_organisations,
    stream_events,
    wait_until_known,
)
from tests.support.services import eventually

BARGAINING = f"{API}/bargaining"
COMMISSIONS = f"{BARGAINING}/commissions"


@pytest.fixture
async def platform(start_platform: PlatformFactory) -> Gateway:
    return await start_platform("registry", "bargaining", "notifications")


async def test_a_sitting_through_the_gateway_notifies_every_party_once(platform: Gateway, nats_server) -> None:
    gateway, client = platform, platform.client
    ids = await register_organisations(gateway, {
        name: {"kind": kind, "name_kk": name_ru, "name_ru": name_ru, "region_code": "710000000"}
        for name, kind, name_ru in (
            ("ministry", "government_body", "Министерство труда и социальной защиты населения"),
            ("atameken", "republican_employer_association", "НПП «Атамекен»"),
            ("paryz", "republican_employer_association", "Конфедерация работодателей «ПАРЫЗ»"),
            ("fprk", "republican_union_association", "Федерация профсоюзов Республики Казахстан"),
        )})
    keys = {}
    for name, role in (("ministry", "government"), ("atameken", "employer"), ("paryz", "employer"),
                       ("fprk", "union")):
        _, key = await gateway.issue_key(roles=(role,), organisation_id=uuid.UUID(ids[name]), name=f"{name} system")
        keys[name] = bearer(key)
    _, officer_key = await gateway.issue_key(roles=("bargaining_officer",), name="commission secretariat")
    secretariat = bearer(officer_key)

    await wait_until_known(gateway, "bargaining", ids.values(), secretariat)

    today = kazakhstan_today()
    created = await client.post(COMMISSIONS, headers=secretariat, json={
        "name": "Republican Tripartite Commission on Social Partnership", "level": "republican",
        "chair_name": "Deputy Prime Minister", "chair_position": "Chair of the commission",
        "secretariat": "Ministry of Labour and Social Protection",
        "term_from": f"{today.year - 1}-01-01", "term_to": f"{today.year + 2}-12-31",
        "parties": [{"organisation_id": ids["ministry"], "side": "government"},
                    {"organisation_id": ids["atameken"], "side": "employers"},
                    {"organisation_id": ids["paryz"], "side": "employers"},
                    {"organisation_id": ids["fprk"], "side": "workers"}]})
    assert created.status_code == 201, created.text
    commission = f"{COMMISSIONS}/{created.json()['id']}"

    # Each party appoints its own members with its own key.
    seats: dict[str, list[str]] = {}
    for name, count in (("ministry", 3), ("atameken", 2), ("paryz", 1), ("fprk", 3)):
        seats[name] = []
        for n in range(count):
            appointed = await client.post(f"{commission}/members", headers=keys[name],
                                          json={"name": f"{name} member {n + 1}", "position": "Member"})
            assert appointed.status_code == 201, appointed.text
            seats[name].append(appointed.json()["id"])

    # A stranger's key meets 404 exactly as for a missing id.
    _, stranger_key = await gateway.issue_key(roles=("union",), organisation_id=uuid.uuid4(), name="stranger")
    missing = await client.get(f"{COMMISSIONS}/{uuid.uuid4()}", headers=bearer(stranger_key))
    hidden = await client.get(commission, headers=bearer(stranger_key))
    assert hidden.status_code == missing.status_code == 404 and hidden.json()["detail"] == missing.json()["detail"]

    # The secretariat schedules a remote sitting; a party cannot.
    assert (await client.post(f"{commission}/sittings", headers=keys["fprk"],
                              json={"held_on": today.isoformat(), "remote": True})).status_code == 403
    scheduled = await client.post(f"{commission}/sittings", headers=secretariat,
                                  json={"held_on": today.isoformat(), "remote": True})
    assert scheduled.status_code == 201, scheduled.text
    sitting = f"{commission}/sittings/{scheduled.json()['id']}"

    # Each party adds an agenda item with its documents.
    for name, title in (("ministry", "Draft law on the minimum wage"), ("atameken", "Reporting burden on employers"),
                        ("fprk", "Arrears of wages in the mining sector")):
        added = await client.post(f"{sitting}/agenda", headers=keys[name], json={
            "title": title, "documents": [{"title": title, "reference": f"{name.upper()}-2026-1"}]})
        assert added.status_code == 201, added.text
    assert [i["side"] for i in added.json()["agenda"]] == ["government", "employers", "workers"]

    # Quorum per party: the workers' party short at first, so no decision; then quorate.
    present = seats["ministry"][:2] + seats["atameken"] + [seats["fprk"][0]]
    short = await client.post(f"{sitting}/attendance", headers=secretariat, json={"present": present})
    assert short.status_code == 200, short.text
    assert {q["side"]: q["met"] for q in short.json()["quorum"]} == {
        "government": True, "employers": True, "workers": False}
    positions = [{"side": "government", "position": "for"},
                 {"side": "employers", "position": "with_reservations", "text": "From 1 July, not 1 January"},
                 {"side": "workers", "position": "for"}]
    decision = {"text": "The commission supports the draft law raising the minimum wage.", "agenda_item_number": 1,
                "positions": positions}
    refused = await client.post(f"{sitting}/decisions", headers=secretariat, json=decision)
    assert refused.status_code == 409 and "workers" in refused.json()["detail"]
    quorate = await client.post(f"{sitting}/attendance", headers=secretariat,
                                json={"present": [*present, seats["fprk"][1]]})
    assert quorate.json()["quorum_met"] is True, quorate.text
    recorded = await client.post(f"{sitting}/decisions", headers=secretariat, json=decision)
    assert recorded.status_code == 201 and recorded.json()["adopted"] is True, recorded.text
    minutes = await client.post(f"{sitting}/minutes", headers=secretariat, json={
        "text": "Minutes of the sitting: the draft law on the minimum wage was supported.",
        "documents": [{"title": "Minutes", "reference": "RTC-2026-07"}]})
    assert minutes.status_code == 200 and minutes.json()["status"] == "minutes_published", minutes.text
    # Every party reads the same sitting.
    for headers in keys.values():
        seen = await client.get(sitting, headers=headers)
        assert seen.status_code == 200 and [d["adopted"] for d in seen.json()["decisions"]] == [True]

    expected = Counter({"kz.ntc.bargaining.sitting.scheduled.v1": 1, "kz.ntc.bargaining.agenda_item.proposed.v1": 3,
                        "kz.ntc.bargaining.decision.recorded.v1": 1, "kz.ntc.bargaining.minutes.published.v1": 1})

    async def all_published() -> list[dict]:
        events = await stream_events(nats_server.url, "bargaining")
        return events if Counter(e["type"] for e in events) == expected else []

    events = await eventually(all_published, timeout=30, interval=0.5, what="the commission's events on the stream")
    assert len({e["id"] for e in events}) == len(events)
    for party_id in ids.values():
        # Each organisation is in the audience of each event once: one notification per event, none twice.
        assert Counter(e["type"] for e in events if party_id in e["data"]["audience"]) == expected
    for event in events:
        assert sorted(event["data"]["audience"]) == sorted(ids.values()), event["type"]
        assert len(event["data"]["audience"]) == len(set(event["data"]["audience"]))
        jsonschema.validate(event["data"], published(event["type"]))
    # And the notifications service has told each party once: one inbox message per event, in each
    # party's own inbox, read with its own key.
    for name, headers in keys.items():
        async def notified(headers: dict[str, str] = headers) -> Counter:
            inbox = await client.get(f"{API}/notifications/inbox", headers=headers, params={"limit": 200})
            assert inbox.status_code == 200, inbox.text
            counted = Counter(m["event_type"] for m in inbox.json()["items"]
                              if m["event_type"].startswith("kz.ntc.bargaining."))
            return counted if counted == expected else Counter()

        await eventually(notified, timeout=30, interval=0.5, what=f"{name}'s inbox")
        inbox = (await client.get(f"{API}/notifications/inbox", headers=headers, params={"limit": 200})).json()
        assert len({m["event_id"] for m in inbox["items"]}) == len(inbox["items"]), f"{name} told twice"
    [decided] = [e for e in events if e["type"] == "kz.ntc.bargaining.decision.recorded.v1"]
    assert decided["data"]["positions"][1] == positions[1]
    [published_minutes] = [e for e in events if e["type"] == "kz.ntc.bargaining.minutes.published.v1"]
    assert {q["side"]: q["present"] for q in published_minutes["data"]["quorum"]} == {
        "government": 2, "employers": 2, "workers": 2}
