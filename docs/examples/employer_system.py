"""A worked example of an employer's system using the platform's API through the gateway.

It plays both sides of one enterprise so that it can run on its own against `make run`: the
union's system proposes bargaining and a pay clause; the employer's system (its API key) enters
negotiations, names its commission members, counter-proposes with If-Match, sees a stale write
refused with 412, and both sides sign with a protocol of disagreements on the open clause. Then
the union puts written demands to the employer and the employer answers them over the API.

    .venv/bin/python docs/examples/employer_system.py --gateway http://127.0.0.1:8000 \
        --credentials .data/demo-credentials.json

The demo keys are in the credentials file that `make run` writes. Every step prints the request
and the answer's status, so the output reads as a transcript; docs/employer-api.md explains it.
The platform's tests run this script against a freshly started platform (tests/deploy/test_embedded.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import httpx

BARGAINING = "/api/v1/bargaining"
DISPUTES = "/api/v1/disputes"


class Side:
    """One organisation's system: its API key, sent as a bearer token on every request."""

    def __init__(self, client: httpx.Client, name: str, key: str) -> None:
        self.client, self.name = client, name
        self.headers = {"Authorization": f"Bearer {key}"}

    def call(self, method: str, path: str, *, expect: int, json_body: Any = None,
             headers: dict[str, str] | None = None) -> httpx.Response:
        response = self.client.request(method, path, json=json_body, headers={**self.headers, **(headers or {})})
        print(f"{self.name:>8}: {method} {path} -> {response.status_code}")
        if response.status_code != expect:
            # Every error is an RFC 9457 problem document naming the field and the rule.
            sys.exit(f"expected {expect}; the answer was:\n{json.dumps(response.json(), indent=2, ensure_ascii=False)}")
        return response


def run(gateway: str, credentials: dict[str, Any]) -> dict[str, str]:
    keys = credentials["keys"]
    with httpx.Client(base_url=gateway, timeout=30.0) as client:
        union = Side(client, "union", keys["union"]["key"])
        employer = Side(client, "employer", keys["employer"]["key"])
        union_id, employer_id = keys["union"]["organisation_id"], keys["employer"]["organisation_id"]

        # 1. The union proposes bargaining in writing; the employer has 10 calendar days to enter (art. 156).
        proposal = union.call("POST", f"{BARGAINING}/negotiations", expect=201, json_body={
            "level": "enterprise", "subject_matter": "Supplementary agreement on shift work (worked example)",
            "initiator_id": union_id, "parties": [{"organisation_id": union_id, "side": "workers"},
                                                  {"organisation_id": employer_id, "side": "employers"}]}).json()
        negotiation = f"{BARGAINING}/negotiations/{proposal['id']}"
        print(f"          entry due {proposal['entry_due']} ({proposal['entry_article']})")

        # 2. The employer's system finds it among its own negotiations and enters.
        own = employer.call("GET", f"{BARGAINING}/negotiations?status=proposed", expect=200).json()
        assert proposal["id"] in [n["id"] for n in own["items"]]
        employer.call("POST", f"{negotiation}/entry", expect=200, json_body={})

        # 3. Each side names its commission members: equal numbers (parity, art. 156).
        for side, party, who in (("workers", union_id, union), ("employers", employer_id, employer)):
            who.call("PUT", f"{negotiation}/commission/{side}", expect=200, json_body={"members": [
                {"organisation_id": party, "name": f"{side.capitalize()} member {n}", "position": "Officer"}
                for n in (1, 2)]})
        union.call("POST", f"{negotiation}/commission/constitution", expect=200)

        # 4. The union proposes two clauses; each answer carries the clause's ETag.
        shifts = union.call("POST", f"{negotiation}/clauses", expect=201, json_body={
            "category": "working_time", "title": "Night shifts", "text": "Night shifts last at most 8 hours."})
        bonus = union.call("POST", f"{negotiation}/clauses", expect=201, json_body={
            "category": "pay", "title": "Night bonus", "text": "Night hours are paid at 150%."})

        # 5. The employer counter-proposes with If-Match. Without it: 428. With a stale ETag: 412.
        url = f"{negotiation}/clauses/{bonus.json()['id']}"
        employer.call("POST", f"{url}/versions", expect=428, json_body={"text": "Night hours are paid at 120%."})
        etag = employer.call("GET", url, expect=200).headers["ETag"]
        countered = employer.call("POST", f"{url}/versions", expect=201, headers={"If-Match": etag},
                                  json_body={"text": "Night hours are paid at 120%."})
        employer.call("POST", f"{url}/versions", expect=412, headers={"If-Match": etag},
                      json_body={"text": "Night hours are paid at 125%."})

        # 6. The employer accepts the union's night-shift text; the bonus stays open.
        employer.call("POST", f"{negotiation}/clauses/{shifts.json()['id']}/acceptance", expect=200,
                      json_body={"version": shifts.json()["current_version"]})
        print(f"          night bonus open at version {countered.json()['current_version']}")

        # 7. Both sign: the open clause goes into a protocol of disagreements with each side's position.
        for who, name in ((union, "Chair of the union"), (employer, "General director")):
            signed = who.call("POST", f"{negotiation}/signatures", expect=201,
                              json_body={"signatory_name": name, "signatory_position": name}).json()
        [protocol] = signed["disagreement_protocols"]
        print(f"          signed with {len(protocol['clauses'])} clause(s) in the protocol of disagreements")
        employer.call("GET", f"{negotiation}/agreement.md", expect=200)

        # 8. Written demands: the employer answers within 3 working days (art. 163 p. 2).
        dispute = union.call("POST", f"{DISPUTES}/collective-disputes", expect=201, json_body={
            "union_id": union_id, "employer_id": employer_id, "workers_concerned": 120,
            "demands": [{"text": "Pay the night bonus at 150% from next month"}]}).json()
        print(f"          answer due {dispute['answer_due']} ({dispute['answer_article']})")
        answered = employer.call("POST", f"{DISPUTES}/collective-disputes/{dispute['id']}/answer", expect=200,
                                 json_body={"answer": "partly_accepted",
                                            "text": "The night bonus rises to 130% from next month."}).json()
        # 9. Another organisation's case answers 404, exactly like a case that does not exist.
        employer.call("GET", f"{DISPUTES}/collective-disputes/00000000-0000-4000-8000-000000000000", expect=404)
        return {"negotiation": proposal["id"], "dispute": dispute["id"], "dispute_status": answered["status"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gateway", default="http://127.0.0.1:8000")
    parser.add_argument("--credentials", type=Path, default=Path(".data/demo-credentials.json"))
    args = parser.parse_args()
    result = run(args.gateway.rstrip("/"), json.loads(args.credentials.read_text()))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
