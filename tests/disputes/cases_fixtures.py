"""Fixtures for the individual-dispute and complaint tests: the disputes service, with and without a test clock.

Loaded by those modules with ``pytest_plugins``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import pytest

from kernel.calendar import KAZAKHSTAN
from services.disputes.app import create_app, definition
from services.disputes.settings import DisputesSettings
from tests.support.services import Clock, RunningService, running, settings_for, with_clock


@pytest.fixture
async def disputes(make_database, nats_server, public_key, signer) -> AsyncIterator[RunningService]:
    settings = settings_for(DisputesSettings, database_url=await make_database("disputes"),
                            nats_url=nats_server.url, public_key=public_key)
    async with running(create_app(settings), signer, "disputes") as service:
        yield service


@pytest.fixture
async def clock() -> Clock:
    return Clock(datetime(2026, 3, 20, 10, 0, tzinfo=KAZAKHSTAN))


@pytest.fixture
async def sweeping_disputes(make_database, nats_server, public_key, signer,
                            clock: Clock) -> AsyncIterator[RunningService]:
    settings = settings_for(DisputesSettings, database_url=await make_database("disputes"),
                            nats_url=nats_server.url, public_key=public_key, deadline_sweep_seconds=0.1)
    async with running(with_clock(definition(settings), clock), signer, "disputes") as service:
        yield service
