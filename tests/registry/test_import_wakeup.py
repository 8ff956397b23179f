"""A queued import starts at once: the route wakes its own process's worker instead of leaving the job
for the next poll. Real app, real database (SQLite and PostgreSQL), real nats-server.

The worker here polls only every 30 s, so a job that finishes within 10 s of being posted to an idle
worker was started by the wake-up, not by the poll.
"""

from __future__ import annotations

import asyncio
import csv
import io
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.registry.app import create_app
from services.registry.imports.rules import COLUMNS
from services.registry.settings import RegistrySettings
from tests.support.services import RunningService, eventually, running, settings_for

LONG_POLL_SECONDS = 30.0
WELL_BEFORE_THE_POLL = 10.0


@pytest.fixture
async def registry(make_database, nats_server, public_key, signer,
                   monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[RunningService]:
    # The worker reads its settings when the app starts.
    monkeypatch.setenv("REGISTRY_IMPORT_POLL_SECONDS", str(LONG_POLL_SECONDS))
    settings = settings_for(RegistrySettings, database_url=await make_database("registry"),
                            nats_url=nats_server.url, public_key=public_key)
    async with running(create_app(settings), signer, "registry") as service:
        yield service


def local_unions(count: int, first: int) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({"kind": "local_union", "name_kk": f"Жергілікті кәсіподақ {n}",
                      "name_ru": f"Местный профсоюз {n}"} for n in range(first, first + count))
    return out.getvalue().encode("utf-8")


async def import_and_time(registry: RunningService, content: bytes) -> tuple[dict[str, Any], float]:
    headers = registry.headers(roles={"registrar"}, subject="registrar-1")
    started = time.monotonic()
    posted = await registry.client.post("/imports", files={"file": ("unions.csv", content, "text/csv")},
                                        headers=headers)
    assert posted.status_code == 202, posted.text

    async def check() -> dict[str, Any] | None:
        job = (await registry.client.get(f"/imports/{posted.json()['id']}", headers=headers)).json()
        return job if job["status"] in ("done", "failed") else None

    job = await eventually(check, timeout=WELL_BEFORE_THE_POLL, interval=0.05,
                           what="the import to finish before the worker's next poll")
    return job, time.monotonic() - started


async def test_a_job_posted_to_an_idle_worker_starts_at_once(registry: RunningService) -> None:
    # Twice: once after the worker's first look at start, once after it finished a job; each time it is
    # idle, waiting out a 30 s poll, when the job arrives.
    for round_number in range(2):
        await asyncio.sleep(1.5)
        job, seconds = await import_and_time(registry, local_unions(20, first=20 * round_number))
        assert job["status"] == "done", job
        assert job["report"]["organisations"] == 20
        assert seconds < WELL_BEFORE_THE_POLL
