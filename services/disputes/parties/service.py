"""The parties read model of the disputes service, applied from registry events. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.registry import OrganisationRegistered, OrganisationUpdated
from kernel.db import upsert_many
from kernel.problems import FieldError, Problem
from services.disputes.collective.rules import may_be_party
from services.disputes.parties.models import Party


async def apply_organisation_registered(session: AsyncSession, event: OrganisationRegistered, *,
                                        at: datetime) -> None:
    """A new organisation in the register (or the same event again: nothing changes)."""
    await apply_organisations_registered(session, [(event, at)])


async def apply_organisations_registered(session: AsyncSession,
                                         registrations: Sequence[tuple[OrganisationRegistered, datetime]]) -> None:
    """Many registrations (event, time) in one statement, applied in order, as one by one.

    A registration sets the particulars and the status, and both their times. It is guarded by the status's
    time alone: no change applied after it leaves ``details_updated_at`` later than ``updated_at`` (an update
    whose status was refused met a later status), so a row left alone by it holds no older particulars.
    """
    await upsert_many(session, Party, [{
        "id": event.organisation_id, "kind": event.kind.value, "name_ru": event.name_ru, "name_kk": event.name_kk,
        "bin": event.bin, "region_code": event.region_code, "registry_status": event.status, "updated_at": at,
        "details_updated_at": at,
    } for event, at in registrations], key=["id"], unless_newer="updated_at")


class PartyNotYetKnown(Exception):
    """A change to an organisation whose registration this projection has not applied yet.

    Only an event that overtook its registration (the registration failed once and is being redelivered,
    so the stream's later events came first) gets here: it fails and is redelivered, instead of being
    acked with its effect lost (the registration, applied later, would then stand as the latest state).
    """


# Statuses of an organisation the registry has not (yet) registered: no registration event precedes
# its changes, and it has no place in this projection (the registry emits an update of an applicant).
NOT_REGISTERED = frozenset({"applicant", "refused"})


async def _require_known(session: AsyncSession, organisation_id: uuid.UUID, applied: int, what: str) -> None:
    """Nothing was changed by a change to ``organisation_id``: fine if the row holds a later change already;
    if there is no row, its registration has not been applied yet."""
    if applied == 0 and await session.scalar(select(Party.id).where(Party.id == organisation_id)) is None:
        raise PartyNotYetKnown(f"{what} of organisation {organisation_id} before its registration")


async def apply_status(session: AsyncSession, organisation_id: uuid.UUID, status: str, *, at: datetime) -> None:
    """The registry changed the organisation's status (confirmed, lapsed, liquidated) at ``at``."""
    result = await session.execute(update(Party).where(Party.id == organisation_id, Party.updated_at <= at)
                                   .values(registry_status=status, updated_at=at))
    await _require_known(session, organisation_id, result.rowcount, f"status {status}")  # type: ignore[attr-defined]


async def apply_organisation_updated(session: AsyncSession, event: OrganisationUpdated, *, at: datetime) -> None:
    """Public details changed (an update of an organisation not registered, an applicant, changes nothing here).

    The particulars the event carries and the status it states are applied each unless the row holds a later
    change of the same kind: a rename redelivered after a later lapse still renames (and leaves the lapse),
    a status change redelivered after a later rename still changes the status.
    """
    details = await session.execute(update(Party).where(
        Party.id == event.organisation_id, Party.details_updated_at <= at).values(
        kind=event.kind.value, name_kk=event.name_kk, name_ru=event.name_ru, region_code=event.region_code,
        details_updated_at=at))
    status = await session.execute(update(Party).where(
        Party.id == event.organisation_id, Party.updated_at <= at).values(registry_status=event.status, updated_at=at))
    if event.status not in NOT_REGISTERED:
        await _require_known(session, event.organisation_id,
                             details.rowcount + status.rowcount, "an update")  # type: ignore[attr-defined]


async def eligible_party(session: AsyncSession, organisation_id: uuid.UUID, *, pointer: str,
                         kinds: frozenset[str], role: str) -> Party:
    """The party, if the registry holds it as a ``role`` in a status that allows it; a clear problem otherwise."""
    party = await session.get(Party, organisation_id)
    if party is None:
        raise Problem(422, "unknown-party", "Unknown party",
                      f"Organisation {organisation_id} is not in the register known to disputes.",
                      errors=[FieldError(pointer=pointer, rule="registered", detail="not in the register")])
    if party.kind not in kinds:
        raise Problem(422, "validation", "Invalid request", f"{party.name_ru} ({party.kind}) cannot act as {role}.",
                      errors=[FieldError(pointer=pointer, rule="party_kind",
                                         detail=f"{party.kind} cannot act as {role}")])
    if not may_be_party(party.registry_status):
        raise Problem(422, "party-not-eligible", "Party may not be a party to a dispute",
                      f"{party.name_ru} has registry status '{party.registry_status}'.",
                      errors=[FieldError(pointer=pointer, rule="registry_status",
                                         detail=f"registry status '{party.registry_status}'")])
    return party
