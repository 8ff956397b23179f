"""Reactions to the registry's events (durable consumer ``bargaining-registry``)."""

from typing import TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.registry import (
    OrganisationLiquidated,
    OrganisationRegistered,
    OrganisationUpdated,
    StatusConfirmed,
    StatusLapsed,
)
from kernel.consumer import PoisonEvent, Subscription, in_runs
from kernel.events import CloudEvent
from services.bargaining.parties.service import (
    apply_organisation_registered,
    apply_organisation_updated,
    apply_organisations_registered,
    apply_status,
)

# Events that change only the organisation's standing in the register.
STATUS_CHANGES = {model.event_type: model for model in (StatusConfirmed, StatusLapsed, OrganisationLiquidated)}

Data = TypeVar("Data", bound=BaseModel)


def data_of(model: type[Data], event: CloudEvent) -> Data:
    """The event's data as its contract. Data that does not match it can never be applied (a producer's bug,
    not a passing failure): a poison event, terminated and dead-lettered at once with the reason."""
    try:
        return model.model_validate(event.data)
    except ValidationError as exc:
        raise PoisonEvent(f"{event.type} {event.id}: the data does not match the contract: {exc}") from exc


async def on_registry_event(session: AsyncSession, event: CloudEvent) -> None:
    if event.type == OrganisationRegistered.event_type:
        await apply_organisation_registered(session, data_of(OrganisationRegistered, event), at=event.time)
    elif event.type == OrganisationUpdated.event_type:
        await apply_organisation_updated(session, data_of(OrganisationUpdated, event), at=event.time)
    elif event.type in STATUS_CHANGES:
        change = data_of(STATUS_CHANGES[event.type], event)
        await apply_status(session, change.organisation_id, change.status, at=event.time)


async def on_registrations(session: AsyncSession, events: list[CloudEvent]) -> None:
    """A run of registrations in one statement (a register imported in bulk arrives as thousands of them)."""
    await apply_organisations_registered(
        session, [(data_of(OrganisationRegistered, event), event.time) for event in events])


subscription = Subscription(
    consumer="bargaining", producer="registry", handler=on_registry_event,
    batch_handler=in_runs(on_registry_event, {OrganisationRegistered.event_type: on_registrations}),
)
