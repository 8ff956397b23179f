"""E-mail over SMTP to a real local server (aiosmtpd), in the contact's language: a party's own
deadline arrives without any subscription; low-priority events wait for the daily digest."""

from __future__ import annotations

import email
import email.policy
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from tests.notifications.support import (
    OffsetClock,
    Publisher,
    cloud_event,
    notifications_service,
    notifications_settings,
    organisation_headers,
)
from tests.support.nats import free_port
from tests.support.services import eventually


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def smtp():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, mailbox
    controller.stop()


async def test_a_deadline_reaches_each_contact_by_email_in_its_language_without_a_subscription(
        make_database, nats_server, signer, public_key, smtp):
    controller, mailbox = smtp
    settings = notifications_settings(await make_database("notifications"), nats_server.url, public_key,
                                      smtp_port=controller.port)
    union, employer = uuid.uuid4(), uuid.uuid4()
    async with notifications_service(settings, signer) as service, Publisher(nats_server.url) as bus:
        for organisation, address, language in ((union, "kenes@union.kz", "kk"), (union, "sovet@union.kz", "ru"),
                                                 (employer, "hr@employer.kz", "en")):
            response = await service.client.post("/contacts", headers=organisation_headers(service, organisation),
                                                 json={"email": address, "language": language})
            assert response.status_code == 201, response.text
        dispute = str(uuid.uuid4())
        # A deadline concerns the union only; nobody subscribed to anything.
        await bus.publish(cloud_event("kz.ntc.disputes.deadline.approaching.v1", [union], subject=dispute,
                                      kind="employer_answer", due_on="2026-12-03"))
        # An ordinary event with no subscription sends no e-mail (it is in the inbox only).
        await bus.publish(cloud_event("kz.ntc.disputes.mediation.started.v1", [union, employer]))
        await eventually(lambda: _count(mailbox, 2), what="two e-mails")
        [kazakh] = mailbox.to("kenes@union.kz")
        [russian] = mailbox.to("sovet@union.kz")
        assert kazakh["Subject"] == "ҰҮК: мерзімнің аяқталуы жақындап келеді"
        assert kazakh["Content-Language"] == "kk"
        assert "Сіздің ұйымыңызға қатысты оқиға тіркелді" in kazakh.get_content()
        assert f"https://ntc.example.kz/api/v1/disputes/collective-disputes/{dispute}" in kazakh.get_content()
        assert russian["Subject"] == "НТК: приближается срок"
        assert "Зарегистрировано событие, касающееся вашей организации" in russian.get_content()
        await _pause()
        assert mailbox.to("hr@employer.kz") == [] and len(mailbox.messages) == 2
        # Both events are in the union's inbox; the employer's holds only what concerns it.
        inbox = await service.client.get("/inbox", headers=organisation_headers(service, union))
        assert len(inbox.json()["items"]) == 2
        employer_inbox = await service.client.get("/inbox", headers=organisation_headers(service, employer))
        assert [m["event_type"] for m in employer_inbox.json()["items"]] == ["kz.ntc.disputes.mediation.started.v1"]


async def test_low_priority_events_wait_for_one_daily_digest(make_database, nats_server, signer, public_key, smtp):
    controller, mailbox = smtp
    clock = OffsetClock()
    # Put the service's clock at the last 06:00 in Kazakhstan, before the digest hour (08:00): up to a day
    # behind the wall clock, on purpose. Routing stamps what it writes by the service's clock, so the
    # decision below is due at once by that clock (stamped by the wall clock, it would wait up to a day).
    almaty_now = datetime.now(UTC) + timedelta(hours=5)
    clock.offset = timedelta(hours=(6 - almaty_now.hour) % 24 - 24, minutes=-almaty_now.minute)
    settings = notifications_settings(await make_database("notifications"), nats_server.url, public_key,
                                      smtp_port=controller.port, digest_sweep_seconds=0.2, digest_hour=8)
    employer = uuid.uuid4()
    async with notifications_service(settings, signer, clock=clock) as service, Publisher(nats_server.url) as bus:
        headers = organisation_headers(service, employer)
        contact = (await service.client.post("/contacts", headers=headers,
                                             json={"email": "hr@employer.kz", "language": "en"})).json()
        subscribed = await service.client.post("/subscriptions", headers=headers, json={
            "pattern": "kz.ntc.bargaining.>", "channel": "email", "contact_id": contact["id"], "digest": True})
        assert subscribed.status_code == 201, subscribed.text
        for n in range(3):
            await bus.publish(cloud_event("kz.ntc.bargaining.clause.proposed.v1", [employer], title=f"Clause {n}"))
        # A decision on its own case is never held back for the digest.
        await bus.publish(cloud_event("kz.ntc.bargaining.negotiation.declined.v1", [employer]))
        await eventually(lambda: _count(mailbox, 1), what="the decision at once")
        assert mailbox.messages[0]["Subject"] == "NTC: negotiations declined"
        await _pause()
        assert len(mailbox.messages) == 1  # the three proposals wait for 08:00

        clock.advance(hours=2, minutes=1)
        await eventually(lambda: _count(mailbox, 2), what="the digest")
        digest = mailbox.messages[1]
        assert digest["Subject"].startswith("NTC: notifications digest for") and digest["Subject"].endswith("(3)")
        body = digest.get_content()
        assert all(f"Clause {n}" in body for n in range(3))
        # Once a day: another low-priority event the same day waits for tomorrow's digest.
        await bus.publish(cloud_event("kz.ntc.bargaining.clause.proposed.v1", [employer], title="Clause 3"))
        await _pause()
        assert len(mailbox.messages) == 2
        clock.advance(days=1)
        await eventually(lambda: _count(mailbox, 3), what="the next day's digest")
        assert "Clause 3" in mailbox.messages[2].get_content() and mailbox.messages[2]["Subject"].endswith("(1)")


async def _count(mailbox: Mailbox, n: int) -> bool:
    return len(mailbox.messages) >= n


async def _pause() -> None:
    import asyncio

    await asyncio.sleep(1.0)
