from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary
from sqlmodel import Field

from gateway.tables import GatewayTable
from kernel.db import UTCDateTime, utcnow


class IdempotentRequest(GatewayTable, table=True):
    """A write sent with an Idempotency-Key, and the answer it got, kept so that a retry gets the same answer."""

    __tablename__ = "idempotent_request"

    scope_key: str = Field(primary_key=True, max_length=64,
                           description="SHA-256 of the caller (credential kind and subject) and the key")
    fingerprint: str = Field(max_length=64, description="SHA-256 of the method, path, query and body")
    status: str = Field(max_length=20, description="in_progress or done")
    response_status: int | None = None
    response_headers: list[Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    response_body: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    claimed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
