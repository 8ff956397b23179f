"""Demo bargaining: two agreements in force with the workers they cover, and the employees figures,
so that the register of agreements and the coverage rate show something on a fresh `make run`.

Everything goes through the gateway's API with the demo administrator's key (staff act for a
named party, as a labour inspectorate's system would). Idempotent: an agreement whose subject
is already among the negotiations is not bargained again.

The figures are illustrative, not official statistics. The coverage they give is computed by
hand in the docstring of ``DEMO_COVERAGE`` and checked by tests/deploy/test_embedded.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from deploy.embedded.demo_api import check, wait_for_parties

BARGAINING = "/api/v1/bargaining"
KARAGANDA_REGION = "350000000"
BASIC_METALS = "24"  # OKED division: manufacture of basic metals

# Employees in the year (illustrative figures of the size the Bureau of National Statistics publishes).
DEMO_EMPLOYEES = {"national": 6_912_300, "by_region": {KARAGANDA_REGION: 561_400}, "by_sector": {BASIC_METALS: 117_800},
                  "source": "Demo figures (illustrative, not official statistics)"}


@dataclass(frozen=True)
class DemoAgreement:
    level: str
    subject_matter: str
    workers: tuple[str, ...]  # demo organisation slugs on the workers' side
    employers: tuple[str, ...]
    clauses: tuple[tuple[str, str, str], ...]  # (category, title, text), all agreed
    registration_number: str
    term_from: str
    term_to: str
    workers_covered: int
    sector: str
    region_code: str | None = None  # None: the employer's region (enterprise) or national (sectoral)


DEMO_AGREEMENTS: tuple[DemoAgreement, ...] = (
    DemoAgreement(
        "enterprise", "Collective agreement of Dala Metall JSC for 2026-2028",
        workers=("dala-metall-union",), employers=("dala-metall",),
        clauses=(("pay", "Pay rise", "Basic pay rises by 12% from 1 January 2026 and is indexed every year."),
                 ("occupational_safety", "Protective equipment", "The employer issues protective equipment "
                  "to every worker in hazardous work before the shift begins."),
                 ("union_conditions", "Conditions for the union's work", "The employer provides the union with an "
                  "office and deducts membership dues at the member's written request.")),
        registration_number="KRG-2026-0117", term_from="2026-01-01", term_to="2028-12-31",
        workers_covered=4_200, sector=BASIC_METALS),
    DemoAgreement(
        "sectoral", "Sectoral agreement of the mining and metallurgical industry for 2025-2028",
        workers=("mining-metallurgy-union",), employers=("mining-employers",),
        clauses=(("pay", "Sectoral minimum pay", "The minimum tariff rate of the first grade in the sector is "
                  "at least 1.5 times the national minimum wage."),
                 ("working_time", "Underground work", "Underground shifts last at most 6 hours.")),
        registration_number="MTSZN-2025-0031", term_from="2025-07-01", term_to="2028-06-30",
        workers_covered=85_000, sector=BASIC_METALS),
)

# The coverage rate the demo data gives (ILO: covered ÷ employees × 100, one decimal), by hand:
# the two agreements have different employer-side parties, so nothing is counted twice:
#   national       (4,200 + 85,000) / 6,912,300 = 1.2904…%  → 1.3
#   Karaganda      4,200 / 561,400               = 0.7481…%  → 0.7  (the national sectoral one has no region)
#   sector 24      89,200 / 117,800              = 75.7215…% → 75.7
DEMO_COVERAGE = {"national": 1.3, "by_region": {KARAGANDA_REGION: 0.7}, "by_sector": {BASIC_METALS: 75.7},
                 "covered": 89_200}


def load_bargaining_demo(client: Any, administrator_key: str, organisations: dict[str, str], year: int,
                         out: Callable[[str], None]) -> None:
    """Load the employees figures of ``year`` and bargain each demo agreement through to in force."""
    headers = {"Authorization": f"Bearer {administrator_key}"}
    check(client.put(f"{BARGAINING}/coverage/employees/{year}", headers=headers, json=DEMO_EMPLOYEES),
           "load the employees figures")
    wait_for_parties(client, headers, "bargaining", organisations.values())
    listed = client.get(f"{BARGAINING}/negotiations", headers=headers, params={"limit": 200})
    done = {n["subject_matter"] for n in check(listed, "list the negotiations")["items"]}
    for agreement in DEMO_AGREEMENTS:
        if agreement.subject_matter in done:
            continue
        _bargain(client, headers, agreement, organisations)
        out(f"  bargained: {agreement.subject_matter} (in force, {agreement.workers_covered:,} workers covered)")


def _bargain(client: Any, headers: dict[str, str], agreement: DemoAgreement, organisations: dict[str, str]) -> None:
    workers = [organisations[slug] for slug in agreement.workers]
    employers = [organisations[slug] for slug in agreement.employers]
    parties = ([{"organisation_id": o, "side": "workers"} for o in workers]
               + [{"organisation_id": o, "side": "employers"} for o in employers])
    negotiation = check(client.post(f"{BARGAINING}/negotiations", headers=headers, json={
        "level": agreement.level, "subject_matter": agreement.subject_matter, "initiator_id": workers[0],
        "parties": parties}), "propose bargaining")
    url = f"{BARGAINING}/negotiations/{negotiation['id']}"
    for employer in employers:
        check(client.post(f"{url}/entry", headers=headers, json={"organisation_id": employer}), "enter negotiations")
    for side, members in (("workers", workers), ("employers", employers)):
        body = {"members": [{"organisation_id": members[0], "name": f"{side.capitalize()} member {n}",
                             "position": "Commission member"} for n in (1, 2, 3)]}
        check(client.put(f"{url}/commission/{side}", headers=headers, json=body), "name the commission")
    check(client.post(f"{url}/commission/constitution", headers=headers), "constitute the commission")
    for category, title, text in agreement.clauses:
        clause = check(client.post(f"{url}/clauses", headers=headers, json={
            "category": category, "title": title, "text": text, "side": "workers"}), "propose a clause")
        check(client.post(f"{url}/clauses/{clause['id']}/acceptance", headers=headers,
                           json={"version": clause["current_version"], "side": "employers"}), "agree a clause")
    for side, name in (("workers", "Chair of the union"), ("employers", "General director")):
        check(client.post(f"{url}/signatures", headers=headers, json={
            "side": side, "signatory_name": name, "signatory_position": name}), "sign")
    signed_on = check(client.get(url, headers=headers), "read the negotiation")["signed_on"]
    filing = {"authority": "Labour inspectorate", "registration_number": agreement.registration_number,
              "filed_on": signed_on, "term_from": agreement.term_from, "term_to": agreement.term_to,
              "workers_covered": agreement.workers_covered, "sector": agreement.sector}
    if agreement.region_code:
        filing["region_code"] = agreement.region_code
    check(client.post(f"{url}/filing", headers=headers, json=filing), "file the agreement")
    check(client.post(f"{url}/entry-into-force", headers=headers, json={}), "bring the agreement into force")


