from datetime import date, datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from services.registry.rulesets.rules import RuleSetBody

RuleSetCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{2,59}$")]


class RuleSetWrite(BaseModel):
    """A new rule set, or a correction of one (which becomes its next revision)."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=300)]
    effective_from: date = Field(description="The first day the rules apply")
    body: RuleSetBody
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)] = Field(
        description="Why the rule set is added or corrected (kept with the revision)")


class RuleSetCreate(RuleSetWrite):
    code: RuleSetCode = Field(description="Stable code, e.g. trade-unions-2026")


class RuleSetPublic(BaseModel):
    code: str
    revision: int
    title: str
    effective_from: date
    effective_to: date | None = Field(description="The day before the next rule set takes effect, if any")
    body: RuleSetBody
    reason: str
    created_by: str
    created_at: AwareDatetime | datetime
