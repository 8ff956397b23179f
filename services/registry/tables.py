from kernel.db import table_base

# Base of every registry table: the registry's own metadata, migrated by its own Alembic.
RegistryTable = table_base("registry")
