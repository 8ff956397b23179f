"""An accession request dated before the first bargaining rules in force (2016-01-01) is a 422 naming
/requested_on, not a 500 from rules_on's LookupError; nothing is written."""

from __future__ import annotations

from sqlalchemy import func, select

from kernel.outbox import OutboxMessage
from services.bargaining.agreements.models import AccessionRequest
from tests.bargaining.test_accession_coverage_api import enterprise, party
from tests.bargaining.test_negotiation_api import bargaining as bargaining  # the fixture
from tests.bargaining.test_negotiation_api import org
from tests.support.services import RunningService


async def test_an_accession_request_before_the_rules_in_force_names_the_field(bargaining: RunningService) -> None:
    agreement_id, _, _ = await enterprise(bargaining)
    second = await party(bargaining, "local_union", "Второй профсоюз")
    async with bargaining.state.sessionmaker() as session:
        before = [await session.scalar(select(func.count()).select_from(t)) for t in (AccessionRequest, OutboxMessage)]
    refused = await bargaining.client.post(f"/agreements/{agreement_id}/accession-requests",
                                           headers=org(bargaining, second), json={"requested_on": "1999-01-01"})
    assert refused.status_code == 422, refused.text
    [error] = refused.json()["errors"]
    assert (error["pointer"], error["rule"]) == ("/requested_on", "rules_in_force")
    async with bargaining.state.sessionmaker() as session:
        after = [await session.scalar(select(func.count()).select_from(t)) for t in (AccessionRequest, OutboxMessage)]
    assert after == before
