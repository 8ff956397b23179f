from kernel.migrations import run_env
from services.notifications.inbox import models  # noqa: F401  (registers the tables)
from services.notifications.tables import NotificationsTable

run_env(NotificationsTable.metadata)
