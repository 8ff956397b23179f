"""The law as data: effective-dated rule sets for trade-union registration and status confirmation.

A rule set is the law in force from a date: the periods, thresholds and lists that the
registry applies, each provision carrying the article it comes from and, where the ILO
supervisory bodies objected to it, their note. Decisions are always taken under the rule
set in force on the decision's date and say which (code and revision). Nothing here
touches a database: these are plain models and functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from contracts.registry import OrganisationKind, RuleSetReference

T = TypeVar("T")

RuleCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,59}$")]
Article = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=300)]


class Provision(BaseModel, Generic[T]):
    """One provision of the law: its value, where it comes from, and any ILO objection."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: T
    article: Article = Field(description="Law and article, e.g. 'Law on Trade Unions No. 211-V, art. 13 p. 2'")
    ilo_note: str | None = Field(default=None, max_length=2000,
                                 description="What the ILO supervisory bodies said about this provision, if anything")
    verify: bool = Field(default=False,
                         description="True where the figure could not be confirmed from the primary text")


class TierThreshold(BaseModel):
    """What a union of one tier has to show when it confirms its status."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_region_share: float | None = Field(
        default=None, ge=0, le=1,
        description="Member organisations must exist in MORE than this share of the regions "
        "(oblasts and cities of republican significance); null for no such test")
    must_cover_capital_cities: bool = Field(
        default=False, description="Whether Astana and Almaty must be among the regions covered")
    min_members: int | None = Field(default=None, ge=0, description="Minimum number of members; null for none")


class GroundDefinition(BaseModel):
    """A ground on which a registrar may refuse or return an application, and its article."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: RuleCode
    article: Article
    description: str = Field(min_length=3, max_length=500)


class RuleSetBody(BaseModel):
    """Every provision the registry applies. Adding a provision is a code change; changing one is not."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_founders: Provision[Annotated[int, Field(ge=1, le=1000)]]
    founding_documents: Provision[Annotated[list[RuleCode], Field(min_length=1)]]
    correction_period_days: Provision[Annotated[int, Field(ge=1, le=365)]]
    status_confirmation_months: Provision[Annotated[int, Field(ge=1, le=60)]]
    status_confirmation_kinds: Provision[list[OrganisationKind]]
    affiliation_required: Provision[list[OrganisationKind]]
    tier_thresholds: Provision[dict[OrganisationKind, TierThreshold]]
    refusal_grounds: list[GroundDefinition] = Field(
        description="Grounds a registrar may cite besides the automatic checks; nothing else may be cited")

    @model_validator(mode="after")
    def _grounds_unique(self) -> RuleSetBody:
        codes = [g.code for g in self.refusal_grounds]
        if len(codes) != len(set(codes)):
            raise ValueError("refusal ground codes must be unique")
        clash = set(codes) & set(AUTOMATIC_RULES)
        if clash:
            raise ValueError(f"refusal grounds may not reuse the codes of automatic checks: {sorted(clash)}")
        return self


# The checks the registry runs itself, and the provision each comes from.
AUTOMATIC_RULES: dict[str, str] = {
    "min_founders": "min_founders",
    "founding_documents": "founding_documents",
    "status_confirmation_regions": "tier_thresholds",
    "status_confirmation_capital_cities": "tier_thresholds",
    "status_confirmation_members": "tier_thresholds",
    "affiliation_required": "affiliation_required",
}


class RuleSet(BaseModel):
    """A rule set as applied: its identity, the date it takes effect, and its provisions."""

    model_config = ConfigDict(frozen=True)

    code: str
    revision: int
    title: str
    effective_from: date
    body: RuleSetBody

    @property
    def reference(self) -> RuleSetReference:
        return RuleSetReference(code=self.code, revision=self.revision, title=self.title)

    def article_of(self, rule: str) -> str:
        """The article behind a rule code (an automatic check or a catalogued ground)."""
        if rule in AUTOMATIC_RULES:
            provision: Provision[object] = getattr(self.body, AUTOMATIC_RULES[rule])
            return provision.article
        for ground in self.body.refusal_grounds:
            if ground.code == rule:
                return ground.article
        raise KeyError(rule)

    def knows(self, rule: str) -> bool:
        return rule in AUTOMATIC_RULES or any(g.code == rule for g in self.body.refusal_grounds)


class NoRuleSetInForce(LookupError):
    def __init__(self, on: date) -> None:
        super().__init__(f"no rule set is in force on {on.isoformat()}")
        self.on = on


def in_force(rule_sets: Iterable[RuleSet], on: date) -> RuleSet:
    """The rule set in force on a date: of each rule set's latest revision, the one that took effect last."""
    latest: dict[str, RuleSet] = {}
    for rule_set in rule_sets:
        if rule_set.code not in latest or rule_set.revision > latest[rule_set.code].revision:
            latest[rule_set.code] = rule_set
    candidates = [r for r in latest.values() if r.effective_from <= on]
    if not candidates:
        raise NoRuleSetInForce(on)
    return max(candidates, key=lambda r: r.effective_from)
