"""The import worker: a loop in the registry process that takes queued jobs one at a time.

Started through ``ServiceDefinition.background``. A job left validating or importing by a
process that died is taken up again once its lease runs out; its write is one transaction,
so it is simply done again from the start.
"""

from __future__ import annotations

import asyncio
import secrets

import structlog

from kernel.app import PlatformState
from kernel.calendar import kazakhstan_today
from services.registry.imports import service
from services.registry.imports.settings import ImportSettings

log = structlog.get_logger(__name__)


async def import_worker(state: PlatformState, settings: ImportSettings | None = None) -> None:
    settings = settings or ImportSettings()
    owner = f"worker-{secrets.token_hex(8)}"
    while True:
        try:
            job_id = await service.claim_next(state.sessionmaker, owner=owner, lease_seconds=settings.lease_seconds)
            if job_id is None:
                await asyncio.sleep(settings.poll_seconds)
                continue
            log.info("import job claimed", job_id=str(job_id), worker=owner)
            await service.run_job(state.sessionmaker, job_id, owner=owner, settings=settings, today=kazakhstan_today())
        except asyncio.CancelledError:
            raise
        except Exception:
            # The job keeps its lease until it runs out, then is tried again; the loop itself goes on.
            log.exception("import worker step failed")
            await asyncio.sleep(max(settings.poll_seconds, 1.0))
