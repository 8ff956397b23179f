"""Requests to join an agreement, seen by an organisation that is no party to it: the listing never tells
it that a negotiation it may not know of exists (404, with the body a missing id gets).

An enterprise agreement in force is open to accession, so it is no secret to a union that may ask to join
it; a negotiation still being proposed or negotiated, or a sectoral agreement, is known to its parties
and to staff only.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.bargaining import test_negotiation_api as negotiation_api
from tests.bargaining.test_accession_coverage_api import concluded, enterprise, party
from tests.bargaining.test_negotiation_api import officer, org
from tests.support.services import RunningService

bargaining = negotiation_api.bargaining


def _comparable(response: httpx.Response) -> tuple[int, str, Any]:
    body = response.json()
    return (response.status_code, response.headers.get("content-type", ""),
            {**body, "instance": None} if isinstance(body, dict) else body)


async def test_the_accession_listing_of_a_negotiation_unknown_to_the_caller_answers_as_a_missing_one(
        bargaining: RunningService) -> None:
    service, client = bargaining, bargaining.client
    outsider = await party(service, "local_union", "Посторонний профсоюз")
    union, employer = (await party(service, "local_union", "Профсоюз"),
                       await party(service, "employer", "ТОО Работодатель", "KAR"))
    proposed = await client.post("/negotiations", headers=officer(service), json={
        "level": "enterprise", "subject_matter": "Still proposed", "initiator_id": union,
        "parties": [{"organisation_id": union, "side": "workers"},
                    {"organisation_id": employer, "side": "employers"}]})
    assert proposed.status_code == 201, proposed.text
    sector_union = await party(service, "sectoral_union", "Отраслевой профсоюз")
    association = await party(service, "sectoral_employer_association", "Отраслевая ассоциация")
    sectoral, filed = await concluded(service, "sectoral", [sector_union], [association])
    assert filed.status_code == 200, filed.text

    missing = await client.get(f"/agreements/{uuid.uuid4()}/accession-requests", headers=org(service, outsider))
    assert missing.status_code == 404, missing.text
    for secret in (proposed.json()["id"], sectoral):
        foreign = await client.get(f"/agreements/{secret}/accession-requests", headers=org(service, outsider))
        assert _comparable(foreign) == _comparable(missing), foreign.text

    # Its parties and staff still read the (empty) listing.
    for headers in (org(service, union), org(service, employer), officer(service),
                    service.headers(roles={"analyst"})):
        listed = await client.get(f"/agreements/{proposed.json()['id']}/accession-requests", headers=headers)
        assert listed.status_code == 200 and listed.json() == [], listed.text


async def test_an_agreement_open_to_accession_and_own_requests_stay_listed(bargaining: RunningService) -> None:
    service, client = bargaining, bargaining.client
    agreement_id, _, employer = await enterprise(service)
    asking, onlooker = (await party(service, "local_union", "Просящий профсоюз"),
                        await party(service, "local_union", "Другой профсоюз"))
    url = f"/agreements/{agreement_id}/accession-requests"
    # Open to accession: any union may ask, so the listing (of its own requests: none yet) answers.
    assert (await client.get(url, headers=org(service, onlooker))).json() == []
    asked = await client.post(url, headers=org(service, asking), json={})
    assert asked.status_code == 201, asked.text
    # The agreement ends: it is no longer open, but the union that asked still sees its request.
    terminated = await client.post(f"/negotiations/{agreement_id}/termination", headers=officer(service),
                                   json={"unilateral": False, "reason": "Replaced by a new agreement."})
    assert terminated.status_code == 200, terminated.text
    [own] = (await client.get(url, headers=org(service, asking))).json()
    assert own["id"] == asked.json()["id"]
    assert len((await client.get(url, headers=org(service, employer))).json()) == 1
    assert (await client.get(url, headers=org(service, onlooker))).status_code == 404
