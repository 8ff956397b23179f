"""Webhook endpoints over HTTP: thin routes; each write commits once."""

import uuid
from typing import Literal, cast

from fastapi import APIRouter, Response, status

from kernel.app import StateDep
from kernel.db import SessionDep
from kernel.identity import CurrentIdentity
from kernel.paging import Limit, Offset
from services.notifications.settings import NotificationsSettings
from services.notifications.webhooks import service
from services.notifications.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from services.notifications.webhooks.schemas import (
    AttemptPublic,
    DeliveryPage,
    DeliveryPublic,
    EndpointIn,
    EndpointPage,
    EndpointPublic,
    EndpointUpdate,
    EndpointWithSecret,
)

router = APIRouter(prefix="/webhook-endpoints", tags=["webhooks"])


def _public(endpoint: WebhookEndpoint) -> EndpointPublic:
    return EndpointPublic.model_validate(endpoint, from_attributes=True)


def _with_secret(endpoint: WebhookEndpoint, secret: str) -> EndpointWithSecret:
    """The plain secret, shown this once (the row holds it encrypted)."""
    return EndpointWithSecret(**_public(endpoint).model_dump(), secret=secret)


def _delivery(delivery: WebhookDelivery, attempts: list[WebhookAttempt]) -> DeliveryPublic:
    view = DeliveryPublic.model_validate(delivery, from_attributes=True)
    if delivery.status != "pending":
        view.next_attempt_at = None
    view.log = [AttemptPublic.model_validate(a, from_attributes=True) for a in attempts]
    return view


def _settings(state: StateDep) -> NotificationsSettings:
    return cast(NotificationsSettings, state.settings)


@router.post("", status_code=status.HTTP_201_CREATED,
             summary="Register a webhook endpoint; its signing secret is in this answer only")
async def create_endpoint(body: EndpointIn, session: SessionDep, identity: CurrentIdentity,
                          state: StateDep) -> EndpointWithSecret:
    endpoint, secret = await service.create(session, body=body, identity=identity, settings=_settings(state))
    await session.commit()
    return _with_secret(endpoint, secret)


@router.get("", summary="The caller's organisation's endpoints (staff: every organisation's, or one's)")
async def list_endpoints(session: SessionDep, identity: CurrentIdentity, organisation_id: uuid.UUID | None = None,
                         limit: Limit = 50, offset: Offset = 0) -> EndpointPage:
    rows, total = await service.listing(session, identity=identity, organisation_id=organisation_id, limit=limit,
                                        offset=offset)
    return EndpointPage(items=[_public(r) for r in rows], total=total)


@router.get("/{endpoint_id}", summary="One endpoint (never its secret)")
async def get_endpoint(endpoint_id: uuid.UUID, session: SessionDep, identity: CurrentIdentity) -> EndpointPublic:
    return _public(await service.require(session, endpoint_id, identity))


@router.patch("/{endpoint_id}", summary="Change the URL or description, disable or re-enable")
async def update_endpoint(endpoint_id: uuid.UUID, body: EndpointUpdate, session: SessionDep,
                          identity: CurrentIdentity, state: StateDep) -> EndpointPublic:
    endpoint = await service.change(session, endpoint_id, body=body, identity=identity, settings=_settings(state),
                                    now=state.definition.clock())
    await session.commit()
    return _public(endpoint)


@router.post("/{endpoint_id}/rotate-secret",
             summary="A new signing secret (in this answer only); the old one signs too during the overlap")
async def rotate_secret(endpoint_id: uuid.UUID, session: SessionDep, identity: CurrentIdentity,
                        state: StateDep) -> EndpointWithSecret:
    endpoint, secret = await service.rotate_secret(session, endpoint_id, identity=identity,
                                                   settings=_settings(state))
    await session.commit()
    return _with_secret(endpoint, secret)


@router.delete("/{endpoint_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Remove an endpoint (its subscriptions go, its pending deliveries are cancelled)")
async def delete_endpoint(endpoint_id: uuid.UUID, session: SessionDep, identity: CurrentIdentity) -> Response:
    await service.remove(session, endpoint_id, identity)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{endpoint_id}/deliveries", summary="The delivery log: deliveries, newest first, with every attempt")
async def list_deliveries(endpoint_id: uuid.UUID, session: SessionDep, identity: CurrentIdentity,
                          status: Literal["pending", "delivered", "failed", "cancelled"] | None = None,
                          limit: Limit = 50, offset: Offset = 0) -> DeliveryPage:
    endpoint = await service.require(session, endpoint_id, identity)
    rows, total = await service.deliveries(session, endpoint, status=status, limit=limit, offset=offset)
    return DeliveryPage(items=[_delivery(d, a) for d, a in rows], total=total)


@router.post("/{endpoint_id}/deliveries/{delivery_id}/redeliver", summary="Send one delivery again now")
async def redeliver(endpoint_id: uuid.UUID, delivery_id: uuid.UUID, session: SessionDep,
                    identity: CurrentIdentity, state: StateDep) -> DeliveryPublic:
    delivery = await service.redeliver(session, endpoint_id, delivery_id, identity=identity,
                                       now=state.definition.clock())
    await session.commit()
    return _delivery(delivery, [])
