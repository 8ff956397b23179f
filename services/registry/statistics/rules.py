"""Plain arithmetic of the published statistics: shares, percentiles, density. No I/O."""

from __future__ import annotations

import math
from collections.abc import Mapping

from contracts.registry import OrganisationKind

# The kinds whose members are workers: employers' associations count employers, not employees,
# so their reports never enter union membership or density.
UNION_KINDS = (OrganisationKind.republican_union_association, OrganisationKind.sectoral_union,
               OrganisationKind.territorial_union_association, OrganisationKind.local_union,
               OrganisationKind.primary_union_organisation)


def share(part: int, whole: int) -> float | None:
    """Per cent, one decimal; None when there is nothing to divide by."""
    return round(part * 100 / whole, 1) if whole else None


def density(members: int, employees: int) -> float | None:
    """Union density as the ILO defines it: union members who are employees ÷ employees × 100.

    The registry holds no employment status of members, so every reported member is taken to
    be an employee; the figure is an upper bound where unions also enrol pensioners or students.
    """
    return round(members * 100 / employees, 1) if employees > 0 else None


def median(histogram: Mapping[int, int]) -> float | None:
    """The median of values given as {value: how many}; the mean of the two middle ones for an even count."""
    values = sorted(histogram.items())
    count = sum(n for _, n in values)
    if count == 0:
        return None
    middle = [(count - 1) // 2, count // 2]  # 0-based ranks
    found: list[int] = []
    seen = 0
    for value, n in values:
        while middle and middle[0] < seen + n:
            found.append(value)
            middle.pop(0)
        seen += n
    return sum(found) / 2


def percentile(histogram: Mapping[int, int], p: float) -> int | None:
    """The nearest-rank p-th percentile (the smallest value with at least p % of values at or below it)."""
    count = sum(histogram.values())
    if count == 0:
        return None
    rank = max(1, math.ceil(p / 100 * count))
    seen = 0
    for value, n in sorted(histogram.items()):
        seen += n
        if seen >= rank:
            return value
    raise AssertionError("unreachable: the rank is at most the count")
