"""Reactions to the bargaining service's events (durable consumer ``disputes-bargaining``).

A protocol of disagreements opens a draft collective dispute (see `open_draft`); the inbox of
applied event ids and the protocol's unique id make it happen once.

The draft's parties come from the registry projection, which another consumer (``disputes-registry``)
fills from another stream: nothing orders the two. A protocol whose parties that projection does not
hold yet (a replay into an empty database, or the registry consumer behind) is not applied: it fails
and is redelivered with back-off, until the parties are known (or, in the end, it is dead-lettered for
a person to replay). Applied against a projection that is merely behind, it would open nothing and be
acked, lost for good.
"""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.bargaining import DisagreementProtocolSigned
from kernel.consumer import Subscription
from kernel.events import CloudEvent
from services.disputes.collective.service import open_draft
from services.disputes.consumers.registry import data_of
from services.disputes.parties.models import Party


class PartiesNotYetKnown(Exception):
    """The registry projection does not hold every party of the event yet: retried, not applied."""


async def on_bargaining_event(session: AsyncSession, event: CloudEvent) -> None:
    if event.type == DisagreementProtocolSigned.event_type:
        protocol = data_of(DisagreementProtocolSigned, event)
        known = set((await session.execute(select(Party.id).where(Party.id.in_(protocol.audience)))).scalars())
        missing = sorted(str(party) for party in set(protocol.audience) - known)
        if missing:
            raise PartiesNotYetKnown(f"protocol {protocol.protocol_id}: the registry projection does not hold "
                                     f"{', '.join(missing)} yet")
        await open_draft(session, protocol)


subscription = Subscription(consumer="disputes", producer="bargaining", handler=on_bargaining_event,
                            filter_subjects=[DisagreementProtocolSigned.event_type])
