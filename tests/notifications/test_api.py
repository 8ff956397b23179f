"""The notifications API: subscriptions, contacts and endpoints validated and kept to their
organisation; the portal inbox read and unread per user, with the count the portal header shows."""

from __future__ import annotations

import uuid

from tests.notifications.support import (
    Publisher,
    cloud_event,
    notifications_service,
    notifications_settings,
    organisation_headers,
)
from tests.support.services import eventually


async def test_settings_are_validated_and_kept_to_their_organisation(make_database, nats_server, signer, public_key):
    settings = notifications_settings(await make_database("notifications"), nats_server.url, public_key)
    union, stranger = uuid.uuid4(), uuid.uuid4()
    async with notifications_service(settings, signer) as service:
        mine, theirs = organisation_headers(service, union), organisation_headers(service, stranger)
        endpoint = (await service.client.post("/webhook-endpoints", headers=mine,
                                              json={"url": "http://127.0.0.1:9/hooks"})).json()
        contact = (await service.client.post("/contacts", headers=mine,
                                             json={"email": "a@union.kz", "language": "kk"})).json()

        async def refused(path: str, body: dict, pointer: str, rule: str, headers=mine) -> None:
            response = await service.client.post(path, json=body, headers=headers)
            assert response.status_code == 422, response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert [(e["pointer"], e["rule"]) for e in response.json()["errors"]] == [(pointer, rule)]

        await refused("/subscriptions", {"pattern": "kz.ntc.>.deadline", "channel": "inbox"},
                      "/pattern", "event_type_pattern")
        await refused("/subscriptions", {"pattern": "org.other.>", "channel": "inbox"}, "/pattern",
                      "event_type_pattern")
        await refused("/subscriptions", {"pattern": "kz.ntc.>", "channel": "fax"}, "/channel", "enum")
        await refused("/subscriptions", {"pattern": "kz.ntc.>", "channel": "webhook"}, "/endpoint_id", "required")
        await refused("/subscriptions", {"pattern": "kz.ntc.>", "channel": "inbox", "digest": True}, "/digest",
                      "email_only")
        await refused("/subscriptions", {"pattern": "kz.ntc.>", "channel": "email", "contact_id": contact["id"]},
                      "/contact_id", "own_contact", headers=theirs)
        # Another organisation's endpoint cannot be the target of a subscription.
        await refused("/subscriptions", {"pattern": "kz.ntc.>", "channel": "webhook", "endpoint_id": endpoint["id"]},
                      "/endpoint_id", "own_endpoint", headers=theirs)
        await refused("/contacts", {"email": "not an address", "language": "kk"}, "/email", "string_pattern_mismatch")
        await refused("/contacts", {"email": "b@union.kz", "language": "de"}, "/language", "enum")
        await refused("/webhook-endpoints", {"url": "not a url"}, "/url", "scheme")

        body = {"pattern": "kz.ntc.disputes.>", "channel": "webhook", "endpoint_id": endpoint["id"]}
        created = await service.client.post("/subscriptions", json=body, headers=mine)
        assert created.status_code == 201, created.text
        assert (await service.client.post("/subscriptions", json=body, headers=mine)).status_code == 409
        subscription_id = created.json()["id"]

        # Another organisation's objects answer exactly as missing ones do.
        for kind, object_id in (("subscriptions", subscription_id), ("contacts", contact["id"]),
                                ("webhook-endpoints", endpoint["id"])):
            for method in ("GET", "DELETE"):
                foreign = await service.client.request(method, f"/{kind}/{object_id}", headers=theirs)
                missing = await service.client.request(method, f"/{kind}/{uuid.uuid4()}", headers=theirs)
                assert foreign.status_code == missing.status_code == 404, (kind, method)
                assert foreign.json() | {"instance": None} == missing.json() | {"instance": None}
            listed = await service.client.get(f"/{kind}", headers=theirs)
            assert listed.json() == {"items": [], "total": 0}
        for path in (f"/webhook-endpoints/{endpoint['id']}/rotate-secret",
                     f"/webhook-endpoints/{endpoint['id']}/deliveries/{uuid.uuid4()}/redeliver"):
            assert (await service.client.post(path, headers=theirs)).status_code == 404
        assert (await service.client.put(f"/subscriptions/{subscription_id}", json=body,
                                         headers=theirs)).status_code == 404

        # Staff who read see every organisation's settings, and change none.
        analyst = service.headers(roles={"analyst"})
        seen = await service.client.get("/subscriptions", headers=analyst, params={"organisation_id": str(union)})
        assert seen.json()["total"] == 1
        assert (await service.client.get(f"/webhook-endpoints/{endpoint['id']}", headers=analyst)).status_code == 200
        assert (await service.client.post("/subscriptions", json=body, headers=analyst)).status_code == 403
        assert (await service.client.get("/subscriptions",
                                         headers=service.headers(roles={"registrar"}))).status_code == 403

        # Changing a subscription; deleting the endpoint takes its subscriptions with it.
        changed = await service.client.put(f"/subscriptions/{subscription_id}", headers=mine,
                                           json={**body, "pattern": "kz.ntc.disputes.strike.>"})
        assert changed.status_code == 200 and changed.json()["pattern"] == "kz.ntc.disputes.strike.>"
        assert (await service.client.delete(f"/webhook-endpoints/{endpoint['id']}", headers=mine)).status_code == 204
        assert (await service.client.get(f"/subscriptions/{subscription_id}", headers=mine)).status_code == 404
        assert (await service.client.get("/subscriptions", headers=mine)).json()["total"] == 0


async def test_the_inbox_is_read_and_unread_per_user(make_database, nats_server, signer, public_key):
    settings = notifications_settings(await make_database("notifications"), nats_server.url, public_key)
    union = uuid.uuid4()
    async with notifications_service(settings, signer) as service, Publisher(nats_server.url) as bus:
        aigul = organisation_headers(service, union, subject="aigul")
        boris = organisation_headers(service, union, subject="boris")
        for _ in range(3):
            await bus.publish(cloud_event("kz.ntc.bargaining.clause.proposed.v1", [union]))

        async def count(headers) -> int:
            response = await service.client.get("/inbox/unread-count", headers=headers)
            assert response.status_code == 200
            return response.json()["unread"]

        await eventually(lambda: _equals(count(aigul), 3), what="three unread")
        items = (await service.client.get("/inbox", headers=aigul)).json()["items"]
        marked = await service.client.post(f"/inbox/{items[0]['id']}/read", headers=aigul)
        assert marked.status_code == 200 and marked.json()["read_at"] is not None
        again = await service.client.post(f"/inbox/{items[0]['id']}/read", headers=aigul)
        assert again.json()["read_at"] == marked.json()["read_at"]  # read once, the first time
        assert await count(aigul) == 2
        assert await count(boris) == 3  # Boris has read nothing yet
        page = (await service.client.get("/inbox", headers=boris, params={"unread_only": True})).json()
        assert len(page["items"]) == 3 and page["unread"] == 3
        assert all(item["read_at"] is None for item in page["items"])
        page = (await service.client.get("/inbox", headers=aigul, params={"unread_only": True})).json()
        assert items[0]["id"] not in [item["id"] for item in page["items"]] and page["unread"] == 2
        # Staff acting for no organisation have no inbox.
        assert (await service.client.get("/inbox/unread-count",
                                         headers=service.headers(roles={"administrator"}))).status_code == 403


async def test_inbox_patterns_narrow_the_inbox_but_never_hide_a_deadline(make_database, nats_server, signer,
                                                                         public_key):
    settings = notifications_settings(await make_database("notifications"), nats_server.url, public_key)
    employer = uuid.uuid4()
    async with notifications_service(settings, signer) as service, Publisher(nats_server.url) as bus:
        headers = organisation_headers(service, employer)
        response = await service.client.post("/subscriptions", headers=headers,
                                             json={"pattern": "kz.ntc.disputes.>", "channel": "inbox"})
        assert response.status_code == 201
        await bus.publish(cloud_event("kz.ntc.bargaining.clause.proposed.v1", [employer]))        # not chosen
        await bus.publish(cloud_event("kz.ntc.bargaining.deadline.missed.v1", [employer]))        # always
        await bus.publish(cloud_event("kz.ntc.disputes.mediation.started.v1", [employer]))        # chosen
        await eventually(lambda: _equals(_types(service, headers), 2), what="two inbox messages")
        import asyncio

        await asyncio.sleep(0.5)
        items = (await service.client.get("/inbox", headers=headers)).json()["items"]
        assert sorted(i["event_type"] for i in items) == ["kz.ntc.bargaining.deadline.missed.v1",
                                                          "kz.ntc.disputes.mediation.started.v1"]


async def _types(service, headers) -> int:
    return len((await service.client.get("/inbox", headers=headers)).json()["items"])


async def _equals(value, expected) -> bool:
    return (await value) == expected
