"""The import worker: a loop in the registry process that takes queued jobs one at a time.

Started through ``ServiceDefinition.background``. A job left validating or importing by a
process that died is taken up again once its lease runs out; its write is one transaction,
so it is simply done again from the start.

An idle worker looks for queued jobs every ``poll_seconds``; the route that queues a job wakes
the worker of its own process at once (``wake``), so an import starts without waiting for the
next poll. Other replicas still find the job by polling, and the claim decides who takes it.
"""

from __future__ import annotations

import asyncio
import secrets
import weakref

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kernel.app import PlatformState
from kernel.calendar import kazakhstan_today
from services.registry.imports import service
from services.registry.imports.settings import ImportSettings

log = structlog.get_logger(__name__)

# One signal per running app (keyed by its sessionmaker, so two apps in one process - as in the
# tests - never wake each other's worker, and a stopped app's signal goes with it).
_job_queued: weakref.WeakKeyDictionary[async_sessionmaker[AsyncSession], asyncio.Event] = \
    weakref.WeakKeyDictionary()


def _signal(state: PlatformState) -> asyncio.Event:
    return _job_queued.setdefault(state.sessionmaker, asyncio.Event())


def wake(state: PlatformState) -> None:
    """Tell this process's worker that a job was queued; call it after the job is committed."""
    _signal(state).set()


async def import_worker(state: PlatformState, settings: ImportSettings | None = None) -> None:
    settings = settings or ImportSettings()
    owner = f"worker-{secrets.token_hex(8)}"
    job_queued = _signal(state)
    while True:
        try:
            # Cleared before looking, so a job committed after this look still ends the wait below.
            job_queued.clear()
            job_id = await service.claim_next(state.sessionmaker, owner=owner, lease_seconds=settings.lease_seconds,
                                              max_attempts=settings.max_attempts)
            if job_id is None:
                try:
                    await asyncio.wait_for(job_queued.wait(), timeout=settings.poll_seconds)
                except TimeoutError:
                    pass
                continue
            log.info("import job claimed", job_id=str(job_id), worker=owner)
            await service.run_job(state.sessionmaker, job_id, owner=owner, settings=settings, today=kazakhstan_today())
        except asyncio.CancelledError:
            raise
        except Exception:
            # The job keeps its lease until it runs out, then is tried again; the loop itself goes on.
            log.exception("import worker step failed")
            await asyncio.sleep(max(settings.poll_seconds, 1.0))
