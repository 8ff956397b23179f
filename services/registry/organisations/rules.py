"""Plain rules about organisations, testable without HTTP, a database or the bus."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# Weights of the check digit of Kazakhstan's 12-digit identification numbers (IIN/BIN):
# a second pass with shifted weights is used when the first gives 10; a result of 10
# again means the number cannot be valid.
_FIRST_WEIGHTS = tuple(range(1, 12))
_SECOND_WEIGHTS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)


def bin_check_digit(first_eleven: str) -> int | None:
    digits = [int(c) for c in first_eleven]
    check = sum(d * w for d, w in zip(digits, _FIRST_WEIGHTS, strict=True)) % 11
    if check == 10:
        check = sum(d * w for d, w in zip(digits, _SECOND_WEIGHTS, strict=True)) % 11
        if check == 10:
            return None
    return check


def bin_problem(value: str) -> str | None:
    """Why ``value`` is not a valid BIN, or None if it is."""
    if len(value) != 12 or not value.isdigit():
        return "a BIN has exactly 12 digits"
    expected = bin_check_digit(value[:11])
    if expected is None or expected != int(value[11]):
        return "the check digit (12th) does not match the first 11 digits"
    return None


def make_bin(first_eleven: str) -> str | None:
    """The full BIN for 11 leading digits, or None if no check digit exists (used for demo data)."""
    check = bin_check_digit(first_eleven)
    return None if check is None else first_eleven + str(check)


# --- affiliation: which organisation may belong to which (the structure, not the law) -------

_UNION_PARENTS = {
    "primary_union_organisation": ("local_union", "sectoral_union", "territorial_union_association"),
    "local_union": ("sectoral_union", "territorial_union_association", "republican_union_association"),
    "territorial_union_association": ("republican_union_association",),
    "sectoral_union": ("republican_union_association",),
}
_EMPLOYER_PARENTS = {
    "employer": ("sectoral_employer_association", "regional_employer_association",
                 "republican_employer_association"),
    "sectoral_employer_association": ("republican_employer_association",),
    "regional_employer_association": ("republican_employer_association",),
}
ALLOWED_PARENTS: dict[str, tuple[str, ...]] = {**_UNION_PARENTS, **_EMPLOYER_PARENTS}


def affiliation_problem(child_kind: str, parent_kind: str) -> str | None:
    """Why an organisation of ``child_kind`` cannot belong to one of ``parent_kind``, or None."""
    allowed = ALLOWED_PARENTS.get(child_kind, ())
    if parent_kind in allowed:
        return None
    if not allowed:
        return f"a {child_kind.replace('_', ' ')} does not belong to a higher-tier organisation"
    return (f"a {child_kind.replace('_', ' ')} may belong to: "
            + ", ".join(k.replace("_", " ") for k in allowed))


# --- membership: counts only ----------------------------------------------------------------

@dataclass(frozen=True)
class MembershipCounts:
    total: int
    women: int
    under_35: int
    by_region: dict[str, int] = field(default_factory=dict)

    def __add__(self, other: MembershipCounts) -> MembershipCounts:
        regions = dict(self.by_region)
        for code, count in other.by_region.items():
            regions[code] = regions.get(code, 0) + count
        return MembershipCounts(self.total + other.total, self.women + other.women,
                                self.under_35 + other.under_35, regions)


ZERO = MembershipCounts(0, 0, 0)


def membership_problems(counts: MembershipCounts) -> list[tuple[str, str, str]]:
    """Every inconsistency in a report, as (JSON pointer, rule, detail)."""
    problems: list[tuple[str, str, str]] = []
    if counts.women > counts.total:
        problems.append(("/women", "not_more_than_total", f"{counts.women} women out of {counts.total} members"))
    if counts.under_35 > counts.total:
        problems.append(("/under_35", "not_more_than_total",
                         f"{counts.under_35} members under 35 out of {counts.total} members"))
    if counts.by_region and sum(counts.by_region.values()) != counts.total:
        problems.append(("/by_region", "sums_to_total",
                         f"the regions add up to {sum(counts.by_region.values())}, the total is {counts.total}"))
    return problems


def descendants(root: uuid.UUID, children: Mapping[uuid.UUID, Iterable[uuid.UUID]]) -> list[uuid.UUID]:
    """Every organisation below ``root`` in the affiliation tree (each once, even if the data had a loop)."""
    seen: set[uuid.UUID] = {root}
    order: list[uuid.UUID] = []
    stack = list(children.get(root, ()))
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        order.append(node)
        stack.extend(children.get(node, ()))
    return order


def aggregate(root: uuid.UUID, reports: Mapping[uuid.UUID, MembershipCounts],
              children: Mapping[uuid.UUID, Iterable[uuid.UUID]]) -> MembershipCounts:
    """The root's own counts plus those of every organisation below it."""
    total = reports.get(root, ZERO)
    for node in descendants(root, children):
        total = total + reports.get(node, ZERO)
    return total
