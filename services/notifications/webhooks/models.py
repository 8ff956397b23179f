import uuid
from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field

from kernel.db import UTCDateTime, utcnow
from services.notifications.tables import NotificationsTable


class WebhookEndpoint(NotificationsTable, table=True):
    """Where an organisation's systems receive signed events.

    The secret is a signing key the service must use again at every send, so it cannot be hashed
    like a password: ``secret`` and ``previous_secret`` hold Fernet tokens under the operator's
    ``NOTIFICATIONS_WEBHOOK_SECRET_KEYS`` (webhooks/secret_box.py), never the plain secret.
    """

    __tablename__ = "webhook_endpoint"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    organisation_id: uuid.UUID = Field(index=True)
    url: str = Field(max_length=2000)
    description: str | None = Field(default=None, max_length=300)
    # A Fernet token of a ``whsec_`` secret is 140 characters; room for a longer secret.
    secret: str = Field(max_length=400)
    previous_secret: str | None = Field(default=None, max_length=400)
    previous_secret_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    enabled: bool = True
    disabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    disabled_reason: str | None = Field(default=None, max_length=300)
    failing_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WebhookDelivery(NotificationsTable, table=True):
    """One event owed to one endpoint; written in the consumer's transaction, so never lost."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_delivery_event"),
        # The dispatcher's question: pending deliveries due now.
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    endpoint_id: uuid.UUID = Field(index=True)
    organisation_id: uuid.UUID
    event_id: str = Field(max_length=64, description="Sent as webhook-id")
    event_type: str = Field(max_length=200)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="pending", max_length=20, description="pending, delivered or failed")
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lease_owner: str | None = Field(default=None, max_length=64)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebhookAttempt(NotificationsTable, table=True):
    """The delivery log: one row per attempt."""

    __tablename__ = "webhook_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: uuid.UUID = Field(index=True)
    endpoint_id: uuid.UUID = Field(index=True)
    number: int
    attempted_at: datetime = Field(sa_type=UTCDateTime)
    status_code: int | None = None
    latency_ms: float
    error: str | None = Field(default=None, max_length=500)
