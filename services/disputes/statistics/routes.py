"""Dispute statistics over HTTP (ministry staff)."""

from datetime import date

from fastapi import APIRouter

from kernel.calendar import kazakhstan_today
from kernel.db import SessionDep
from services.disputes.access import Caller
from services.disputes.statistics import service
from services.disputes.statistics.schemas import DisputeStatistics, SocialTension

router = APIRouter(prefix="/statistics", tags=["statistics"])


@router.get("", summary="Collective disputes by region, sector, cause, stage and outcome; strikes (ILO); time to "
            "resolution")
async def statistics(session: SessionDep, identity: Caller, submitted_from: date | None = None,
                     submitted_to: date | None = None) -> DisputeStatistics:
    return await service.statistics(session, identity=identity, as_of=kazakhstan_today(),
                                    submitted_from=submitted_from, submitted_to=submitted_to)


@router.get("/social-tension", summary="Open disputes by region, weighted by workers involved and stage")
async def social_tension(session: SessionDep, identity: Caller) -> SocialTension:
    return await service.social_tension(session, identity=identity, as_of=kazakhstan_today())
