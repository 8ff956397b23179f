import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Index, String, UniqueConstraint
from sqlmodel import Field

from kernel.db import UTCDateTime, utcnow
from services.disputes.tables import DisputesTable


class CollectiveDispute(DisputesTable, table=True):
    """One collective labour dispute, from the written demands to its end."""

    __tablename__ = "collective_dispute"
    # A protocol of disagreements opens at most one draft.
    __table_args__ = (Index("uq_collective_dispute_bargaining_protocol_id", "bargaining_protocol_id", unique=True),)

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
    mediator_id: uuid.UUID | None = Field(default=None, description="The roster's mediator, when one was assigned")
    mediator_consent_on: date | None = None
    mediator_consent_document: str | None = Field(default=None, max_length=300)
    strike_decision: dict[str, Any] | None = Field(default=None, sa_type=JSON,
                                                   description="The meeting, the checks and the warnings recorded")
    court: str | None = Field(default=None, max_length=300)
    ended_on: date | None = Field(default=None, description="Settled, withdrawn or closed on")
    cause: str = Field(default="other", sa_type=String(30), index=True, description="What the dispute is mainly about")
    region_code: str | None = Field(default=None, max_length=20, index=True,
                                    description="KATO code: the employer's region in the register, or as given")
    sector_code: str | None = Field(default=None, max_length=20, description="The employer's sector, as given")
    bargaining: dict[str, Any] | None = Field(default=None, sa_type=JSON,
                                              description="The protocol of disagreements a draft was opened from")
    bargaining_protocol_id: uuid.UUID | None = None
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
    stalled_event_at: datetime | None = Field(default=None, sa_type=UTCDateTime,
                                              description="When the stalled event went out (once per stage)")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
