import uuid
from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field

from gateway.tables import GatewayTable
from kernel.db import UTCDateTime, utcnow


class ApiClient(GatewayTable, table=True):
    """One registered client. Its secret is never stored: only the secret's SHA-256."""

    __tablename__ = "api_client"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)  # the client_id
    name: str = Field(max_length=200)
    organisation_id: uuid.UUID | None = Field(default=None, index=True)
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    secret_hash: str = Field(max_length=64)  # SHA-256 hex of the secret; see service.hash_secret
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the client last obtained a token (written with the token's audit row, never per request).
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
