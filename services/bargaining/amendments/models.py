import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, String, UniqueConstraint
from sqlmodel import Field

from kernel.db import UTCDateTime, utcnow
from services.bargaining.tables import BargainingTable


class Amendment(BargainingTable, table=True):
    """A proposed change to a concluded agreement: changed or new clauses and/or a new end of term.

    Adopted when every side has signed it; its clause texts then become new versions of those
    clauses (the earlier versions stay), and the agreement's version goes up by one.
    """

    __tablename__ = "amendment"
    __table_args__ = (UniqueConstraint("negotiation_id", "number", name="uq_amendment_number"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    negotiation_id: uuid.UUID = Field(foreign_key="negotiation.id", index=True)
    number: int
    status: str = Field(sa_type=String(20), description="proposed, adopted or withdrawn")
    proposed_by_side: str = Field(sa_type=String(20))
    proposed_on: date
    summary: str = Field(max_length=2000)
    changes: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON,
                                          description="clause_id (null for a new clause), category, title, text")
    term_to: date | None = Field(default=None, description="The new last day of the term, if the amendment sets one")
    signatures: dict[str, Any] = Field(default_factory=dict, sa_type=JSON,
                                       description="side -> signatory_name, signatory_position, signed_on")
    adopted_on: date | None = None
    agreement_version: int | None = Field(default=None, description="The agreement's version once adopted")
    applied: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON,
                                          description="What adoption did: clause_id, number, title, version, new")
    recorded_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
