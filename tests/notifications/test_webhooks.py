"""Signed webhooks end to end: events published on the bus reach a real receiver on loopback,
every delivery verifies with the standardwebhooks package, and what must fail verification does."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from tests.notifications.support import (
    Publisher,
    Receiver,
    cloud_event,
    notifications_service,
    notifications_settings,
    organisation_headers,
    payload,
    register_endpoint,
)
from tests.support.services import eventually


@pytest.fixture
async def receiver():
    receiver = Receiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


async def test_every_event_arrives_signed_once_and_forgeries_fail(make_database, nats_server, signer, public_key,
                                                                   receiver):
    settings = notifications_settings(await make_database("notifications"), nats_server.url, public_key)
    union, employer = uuid.uuid4(), uuid.uuid4()
    async with notifications_service(settings, signer) as service, Publisher(nats_server.url) as bus:
        endpoint = await register_endpoint(service, union, receiver.url, pattern="kz.ntc.disputes.>")
        assert endpoint["secret"].startswith("whsec_")
        receiver.secrets = [endpoint["secret"]]
        # The secret is shown once: never again in a listing or a read.
        again = await service.client.get(f"/webhook-endpoints/{endpoint['id']}",
                                         headers=organisation_headers(service, union))
        assert again.status_code == 200 and "secret" not in again.json()
        listed = await service.client.get("/webhook-endpoints", headers=organisation_headers(service, union))
        assert endpoint["secret"] not in json.dumps(listed.json()) and "secret" not in listed.json()["items"][0]

        ours = [cloud_event("kz.ntc.disputes.demands.submitted.v1", [union, employer], workers_concerned=40 + n)
                for n in range(5)]
        not_ours = cloud_event("kz.ntc.disputes.demands.submitted.v1", [employer])
        other_producer = cloud_event("kz.ntc.registry.organisation.registered.v1", [union])  # not subscribed
        for event in [*ours, not_ours, other_producer]:
            await bus.publish(event)
        await bus.publish(ours[0])  # a re-publish the stream drops as a duplicate

        await eventually(lambda: _at_least(receiver, 5), what="five deliveries")
        await asyncio.sleep(1.0)  # room for anything that should not come
        assert sorted(receiver.ids()) == sorted(e.id for e in ours)
        assert set(receiver.ids().values()) == {1}
        for received in receiver.received:
            assert received.verified, received.error
            body = payload(received)
            assert body["id"] == received.headers["webhook-id"]
            assert body["type"] == "kz.ntc.disputes.demands.submitted.v1"
            assert body["data"]["workers_concerned"] in range(40, 45)
            assert body["link"].startswith("https://ntc.example.kz/api/v1/disputes/collective-disputes/")
            assert abs(int(received.headers["webhook-timestamp"]) - datetime.now(UTC).timestamp()) < 60

        # What a receiver must refuse: each of these fails standardwebhooks' verification.
        genuine = receiver.received[0]
        wh = Webhook(endpoint["secret"])
        wh.verify(genuine.body, genuine.headers)  # the genuine one verifies
        tampered = genuine.body.replace(b'"workers_concerned":4', b'"workers_concerned":9')
        assert tampered != genuine.body
        with pytest.raises(WebhookVerificationError):
            wh.verify(tampered, genuine.headers)
        with pytest.raises(WebhookVerificationError):
            Webhook("whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY").verify(genuine.body, genuine.headers)
        for skew in (-timedelta(minutes=6), timedelta(minutes=6)):
            stamp = datetime.now(UTC) + skew
            headers = dict(genuine.headers, **{
                "webhook-timestamp": str(int(stamp.timestamp())),
                "webhook-signature": wh.sign(genuine.headers["webhook-id"], stamp, genuine.body.decode())})
            with pytest.raises(WebhookVerificationError, match="too (old|new)"):
                wh.verify(genuine.body, headers)

        # The delivery log: one delivered attempt each, with status code and latency.
        log = await service.client.get(f"/webhook-endpoints/{endpoint['id']}/deliveries",
                                       headers=organisation_headers(service, union))
        assert log.status_code == 200 and log.json()["total"] == 5
        for delivery in log.json()["items"]:
            assert delivery["status"] == "delivered" and delivery["attempts"] == 1
            [attempt] = delivery["log"]
            assert attempt["status_code"] == 204 and attempt["latency_ms"] > 0


async def test_rotation_signs_with_both_secrets_during_the_overlap(make_database, nats_server, signer, public_key,
                                                                   receiver):
    settings = notifications_settings(await make_database("notifications"), nats_server.url, public_key)
    union = uuid.uuid4()
    async with notifications_service(settings, signer) as service, Publisher(nats_server.url) as bus:
        endpoint = await register_endpoint(service, union, receiver.url)
        old = endpoint["secret"]
        rotated = await service.client.post(f"/webhook-endpoints/{endpoint['id']}/rotate-secret",
                                            headers=organisation_headers(service, union))
        assert rotated.status_code == 200, rotated.text
        new = rotated.json()["secret"]
        assert new != old and rotated.json()["previous_secret_until"] is not None
        await bus.publish(cloud_event("kz.ntc.registry.organisation.registered.v1", [union]))
        [received] = await eventually(lambda: _at_least(receiver, 1), what="a delivery")
        assert len(received.headers["webhook-signature"].split(" ")) == 2
        # A receiver still on the old secret and one already on the new both verify.
        assert receiver.verify(received.body, received.headers, [old]) == (True, None)
        assert receiver.verify(received.body, received.headers, [new]) == (True, None)
        assert receiver.verify(received.body, received.headers, [Webhook_secret()])[0] is False


def Webhook_secret() -> str:  # noqa: N802 - reads as what it makes
    from services.notifications.webhooks.signing import new_secret

    return new_secret()


async def test_a_sensitive_event_leaves_as_a_thin_notice_and_only_to_its_audience(make_database, nats_server, signer,
                                                                                  public_key, receiver):
    settings = notifications_settings(await make_database("notifications"), nats_server.url, public_key)
    union, employer = uuid.uuid4(), uuid.uuid4()
    employer_receiver = Receiver()
    await employer_receiver.start()
    try:
        async with notifications_service(settings, signer) as service, Publisher(nats_server.url) as bus:
            await register_endpoint(service, union, receiver.url)
            await register_endpoint(service, employer, employer_receiver.url)
            complaint_id = str(uuid.uuid4())
            # The union's complaint names only the union (and the ministry) in its audience.
            complaint = cloud_event("kz.ntc.disputes.complaint.received.v1", [union], subject=complaint_id,
                                    complainant_name="Айгүл Сейтқали", employer_id=str(employer),
                                    allegation="dismissed for union activity")
            await bus.publish(complaint)
            [received] = await eventually(lambda: _at_least(receiver, 1), what="the thin notice")
            body = payload(received)
            assert body["data"] == {"thin": True,
                                    "link": f"https://ntc.example.kz/api/v1/disputes/complaints/{complaint_id}"}
            assert {"id", "type", "subject", "time", "source"} <= set(body)
            assert "Айгүл" not in received.body.decode() and "dismissed" not in received.body.decode()
            # The inbox line names nothing from the record either.
            inbox = await service.client.get("/inbox", headers=organisation_headers(service, union))
            assert [m["title"] for m in inbox.json()["items"]] == ["disputes complaint received"]
            await asyncio.sleep(1.0)
            assert employer_receiver.received == []
            employer_inbox = await service.client.get("/inbox", headers=organisation_headers(service, employer))
            assert employer_inbox.json()["items"] == []
    finally:
        await employer_receiver.stop()


@pytest.mark.parametrize("url, rule", [
    ("http://10.0.0.5/hook", "private_address"),
    ("http://192.168.1.10/hook", "private_address"),
    ("http://169.254.169.254/latest/meta-data/", "metadata_address"),
    ("http://[fd00:ec2::254]/", "metadata_address"),
    ("http://metadata.google.internal/computeMetadata/v1/", "metadata_address"),
    ("http://[::1]:8080/hook", "loopback_address"),
    ("http://127.0.0.2/hook", "loopback_address"),
    ("http://169.254.10.10/hook", "link_local_address"),
    ("http://localhost/hook", "loopback_address"),
    ("ftp://example.com/hook", "scheme"),
    ("https://user:pw@example.com/hook", "credentials"),
])
async def test_a_webhook_to_a_private_or_metadata_address_is_refused(make_database, nats_server, signer, public_key,
                                                                     url, rule):
    # No allow-list here (the other tests allow 127.0.0.1 for their receiver).
    settings = notifications_settings(await make_database("notifications"), nats_server.url, public_key,
                                      webhook_allowed_private=())
    organisation = uuid.uuid4()
    async with notifications_service(settings, signer) as service:
        response = await service.client.post("/webhook-endpoints", json={"url": url},
                                             headers=organisation_headers(service, organisation))
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        [error] = response.json()["errors"]
        assert error["pointer"] == "/url" and error["rule"] == rule
        listed = await service.client.get("/webhook-endpoints", headers=organisation_headers(service, organisation))
        assert listed.json()["total"] == 0  # nothing half-written


async def _at_least(receiver: Receiver, n: int):
    return receiver.received if len(receiver.received) >= n else None
