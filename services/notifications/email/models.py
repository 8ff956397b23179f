import uuid
from datetime import date, datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field

from kernel.db import UTCDateTime, utcnow
from services.notifications.tables import NotificationsTable


class Contact(NotificationsTable, table=True):
    """A person or mailbox of an organisation that receives e-mail, in its language."""

    __tablename__ = "contact"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    organisation_id: uuid.UUID = Field(index=True)
    email: str = Field(max_length=320)
    name: str | None = Field(default=None, max_length=200)
    language: str = Field(max_length=2, description="kk, ru or en")
    last_digest_on: date | None = Field(default=None, description="Kazakhstan day of the last daily digest")
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MailMessage(NotificationsTable, table=True):
    """An e-mail owed to a contact; written in the transaction that decided it, sent by the mailer."""

    __tablename__ = "mail_message"
    __table_args__ = (
        UniqueConstraint("contact_id", "kind", "reference", name="uq_mail_message_once"),
        Index("ix_mail_message_due", "status", "next_attempt_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    contact_id: uuid.UUID
    organisation_id: uuid.UUID
    to_address: str = Field(max_length=320)
    language: str = Field(max_length=2)
    kind: str = Field(max_length=30, description="event, digest or endpoint_disabled")
    reference: str = Field(max_length=64, description="The event id, digest day or endpoint id: once each")
    subject: str = Field(max_length=300)
    body: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="pending", max_length=20)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lease_owner: str | None = Field(default=None, max_length=64)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DigestItem(NotificationsTable, table=True):
    """A low-priority event waiting for a contact's daily digest."""

    __tablename__ = "digest_item"
    __table_args__ = (UniqueConstraint("contact_id", "event_id", name="uq_digest_item_event"),)

    id: int | None = Field(default=None, primary_key=True)
    contact_id: uuid.UUID = Field(index=True)
    event_id: str = Field(max_length=64)
    event_type: str = Field(max_length=200)
    title: str = Field(max_length=400)
    link: str = Field(max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    digested_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
