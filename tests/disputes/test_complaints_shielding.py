"""The findings go to the employer (its shielded view and its notice event): they must not identify the
complainant by the position they hold either, which, in a workplace, is often one person's alone
("the Canaryhall shop steward"). The name and contact are checked word by word (tests for
``names_complainant``); the position as the whole phrase, since its single words (union, chair, driver)
are everyday words in findings.
"""

from __future__ import annotations

from sqlalchemy import select

from kernel.outbox import OutboxMessage
from tests.disputes.cases_support import add_party, org, staff
from tests.support.services import RunningService

pytest_plugins = ("tests.disputes.cases_fixtures",)

POSITION = "Canaryhall workshop shop steward"


async def test_findings_giving_the_complainants_position_are_refused(disputes: RunningService) -> None:
    service, client = disputes, disputes.client
    union = await add_party(service, "primary_union_organisation", "Профсоюз")
    employer = await add_party(service, "employer", "АО Комбинат")
    inspector = staff(service, "labour_inspector", subject="inspector-1")
    filed = await client.post("/complaints", headers=org(service, union), json={
        "category": "threat_of_dismissal", "employer_id": employer, "union_id": union,
        "complainant": {"name": "Айгерим Сапарова", "position": POSITION},
        "description": "Told to leave the union or be dismissed.", "received_on": "2026-03-02"})
    assert filed.status_code == 201, filed.text
    url = f"/complaints/{filed.json()['id']}"
    opened = await client.post(f"{url}/inspection", headers=inspector,
                               json={"on": "2026-03-10", "inspector": "Inspector Sarsenova"})
    assert opened.status_code == 200, opened.text

    naming = await client.post(f"{url}/findings", headers=inspector, json={
        "on": "2026-03-20", "outcome": "upheld",
        "findings": "The  CANARYHALL workshop\nshop steward was threatened with dismissal for union activity."})

    assert naming.status_code == 422, naming.text
    assert naming.json()["errors"][0]["pointer"] == "/findings"
    assert naming.json()["errors"][0]["rule"] == "shielded_identity"
    assert "canaryhall" not in naming.text.casefold()
    # Nothing was recorded: the employer sees no findings, and no event carries the text.
    shielded = (await client.get(url, headers=org(service, employer, "employer"))).json()
    assert shielded["view"] == "shielded" and shielded["findings"] is None
    async with service.state.sessionmaker() as session:
        envelopes = [row[0] for row in (await session.execute(select(OutboxMessage.envelope))).all()]
    assert not any("canaryhall" in envelope.casefold() for envelope in envelopes)

    # Findings about the union activity, naming no one, pass: single words of the position do not block them.
    recorded = await client.post(f"{url}/findings", headers=inspector, json={
        "on": "2026-03-20", "outcome": "upheld",
        "findings": "A shop steward's union activity was the reason for the threats; the workshop was told to stop."})
    assert recorded.status_code == 200, recorded.text


async def test_the_access_log_tells_which_credential_of_the_union_read_the_record(disputes: RunningService) -> None:
    """An organisation holds several credentials (its ERP's key, its portal client ...): the audit of a read of
    the complainant's identity names the one that read it, not only the organisation."""
    service, client = disputes, disputes.client
    union = await add_party(service, "primary_union_organisation", "Профсоюз")
    employer = await add_party(service, "employer", "АО Комбинат")
    filed = await client.post("/complaints", headers=service.headers(
        organisation_id=union, roles={"union"}, subject="union-erp-key"), json={
        "category": "threat_of_dismissal", "employer_id": employer, "union_id": union,
        "complainant": {"name": "Айгерим Сапарова"}, "description": "Told to leave the union.",
        "received_on": "2026-03-02"})
    assert filed.status_code == 201, filed.text
    url = f"/complaints/{filed.json()['id']}"
    portal = service.headers(organisation_id=union, roles={"union"}, subject="union-portal-client")
    assert (await client.get(url, headers=portal)).status_code == 200
    assert (await client.get("/complaints", headers=portal)).status_code == 200

    log = (await client.get(f"{url}/access-log", headers=staff(service, "labour_inspector"))).json()["items"]

    by_action = {r["action"]: r for r in log}
    assert by_action["received"]["actor"] == f"organisation:{union}"
    assert by_action["received"]["detail"]["credential"] == "organisation-key:union-erp-key"
    for action in ("read", "listed"):
        assert by_action[action]["actor"] == f"organisation:{union}"
        assert by_action[action]["detail"]["credential"] == "organisation-key:union-portal-client"
