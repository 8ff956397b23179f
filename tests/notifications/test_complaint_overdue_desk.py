"""An overdue freedom-of-association complaint reaches the labour inspectors' desk, as a line that names nothing
from the record, and no one on the employer's side. Real database (SQLite and PostgreSQL), real nats-server."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from contracts.disputes import ComplaintConsiderationOverdue
from tests.notifications.support import (
    Publisher,
    cloud_event,
    notifications_service,
    notifications_settings,
    organisation_headers,
)
from tests.support.services import RunningService, eventually

CLAUSE_PROPOSED = "kz.ntc.bargaining.clause.proposed.v1"  # reaches the employer: its inbox is there to look at


async def _items(service: RunningService, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await service.client.get("/inbox", headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_an_overdue_complaint_lands_on_the_inspectors_desk_and_nowhere_the_employer_sees(
        make_database, nats_server, signer, public_key):
    settings = notifications_settings(await make_database("notifications"), nats_server.url, public_key)
    union, employer, complaint = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    data = ComplaintConsiderationOverdue(audience=[union], complaint_id=complaint, status="under_inspection",
                                         on=date(2026, 4, 16), consideration_due=date(2026, 4, 15))
    overdue = cloud_event(ComplaintConsiderationOverdue.event_type, [union], subject=str(complaint),
                          **data.model_dump(mode="json", exclude={"audience"}))
    async with notifications_service(settings, signer) as service, Publisher(nats_server.url) as bus:
        await bus.publish(overdue)
        await bus.publish(cloud_event(CLAUSE_PROPOSED, [union, employer]))
        inspector = service.headers(roles={"labour_inspector"}, subject="inkar")
        # The desk line and the organisations' lines of one event are written in one transaction: once the desk
        # has it, every inbox it reaches has it.
        await eventually(lambda: _has(service, inspector, overdue.id), what="the overdue complaint on the desk")
        await eventually(lambda: _has(service, organisation_headers(service, employer), None),
                         what="the clause in the employer's inbox")

        [line] = await _items(service, inspector)
        assert (line["event_id"], line["event_type"], line["staff_role"], line["subject"]) == (
            overdue.id, ComplaintConsiderationOverdue.event_type, "labour_inspector", str(complaint))
        assert line["title"] == "disputes complaint consideration overdue"  # nothing from the record
        # Not on the dispute officers' desk (they have the generic deadline.missed), so no one reads it twice.
        assert await _items(service, service.headers(roles={"dispute_officer"}, subject="daulet")) == []
        # The employer: not a line, not a desk.
        employer_items = await _items(service, organisation_headers(service, employer))
        assert [item["event_type"] for item in employer_items] == [CLAUSE_PROPOSED]
        # The union, its audience, has it in the inbox.
        union_items = await _items(service, organisation_headers(service, union))
        assert {item["event_type"] for item in union_items} == {CLAUSE_PROPOSED,
                                                                 ComplaintConsiderationOverdue.event_type}


async def _has(service: RunningService, headers: dict[str, str], event_id: str | None) -> bool:
    """Whether the inbox has the event (or, for None, anything)."""
    response = await service.client.get("/inbox", headers=headers)
    items = response.json()["items"] if response.status_code == 200 else []
    return any(event_id in (None, item["event_id"]) for item in items)
