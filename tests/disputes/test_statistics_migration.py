"""Migration 0005 on disputes recorded before it: cause 'other', the region taken from the employer's register entry
(SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import command

from kernel.db import create_engine
from kernel.migrations import alembic_config, upgrade
from services.disputes.app import definition

# Ids bound as the models store them (SQLite keeps a UUID as 32 hex digits, PostgreSQL as uuid).
ID, EMPLOYER = sa.bindparam("id", type_=sa.Uuid()), sa.bindparam("employer", type_=sa.Uuid())


def _upgrade_to(connection: sa.Connection, migrations_dir, url: str, revision: str) -> None:
    config = alembic_config(migrations_dir, url)
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def test_existing_disputes_get_cause_other_and_the_employers_region(make_database) -> None:
    url = await make_database("disputes")
    migrations_dir = definition().migrations_dir
    engine = create_engine(url)
    employer, unknown_employer, dispute, orphan = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade_to, migrations_dir, url, "0004")
            await connection.execute(sa.text(
                "INSERT INTO party (id, kind, name_ru, name_kk, region_code, registry_status, updated_at) "
                "VALUES (:id, 'employer', 'АО', 'АҚ', '35', 'registered', CURRENT_TIMESTAMP)").bindparams(ID),
                {"id": employer})
            for dispute_id, employer_id in ((dispute, employer), (orphan, unknown_employer)):
                await connection.execute(sa.text(
                    "INSERT INTO collective_dispute (id, status, workers_name, employer_id, employer_name, "
                    "workers_concerned, demands, submitted_on, answer_due, rules_code, created_at, updated_at, "
                    "version) "
                    "VALUES (:id, 'conciliation', 'Профсоюз', :employer, 'АО', 10, '[]', '2026-03-02', '2026-03-05', "
                    "'labour-code-2015', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)").bindparams(ID, EMPLOYER),
                    {"id": dispute_id, "employer": employer_id})
        await upgrade(engine, migrations_dir)
        async with engine.connect() as connection:
            rows = {row.id: (row.cause, row.region_code) for row in (await connection.execute(sa.text(
                "SELECT id, cause, region_code FROM collective_dispute").columns(
                    sa.column("id", sa.Uuid()), sa.column("cause"), sa.column("region_code")))).all()}
        assert rows == {dispute: ("other", "35"), orphan: ("other", None)}
    finally:
        await engine.dispose()
