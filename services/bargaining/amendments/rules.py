"""Amendments as plain rules: when an agreement may be amended and when an amendment is adopted."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from contracts.bargaining import Side
from services.bargaining.negotiations.rules import NegotiationStatus

# An agreement can be amended once concluded and until it ends (Labour Code art. 157: the
# amendment procedure is part of the agreement; amendments are made as it provides).
AMENDABLE = frozenset({NegotiationStatus.signed, NegotiationStatus.filed, NegotiationStatus.in_force})


class AmendmentStatus(StrEnum):
    proposed = "proposed"
    adopted = "adopted"
    withdrawn = "withdrawn"


def unsigned_sides(sides: Iterable[Side], signatures: dict[str, object]) -> list[Side]:
    """The sides that have still to sign; an amendment is adopted when there are none."""
    return [side for side in sides if side.value not in signatures]


def agreement_version(adopted_before: int) -> int:
    """The agreement as signed is version 1; each adopted amendment makes the next version."""
    return adopted_before + 2
