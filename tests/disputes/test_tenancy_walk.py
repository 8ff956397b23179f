"""Disputes' tenancy, route by route: an organisation that is no party to a collective dispute, an individual
dispute or a complaint gets, on every route of the service's own OpenAPI document that takes their ids,
exactly the answer a random missing id gets (status, content type and problem body), and changes nothing.

The same for the employer a complaint concerns before the inspectorate told it (the complaint must not
reach it earlier), and for a union that is not the complainant's.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from tests.bargaining.test_tenancy_walk import WRITES, as_outsiders, example_body
from tests.disputes.cases_support import add_party, org, staff
from tests.support.services import RunningService

pytest_plugins = ("tests.disputes.cases_fixtures",)


async def test_an_outsider_meets_every_case_as_a_missing_one(disputes: RunningService) -> None:
    service, client = disputes, disputes.client
    union = await add_party(service, "primary_union_organisation", "Профсоюз")
    employer = await add_party(service, "employer", "АО Комбинат")
    told_employer = await add_party(service, "employer", "ТОО Уведомлённый")
    officer, inspector = staff(service, "dispute_officer"), staff(service, "labour_inspector", subject="inspector-1")
    collective = await client.post("/collective-disputes", headers=org(service, union), json={
        "union_id": union, "employer_id": employer, "workers_concerned": 40, "submitted_on": "2026-03-02",
        "demands": [{"text": "Index pay"}]})
    assert collective.status_code == 201, collective.text
    member = await client.post("/roster", headers=officer, json={"name": "Mediator One", "kind": "mediator",
                                                                 "languages": ["ru"]})
    assert member.status_code == 201, member.text
    assignment = await client.post(f"/collective-disputes/{collective.json()['id']}/assignments", headers=officer,
                                   json={"kind": "mediator", "member_id": member.json()["id"]})
    assert assignment.status_code == 201, assignment.text
    individual = await client.post("/individual-disputes", headers=org(service, employer, "employer"), json={
        "employer_id": employer, "union_id": union, "employee_name": "Employee Name", "subject": "pay",
        "claim": "Overtime", "violation_known_on": "2026-02-01", "filed_on": "2026-03-02"})
    assert individual.status_code == 201, individual.text
    complaint = {"category": "threat_of_dismissal", "complainant": {"name": "Complainant Name"},
                 "description": "Told to leave the union.", "received_on": "2026-03-02"}
    # Not yet told: its employer may not know of it. Told: the employer reads it shielded, others nothing.
    untold = await client.post("/complaints", headers=org(service, union),
                               json=complaint | {"employer_id": employer, "union_id": union})
    told = await client.post("/complaints", headers=officer, json=complaint | {"employer_id": told_employer})
    assert untold.status_code == 201 and told.status_code == 201, (untold.text, told.text)
    opened = await client.post(f"/complaints/{told.json()['id']}/inspection", headers=inspector,
                               json={"on": "2026-03-10", "inspector": "Inspector"})
    assert opened.status_code == 200, opened.text

    outsiders = {"union": org(service, await add_party(service, "local_union", "Посторонний профсоюз")),
                 "employer": org(service, await add_party(service, "employer", "ТОО Посторонний"), "employer")}
    # Per id, who else must meet it as missing: the outsiders, and the employer of the complaint not yet told.
    cases: list[tuple[str, str, dict[str, dict[str, str]]]] = [
        ("dispute_id", collective.json()["id"], outsiders),
        ("individual_dispute_id", individual.json()["id"], outsiders),
        ("complaint_id", untold.json()["id"], outsiders | {"its employer": org(service, employer, "employer")}),
        ("complaint_id", told.json()["id"], outsiders | {"a union": org(service, union)}),
    ]
    real = {"assignment_id": assignment.json()["id"], "member_id": member.json()["id"]}

    openapi = (await client.get("/openapi.json")).json()
    components = openapi.get("components", {}).get("schemas", {})
    reads = {f"/collective-disputes/{collective.json()['id']}", f"/individual-disputes/{individual.json()['id']}",
             f"/complaints/{untold.json()['id']}", f"/complaints/{told.json()['id']}"}
    before = {path: (await client.get(path, headers=inspector)).json() for path in reads}
    failures: list[str] = []
    tried = 0
    for template, operations in openapi["paths"].items():
        names = re.findall(r"{([^}]+)}", template)
        for method, operation in operations.items():
            if method not in ("get", *WRITES):
                continue
            content = operation.get("requestBody", {}).get("content", {}).get("application/json")
            bodies: list[Any] = [{}, example_body(content["schema"], components)] if content else [None]
            for name, object_id, callers in cases:
                if name not in names:
                    continue
                owned, missing_path = template, template
                for n in names:
                    owned = owned.replace(f"{{{n}}}", object_id if n == name else real.get(n, str(uuid.uuid4())))
                    missing_path = missing_path.replace(
                        f"{{{n}}}", str(uuid.uuid4()) if n == name else real.get(n, str(uuid.uuid4())))
                tried += await as_outsiders(client, method, owned, missing_path, callers, bodies, failures)
    assert tried > 60, tried
    assert not failures, "\n".join(failures)
    for path, body in before.items():
        after = (await client.get(path, headers=inspector)).json()
        assert after == body, path
