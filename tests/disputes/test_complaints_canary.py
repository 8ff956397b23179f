"""THE CANARY: no employer-facing answer, listing, error or event ever contains a complainant's identity.

Complaints are filed with a canary complainant (name, contact, position, and the name inside the
description), through a union and through staff, and taken through every stage the inspectorate
has. Then the employer's credential walks every route of the disputes service's own OpenAPI
document — every GET with every id it could try, and every write with an empty and a filled
body — and every event in the outbox is read: the canary appears in none of them. The same walk
is a check on itself: the inspectorate's own read of the complaint does contain the canary.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import httpx
from sqlalchemy import select

from kernel.outbox import OutboxMessage
from tests.disputes.cases_support import add_party, org, staff
from tests.support.services import RunningService

# The fixtures disputes, sweeping_disputes and clock.
pytest_plugins = ("tests.disputes.cases_fixtures",)

CANARY_NAME = "Canary Qanarbekova-7f3a"
CANARY_CYRILLIC = "Канарейкина Жибек"
CANARY_CONTACT = "qanarbekova.canary@example.kz"
CANARY_POSITION = "Canaryhall shop steward"
# What must never be seen, compared case-insensitively (hex-free, so no uuid can match by chance).
TOKENS = ("qanarbekova", "canary", "канарейкина", "жибек")
WRITE_METHODS = ("post", "put", "patch", "delete")


def leaks(text: str) -> list[str]:
    folded = text.casefold()
    return [token for token in TOKENS if token in folded]


def readable(response: httpx.Response) -> str:
    """The answer as a person would read it: headers and body, JSON unescaped (\\u0416 -> Ж)."""
    text = response.text
    try:
        text += json.dumps(response.json(), ensure_ascii=False)
    except ValueError:
        pass
    return text + " ".join(f"{k}: {v}" for k, v in response.headers.items())


def fill(path: str, ids: dict[str, list[str]], fallback: list[str]) -> list[str]:
    """Every concrete path for a template, each parameter replaced by every id it could take."""
    paths = [path]
    for name in re.findall(r"{([^}]+)}", path):
        choices = ids.get(name, fallback)
        paths = [p.replace(f"{{{name}}}", choice) for p in paths for choice in choices]
    return paths


def example_body(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """A filled body from a request schema: enough to get past parsing where the route allows the employer."""
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    body: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        kinds = {prop.get("type")} | {alt.get("type") for alt in prop.get("anyOf", [])}
        formats = {prop.get("format")} | {alt.get("format") for alt in prop.get("anyOf", [])}
        if "date" in formats:
            body[name] = "2026-04-01"
        elif "uuid" in formats:
            body[name] = str(uuid.uuid4())
        elif "string" in kinds:
            body[name] = "upheld" if name == "outcome" else "text"
        elif "integer" in kinds:
            body[name] = 1
        elif "boolean" in kinds:
            body[name] = True
    return body


async def test_no_employer_facing_route_or_event_contains_the_complainant(disputes: RunningService) -> None:
    service, client = disputes, disputes.client
    union = await add_party(service, "primary_union_organisation", "Профсоюз")
    employer = await add_party(service, "employer", "АО Комбинат")
    u, e = org(service, union), org(service, employer, "employer")
    inspector = staff(service, "labour_inspector", subject="inspector-1")
    officer = staff(service, "dispute_officer")

    def canary_complaint(name: str, union_id: str | None) -> dict[str, Any]:
        return {"category": "threat_of_dismissal", "employer_id": employer, "union_id": union_id,
                "complainant": {"name": name, "contact": CANARY_CONTACT, "position": CANARY_POSITION},
                "description": f"The shift manager told {name} to leave the union or be dismissed.",
                "received_on": "2026-03-02"}

    ids: list[str] = []
    for headers, name, union_id in ((u, CANARY_NAME, union), (officer, CANARY_CYRILLIC, None),
                                    (u, CANARY_NAME, union), (u, CANARY_NAME, union)):
        filed = await client.post("/complaints", headers=headers, json=canary_complaint(name, union_id))
        assert filed.status_code == 201, filed.text
        ids.append(filed.json()["id"])
    # Every stage: findings, closed after findings, under inspection, and one still only received.
    for complaint_id, steps in ((ids[0], ("inspection", "findings")), (ids[1], ("inspection", "findings", "closure")),
                                (ids[2], ("inspection",)), (ids[3], ())):
        for step in steps:
            body = {"inspection": {"on": "2026-03-10", "inspector": "Inspector Sarsenova"},
                    "findings": {"on": "2026-03-20", "outcome": "upheld",
                                 "findings": "Threats linked to union membership were confirmed."},
                    "closure": {"on": "2026-03-25", "reason": "Employer instructed"}}[step]
            moved = await client.post(f"/complaints/{complaint_id}/{step}", headers=inspector, json=body)
            assert moved.status_code == 200, moved.text
    # The inspectorate's refusal of findings naming the complainant does not repeat the name either.
    naming = await client.post(f"/complaints/{ids[2]}/findings", headers=inspector, json={
        "outcome": "upheld", "findings": f"{CANARY_NAME} was threatened"})
    assert naming.status_code == 422 and not leaks(readable(naming))
    # The walk would see a leak: the inspectorate's own view is full of the canary.
    assert leaks(readable(await client.get(f"/complaints/{ids[0]}", headers=inspector)))
    assert leaks(readable(await client.get("/complaints", headers=inspector)))

    # Other cases with this employer, so their routes answer with content too.
    collective = await client.post("/collective-disputes", headers=u, json={
        "union_id": union, "employer_id": employer, "workers_concerned": 40, "submitted_on": "2026-03-02",
        "demands": [{"text": "Stop the threats against union members"}]})
    assert collective.status_code == 201, collective.text
    individual = await client.post("/individual-disputes", headers=e, json={
        "employer_id": employer, "employee_name": "Employee Name", "subject": "pay", "claim": "Overtime",
        "violation_known_on": "2026-02-01", "filed_on": "2026-03-02"})
    assert individual.status_code == 201, individual.text

    # The employer sees the complaints it was told of (not the one only received), shielded.
    listed = await client.get("/complaints", headers=e)
    assert listed.status_code == 200 and listed.json()["total"] == 3
    assert all(item["view"] == "shielded" for item in listed.json()["items"])

    openapi = (await client.get("/openapi.json")).json()
    components = openapi.get("components", {}).get("schemas", {})
    known_ids = {"complaint_id": ids, "dispute_id": [collective.json()["id"]],
                 "individual_dispute_id": [individual.json()["id"]],
                 "party_id": [employer, union]}
    fallback = ids + [collective.json()["id"], individual.json()["id"], str(uuid.uuid4())]
    walked: list[str] = []
    found: list[str] = []

    async def check(method: str, path: str, **kwargs: Any) -> None:
        response = await client.request(method.upper(), path, headers=e, **kwargs)
        walked.append(f"{method.upper()} {path} -> {response.status_code}")
        assert response.status_code < 500, walked[-1] + response.text
        if leaks(readable(response)):
            found.append(f"{walked[-1]}: {response.text[:300]}")

    for template, operations in openapi["paths"].items():
        for method, operation in operations.items():
            if method not in ("get", *WRITE_METHODS):
                continue
            for path in fill(template, known_ids, fallback):
                if method == "get":
                    await check(method, path)
                    for query in ("?status=findings", "?status=closed", "?limit=200"):
                        await check(method, path + query)
                    continue
                await check(method, path, json={})
                request_body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
                if request_body:
                    await check(method, path, json=example_body(request_body["schema"], components))
    # The walk covered the complaint routes with every complaint id.
    for complaint_id in ids:
        assert any(f"GET /complaints/{complaint_id} -> " in line for line in walked)
        assert any(f"POST /complaints/{complaint_id}/findings -> " in line for line in walked)
    assert len(walked) > 50, walked
    assert found == [], found

    # The employer's writes changed nothing: the complaints are as the inspectorate left them.
    statuses = [(await client.get(f"/complaints/{i}", headers=inspector)).json()["status"] for i in ids]
    assert statuses == ["findings", "closed", "under_inspection", "received"]

    # Every event in the outbox, whoever it is for: no complainant data in any of them.
    async with service.state.sessionmaker() as session:
        envelopes = [row[0] for row in (await session.execute(select(OutboxMessage.envelope))).all()]
    assert len(envelopes) >= 12
    for envelope in envelopes:
        assert not leaks(envelope + json.dumps(json.loads(envelope), ensure_ascii=False)), envelope
