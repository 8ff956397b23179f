from kernel.migrations import run_env
from services.notifications.email import models as email_models  # noqa: F401  (registers the tables)
from services.notifications.inbox import models  # noqa: F401
from services.notifications.subscriptions import models as subscription_models  # noqa: F401
from services.notifications.tables import NotificationsTable
from services.notifications.webhooks import models as webhook_models  # noqa: F401

run_env(NotificationsTable.metadata)
