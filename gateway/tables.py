from pathlib import Path

from kernel.db import table_base

# Base of every gateway table: the gateway's own metadata, migrated by its own Alembic.
GatewayTable = table_base("gateway")

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
