import uuid
from datetime import datetime

from sqlmodel import Field

from kernel.db import UTCDateTime, utcnow
from services.notifications.tables import NotificationsTable


class Subscription(NotificationsTable, table=True):
    """An organisation's choice: events of this type (or pattern) by this channel."""

    __tablename__ = "subscription"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    organisation_id: uuid.UUID = Field(index=True)
    pattern: str = Field(max_length=200, description="Event type or pattern, e.g. kz.ntc.disputes.>")
    channel: str = Field(max_length=20, description="webhook, email or inbox")
    endpoint_id: uuid.UUID | None = Field(default=None, description="The webhook endpoint (channel webhook)")
    contact_id: uuid.UUID | None = Field(default=None, description="One contact, or every contact (email)")
    digest: bool = Field(default=False, description="Low-priority events by e-mail once a day")
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
