"""Intake: one event, routed to the organisations in its audience and to the ministry staff desks it
belongs on. Never commits: it runs in the consumer's transaction, beside the consumer's inbox record,
so a delivery, an e-mail or an inbox message is written exactly when the event is recorded as applied,
and never lost.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from kernel.calendar import KAZAKHSTAN
from kernel.db import utcnow
from kernel.events import CloudEvent
from services.notifications import wakeup
from services.notifications.email.models import Contact, DigestItem, MailMessage
from services.notifications.email.templates import event_name, render
from services.notifications.inbox.models import InboxMessage
from services.notifications.routing import rules
from services.notifications.routing.rules import Channel, SubscriptionView
from services.notifications.subscriptions.models import Subscription
from services.notifications.webhooks.models import WebhookDelivery, WebhookEndpoint


def what_happened(event_type: str) -> str:
    """``kz.ntc.disputes.strike.ruled.v1`` -> ``disputes strike ruled``."""
    return event_type.removeprefix("kz.ntc.").rsplit(".", 1)[0].replace(".", " ").replace("_", " ")


def title_for(event: CloudEvent, *, sensitive: bool) -> str:
    """A short line for the inbox and digests; a sensitive event's line names nothing from its record."""
    if sensitive:
        return what_happened(event.type)[:400]
    # A record id says nothing to a reader: the message keeps the subject and the page links to the record.
    name = event.data.get("name_ru") or event.data.get("title") or ""
    return f"{what_happened(event.type)}: {name}".strip(": ")[:400]


def audience_of(event: CloudEvent) -> list[uuid.UUID]:
    audience: list[uuid.UUID] = []
    for member in event.data.get("audience", []) or []:
        try:
            organisation_id = uuid.UUID(str(member))
        except ValueError:
            continue  # the contract says uuid; a malformed member reaches nobody rather than everybody
        if organisation_id not in audience:
            audience.append(organisation_id)
    return audience


@dataclass(frozen=True)
class ContactView:
    id: uuid.UUID
    email: str
    language: str


# How long another replica's change to subscriptions, contacts or endpoints may go unseen here;
# a change made through this process is seen at once (the cache is dropped on its commit).
SETTINGS_SECONDS = 2.0


@dataclass
class _Settings:
    """What routing needs of each organisation, kept for a moment: intake reads it for every event."""

    subscriptions: dict[uuid.UUID, list[SubscriptionView]] = field(default_factory=lambda: defaultdict(list))
    contacts: dict[uuid.UUID, list[ContactView]] = field(default_factory=lambda: defaultdict(list))
    endpoints: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)  # enabled endpoint -> its organisation
    loaded_at: dict[uuid.UUID, float] = field(default_factory=dict)

    def forget(self, organisations: list[uuid.UUID]) -> None:
        for organisation in organisations:
            self.subscriptions.pop(organisation, None)
            self.contacts.pop(organisation, None)
            self.loaded_at.pop(organisation, None)
        gone = set(organisations)
        for endpoint_id in [e for e, o in self.endpoints.items() if o in gone]:
            del self.endpoints[endpoint_id]


_known = _Settings()
# Counts the changes made through this process; the dispatcher's copy of the endpoints is dropped with it.
_generation = 0


def forget_settings() -> None:
    global _known, _generation
    _known = _Settings()
    _generation += 1


def settings_generation() -> int:
    """Changes to subscriptions, contacts or endpoints committed through this process so far."""
    return _generation


async def _settings_of(session: AsyncSession, audience: list[uuid.UUID]) -> _Settings:
    """Subscriptions, contacts and enabled endpoints of ``audience``, read at most every SETTINGS_SECONDS."""
    known = _known
    now = time.monotonic()
    missing = [o for o in audience if now - known.loaded_at.get(o, -SETTINGS_SECONDS) >= SETTINGS_SECONDS]
    if missing:
        # Read everything first, then replace what is kept in one step with no await in between: another
        # consumer loop of this process may be routing for the same organisation meanwhile, and must never
        # see its settings half-forgotten (it would route as if the organisation had no subscriptions).
        subscriptions = (await session.execute(select(Subscription).where(
            Subscription.organisation_id.in_(missing)))).scalars().all()  # type: ignore[attr-defined]
        contacts = (await session.execute(select(Contact).where(
            Contact.organisation_id.in_(missing)))).scalars().all()  # type: ignore[attr-defined]
        endpoints = (await session.execute(select(WebhookEndpoint).where(
            WebhookEndpoint.organisation_id.in_(missing), WebhookEndpoint.enabled.is_(True)))).scalars().all()  # type: ignore[attr-defined]
        known.forget(missing)
        for row in subscriptions:
            known.subscriptions[row.organisation_id].append(SubscriptionView(
                pattern=row.pattern, channel=Channel(row.channel), endpoint_id=row.endpoint_id,
                contact_id=row.contact_id, digest=row.digest))
        for contact in contacts:
            known.contacts[contact.organisation_id].append(ContactView(contact.id, contact.email, contact.language))
        for endpoint in endpoints:
            known.endpoints[endpoint.id] = endpoint.organisation_id
        for organisation in missing:
            known.loaded_at[organisation] = now
    return known


async def route_event(session: AsyncSession, event: CloudEvent, *, public_base_url: str,
                      now: datetime | None = None) -> None:
    """``now`` is the service's clock (the one the dispatcher, the mailer and the digest judge "due" by;
    tests move it): what routing writes is due at once by that clock, whatever the wall clock says."""
    now = now or utcnow()
    audience = audience_of(event)
    law = rules.rules_on(now.astimezone(KAZAKHSTAN).date())
    desks = law.desks_for(event.type)
    if not audience and not desks:
        return
    sensitive = law.is_sensitive(event.type)
    link = law.link(public_base_url, event.type, event.subject)
    envelope = event.model_dump(mode="json", exclude_none=True)
    body = rules.thin_envelope(envelope, link) if sensitive else rules.full_envelope(envelope, link)
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    title = title_for(event, sensitive=sensitive)

    # The ministry's desks, whoever the audience is (a sensitive event's title names nothing from its record);
    # once per (role, event): the consumer applies an event once, and the unique key backs that up.
    for role in desks:
        _write(session, InboxMessage, {"id": uuid.uuid4(), "organisation_id": None, "staff_role": role,
                                       "event_id": event.id, "event_type": event.type, "subject": event.subject,
                                       "title": title, "created_at": now, "read_at": None})
    if not audience:
        return

    known = await _settings_of(session, audience)
    subscriptions, contacts, endpoints = known.subscriptions, known.contacts, known.endpoints

    for organisation_id in audience:
        own_contacts = {c.id: c for c in contacts[organisation_id]}
        decided = rules.route(event.type, subscriptions[organisation_id], list(own_contacts), law)
        if decided.inbox:
            _write(session, InboxMessage, {"id": uuid.uuid4(), "organisation_id": organisation_id,
                                           "staff_role": None, "event_id": event.id, "event_type": event.type,
                                           "subject": event.subject, "title": title, "created_at": now,
                                           "read_at": None})
        for endpoint_id in sorted(decided.endpoint_ids, key=str):
            # Only the organisation's own, enabled endpoints; a subscription cannot point elsewhere.
            if endpoints.get(endpoint_id) != organisation_id:
                continue
            # Leased, in the same insert, to this process's dispatcher, which gets the rows after
            # the commit and sends them without a claim; if this process dies first, the lease
            # runs out and any replica claims them as usual.
            taker = wakeup.taker()
            row = {"id": uuid.uuid4(), "endpoint_id": endpoint_id, "organisation_id": organisation_id,
                   "event_id": event.id, "event_type": event.type, "payload": payload, "status": "pending",
                   "attempts": 0, "next_attempt_at": now,
                   "lease_until": now + timedelta(seconds=taker.lease_seconds) if taker else None,
                   "lease_owner": taker.fresh_token if taker else None,
                   "last_status_code": None, "last_error": None, "created_at": now, "delivered_at": None}
            _write(session, WebhookDelivery, row)
            if taker is not None:
                wakeup.hand_over(session, [row])
            else:
                wakeup.mark(session, "webhooks")
        for contact_id in sorted(decided.email_now, key=str):
            contact = own_contacts[contact_id]
            subject, text = render(contact.language, "event", what=event_name(contact.language, event.type),
                                   type=event.type,
                                   subject=event.subject or "-", time=event.time.isoformat(), link=link)
            session.add(MailMessage(contact_id=contact.id, organisation_id=organisation_id,
                                    to_address=contact.email, language=contact.language, kind="event",
                                    reference=event.id, subject=subject, body=text, next_attempt_at=now))
            wakeup.mark(session, "mail")
        for contact_id in sorted(decided.email_digest, key=str):
            session.add(DigestItem(contact_id=contact_id, event_id=event.id, event_type=event.type, title=title,
                                   link=link))


ROWS = "notifications_rows"


def _write(session: AsyncSession, table: type[Any], row: dict[str, Any]) -> None:
    """Queue a row for this transaction: written with the others of its table in one statement
    just before the commit (routing a consumer batch writes many rows of few tables)."""
    session.info.setdefault(ROWS, {}).setdefault(table, []).append(row)


@event.listens_for(Session, "before_commit")
def _write_queued(session: Session) -> None:
    for table, rows in session.info.pop(ROWS, {}).items():
        session.execute(insert(table.__table__), rows)


CHANGED = "notifications_settings_changed"


@event.listens_for(Session, "before_flush")
def _note_changes(session: Session, _context: Any, _instances: Any) -> None:
    if any(isinstance(o, (Subscription, Contact, WebhookEndpoint))
           for o in (*session.new, *session.dirty, *session.deleted)):
        session.info[CHANGED] = True


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop(ROWS, None)
    if session.info.pop(CHANGED, False):
        forget_settings()  # a change made here counts from the next event on


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(ROWS, None)
    session.info.pop(CHANGED, None)
