import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from contracts.bargaining import AmendedClause, ClauseCategory, Side
from services.bargaining.negotiations.schemas import Name, Short, Text

Summary = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClauseChange(_Request):
    """A new text for an agreed clause (``clause_id``), or a new clause (no ``clause_id``; category and title)."""

    clause_id: uuid.UUID | None = None
    category: ClauseCategory | None = Field(default=None, description="For a new clause")
    title: Short | None = Field(default=None, description="For a new clause")
    text: Text

    @model_validator(mode="after")
    def _new_clause_is_named(self) -> "ClauseChange":
        if self.clause_id is None and (self.category is None or self.title is None):
            raise ValueError("a new clause needs its category and title")
        if self.clause_id is not None and (self.category is not None or self.title is not None):
            raise ValueError("an amended clause keeps its category and title; give only clause_id and text")
        return self


class AmendmentCreate(_Request):
    summary: Summary = Field(description="What the amendment changes, in a sentence")
    changes: list[ClauseChange] = Field(default_factory=list, max_length=50)
    term_to: date | None = Field(default=None, description="A new last day of the term (extension or shortening)")
    side: Side | None = Field(default=None, description="The proposing side (staff name it; an organisation proposes "
                              "for its own side)")
    proposed_on: date | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> "AmendmentCreate":
        if not self.changes and self.term_to is None:
            raise ValueError("an amendment changes at least one clause or the term")
        return self


class AmendmentSignatureIn(_Request):
    side: Side | None = None
    signatory_name: Name
    signatory_position: Name
    signed_on: date | None = None


class AmendmentPublic(BaseModel):
    id: uuid.UUID
    negotiation_id: uuid.UUID
    number: int
    status: str
    proposed_by_side: Side
    proposed_on: date
    summary: str
    changes: list[ClauseChange]
    term_to: date | None
    signatures: dict[str, dict[str, str]]
    awaiting: list[Side] = Field(description="Sides that have still to sign")
    adopted_on: date | None
    agreement_version: int | None
    applied: list[AmendedClause]
    created_at: datetime
