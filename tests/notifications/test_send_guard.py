"""The SSRF guard runs again at every send: an endpoint whose address is (now) private or loopback
is not contacted, the attempt is logged as refused and retried on schedule like any failure."""

from __future__ import annotations

import uuid

from kernel.db import utcnow
from services.notifications.settings import NotificationsSettings
from services.notifications.webhooks.dispatcher import WebhookDispatcher
from services.notifications.webhooks.models import WebhookDelivery, WebhookEndpoint
from services.notifications.webhooks.secret_box import SecretBox, parse_keys
from services.notifications.webhooks.signing import new_secret
from tests.notifications.support import Receiver
from tests.support.services import WEBHOOK_SECRET_KEY


async def test_a_private_address_is_refused_at_send_time_too():
    receiver = Receiver()
    await receiver.start()
    secret = new_secret()
    endpoint = WebhookEndpoint(organisation_id=uuid.uuid4(), url=receiver.url,
                               secret=SecretBox(parse_keys(WEBHOOK_SECRET_KEY)).seal(secret), created_by="t")
    delivery = WebhookDelivery(endpoint_id=endpoint.id, organisation_id=endpoint.organisation_id, event_id="e1",
                               event_type="kz.ntc.registry.organisation.registered.v1", payload="{}",
                               next_attempt_at=utcnow())
    try:
        guarded = WebhookDispatcher(NotificationsSettings(environment="test", webhook_allowed_private=(),
                                                          webhook_secret_keys=WEBHOOK_SECRET_KEY))
        result = await guarded.send(delivery, endpoint)
        assert result.status_code is None
        assert result.error is not None and result.error.startswith("refused at send time: 127.0.0.1 resolves to")
        assert receiver.received == []  # never contacted
        await guarded.close()

        allowed = WebhookDispatcher(NotificationsSettings(environment="test", webhook_allowed_private=("127.0.0.1",),
                                                          webhook_secret_keys=WEBHOOK_SECRET_KEY))
        result = await allowed.send(delivery, endpoint)
        assert result.status_code == 204 and len(receiver.received) == 1
        # Signed with the plain secret the row holds encrypted.
        assert receiver.verify(receiver.received[0].body, receiver.received[0].headers, [secret]) == (True, None)
        await allowed.close()
    finally:
        await receiver.stop()
