import uuid
from datetime import datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field

from gateway.tables import GatewayTable
from kernel.db import UTCDateTime, utcnow


class ApiKey(GatewayTable, table=True):
    """One issued key. The key itself is never stored: only its SHA-256 and its first characters."""

    __tablename__ = "api_key"
    __table_args__ = (UniqueConstraint("key_hash", name="uq_api_key_key_hash"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=200)
    organisation_id: uuid.UUID | None = Field(default=None, index=True)
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    prefix: str = Field(max_length=16, index=True)
    key_hash: str = Field(max_length=64)  # SHA-256 hex of the key; see service.hash_key
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
