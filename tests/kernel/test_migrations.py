"""Every service's migrations build exactly the tables its models describe, on every backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData
from sqlmodel import SQLModel

import kernel.calendar  # noqa: F401  (the calendar override table)
import kernel.consumer  # noqa: F401  (inbox and dead-letter tables)
import kernel.outbox  # noqa: F401  (the outbox table)
from kernel.db import create_engine
from kernel.migrations import database_checks, upgrade
from services.bargaining.app import definition as bargaining
from services.bargaining.tables import BargainingTable
from services.disputes.app import definition as disputes
from services.disputes.tables import DisputesTable
from services.notifications.app import definition as notifications
from services.notifications.tables import NotificationsTable
from services.registry.app import definition as registry
from services.registry.tables import RegistryTable

SERVICES = {
    "registry": (registry, RegistryTable),
    "bargaining": (bargaining, BargainingTable),
    "disputes": (disputes, DisputesTable),
    "notifications": (notifications, NotificationsTable),
}


def combined(service_metadata: MetaData) -> MetaData:
    metadata = MetaData()
    for source in (SQLModel.metadata, service_metadata):
        for table in source.tables.values():
            table.to_metadata(metadata)
    return metadata


@pytest.mark.parametrize("name", sorted(SERVICES))
async def test_migrations_match_the_models(name, make_database):
    definition, base = SERVICES[name]
    migrations_dir: Path = definition().migrations_dir
    engine = create_engine(await make_database(name))
    try:
        await upgrade(engine, migrations_dir)
        assert await database_checks(engine, migrations_dir) == {"database": "ok", "migrations": "ok"}
        await upgrade(engine, migrations_dir)  # a second start changes nothing
        async with engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": False}),
                                              combined(base.metadata)))
        assert differences == [], differences
    finally:
        await engine.dispose()
