from kernel.db import table_base

# Base of every notifications table: the service's own metadata, migrated by its own Alembic.
NotificationsTable = table_base("notifications")
