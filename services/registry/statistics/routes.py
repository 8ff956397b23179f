"""Public statistics of the register, and the labour-force figures that union density needs."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from kernel.calendar import kazakhstan_today
from kernel.db import SessionDep
from kernel.identity import Identity, require_identity
from kernel.problems import NotFound, Problem
from services.registry.access import actor_of, is_staff
from services.registry.statistics import service
from services.registry.statistics.schemas import LabourForcePublic, LabourForceWrite, Statistics

router = APIRouter(prefix="/statistics", tags=["statistics"])

Year = Annotated[int, Path(ge=1991, le=2100, description="The survey year")]
LOADERS = ("registrar", "analyst", "administrator")


async def _loader(identity: Annotated[Identity, Depends(require_identity)]) -> Identity:
    if not is_staff(identity, *LOADERS):
        raise Problem(403, "forbidden", "Forbidden",
                      f"Labour-force figures are loaded by staff with one of the roles: {', '.join(LOADERS)}.")
    return identity


Loader = Annotated[Identity, Depends(_loader)]


def _cache(request: Request) -> service.StatisticsCache:
    state = request.app.state
    if not hasattr(state, "registry_statistics"):
        state.registry_statistics = service.StatisticsCache()
    return state.registry_statistics


@router.get("", summary="Aggregated figures of the register: membership, organisations, density, decisions "
                        "(public)")
async def statistics(request: Request, session: SessionDep) -> Statistics:
    return await service.cached_statistics(_cache(request), session)


@router.get("/labour-force", summary="Every year's labour-force figures (public)")
async def labour_force_years(session: SessionDep) -> list[LabourForcePublic]:
    return await service.labour_force_years(session)


@router.get("/labour-force/{year}", summary="One year's labour-force figures (public)")
async def labour_force(year: Year, session: SessionDep) -> LabourForcePublic:
    figures = await service.labour_force(session, year)
    if figures is None:
        raise NotFound("labour-force figures")
    return figures


@router.put("/labour-force/{year}", summary="Load a year's employees, nationally and by region (registrars, "
                                            "analysts); replaces that year's figures")
async def set_labour_force(year: Year, body: LabourForceWrite, session: SessionDep,
                           identity: Loader) -> LabourForcePublic:
    figures = await service.set_labour_force(session, year, figures=body, actor=actor_of(identity),
                                             today=kazakhstan_today())
    await session.commit()
    return figures
