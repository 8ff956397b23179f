import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, String, UniqueConstraint
from sqlmodel import Field

from kernel.db import UTCDateTime, utcnow
from services.disputes.tables import DisputesTable


class CollectiveDispute(DisputesTable, table=True):
    """One collective labour dispute, from the written demands to its end."""

    __tablename__ = "collective_dispute"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    status: str = Field(sa_type=String(30), index=True)
    union_id: uuid.UUID | None = Field(default=None, index=True,
                                       description="The union putting the demands (none: elected representatives)")
    representatives: str | None = Field(default=None, max_length=2000,
                                        description="The employees' elected representatives, when no union acts")
    workers_name: str = Field(max_length=300, description="The workers' side as named when the demands were put")
    employer_id: uuid.UUID = Field(index=True)
    employer_name: str = Field(max_length=300)
    workers_concerned: int
    demands: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    submitted_on: date
    answer_due: date
    rules_code: str = Field(max_length=60)
    answer: str | None = Field(default=None, sa_type=String(20))
    answered_on: date | None = None
    conciliation_due: date | None = None
    mediator_name: str | None = Field(default=None, max_length=200)
    mediator_consent_on: date | None = None
    mediator_consent_document: str | None = Field(default=None, max_length=300)
    strike_decision: dict[str, Any] | None = Field(default=None, sa_type=JSON,
                                                   description="The meeting, the checks and the warnings recorded")
    court: str | None = Field(default=None, max_length=300)
    ended_on: date | None = Field(default=None, description="Settled, withdrawn or closed on")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = 1


class DisputeStage(DisputesTable, table=True):
    """One stage a dispute went through: when it began and ended, and the outcome recorded when it ended."""

    __tablename__ = "dispute_stage"
    __table_args__ = (UniqueConstraint("dispute_id", "number", name="uq_dispute_stage_number"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    dispute_id: uuid.UUID = Field(foreign_key="collective_dispute.id", index=True)
    number: int
    stage: str = Field(sa_type=String(30))
    started_on: date
    ended_on: date | None = None
    outcome: str | None = Field(default=None, max_length=20000)
    ended_by: str | None = Field(default=None, sa_type=String(30), description="The action that ended it")
    recorded_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
