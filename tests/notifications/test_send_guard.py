"""The SSRF guard runs again at every send: an endpoint whose address is (now) private or loopback
is not contacted, the attempt is logged as refused and retried on schedule like any failure."""

from __future__ import annotations

import uuid

from kernel.db import utcnow
from services.notifications.settings import NotificationsSettings
from services.notifications.webhooks.dispatcher import WebhookDispatcher
from services.notifications.webhooks.models import WebhookDelivery, WebhookEndpoint
from services.notifications.webhooks.signing import new_secret
from tests.notifications.support import Receiver


async def test_a_private_address_is_refused_at_send_time_too():
    receiver = Receiver()
    await receiver.start()
    endpoint = WebhookEndpoint(organisation_id=uuid.uuid4(), url=receiver.url, secret=new_secret(), created_by="t")
    delivery = WebhookDelivery(endpoint_id=endpoint.id, organisation_id=endpoint.organisation_id, event_id="e1",
                               event_type="kz.ntc.registry.organisation.registered.v1", payload="{}",
                               next_attempt_at=utcnow())
    try:
        guarded = WebhookDispatcher(NotificationsSettings(environment="test", webhook_allowed_private=()))
        result = await guarded.send(delivery, endpoint)
        assert result.status_code is None
        assert result.error is not None and result.error.startswith("refused at send time: 127.0.0.1 resolves to")
        assert receiver.received == []  # never contacted
        await guarded.close()

        allowed = WebhookDispatcher(NotificationsSettings(environment="test", webhook_allowed_private=("127.0.0.1",)))
        result = await allowed.send(delivery, endpoint)
        assert result.status_code == 204 and len(receiver.received) == 1
        await allowed.close()
    finally:
        await receiver.stop()
