"""The roster as plain rules: who may take a dispute (no conflict of interest) and whose turn it is.

Nothing here touches a database, HTTP or the bus.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum


class RosterKind(StrEnum):
    mediator = "mediator"
    arbitrator = "arbitrator"  # a member of a labour arbitration (art. 166)


@dataclass(frozen=True)
class Candidate:
    """What rotation and the conflict check need to know of a roster member."""

    id: uuid.UUID
    name: str
    kind: str
    regions: tuple[str, ...]
    languages: tuple[str, ...]
    available: bool
    affiliations: frozenset[str]
    last_assigned_at: datetime | None


def conflicts(affiliations: Iterable[str], parties: Iterable[uuid.UUID | None]) -> list[str]:
    """The parties (organisation ids) a person is affiliated with; empty when there is no conflict of interest."""
    linked = {str(a) for a in affiliations}
    return sorted(str(p) for p in parties if p is not None and str(p) in linked)


def serves_region(regions: Sequence[str], region_code: str | None) -> bool:
    """An empty list serves every region; a KATO code matches itself and the codes under it (75 covers 751010)."""
    if not regions or region_code is None:
        return True
    return any(region_code.startswith(r) or r.startswith(region_code) for r in regions)


_NEVER = datetime.min.replace(tzinfo=UTC)


def rotation(candidates: Iterable[Candidate], *, kind: str, parties: Iterable[uuid.UUID | None],
             region_code: str | None, language: str | None) -> list[Candidate]:
    """Everyone who may take the dispute, whose turn comes first first.

    Only available members of the kind, serving the region, speaking the language (when one is
    asked) and affiliated with neither party. The least recently assigned comes first (never
    assigned before anyone); ties by name, then id, so the order is stable.
    """
    parties = list(parties)
    eligible = [c for c in candidates
                if c.kind == kind and c.available and serves_region(c.regions, region_code)
                and (language is None or language in c.languages) and not conflicts(c.affiliations, parties)]
    return sorted(eligible, key=lambda c: (c.last_assigned_at or _NEVER, c.name, str(c.id)))
