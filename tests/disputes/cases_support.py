"""Helpers shared by the individual-dispute and complaint tests (not a test module).

Parties are put into the service's registry projection directly (in production they arrive as
registry events).
"""

from __future__ import annotations

import uuid

from services.disputes.parties.models import Party
from tests.support.services import RunningService


async def add_party(service: RunningService, kind: str, name: str, status: str = "registered") -> str:
    party_id = uuid.uuid4()
    async with service.state.sessionmaker() as session:
        session.add(Party(id=party_id, kind=kind, name_kk=name, name_ru=name, registry_status=status))
        await session.commit()
    return str(party_id)


def org(service: RunningService, organisation_id: str, role: str = "union") -> dict[str, str]:
    return service.headers(organisation_id=organisation_id, roles={role})


def staff(service: RunningService, *roles: str, subject: str = "staff-1") -> dict[str, str]:
    return service.headers(roles=set(roles), subject=subject)
