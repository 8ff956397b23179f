"""A day before the first rule set in force (the Labour Code of 2015, from 2016-01-01) is a 422 naming the field.

Demands submitted, or a strike decided, on such a day made rules_on raise LookupError: a 500 with a stack,
instead of a problem naming /submitted_on (or /on) and the rule, as complaints and individual disputes answer.
"""

from __future__ import annotations

from sqlalchemy import func, select

from kernel.outbox import OutboxMessage
from services.disputes.collective.models import CollectiveDispute, DisputeStage
from tests.disputes.test_collective_api import add_party, officer
from tests.disputes.test_collective_api import disputes as disputes  # the fixture
from tests.support.services import RunningService


async def _rows(service: RunningService) -> tuple[int, ...]:
    async with service.state.sessionmaker() as session:
        return tuple([int(await session.scalar(select(func.count()).select_from(t)) or 0)
                      for t in (CollectiveDispute, DisputeStage, OutboxMessage)])


async def test_demands_before_the_rules_in_force_are_refused_naming_the_field(disputes: RunningService) -> None:
    union = await add_party(disputes, "primary_union_organisation", "Профсоюз")
    employer = await add_party(disputes, "employer", "ТОО Завод")
    base = {"union_id": union, "employer_id": employer, "workers_concerned": 10, "demands": [{"text": "Safety"}]}
    before = await _rows(disputes)
    for day in ("1985-01-01", "2015-12-31"):
        refused = await disputes.client.post("/collective-disputes", headers=officer(disputes),
                                             json=base | {"submitted_on": day})
        assert refused.status_code == 422, refused.text
        [error] = refused.json()["errors"]
        assert (error["pointer"], error["rule"]) == ("/submitted_on", "rules_in_force")
        assert day in error["detail"]
    assert await _rows(disputes) == before
    accepted = await disputes.client.post("/collective-disputes", headers=officer(disputes),
                                          json=base | {"submitted_on": "2016-02-29"})
    assert accepted.status_code == 201, accepted.text
