"""Webhook endpoints, their secrets, their delivery log and manual redelivery. Never commits."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.db import utcnow
from kernel.identity import Identity
from kernel.problems import NotFound, invalid
from services.notifications import wakeup
from services.notifications.access import own_organisation, reads_all, visible_to
from services.notifications.settings import NotificationsSettings
from services.notifications.subscriptions.service import drop_for_endpoint
from services.notifications.webhooks import guard, signing
from services.notifications.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from services.notifications.webhooks.rules import AllowList
from services.notifications.webhooks.schemas import EndpointIn, EndpointUpdate
from services.notifications.webhooks.secret_box import UnreadableSecret, box_for


async def checked_url(url: str, settings: NotificationsSettings) -> str:
    refusal = await guard.url_refusal(url, AllowList.parse(settings.webhook_allowed_private))
    if refusal is not None:
        rule, detail = refusal
        raise invalid("/url", rule, detail)
    return url


async def create(session: AsyncSession, *, body: EndpointIn, identity: Identity,
                 settings: NotificationsSettings) -> tuple[WebhookEndpoint, str]:
    """The endpoint, its secret stored encrypted, and the plain secret (to show this once)."""
    organisation_id = own_organisation(identity)
    url = await checked_url(body.url, settings)
    secret = signing.new_secret()
    endpoint = WebhookEndpoint(organisation_id=organisation_id, url=url, description=body.description,
                               secret=box_for(settings).seal(secret), created_by=identity.actor)
    session.add(endpoint)
    await session.flush()
    return endpoint, secret


async def require(session: AsyncSession, endpoint_id: uuid.UUID, identity: Identity) -> WebhookEndpoint:
    endpoint = await session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or not visible_to(identity, endpoint.organisation_id):
        raise NotFound("webhook endpoint")
    return endpoint


async def require_own(session: AsyncSession, endpoint_id: uuid.UUID, identity: Identity) -> WebhookEndpoint:
    endpoint = await session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or not identity.acts_for(endpoint.organisation_id):
        raise NotFound("webhook endpoint")
    return endpoint


async def change(session: AsyncSession, endpoint_id: uuid.UUID, *, body: EndpointUpdate, identity: Identity,
                 settings: NotificationsSettings, now: datetime) -> WebhookEndpoint:
    """``now`` is the service's clock: what waited for a re-enabled endpoint is due at once by it."""
    endpoint = await require_own(session, endpoint_id, identity)
    if body.url is not None:
        endpoint.url = await checked_url(body.url, settings)
    if "description" in body.model_fields_set:
        endpoint.description = body.description
    if body.enabled is True and not endpoint.enabled:
        # Re-enabled: what waited for it goes out now, on a fresh schedule.
        endpoint.enabled, endpoint.disabled_at, endpoint.disabled_reason = True, None, None
        endpoint.failing_since = None
        await session.execute(update(WebhookDelivery).where(
            WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == "pending")  # type: ignore[arg-type]
            .values(next_attempt_at=now, attempts=0))
        wakeup.mark(session, "webhooks")
    elif body.enabled is False and endpoint.enabled:
        endpoint.enabled, endpoint.disabled_at, endpoint.disabled_reason = False, utcnow(), "disabled by its owner"
    session.add(endpoint)
    return endpoint


async def rotate_secret(session: AsyncSession, endpoint_id: uuid.UUID, *, identity: Identity,
                        settings: NotificationsSettings) -> tuple[WebhookEndpoint, str]:
    """A new secret; the old one keeps signing beside it for the overlap, so receivers can switch.
    Both are stored encrypted (the old one sealed again, in case it was a plain legacy value); the
    plain new secret is returned to be shown this once. An old secret no configured key opens (its
    key was lost) cannot sign any more: it is dropped, and rotating is how its owner recovers."""
    endpoint = await require_own(session, endpoint_id, identity)
    box = box_for(settings)
    secret = signing.new_secret()
    try:
        endpoint.previous_secret = box.seal(box.open(endpoint.secret))
        endpoint.previous_secret_until = utcnow() + timedelta(hours=settings.webhook_secret_overlap_hours)
    except UnreadableSecret:
        endpoint.previous_secret = endpoint.previous_secret_until = None
    endpoint.secret = box.seal(secret)
    session.add(endpoint)
    return endpoint, secret


async def remove(session: AsyncSession, endpoint_id: uuid.UUID, identity: Identity) -> None:
    endpoint = await require_own(session, endpoint_id, identity)
    await drop_for_endpoint(session, endpoint.id)
    await session.execute(update(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == "pending")  # type: ignore[arg-type]
        .values(status="cancelled"))
    await session.delete(endpoint)


async def listing(session: AsyncSession, *, identity: Identity, organisation_id: uuid.UUID | None, limit: int,
                  offset: int) -> tuple[list[WebhookEndpoint], int]:
    query = select(WebhookEndpoint)
    if reads_all(identity):
        if organisation_id is not None:
            query = query.where(WebhookEndpoint.organisation_id == organisation_id)
    else:
        query = query.where(WebhookEndpoint.organisation_id == own_organisation(identity))
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = (await session.execute(query.order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)  # type: ignore[arg-type]
                                  .limit(limit).offset(offset))).scalars().all()
    return list(rows), int(total or 0)


async def deliveries(session: AsyncSession, endpoint: WebhookEndpoint, *, status: str | None, limit: int,
                     offset: int) -> tuple[list[tuple[WebhookDelivery, list[WebhookAttempt]]], int]:
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = list((await session.execute(query.order_by(WebhookDelivery.created_at.desc(),  # type: ignore[attr-defined]
                                                      WebhookDelivery.id).limit(limit).offset(offset))).scalars())
    attempts: dict[uuid.UUID, list[WebhookAttempt]] = {row.id: [] for row in rows}
    if rows:
        for attempt in (await session.execute(select(WebhookAttempt).where(
                WebhookAttempt.delivery_id.in_(list(attempts))).order_by(WebhookAttempt.number))).scalars():  # type: ignore[attr-defined,arg-type]
            attempts[attempt.delivery_id].append(attempt)
    return [(row, attempts[row.id]) for row in rows], int(total or 0)


async def redeliver(session: AsyncSession, endpoint_id: uuid.UUID, delivery_id: uuid.UUID, *,
                    identity: Identity, now: datetime) -> WebhookDelivery:
    """Send a delivery again now (by the service's clock), whatever became of it (delivered, failed or
    still waiting)."""
    endpoint = await require_own(session, endpoint_id, identity)
    delivery = await session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint.id:
        raise NotFound("delivery")
    delivery.status, delivery.next_attempt_at, delivery.attempts = "pending", now, 0
    delivery.lease_until = delivery.lease_owner = None
    delivery.delivered_at = None
    session.add(delivery)
    wakeup.mark(session, "webhooks")
    return delivery
