import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field

from kernel.db import UTCDateTime, utcnow
from services.registry.tables import RegistryTable


class RuleSetRevision(RegistryTable, table=True):
    """One revision of a rule set. A correction adds a revision; none is ever overwritten."""

    __tablename__ = "rule_set"
    __table_args__ = (UniqueConstraint("code", "revision", name="uq_rule_set_revision"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    code: str = Field(max_length=60, index=True)
    revision: int
    title: str = Field(max_length=300)
    effective_from: date
    body: dict[str, Any] = Field(sa_type=JSON)
    reason: str = Field(max_length=2000, description="Why this revision was made")
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
