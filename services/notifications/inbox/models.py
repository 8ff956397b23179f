import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field

from kernel.db import UTCDateTime, utcnow
from services.notifications.tables import NotificationsTable


class InboxMessage(NotificationsTable, table=True):
    """One event, as it appears in one inbox: an organisation's, or the desk of one ministry staff role
    (shared by everyone holding the role; read and unread stay per person, in ``InboxRead``)."""

    __tablename__ = "inbox_message"
    __table_args__ = (
        UniqueConstraint("organisation_id", "event_id", name="uq_inbox_message_event"),
        # Leads with staff_role, so it also serves a desk's reads; the backstop against a redelivered event.
        UniqueConstraint("staff_role", "event_id", name="uq_inbox_message_desk_event"),
        CheckConstraint("(organisation_id IS NULL AND staff_role IS NOT NULL) "
                        "OR (organisation_id IS NOT NULL AND staff_role IS NULL)", name="ck_inbox_message_one_inbox"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    organisation_id: uuid.UUID | None = Field(default=None, index=True)
    staff_role: str | None = Field(default=None, max_length=40)
    event_id: str = Field(max_length=64)
    event_type: str = Field(max_length=200)
    subject: str | None = Field(default=None, max_length=200)
    title: str = Field(max_length=400)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class InboxRead(NotificationsTable, table=True):
    """That one user has read one message (read and unread are per user, on a shared desk too)."""

    __tablename__ = "inbox_read"

    message_id: uuid.UUID = Field(primary_key=True)
    reader: str = Field(primary_key=True, max_length=200, description="The identity token's kind:subject")
    read_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
