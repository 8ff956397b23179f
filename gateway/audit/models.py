import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field

from gateway.tables import GatewayTable
from kernel.db import UTCDateTime, utcnow


class AuditEvent(GatewayTable, table=True):
    """One recorded action. Rows are only ever added."""

    __tablename__ = "audit_event"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    # "staff:<account id>", "api-key:<key id>", "cli" (an operator at the gateway's command line) or "anonymous"
    actor: str = Field(max_length=80)
    action: str = Field(max_length=80, index=True)  # e.g. staff.sign_in, api_key.revoked
    subject: str | None = Field(default=None, max_length=200)  # what the action was done to
    address: str | None = Field(default=None, max_length=64)  # the client's IP address, when over HTTP
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
