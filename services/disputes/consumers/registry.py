"""Reactions to the registry's events (durable consumer ``disputes-registry``)."""

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.registry import (
    OrganisationLiquidated,
    OrganisationRegistered,
    OrganisationUpdated,
    StatusConfirmed,
    StatusLapsed,
)
from kernel.consumer import Subscription, in_runs
from kernel.events import CloudEvent
from services.disputes.parties.service import (
    apply_organisation_registered,
    apply_organisation_updated,
    apply_organisations_registered,
    apply_status,
)

# Events that change only the organisation's standing in the register.
STATUS_CHANGES = {model.event_type: model for model in (StatusConfirmed, StatusLapsed, OrganisationLiquidated)}


async def on_registry_event(session: AsyncSession, event: CloudEvent) -> None:
    if event.type == OrganisationRegistered.event_type:
        await apply_organisation_registered(session, OrganisationRegistered.model_validate(event.data), at=event.time)
    elif event.type == OrganisationUpdated.event_type:
        await apply_organisation_updated(session, OrganisationUpdated.model_validate(event.data), at=event.time)
    elif event.type in STATUS_CHANGES:
        change = STATUS_CHANGES[event.type].model_validate(event.data)
        await apply_status(session, change.organisation_id, change.status, at=event.time)


async def on_registrations(session: AsyncSession, events: list[CloudEvent]) -> None:
    """A run of registrations in one statement (a register imported in bulk arrives as thousands of them)."""
    await apply_organisations_registered(
        session, [(OrganisationRegistered.model_validate(event.data), event.time) for event in events])


subscription = Subscription(
    consumer="disputes", producer="registry", handler=on_registry_event,
    batch_handler=in_runs(on_registry_event, {OrganisationRegistered.event_type: on_registrations}),
)
