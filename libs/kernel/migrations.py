"""Alembic, run by each service on its own database.

Every service keeps its migrations in ``services/<name>/migrations`` with an ``env.py``
that calls `run_env`. At start the service upgrades to head over its own engine (on
PostgreSQL under an advisory lock, so replicas starting together do not race), and
``/readyz`` reports whether the database is at head.
"""

from __future__ import annotations

import functools
import zlib
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from kernel.db import UTCDateTime


def alembic_config(migrations_dir: Path, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def run_env(target_metadata: sa.MetaData | None = None) -> None:
    """The body of every service's ``migrations/env.py``."""
    connection: Connection | None = context.config.attributes.get("connection")
    if connection is None:
        # Offline / command-line use: `alembic -x url=... upgrade head` is not supported;
        # services migrate themselves at start or via `python -m <service> migrate`.
        raise RuntimeError("run migrations through kernel.migrations.upgrade(engine, ...)")
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def _upgrade(connection: Connection, config: Config) -> None:
    if connection.dialect.name == "postgresql":
        lock = zlib.crc32(str(config.get_main_option("script_location")).encode())
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock})
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def upgrade(engine: AsyncEngine, migrations_dir: Path) -> None:
    config = alembic_config(migrations_dir, engine.url.render_as_string(hide_password=False))
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade, config)


@functools.cache
def head_revision(migrations_dir: Path) -> str | None:
    """The newest revision in a migrations folder (read once: it cannot change at run time)."""
    return ScriptDirectory.from_config(alembic_config(migrations_dir, "sqlite://")).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    def _current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(_current)


async def database_checks(engine: AsyncEngine, migrations_dir: Path) -> dict[str, str]:
    """The readiness checks of a database: it answers, and its schema is at head."""
    try:
        current = await current_revision(engine)  # a query: proves the database answers
    except Exception as exc:  # readiness reports, it does not raise
        return {"database": f"error: {exc.__class__.__name__}", "migrations": "unknown"}
    head = head_revision(migrations_dir)
    return {"database": "ok", "migrations": "ok" if current == head else f"at {current}, head is {head}"}


# --- the kernel's own tables, created by each service's first migration -----------------

def create_kernel_tables_v1() -> None:
    """Outbox, inbox and dead-letter tables, as of the first kernel version.

    Frozen here on purpose: a later change to a kernel table ships as a new function
    (``..._v2``) that each service's next migration calls.
    """
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(200), nullable=True),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.String(500), nullable=True),
    )
    op.create_index("ix_outbox_message_pending", "outbox_message", ["published_at", "created_at"])
    op.create_table(
        "inbox_record",
        sa.Column("consumer", sa.String(120), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("applied_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "dead_letter",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("consumer", sa.String(120), nullable=False),
        sa.Column("stream", sa.String(120), nullable=False),
        sa.Column("stream_sequence", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=True),
        sa.Column("event_type", sa.String(200), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("replayed_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("consumer", "stream", "stream_sequence", name="uq_dead_letter_message"),
    )
    op.create_index("ix_dead_letter_consumer", "dead_letter", ["consumer"])
    op.create_table(
        "calendar_override",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("working", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(300), nullable=False),
        sa.Column("source", sa.String(300), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )


def drop_kernel_tables_v1() -> None:
    for table in ("calendar_override", "dead_letter", "inbox_record", "outbox_message"):
        op.drop_table(table)


def create_deadline_table_v1() -> None:
    """The ``deadline`` table of `kernel.deadlines`, as of its first version. Frozen like the above."""
    op.create_table(
        "deadline",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(80), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("approaching_on", sa.Date(), nullable=False),
        sa.Column("article", sa.String(300), nullable=True),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("met_at", UTCDateTime(), nullable=True),
        sa.Column("cancelled_at", UTCDateTime(), nullable=True),
        sa.Column("approaching_emitted_at", UTCDateTime(), nullable=True),
        sa.Column("missed_emitted_at", UTCDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_deadline_key", "deadline", ["key"], unique=True)
    op.create_index("ix_deadline_subject_id", "deadline", ["subject_id"])
    op.create_index("ix_deadline_sweep", "deadline", ["missed_emitted_at", "approaching_on"])


def drop_deadline_table_v1() -> None:
    op.drop_table("deadline")
