"""A webhook connection goes only to an address the SSRF guard checked: the HTTP client's own
resolver checks its answer, so there is no second lookup a re-pointed name (DNS rebinding) could
steer. DNS is played by an injected resolver; the receivers are real HTTP servers on loopback."""

from __future__ import annotations

import socket
import uuid
from dataclasses import dataclass

from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from kernel.db import utcnow
from services.notifications.settings import NotificationsSettings
from services.notifications.webhooks import guard
from services.notifications.webhooks.dispatcher import WebhookDispatcher
from services.notifications.webhooks.models import WebhookDelivery, WebhookEndpoint
from services.notifications.webhooks.rules import AllowList
from services.notifications.webhooks.secret_box import SecretBox, parse_keys
from services.notifications.webhooks.signing import new_secret
from tests.notifications.support import Receiver
from tests.support.services import WEBHOOK_SECRET_KEY

PUBLIC = "93.184.215.14"  # any public address; never connected to (every answer holding it is refused)


class ScriptedDNS(AbstractResolver):
    """Answers each lookup with the next scripted list of addresses (the last one repeats)."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.asked: list[tuple[str, int]] = []

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        self.asked.append((host, port))
        addresses = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return [ResolveResult(hostname=host, host=address, port=port,
                              family=socket.AF_INET6 if ":" in address else socket.AF_INET, proto=0,
                              flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV) for address in addresses]

    async def close(self) -> None:
        pass


@dataclass
class ReceiverOn(Receiver):
    """A receiver on another loopback address (127.0.0.2), standing in for the public address a
    name first answers with: it passes the guard by being allow-listed, and it can be reached."""

    address: str = "127.0.0.2"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hooks", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.address, self.port).start()


def endpoint_and_delivery(url: str) -> tuple[WebhookEndpoint, WebhookDelivery, str]:
    secret = new_secret()
    endpoint = WebhookEndpoint(organisation_id=uuid.uuid4(), url=url,
                               secret=SecretBox(parse_keys(WEBHOOK_SECRET_KEY)).seal(secret), created_by="t")
    delivery = WebhookDelivery(endpoint_id=endpoint.id, organisation_id=endpoint.organisation_id, event_id="e1",
                               event_type="kz.ntc.registry.organisation.registered.v1", payload="{}",
                               next_attempt_at=utcnow())
    return endpoint, delivery, secret


def dispatcher(dns: AbstractResolver, *allowed: str) -> WebhookDispatcher:
    return WebhookDispatcher(NotificationsSettings(environment="test", webhook_allowed_private=allowed,
                                                   webhook_secret_keys=WEBHOOK_SECRET_KEY), resolver=dns)


async def test_a_name_is_checked_on_the_answer_the_connection_uses():
    receiver = Receiver()
    await receiver.start()
    endpoint, delivery, secret = endpoint_and_delivery(f"http://rebound.test:{receiver.port}/hooks")
    dns = ScriptedDNS(["127.0.0.1"])
    try:
        guarded = dispatcher(dns)
        try:
            result = await guarded.send(delivery, endpoint)
        finally:
            await guarded.close()
        assert result.status_code is None
        assert result.error == "refused at send time: rebound.test resolves to 127.0.0.1, a loopback address"
        assert receiver.received == []
        assert dns.asked == [("rebound.test", receiver.port)]  # looked up once, by the client's resolver

        # Allow-listed, the same made-up name reaches the real receiver: the connection went to the
        # address the checking resolver handed on (no other lookup could have found this name).
        allowed = dispatcher(dns, "127.0.0.1")
        try:
            result = await allowed.send(delivery, endpoint)
        finally:
            await allowed.close()
        assert result.status_code == 204 and len(receiver.received) == 1
        assert receiver.verify(receiver.received[0].body, receiver.received[0].headers, [secret]) == (True, None)
    finally:
        await receiver.stop()


async def test_a_name_answering_a_public_and_a_private_address_is_refused():
    receiver = Receiver()
    await receiver.start()
    endpoint, delivery, _ = endpoint_and_delivery(f"http://rebound.test:{receiver.port}/hooks")
    guarded = dispatcher(ScriptedDNS([PUBLIC, "127.0.0.1"]))
    try:
        result = await guarded.send(delivery, endpoint)
    finally:
        await guarded.close()
        await receiver.stop()
    assert result.status_code is None
    assert result.error == "refused at send time: rebound.test resolves to 127.0.0.1, a loopback address"
    assert receiver.received == []


async def test_a_name_re_pointed_after_its_check_cannot_steer_the_connection():
    """The name answers a passing address once, then loopback (DNS rebinding). A send that checked
    one lookup and connected on another would reach the loopback receiver, or be refused on the
    second answer; here the single checked answer is the one connected to."""
    target = Receiver()  # 127.0.0.1: what the rebinding aims at
    await target.start()
    checked = ReceiverOn(port=target.port)  # 127.0.0.2: the address the first answer gives
    await checked.start()
    endpoint, delivery, _ = endpoint_and_delivery(f"http://rebound.test:{target.port}/hooks")
    dns = ScriptedDNS(["127.0.0.2"], ["127.0.0.1"])
    try:
        first = dispatcher(dns, "127.0.0.2")
        try:
            assert (await first.send(delivery, endpoint)).status_code == 204
            # Within the client's DNS cache the checked answer is used again, not a new lookup.
            assert (await first.send(delivery, endpoint)).status_code == 204
        finally:
            await first.close()
        assert len(checked.received) == 2 and target.received == []
        assert dns.asked == [("rebound.test", target.port)]

        # Once the cache is gone, the re-pointed answer is the one checked, and it is refused.
        second = dispatcher(dns, "127.0.0.2")
        try:
            result = await second.send(delivery, endpoint)
        finally:
            await second.close()
        assert result.error == "refused at send time: rebound.test resolves to 127.0.0.1, a loopback address"
        assert target.received == [] and len(dns.asked) == 2
    finally:
        await checked.stop()
        await target.stop()


async def test_a_literal_address_is_read_as_the_http_client_reads_it():
    """The client folds full-width digits into 127.0.0.1 and connects without asking a resolver,
    so the check before the send must see 127.0.0.1 too."""
    receiver = Receiver()
    await receiver.start()
    endpoint, delivery, _ = endpoint_and_delivery(f"http://１２７.０.０.１:{receiver.port}/hooks")
    dns = ScriptedDNS([PUBLIC])
    guarded = dispatcher(dns)
    try:
        result = await guarded.send(delivery, endpoint)
    finally:
        await guarded.close()
        await receiver.stop()
    assert result.error is not None and result.error.startswith("refused at send time: 127.0.0.1 resolves to")
    assert receiver.received == [] and dns.asked == []


def test_the_check_before_a_send_needs_no_dns():
    allow = AllowList.parse(())
    assert guard.send_refusal("https://hooks.example.org/x", allow) is None  # a name: checked at connect time
    assert guard.send_refusal("http://[::ffff:127.0.0.1]/x", allow) == (
        "loopback_address", "::ffff:7f00:1 resolves to ::ffff:7f00:1, a loopback address")
    assert guard.send_refusal("http://[fe80::1%25eth0]/x", allow)[0] == "link_local_address"
    assert guard.send_refusal("http://metadata.google.internal/x", allow)[0] == "metadata_address"
    assert guard.send_refusal("http://127.0.0.1/x", AllowList.parse(["127.0.0.1"])) is None
