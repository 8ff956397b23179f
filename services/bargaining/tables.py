from kernel.db import table_base

# Base of every bargaining table: the service's own metadata, migrated by its own Alembic.
BargainingTable = table_base("bargaining")
