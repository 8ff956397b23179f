"""Reactions to the registry's events (durable consumer ``disputes-registry``)."""

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.registry import OrganisationRegistered
from kernel.consumer import Subscription
from kernel.events import CloudEvent
from services.disputes.parties.service import apply_organisation_registered


async def on_registry_event(session: AsyncSession, event: CloudEvent) -> None:
    if event.type == OrganisationRegistered.event_type:
        await apply_organisation_registered(session, OrganisationRegistered.model_validate(event.data))


subscription = Subscription(consumer="disputes", producer="registry", handler=on_registry_event)
