"""Registry events into the portal inbox (durable consumer ``notifications-registry``)."""

from sqlalchemy.ext.asyncio import AsyncSession

from kernel.consumer import Subscription
from kernel.events import CloudEvent
from services.notifications.inbox.service import deliver_to_inbox


async def on_registry_event(session: AsyncSession, event: CloudEvent) -> None:
    await deliver_to_inbox(session, event)


subscription = Subscription(consumer="notifications", producer="registry", handler=on_registry_event)
