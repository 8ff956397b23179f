"""Bargaining's tenancy, route by route: an organisation that is no party to a negotiation, a commission or a
commitment gets, on every route of the service's own OpenAPI document that takes their ids, exactly the
answer a random missing id gets (status, content type and problem body), and changes nothing.

The objects: an enterprise negotiation still being negotiated (clause, meeting), an enterprise agreement in
force (with a request to join, a commitment and an amendment) and the republican commission (sitting,
consultation, notice). The outsiders: a union and an employer that sit in none of them. Writes are tried
with an empty body and with a filled one, so that they reach the access check past body validation.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import httpx

from tests.bargaining import test_negotiation_api as negotiation_api
from tests.bargaining.test_accession_coverage_api import enterprise, party, today
from tests.bargaining.test_commissions_api import commission, secretariat
from tests.bargaining.test_commissions_commitments_api import commitment
from tests.bargaining.test_negotiation_api import officer, org
from tests.support.services import RunningService

bargaining = negotiation_api.bargaining

WRITES = ("post", "put", "patch", "delete")
DOCUMENT = {"title": "Draft", "reference": "No. 12-3/45"}
# Open to accession by design: any union may ask to join an enterprise agreement in force (and list its own
# requests to join it), so that listing is not tried on the agreement in force; it is on the negotiation still
# under way, which is not open to accession. Asking to join (POST) is left to the test below: it still tells an
# outsider that a negotiation exists and how far it got.
OPEN_BY_DESIGN = "/agreements/{negotiation_id}/accession-requests"


def example_body(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    body: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        alternatives = [prop, *prop.get("anyOf", [])]
        kinds = {alt.get("type") for alt in alternatives}
        formats = {alt.get("format") for alt in alternatives}
        if "date" in formats:
            body[name] = today().isoformat()
        elif "uuid" in formats:
            body[name] = str(uuid.uuid4())
        elif "string" in kinds:
            body[name] = "A text long enough"
        elif "integer" in kinds:
            body[name] = 1
        elif "boolean" in kinds:
            body[name] = False
        elif "array" in kinds:
            body[name] = []
    return body


def comparable(response: httpx.Response) -> tuple[int, str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = response.text
    if isinstance(body, dict):
        body = {**body, "instance": None}
    return response.status_code, response.headers.get("content-type", ""), body


async def as_outsiders(client: httpx.AsyncClient, method: str, owned: str, missing_path: str,
                      callers: dict[str, dict[str, str]], bodies: list[Any], failures: list[str]) -> int:
    """Each caller sends each body to the owned object's path and to a missing id's: the answers must be alike.
    A difference is added to ``failures``; the number of request pairs tried is returned."""
    tried = 0
    for who, headers in callers.items():
        for body in bodies:
            tried += 1
            kwargs = {} if body is None else {"json": body}
            foreign = await client.request(method.upper(), owned, headers=headers, **kwargs)
            missing = await client.request(method.upper(), missing_path, headers=headers, **kwargs)
            if comparable(foreign) != comparable(missing):
                failures.append(f"{who} {method.upper()} {owned} {body!r}: {foreign.status_code} "
                                f"{foreign.text[:200]} (missing: {missing.status_code} {missing.text[:200]})")
    return tried


async def test_an_outsider_meets_every_bargaining_object_as_a_missing_one(bargaining: RunningService) -> None:
    service, client = bargaining, bargaining.client
    staff = officer(service)
    # A negotiation under way.
    union, employer = (await party(service, "local_union", "Профсоюз"),
                       await party(service, "employer", "ТОО Работодатель", "KAR"))
    proposed = await client.post("/negotiations", headers=org(service, union), json={
        "level": "enterprise", "subject_matter": "Under way", "initiator_id": union,
        "parties": [{"organisation_id": union, "side": "workers"},
                    {"organisation_id": employer, "side": "employers"}]})
    negotiating = proposed.json()["id"]
    assert (await client.post(f"/negotiations/{negotiating}/entry", headers=org(service, employer),
                              json={})).status_code == 200
    clause = await client.post(f"/negotiations/{negotiating}/clauses", headers=org(service, union), json={
        "category": "pay", "title": "Pay", "text": "Pay is indexed yearly."})
    assert clause.status_code == 201, clause.text
    # An agreement in force, with a request to join, a commitment and an amendment.
    agreement, agreement_union, _ = await enterprise(service)
    joining = await party(service, "local_union", "Вступающий профсоюз")
    request = await client.post(f"/agreements/{agreement}/accession-requests", headers=org(service, joining),
                                json={})
    assert request.status_code == 201, request.text
    promised = await client.post(f"/agreements/{agreement}/commitments", headers=staff,
                                 json=commitment("employers", today() + timedelta(days=90)))
    assert promised.status_code == 201, promised.text
    agreed = await client.get(f"/negotiations/{agreement}/clauses", headers=staff)
    amendment = await client.post(f"/negotiations/{agreement}/amendments", headers=org(service, agreement_union),
                                  json={"changes": [{"clause_id": agreed.json()[0]["id"],
                                                     "text": "Pay is indexed twice a year."}],
                                        "summary": "Indexation twice a year"})
    assert amendment.status_code == 201, amendment.text
    # The republican commission with a sitting, a consultation and a notice.
    commission_id, parties, seats = await commission(service)
    secretary = secretariat(service)
    sitting = await client.post(f"/commissions/{commission_id}/sittings", headers=secretary, json={
        "held_on": (today() + timedelta(days=10)).isoformat(), "place": "Astana"})
    assert sitting.status_code == 201, sitting.text
    consultation = await client.post(f"/commissions/{commission_id}/consultations",
                                     headers=org(service, parties["fprk"]),
                                     json={"title": "Draft law on minimum wage", "documents": [DOCUMENT]})
    assert consultation.status_code == 201, consultation.text
    notice = await client.post(f"/commissions/{commission_id}/notices", headers=secretary,
                               json={"title": "Schedule", "body": "The sittings of the year.", "documents": [DOCUMENT]})
    assert notice.status_code == 201, notice.text

    ids: dict[str, list[str]] = {
        "negotiation_id": [negotiating, agreement], "agreement_id": [agreement],
        "clause_id": [clause.json()["id"]], "request_id": [request.json()["id"]],
        "commitment_id": [promised.json()["id"]], "number": [str(amendment.json()["number"])],
        "commission_id": [commission_id], "member_id": [seats["fprk"][0]],
        "sitting_id": [sitting.json()["id"]],
        "consultation_id": [consultation.json()["id"]], "notice_id": [notice.json()["id"]],
        "side": ["workers"],
    }
    outsiders = {"union": org(service, await party(service, "local_union", "Посторонний профсоюз")),
                 "employer": service.headers(organisation_id=await party(service, "employer", "ТОО Посторонний"),
                                             roles={"employer"})}

    openapi = (await client.get("/openapi.json")).json()
    components = openapi.get("components", {}).get("schemas", {})
    before = {path: (await client.get(path, headers=staff)).json()
              for path in (f"/negotiations/{negotiating}", f"/negotiations/{agreement}",
                           f"/commissions/{commission_id}", f"/commitments/{promised.json()['id']}")}
    failures: list[str] = []
    tried = 0
    for template, operations in openapi["paths"].items():
        names = re.findall(r"{([^}]+)}", template)
        if not names or not any(name.endswith("_id") for name in names):
            continue
        for method, operation in operations.items():
            if method not in ("get", *WRITES) or (method, template) == ("post", OPEN_BY_DESIGN):
                continue
            bodies: list[Any] = [None]
            content = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if content:
                bodies = [{}, example_body(content["schema"], components)]
            # Each real id in turn, the other parameters real too; against the same path with that id missing.
            for name in names:
                for real in ids.get(name, []):
                    values = {n: (ids.get(n) or [str(uuid.uuid4())])[0] for n in names}
                    if not name.endswith("_id") or (template == OPEN_BY_DESIGN and real == agreement):
                        continue
                    owned = template
                    for n in names:
                        owned = owned.replace(f"{{{n}}}", real if n == name else values[n])
                    missing_path = template
                    for n in names:
                        missing_path = missing_path.replace(f"{{{n}}}", str(uuid.uuid4()) if n == name else values[n])
                    tried += await as_outsiders(client, method, owned, missing_path, outsiders, bodies, failures)
    assert tried > 100, tried
    assert not failures, "\n".join(failures)
    # Nothing the outsiders tried changed anything.
    for path, body in before.items():
        assert (await client.get(path, headers=staff)).json() == body, path


async def test_asking_to_join_a_negotiation_not_open_to_accession_tells_an_outsider_nothing(
        bargaining: RunningService) -> None:
    service, client = bargaining, bargaining.client
    union, employer = (await party(service, "local_union", "Профсоюз"),
                       await party(service, "employer", "ТОО Работодатель", "KAR"))
    proposed = await client.post("/negotiations", headers=org(service, union), json={
        "level": "enterprise", "subject_matter": "Still proposed", "initiator_id": union,
        "parties": [{"organisation_id": union, "side": "workers"},
                    {"organisation_id": employer, "side": "employers"}]})
    assert proposed.status_code == 201, proposed.text
    outsider = org(service, await party(service, "local_union", "Посторонний профсоюз"))

    foreign = await client.post(f"/agreements/{proposed.json()['id']}/accession-requests", headers=outsider, json={})
    missing = await client.post(f"/agreements/{uuid.uuid4()}/accession-requests", headers=outsider, json={})

    assert comparable(foreign) == comparable(missing), foreign.text
