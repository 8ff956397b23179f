"""The public register's query: one set of filters shared by the list and both exports."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Literal

from fastapi import Depends, Query

from contracts.registry import OrganisationKind, OrganisationStatus
from kernel.problems import FieldError, Problem
from services.registry.organisations.schemas import DivisionCode, RegionCode
from services.registry.register.rules import fragment_problem, normalise


class PublicStatus(StrEnum):
    """The statuses the public register shows; applicants and refusals are never listed."""

    registered = OrganisationStatus.registered.value
    confirmed = OrganisationStatus.confirmed.value
    lapsed = OrganisationStatus.lapsed.value
    liquidated = OrganisationStatus.liquidated.value


SortBy = Literal["name_ru", "name_kk", "name_en"]


@dataclass(frozen=True, slots=True)
class RegisterFilter:
    fragment: str | None = None
    kinds: tuple[OrganisationKind, ...] = ()
    region_code: str | None = None
    sector: str | None = None
    statuses: tuple[PublicStatus, ...] = field(default=tuple(PublicStatus))
    parent_id: uuid.UUID | None = None
    sort: SortBy = "name_ru"


def register_filter(
    q: Annotated[str | None, Query(max_length=200, description=(
        "A fragment of the name in Kazakh, Russian or English, in any case (ё and е are the same)"))] = None,
    kind: Annotated[list[OrganisationKind] | None, Query(description="Tier or kind; repeat for several")] = None,
    region_code: Annotated[RegionCode | None, Query(description="Official (KATO) code of the region")] = None,
    sector: Annotated[DivisionCode | None, Query(description="Classifier division (2 digits)")] = None,
    status: Annotated[list[PublicStatus] | None, Query(description="Status; repeat for several")] = None,
    parent_id: Annotated[uuid.UUID | None, Query(description="Affiliated now to this higher-tier organisation")] = None,
    sort: Annotated[SortBy, Query(description="The name to sort by")] = "name_ru",
) -> RegisterFilter:
    fragment = None
    if q is not None and q.strip():
        if problem := fragment_problem(q):
            raise Problem(422, "validation", "Invalid request", problem,
                          errors=[FieldError(pointer="query:/q", rule="min_fragment", detail=problem)])
        fragment = normalise(q)
    return RegisterFilter(fragment=fragment, kinds=tuple(dict.fromkeys(kind or ())), region_code=region_code,
                          sector=sector, statuses=tuple(dict.fromkeys(status or ())) or tuple(PublicStatus),
                          parent_id=parent_id, sort=sort)


RegisterQuery = Annotated[RegisterFilter, Depends(register_filter)]

# The columns of the CSV export, in order: the public particulars only.
CSV_COLUMNS = ("id", "kind", "name_kk", "name_ru", "name_en", "bin", "status", "region_code", "sectors",
               "legal_address", "officers", "parent_id", "registered_at", "status_confirmation_due", "confirmed_on",
               "lapsed_on", "liquidated_on")
