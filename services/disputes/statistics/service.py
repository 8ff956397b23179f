"""Dispute statistics and the social-tension view, read from the disputes' own tables. Staff only.

No names leave here: only counts, codes and figures.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.calendar import load_calendar
from kernel.identity import Identity
from kernel.problems import Problem, invalid
from services.disputes.access import STAFF_READERS, is_staff
from services.disputes.collective.models import CollectiveDispute, DisputeStage
from services.disputes.collective.rules import TERMINAL, DisputeStatus
from services.disputes.statistics import rules
from services.disputes.statistics.schemas import (
    DisputeStatistics,
    RegionTension,
    ResolutionTime,
    SocialTension,
    StrikeFigures,
)

UNKNOWN = "unknown"
STRIKE_METHOD = ("ILO (15th ICLS, 1993): workers involved are the workers concerned by a dispute with a strike; "
                 "working days not worked = workers involved × working days of each strike spell (up to the day "
                 "before work resumed, or to as_of while it lasts).")


def require_ministry(identity: Identity) -> None:
    if not is_staff(identity, *STAFF_READERS):
        raise Problem(403, "forbidden", "Forbidden", "Statistics are for ministry staff (dispute_officer, "
                                                     "administrator or analyst).")


def _ended(status: str) -> bool:
    return DisputeStatus(status) in TERMINAL


async def statistics(session: AsyncSession, *, identity: Identity, as_of: date, submitted_from: date | None,
                     submitted_to: date | None) -> DisputeStatistics:
    require_ministry(identity)
    if submitted_from is not None and submitted_to is not None and submitted_to < submitted_from:
        raise invalid("/submitted_to", "not_before", "the period ends before it begins")
    query = select(CollectiveDispute).where(CollectiveDispute.status != DisputeStatus.draft.value)
    if submitted_from is not None:
        query = query.where(CollectiveDispute.submitted_on >= submitted_from)
    if submitted_to is not None:
        query = query.where(CollectiveDispute.submitted_on <= submitted_to)
    disputes = list((await session.execute(query)).scalars())
    by_id = {d.id: d for d in disputes}
    spells: list[rules.StrikeSpell] = []
    if by_id:
        stages = (await session.execute(select(DisputeStage).where(
            DisputeStage.stage == DisputeStatus.strike.value,
            DisputeStage.dispute_id.in_(list(by_id))))).scalars()  # type: ignore[attr-defined]
        spells = [rules.StrikeSpell(dispute_id=str(s.dispute_id),
                                    workers_involved=by_id[s.dispute_id].workers_concerned,
                                    started_on=s.started_on, ended_on=s.ended_on)
                  for s in stages if s.started_on <= as_of]
    striking = {s.dispute_id for s in spells}
    calendar = await load_calendar(session)
    durations = [float((d.ended_on - d.submitted_on).days) for d in disputes
                 if _ended(d.status) and d.ended_on is not None]
    return DisputeStatistics(
        as_of=as_of, submitted_from=submitted_from, submitted_to=submitted_to, disputes=len(disputes),
        open=sum(not _ended(d.status) for d in disputes),
        by_region=dict(Counter(rules.region_of(d.region_code) or UNKNOWN for d in disputes)),
        by_sector=dict(Counter(d.sector_code or UNKNOWN for d in disputes)),
        by_cause=dict(Counter(d.cause for d in disputes)),
        by_stage=dict(Counter(d.status for d in disputes)),
        by_outcome=dict(Counter(d.status for d in disputes if _ended(d.status))),
        strikes=StrikeFigures(
            strikes=len(striking),
            workers_involved=sum(d.workers_concerned for d in disputes if str(d.id) in striking),
            days_not_worked=rules.days_not_worked(spells, as_of, calendar), method=STRIKE_METHOD),
        time_to_resolution=ResolutionTime(resolved=len(durations), median_days=rules.median(durations),
                                          p90_days=rules.percentile(durations, 0.9)),
    )


async def social_tension(session: AsyncSession, *, identity: Identity, as_of: date) -> SocialTension:
    """Open disputes by region, weighted by workers involved and stage (weights in tension-weights.json)."""
    require_ministry(identity)
    weights = rules.tension_weights_on(as_of)
    closed = [s.value for s in TERMINAL] + [DisputeStatus.draft.value]
    rows = (await session.execute(select(CollectiveDispute.region_code, CollectiveDispute.status,
                                         CollectiveDispute.workers_concerned)
                                  .where(CollectiveDispute.status.not_in(closed)))).all()  # type: ignore[attr-defined]
    regions: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for region_code, status, workers in rows:
        regions[rules.region_of(region_code) or UNKNOWN].append((status, workers))
    views = [RegionTension(region_code=code, open_disputes=len(items), workers_involved=sum(w for _, w in items),
                           index=round(sum(rules.dispute_tension(s, w, weights) for s, w in items), 1),
                           by_stage=dict(Counter(s for s, _ in items)))
             for code, items in regions.items()]
    views.sort(key=lambda r: (-r.index, r.region_code))
    return SocialTension(as_of=as_of, method=rules.method(weights), regions=views, total_open=len(rows))
