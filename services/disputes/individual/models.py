import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, String
from sqlmodel import Field

from kernel.db import UTCDateTime, utcnow
from services.disputes.tables import DisputesTable


class IndividualDispute(DisputesTable, table=True):
    """One application to the employer's conciliation commission (Labour Code art. 159), to its end.

    The employee's name and position are personal data: only the employer, the employee's union
    when one is named, and staff ever see them; no event carries them.
    """

    __tablename__ = "individual_dispute"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    status: str = Field(sa_type=String(30), index=True)
    employer_id: uuid.UUID = Field(index=True)
    employer_name: str = Field(max_length=300)
    union_id: uuid.UUID | None = Field(default=None, index=True, description="The employee's union, if named")
    employee_name: str = Field(max_length=200)
    employee_position: str | None = Field(default=None, max_length=200)
    subject: str = Field(sa_type=String(30), description="reinstatement, pay, ... (rule data)")
    claim: str = Field(max_length=20000)
    filed_on: date = Field(description="Registered the day it is filed (art. 159)")
    dismissal_act_on: date | None = Field(default=None, description="Reinstatement: the day the employee "
                                          "received the copy of the act ending the contract")
    violation_known_on: date | None = Field(default=None, description="Other disputes: the day the employee "
                                            "learned (or should have learned) of the violation")
    suspensions: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON,
                                              description="Periods the time limit stood still (art. 160)")
    exemptions: list[str] = Field(default_factory=list, sa_type=JSON,
                                  description="Exemptions from the mandatory commission step claimed")
    time_limit: dict[str, Any] = Field(default_factory=dict, sa_type=JSON,
                                       description="The art. 160 check as it stood when the application was filed")
    rules_code: str = Field(max_length=60)
    decision_due: date
    decision_overdue_since: date | None = None
    outcome: str | None = Field(default=None, sa_type=String(20))
    decision: str | None = Field(default=None, max_length=20000)
    decided_on: date | None = None
    copies_due: date | None = None
    copies_sent_on: date | None = None
    copies_overdue_since: date | None = None
    execution_due: date | None = None
    executed_on: date | None = None
    execution_overdue_since: date | None = None
    court: str | None = Field(default=None, max_length=300)
    referred_on: date | None = None
    referral_reason: str | None = Field(default=None, max_length=2000)
    court_limit_ends_on: date | None = Field(default=None, description="Last day to go to court after the "
                                             "commission (reinstatement: 2 months, art. 160)")
    ended_on: date | None = None
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = 1


class IndividualDisputeAccess(DisputesTable, table=True):
    """Audit of an application: every read of its record (the employee's name and claim) and every decision on
    it. Rows are only added."""

    __tablename__ = "individual_dispute_access"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    individual_dispute_id: uuid.UUID = Field(foreign_key="individual_dispute.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=40, description="read, listed, filed, decided, copies_sent, executed, "
                        "referred_to_court, withdrawn, decision_overdue, copies_overdue, execution_overdue")
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
