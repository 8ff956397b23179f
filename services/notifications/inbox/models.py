import uuid
from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from kernel.db import UTCDateTime, utcnow
from services.notifications.tables import NotificationsTable


class InboxMessage(NotificationsTable, table=True):
    """One event, as it appears in one organisation's portal inbox."""

    __tablename__ = "inbox_message"
    __table_args__ = (UniqueConstraint("organisation_id", "event_id", name="uq_inbox_message_event"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    organisation_id: uuid.UUID = Field(index=True)
    event_id: str = Field(max_length=64)
    event_type: str = Field(max_length=200)
    subject: str | None = Field(default=None, max_length=200)
    title: str = Field(max_length=400)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class InboxRead(NotificationsTable, table=True):
    """That one user of the organisation has read one message (read and unread are per user)."""

    __tablename__ = "inbox_read"

    message_id: uuid.UUID = Field(primary_key=True)
    reader: str = Field(primary_key=True, max_length=200, description="The identity token's kind:subject")
    read_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
