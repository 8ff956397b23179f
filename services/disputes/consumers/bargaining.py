"""Reactions to the bargaining service's events (durable consumer ``disputes-bargaining``).

A protocol of disagreements opens a draft collective dispute (see `open_draft`); the inbox of
applied event ids and the protocol's unique id make it happen once.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.bargaining import DisagreementProtocolSigned
from kernel.consumer import Subscription
from kernel.events import CloudEvent
from services.disputes.collective.service import open_draft


async def on_bargaining_event(session: AsyncSession, event: CloudEvent) -> None:
    if event.type == DisagreementProtocolSigned.event_type:
        await open_draft(session, DisagreementProtocolSigned.model_validate(event.data))


subscription = Subscription(consumer="disputes", producer="bargaining", handler=on_bargaining_event,
                            filter_subjects=[DisagreementProtocolSigned.event_type])
