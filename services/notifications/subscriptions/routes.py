"""Subscriptions over HTTP: thin routes; each write commits once."""

import uuid

from fastapi import APIRouter, Response, status

from kernel.db import SessionDep
from kernel.identity import CurrentIdentity
from kernel.paging import Limit, Offset
from services.notifications.subscriptions import service
from services.notifications.subscriptions.schemas import SubscriptionIn, SubscriptionPage, SubscriptionPublic

router = APIRouter(prefix="/subscriptions", tags=["subscriptions"])


def _public(row: object) -> SubscriptionPublic:
    return SubscriptionPublic.model_validate(row, from_attributes=True)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Subscribe the caller's organisation to events")
async def create_subscription(body: SubscriptionIn, session: SessionDep,
                              identity: CurrentIdentity) -> SubscriptionPublic:
    subscription = await service.create(session, body=body, identity=identity)
    await session.commit()
    return _public(subscription)


@router.get("", summary="The caller's organisation's subscriptions (staff: every organisation's, or one's)")
async def list_subscriptions(session: SessionDep, identity: CurrentIdentity, organisation_id: uuid.UUID | None = None,
                             limit: Limit = 50, offset: Offset = 0) -> SubscriptionPage:
    rows, total = await service.listing(session, identity=identity, organisation_id=organisation_id, limit=limit,
                                        offset=offset)
    return SubscriptionPage(items=[_public(r) for r in rows], total=total)


@router.get("/{subscription_id}", summary="One subscription")
async def get_subscription(subscription_id: uuid.UUID, session: SessionDep,
                           identity: CurrentIdentity) -> SubscriptionPublic:
    return _public(await service.require(session, subscription_id, identity))


@router.put("/{subscription_id}", summary="Change a subscription (the whole of it)")
async def replace_subscription(subscription_id: uuid.UUID, body: SubscriptionIn, session: SessionDep,
                               identity: CurrentIdentity) -> SubscriptionPublic:
    subscription = await service.replace(session, subscription_id, body=body, identity=identity)
    await session.commit()
    return _public(subscription)


@router.delete("/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Unsubscribe")
async def delete_subscription(subscription_id: uuid.UUID, session: SessionDep, identity: CurrentIdentity) -> Response:
    await service.remove(session, subscription_id, identity)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
