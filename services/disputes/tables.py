from kernel.db import table_base

# Base of every disputes table: the service's own metadata, migrated by its own Alembic.
DisputesTable = table_base("disputes")
