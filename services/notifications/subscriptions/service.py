"""An organisation's subscriptions: validated, its own only. Never commits."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.identity import Identity
from kernel.problems import Conflict, NotFound, invalid
from services.notifications.access import own_organisation, reads_all, visible_to
from services.notifications.email.models import Contact
from services.notifications.routing.rules import Channel, pattern_problem
from services.notifications.subscriptions.models import Subscription
from services.notifications.subscriptions.schemas import SubscriptionIn
from services.notifications.webhooks.models import WebhookEndpoint


async def _checked(session: AsyncSession, organisation_id: uuid.UUID, body: SubscriptionIn) -> None:
    if (problem := pattern_problem(body.pattern)) is not None:
        raise invalid("/pattern", "event_type_pattern", problem)
    if body.channel is Channel.webhook:
        if body.endpoint_id is None:
            raise invalid("/endpoint_id", "required", "a webhook subscription names one of your endpoints")
        endpoint = await session.get(WebhookEndpoint, body.endpoint_id)
        if endpoint is None or endpoint.organisation_id != organisation_id:
            raise invalid("/endpoint_id", "own_endpoint", "no webhook endpoint of yours has this id")
    elif body.endpoint_id is not None:
        raise invalid("/endpoint_id", "webhook_only", "only a webhook subscription names an endpoint")
    if body.channel is Channel.email:
        if body.contact_id is not None:
            contact = await session.get(Contact, body.contact_id)
            if contact is None or contact.organisation_id != organisation_id:
                raise invalid("/contact_id", "own_contact", "no contact of yours has this id")
    elif body.contact_id is not None:
        raise invalid("/contact_id", "email_only", "only an e-mail subscription names a contact")
    if body.digest and body.channel is not Channel.email:
        raise invalid("/digest", "email_only", "the daily digest is an e-mail")
    duplicate = await session.scalar(select(func.count()).select_from(Subscription).where(
        Subscription.organisation_id == organisation_id, Subscription.pattern == body.pattern,
        Subscription.channel == body.channel.value,
        Subscription.endpoint_id == body.endpoint_id if body.endpoint_id else Subscription.endpoint_id.is_(None),  # type: ignore[union-attr]
        Subscription.contact_id == body.contact_id if body.contact_id else Subscription.contact_id.is_(None),  # type: ignore[union-attr]
    ))
    if duplicate:
        raise Conflict("You already have this subscription.")


async def create(session: AsyncSession, *, body: SubscriptionIn, identity: Identity) -> Subscription:
    organisation_id = own_organisation(identity)
    await _checked(session, organisation_id, body)
    subscription = Subscription(organisation_id=organisation_id, pattern=body.pattern, channel=body.channel.value,
                                endpoint_id=body.endpoint_id, contact_id=body.contact_id, digest=body.digest,
                                created_by=identity.actor)
    session.add(subscription)
    await session.flush()
    return subscription


async def require(session: AsyncSession, subscription_id: uuid.UUID, identity: Identity) -> Subscription:
    subscription = await session.get(Subscription, subscription_id)
    if subscription is None or not visible_to(identity, subscription.organisation_id):
        raise NotFound("subscription")
    return subscription


async def require_own(session: AsyncSession, subscription_id: uuid.UUID, identity: Identity) -> Subscription:
    subscription = await session.get(Subscription, subscription_id)
    if subscription is None or not identity.acts_for(subscription.organisation_id):
        raise NotFound("subscription")
    return subscription


async def replace(session: AsyncSession, subscription_id: uuid.UUID, *, body: SubscriptionIn,
                  identity: Identity) -> Subscription:
    subscription = await require_own(session, subscription_id, identity)
    await session.delete(subscription)
    await session.flush()
    await _checked(session, subscription.organisation_id, body)
    replaced = Subscription(id=subscription.id, organisation_id=subscription.organisation_id, pattern=body.pattern,
                            channel=body.channel.value, endpoint_id=body.endpoint_id, contact_id=body.contact_id,
                            digest=body.digest, created_by=identity.actor)
    session.add(replaced)
    await session.flush()
    return replaced


async def remove(session: AsyncSession, subscription_id: uuid.UUID, identity: Identity) -> None:
    subscription = await require_own(session, subscription_id, identity)
    await session.delete(subscription)


async def listing(session: AsyncSession, *, identity: Identity, organisation_id: uuid.UUID | None, limit: int,
                  offset: int) -> tuple[list[Subscription], int]:
    query = select(Subscription)
    if reads_all(identity):
        if organisation_id is not None:
            query = query.where(Subscription.organisation_id == organisation_id)
    else:
        query = query.where(Subscription.organisation_id == own_organisation(identity))
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = (await session.execute(query.order_by(Subscription.created_at, Subscription.id)  # type: ignore[arg-type]
                                  .limit(limit).offset(offset))).scalars().all()
    return list(rows), int(total or 0)


async def drop_for_endpoint(session: AsyncSession, endpoint_id: uuid.UUID) -> None:
    await session.execute(delete(Subscription).where(Subscription.endpoint_id == endpoint_id))  # type: ignore[arg-type]


async def drop_for_contact(session: AsyncSession, contact_id: uuid.UUID) -> None:
    await session.execute(delete(Subscription).where(Subscription.contact_id == contact_id))  # type: ignore[arg-type]
